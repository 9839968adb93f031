package endpoint

import (
	"testing"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// connect(2) on a listening TCP socket is EISCONN, judged before the
// address (a short sockaddr_in too), as inet_stream_connect; a 1-byte
// address is still EINVAL.
func TestTCPConnectOnListener(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	l, err := New(s, unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Listen(1); err != nil {
		t.Fatal(err)
	}
	if err := l.Connect(sa("127.0.0.1:9")); err != unix.EISCONN {
		t.Errorf("connect on listener: %v, want EISCONN", err)
	}
	if err := l.Connect(rawSA(unix.AF_INET, "127.0.0.1:9", 6)); err != unix.EISCONN {
		t.Errorf("short sockaddr on listener: %v, want EISCONN", err)
	}
	if err := l.Connect([]byte{2}); err != unix.EINVAL {
		t.Errorf("1-byte sockaddr: %v, want EINVAL", err)
	}
}
