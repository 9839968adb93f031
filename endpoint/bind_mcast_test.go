package endpoint

import (
	"testing"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// TCP may bind and listen on a multicast address, as on Linux.
func TestTCPBindMulticast(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	so, err := New(s, unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer so.Close()
	if err := so.Bind(sa("224.0.0.1:7000")); err != nil {
		t.Fatalf("bind 224.0.0.1: %v", err)
	}
	name, err := so.GetSockName()
	if err != nil || addrOf(name) != "fam=2 224.0.0.1 port?true len=16" || portOf(name) != 7000 {
		t.Errorf("getsockname = %s, %v", addrOf(name), err)
	}
	if err := so.Listen(1); err != nil {
		t.Errorf("listen: %v", err)
	}
	// The port is taken for the wildcard address too.
	other, _ := New(s, unix.AF_INET, unix.SOCK_STREAM, 0)
	defer other.Close()
	if err := other.Bind(sa("0.0.0.0:7000")); err != unix.EADDRINUSE {
		t.Errorf("bind 0.0.0.0:7000 after 224.0.0.1:7000: %v, want EADDRINUSE", err)
	}
}
