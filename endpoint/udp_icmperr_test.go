package endpoint

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// A connected socket that draws a port unreachable reports ECONNREFUSED
// once: poll shows EPOLLERR, the next send fails and clears it.
func TestUDPPortUnreachableConnected(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	so, err := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer so.Close()
	if err := so.Connect(sa("127.0.0.1:9")); err != nil {
		t.Fatal(err)
	}
	if _, err := so.SendMsg([]byte("x"), nil, nil, 0); err != nil {
		t.Fatal(err)
	}
	if r, err := so.Wait(unix.EPOLLERR, time.Now().Add(2*time.Second)); err != nil || r&unix.EPOLLERR == 0 {
		t.Fatalf("Wait = %#x, %v; want EPOLLERR", r, err)
	}
	if _, err := so.SendMsg([]byte("x"), nil, nil, 0); err != unix.ECONNREFUSED {
		t.Errorf("send after port unreachable: %v, want ECONNREFUSED", err)
	}
	if r := so.Readiness(unix.EPOLLERR); r != 0 {
		t.Errorf("EPOLLERR still set after the send took the error")
	}
}

// An unconnected socket is not told (no IP_RECVERR), and soft errors
// never become sk_err.
func TestUDPICMPErrorRules(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	so, _ := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	defer so.Close()
	u := so.(*udpSock)
	u.DeliverICMPError(&stack.ICMPError{Type: 3, Code: 3})
	if r := u.Readiness(unix.EPOLLERR); r != 0 {
		t.Errorf("unconnected socket got an error")
	}
	if err := so.Connect(sa("127.0.0.1:9")); err != nil {
		t.Fatal(err)
	}
	for _, soft := range []stack.ICMPError{{Type: 3, Code: 0}, {Type: 3, Code: 1}, {Type: 11}, {Type: 4}, {Type: 5}} {
		u.DeliverICMPError(&soft)
	}
	if r := u.Readiness(unix.EPOLLERR); r != 0 {
		t.Errorf("soft error became pending")
	}
	cases := []struct {
		e    stack.ICMPError
		want unix.Errno
	}{
		{stack.ICMPError{Type: 3, Code: 2}, unix.ENOPROTOOPT},
		{stack.ICMPError{Type: 3, Code: 4, Info: 1280}, unix.EMSGSIZE},
		{stack.ICMPError{Type: 3, Code: 13}, unix.EHOSTUNREACH},
		{stack.ICMPError{Type: 12}, unix.EPROTO},
	}
	for _, c := range cases {
		u.DeliverICMPError(&c.e)
		buf := make([]byte, 4)
		if _, err := so.GetSockOpt(unix.SOL_SOCKET, unix.SO_ERROR, buf); err != nil || unix.Errno(buf[0]) != c.want {
			t.Errorf("type %d code %d: SO_ERROR %d, %v; want %v", c.e.Type, c.e.Code, buf[0], err, c.want)
		}
	}
}
