package endpoint

import (
	"errors"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"netsandbox/options"
)

// FuzzInet6Calls hands untrusted option values, sockaddrs and control
// messages to AF_INET6 UDP and TCP sockets: no call may panic, and every
// error is an errno.
func FuzzInet6Calls(f *testing.F) {
	f.Add(int32(unix.SOL_IPV6), int32(unix.IPV6_JOIN_GROUP), append(netip.MustParseAddr("ff02::1").AsSlice(), 1, 0, 0, 0),
		options.SockaddrIn6Bytes(netip.MustParseAddrPort("[::1]:9"), 0),
		options.AppendCmsg(nil, unix.SOL_IPV6, unix.IPV6_PKTINFO, options.In6Pktinfo(netip.IPv6Loopback(), 1)))
	f.Add(int32(unix.SOL_IPV6), int32(unix.IPV6_TCLASS), []byte{0xff, 0xff, 0xff, 0xff},
		options.SockaddrIn(netip.MustParseAddrPort("127.0.0.1:9")), []byte{1, 2, 3})
	f.Add(int32(unix.SOL_TCP), int32(unix.TCP_KEEPCNT), []byte{0}, []byte{10, 0}, []byte(nil))
	s := newStack(f, 0, nil)
	f.Fuzz(func(t *testing.T, level, name int32, val, sa, oob []byte) {
		for _, typ := range []int{unix.SOCK_DGRAM, unix.SOCK_STREAM} {
			k, err := New(s, unix.AF_INET6, typ|unix.SOCK_NONBLOCK, 0)
			if err != nil {
				t.Fatal(err)
			}
			check := func(op string, err error) {
				var en unix.Errno
				if err != nil && !errors.As(err, &en) {
					t.Fatalf("%s: %v is not an errno", op, err)
				}
			}
			check("setsockopt", k.SetSockOpt(int(level), int(name), val))
			_, err = k.GetSockOpt(int(level), int(name), make([]byte, len(val)))
			check("getsockopt", err)
			check("bind", k.Bind(sa))
			check("connect", k.Connect(sa))
			_, err = k.SendMsg([]byte("x"), oob, sa, unix.MSG_DONTWAIT)
			check("sendmsg", err)
			_, _, _, _, err = k.RecvMsg(make([]byte, 8), make([]byte, len(oob)), unix.MSG_DONTWAIT)
			check("recvmsg", err)
			_, _, _, _, err = k.RecvMsg(make([]byte, 8), make([]byte, len(oob)), unix.MSG_ERRQUEUE|unix.MSG_PEEK)
			check("recvmsg MSG_ERRQUEUE", err)
			check("close", k.Close())
		}
	})
}
