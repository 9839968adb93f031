package nsnet_test

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"netsandbox/nsnet"
)

func TestTCPEcho(t *testing.T) {
	w := newWire(t)
	l, err := nsnet.Listen(w.b, "tcp", "10.0.0.2:7007")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c)
	}()

	c, err := nsnet.Dial(w.a, "tcp", "10.0.0.2:7007")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tc := c.(*nsnet.TCPConn)
	if got := tc.RemoteAddrPort(); got != netip.MustParseAddrPort("10.0.0.2:7007") {
		t.Errorf("RemoteAddrPort = %v", got)
	}
	if got := tc.LocalAddrPort(); got.Addr() != addrA || got.Port() == 0 {
		t.Errorf("LocalAddrPort = %v", got)
	}
	if _, ok := c.LocalAddr().(*net.TCPAddr); !ok {
		t.Errorf("LocalAddr is %T, want *net.TCPAddr", c.LocalAddr())
	}
	msg := make([]byte, 100000) // several segments and windows
	for i := range msg {
		msg[i] = byte(i)
	}
	go func() {
		c.Write(msg)
		tc.CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(msg) {
		t.Fatalf("echo: got %d bytes, want %d", len(got), len(msg))
	}
}

func TestDialRefusedIsOpErrorWithErrno(t *testing.T) {
	w := newWire(t)
	_, err := nsnet.DialTCP(w.a, netip.AddrPort{}, netip.MustParseAddrPort("10.0.0.2:1"))
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "dial" {
		t.Fatalf("err = %#v, want a *net.OpError from dial", err)
	}
	if !errors.Is(err, unix.ECONNREFUSED) {
		t.Fatalf("err = %v, want ECONNREFUSED inside", err)
	}
}

func TestAddressErrors(t *testing.T) {
	w := newWire(t)
	if _, err := nsnet.Dial(w.a, "tcp", "example.com:80"); err == nil {
		t.Error("Dial to a host name: no error (netsandbox has no resolver)")
	}
	if _, err := nsnet.Dial(w.a, "tcp6", "10.0.0.2:80"); err == nil {
		t.Error("Dial tcp6: no error")
	}
	if _, err := nsnet.Listen(w.a, "udp", ":0"); err == nil {
		t.Error("Listen udp: no error")
	}
	if _, err := nsnet.Listen(nil, "tcp", ":0"); !errors.Is(err, unix.EINVAL) {
		t.Errorf("Listen on a nil stack = %v, want EINVAL", err)
	}
}
