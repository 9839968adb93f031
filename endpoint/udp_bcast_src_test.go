package endpoint

import (
	"testing"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// A socket bound to a local address reaches 255.255.255.255 through that
// address's interface without any route, so without SO_BROADCAST the
// answer is EACCES (Linux), and with it the send and connect succeed.
func TestUDPLimitedBroadcastFromBoundSource(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	u, _ := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	defer u.Close()
	if err := u.Bind(sa("127.0.0.1:0")); err != nil {
		t.Fatal(err)
	}
	if _, err := u.SendMsg([]byte("x"), nil, sa("255.255.255.255:9"), 0); err != unix.EACCES {
		t.Errorf("without SO_BROADCAST: %v, want EACCES", err)
	}
	if err := u.Connect(sa("255.255.255.255:9")); err != unix.EACCES {
		t.Errorf("connect without SO_BROADCAST: %v, want EACCES", err)
	}
	if err := u.SetSockOpt(unix.SOL_SOCKET, unix.SO_BROADCAST, intOpt(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := u.SendMsg([]byte("x"), nil, sa("255.255.255.255:9"), 0); err != nil {
		t.Errorf("with SO_BROADCAST: %v", err)
	}
	if err := u.Connect(sa("255.255.255.255:9")); err != nil {
		t.Errorf("connect with SO_BROADCAST: %v", err)
	}
}
