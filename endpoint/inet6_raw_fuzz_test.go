package endpoint

import (
	"errors"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"netsandbox/options"
	"netsandbox/stack"
)

// FuzzInet6RawPing hands untrusted option values (ICMPV6_FILTER,
// IPV6_CHECKSUM, any level), sockaddrs, control messages and payloads to
// AF_INET6 raw (ICMPv6 and UDP) and ICMPv6 ping sockets: no call may
// panic, and every error is an errno.
func FuzzInet6RawPing(f *testing.F) {
	lo := options.SockaddrIn6Bytes(netip.MustParseAddrPort("[::1]:0"), 0)
	echo := []byte{128, 0, 0, 0, 0, 1, 0, 1, 'x'}
	f.Add(int32(58), int32(1), make([]byte, 40), lo, []byte(nil), echo)
	f.Add(int32(unix.SOL_IPV6), int32(unix.IPV6_CHECKSUM), []byte{3, 0, 0, 0}, lo[:24], []byte{1, 2}, []byte{1})
	f.Add(int32(unix.SOL_RAW), int32(unix.IPV6_CHECKSUM), []byte{0xfe, 0xff, 0xff, 0xff}, lo,
		options.AppendCmsg(nil, unix.SOL_IPV6, unix.IPV6_HOPLIMIT, []byte{9, 0, 0, 0}), echo)
	f.Add(int32(unix.SOL_IPV6), int32(unix.IPV6_RECVPKTINFO), []byte{1, 0, 0, 0}, []byte{0, 0}, []byte(nil), []byte(nil))
	f.Add(int32(unix.SOL_IPV6), int32(36), []byte{1, 0, 0, 0}, lo, []byte(nil), append([]byte{0x60, 0, 0, 0, 0, 1, 17, 64}, make([]byte, 33)...))
	s := newStack(f, stack.AllCaps, map[string]string{"net.ipv4.ping_group_range": "0 0"})
	kinds := []struct{ typ, proto int }{
		{unix.SOCK_RAW, unix.IPPROTO_ICMPV6},
		{unix.SOCK_RAW, unix.IPPROTO_UDP},
		{unix.SOCK_DGRAM, unix.IPPROTO_ICMPV6},
		{unix.SOCK_RAW, unix.IPPROTO_RAW}, // IPV6_HDRINCL: the payload is a whole packet
	}
	f.Fuzz(func(t *testing.T, level, name int32, val, sa, oob, payload []byte) {
		for _, k := range kinds {
			so, err := New(s, unix.AF_INET6, k.typ|unix.SOCK_NONBLOCK, k.proto)
			if err != nil {
				t.Fatal(err)
			}
			check := func(op string, err error) {
				var en unix.Errno
				if err != nil && !errors.As(err, &en) {
					t.Fatalf("%d/%d %s: %v is not an errno", k.typ, k.proto, op, err)
				}
			}
			check("setsockopt", so.SetSockOpt(int(level), int(name), val))
			_, err = so.GetSockOpt(int(level), int(name), make([]byte, len(val)))
			check("getsockopt", err)
			check("bind", so.Bind(sa))
			_, err = so.SendMsg(payload, oob, sa, unix.MSG_DONTWAIT)
			check("sendto", err)
			check("connect", so.Connect(sa))
			_, err = so.SendMsg(payload, oob, nil, unix.MSG_DONTWAIT)
			check("send", err)
			_, _, _, _, err = so.RecvMsg(make([]byte, 8), make([]byte, len(oob)), unix.MSG_DONTWAIT)
			check("recvmsg", err)
			_, err = so.GetPeerName()
			check("getpeername", err)
			check("disconnect", so.Connect(make([]byte, unix.SizeofSockaddrInet6)))
			check("close", so.Close())
		}
	})
}

// TestICMP6FilterBits: the filter gVisor applies reads the 32 bytes as
// Linux's icmpv6_filter does (type t blocked by bit t%32 of word t/32).
func TestICMP6FilterBits(t *testing.T) {
	var f [icmp6FilterLen]byte
	f = setICMP6Filter(f, []byte{0, 0, 0, 0, 1})
	g := gvisorICMPv6Filter(f)
	if !g.ShouldDeny(32) || g.ShouldDeny(0) || g.ShouldDeny(33) {
		t.Fatalf("filter %v: want only type 32 blocked", g.DenyType)
	}
	f = setICMP6Filter(f, make([]byte, 64))
	if g := gvisorICMPv6Filter(f); g.ShouldDeny(32) {
		t.Fatal("a longer value must replace the whole filter")
	}
}
