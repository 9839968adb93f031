package endpoint

import (
	"testing"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// getsockopt at a level the socket's protocol does not own goes to
// ip_getsockopt (EOPNOTSUPP); setsockopt there is ENOPROTOOPT; an unknown
// option at the protocol's own level is ENOPROTOOPT.
func TestForeignLevelGetsockopt(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	cases := []struct {
		typ, proto, level, name int
		get, set                unix.Errno
	}{
		{unix.SOCK_DGRAM, 0, unix.SOL_TCP, unix.TCP_NODELAY, unix.EOPNOTSUPP, unix.ENOPROTOOPT},
		{unix.SOCK_DGRAM, 0, unix.SOL_UDP, 9999, unix.ENOPROTOOPT, unix.ENOPROTOOPT},
		{unix.SOCK_STREAM, 0, unix.SOL_UDP, 1, unix.EOPNOTSUPP, unix.ENOPROTOOPT},
		{unix.SOCK_STREAM, 0, unix.SOL_TCP, 9999, unix.ENOPROTOOPT, unix.ENOPROTOOPT},
		{unix.SOCK_RAW, unix.IPPROTO_UDP, unix.SOL_TCP, unix.TCP_NODELAY, unix.EOPNOTSUPP, unix.ENOPROTOOPT},
	}
	for _, c := range cases {
		so, err := New(s, unix.AF_INET, c.typ, c.proto)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := so.GetSockOpt(c.level, c.name, make([]byte, 4)); err != c.get {
			t.Errorf("type %d level %d opt %d: get %v, want %v", c.typ, c.level, c.name, err, c.get)
		}
		if err := so.SetSockOpt(c.level, c.name, intOpt(1)); err != c.set {
			t.Errorf("type %d level %d opt %d: set %v, want %v", c.typ, c.level, c.name, err, c.set)
		}
		so.Close()
	}
}
