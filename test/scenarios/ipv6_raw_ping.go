package scenarios

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// AF_INET6 raw and ICMPv6 ping sockets over the DUT's loopback (::1):
// ping_v6_sendmsg's and rawv6_sendmsg's checks, IPV6_CHECKSUM,
// ICMPV6_FILTER, what each kind receives and its control messages.

const (
	solICMPv6     = 58 // SOL_ICMPV6
	icmpv6Filter  = 1  // ICMPV6_FILTER
	icmpv6EchoReq = 128
	icmpv6EchoRep = 129
	// rawTestProto is the protocol of the raw sockets that exchange
	// datagrams: UDP, whose stack drops what they send (the length field
	// is never right) on both DUTs.
	rawTestProto = unix.IPPROTO_UDP
)

// echo6 is an ICMPv6 echo request with the given identifier and sequence
// number (checksum 0: the kernel puts it).
func echo6(id, seq uint16, payload string) []byte {
	b := []byte{icmpv6EchoReq, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	return append(b, payload...)
}

// recvICMP6 waits (bounded) for a datagram and records its ICMPv6 type,
// code, sequence number, payload and control messages; with identOf it
// records whether the identifier is the socket's (its getsockname port),
// never the identifier itself (each kernel picks its own).
func recvICMP6(e *harness.Env, op string, s harness.Sock, ctl int, ident int) {
	harness.WaitReadable(s, 2*time.Second)
	buf, oob := make([]byte, 128), make([]byte, ctl)
	n, oobn, fl, from, err := s.RecvMsg(buf, oob, unix.MSG_DONTWAIT)
	if err != nil {
		e.Rec(op, err)
		return
	}
	if n < 8 {
		e.Rec(op, n, fmt.Sprintf("flags=%#x", fl), e.SA(from), buf[:n])
		return
	}
	id := int(binary.BigEndian.Uint16(buf[4:6]))
	idNote := fmt.Sprintf("id=%#x", id)
	if ident >= 0 {
		idNote = fmt.Sprintf("id-is-socket's=%v", id == ident)
	}
	e.Rec(op, n, fmt.Sprintf("flags=%#x", fl), e.SA(from), fmt.Sprintf("type=%d code=%d", buf[0], buf[1]), idNote,
		fmt.Sprintf("seq=%d", binary.BigEndian.Uint16(buf[6:8])), string(buf[8:n]), harness.Cmsgs(oob[:oobn]))
}

// recNameAddr records a socket's name without its port.
func recNameAddr(e *harness.Env, op string, s harness.Sock) {
	b, err := s.GetSockName()
	if err != nil || len(b) < unix.SizeofSockaddrInet6 {
		e.Rec(op, err, len(b))
		return
	}
	e.Rec(op, netip.AddrFrom16([16]byte(b[8:24])), fmt.Sprintf("has-port=%v", binary.BigEndian.Uint16(b[2:4]) != 0))
}

func ping6Socket(e *harness.Env) harness.Sock {
	e.Check("set ping_group_range", e.SetSysctl(e.DUT, pingGroupRange, "0 0"))
	return e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, unix.IPPROTO_ICMPV6)
}

func ipv6RawPingScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "ipv6/ping-socket-group-range", Run: func(e *harness.Env) {
			for _, r := range []string{"1 0", "0 0", "1 1"} {
				e.Rec("ping_group_range", r, e.SetSysctl(e.DUT, pingGroupRange, r))
				trySocket(e, unix.AF_INET6, unix.SOCK_DGRAM, unix.IPPROTO_ICMPV6)
			}
		}},
		{Name: "ipv6/ping-loopback-echo", Run: func(e *harness.Env) {
			s := ping6Socket(e)
			recNameAddr(e, "name before send", s)
			for _, o := range []int{unix.IPV6_RECVHOPLIMIT, unix.IPV6_RECVTCLASS, unix.IPV6_RECVPKTINFO} {
				e.SetInt(fmt.Sprintf("opt %d", o), s, unix.SOL_IPV6, o, 1)
			}
			n, err := s.SendMsg(echo6(0x1234, 1, "hello"), nil, sa6(v6Loopback, 0), 0)
			e.Rec("sendto ::1", n, err)
			recNameAddr(e, "name after send", s)
			recvICMP6(e, "reply", s, 256, sockPort(s))
			// Only the reply: not the request it saw go by.
			_, _, _, _, err = s.RecvMsg(make([]byte, 64), nil, unix.MSG_DONTWAIT)
			e.Rec("nothing more", err)
			// A short buffer: MSG_TRUNC set, the copied length returned
			// even under MSG_TRUNC.
			e.Check("send 2", func() error { _, err := s.SendMsg(echo6(7, 2, "truncated"), nil, sa6(v6Loopback, 0), 0); return err }())
			harness.WaitReadable(s, 2*time.Second)
			n, _, fl, _, err := s.RecvMsg(make([]byte, 10), nil, unix.MSG_DONTWAIT|unix.MSG_TRUNC)
			e.Rec("short read", n, fmt.Sprintf("flags=%#x", fl), err)
		}},
		{Name: "ipv6/ping-send-cmsgs", Run: func(e *harness.Env) {
			s := ping6Socket(e)
			e.SetInt("IPV6_RECVHOPLIMIT", s, unix.SOL_IPV6, unix.IPV6_RECVHOPLIMIT, 1)
			e.SetInt("IPV6_RECVTCLASS", s, unix.SOL_IPV6, unix.IPV6_RECVTCLASS, 1)
			hop := appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_HOPLIMIT, harness.Int32(9))
			tc := appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_TCLASS, harness.Int32(0x28))
			n, err := s.SendMsg(echo6(1, 3, "cmsg"), append(hop, tc...), sa6(v6Loopback, 0), 0)
			e.Rec("send with hoplimit 9 tclass 0x28", n, err)
			recvICMP6(e, "reply", s, 256, sockPort(s))
			e.SetInt("IPV6_UNICAST_HOPS 33", s, unix.SOL_IPV6, unix.IPV6_UNICAST_HOPS, 33)
			e.SetInt("IPV6_TCLASS 0x10", s, unix.SOL_IPV6, unix.IPV6_TCLASS, 0x10)
			n, err = s.SendMsg(echo6(1, 4, "sockopt"), nil, sa6(v6Loopback, 0), 0)
			e.Rec("send with socket options", n, err)
			recvICMP6(e, "reply", s, 256, sockPort(s))
			bad := appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_HOPLIMIT, harness.Int32(300))
			_, err = s.SendMsg(echo6(1, 5, "x"), bad, sa6(v6Loopback, 0), 0)
			e.Rec("hoplimit 300", err)
		}},
		{Name: "ipv6/ping-send-errors", Run: func(e *harness.Env) {
			s := ping6Socket(e)
			dst := sa6(v6Loopback, 0)
			try := func(op string, p, oob, to []byte, flags int) {
				n, err := s.SendMsg(p, oob, to, flags)
				e.Rec(op, n, err)
			}
			try("4 bytes", echo6(1, 1, "")[:4], nil, dst, 0)
			try("7 bytes", echo6(1, 1, "")[:7], nil, dst, 0)
			reply := echo6(1, 1, "")
			reply[0] = icmpv6EchoRep
			try("echo reply", reply, nil, dst, 0)
			code := echo6(1, 1, "")
			code[1] = 1
			try("code 1", code, nil, dst, 0)
			unreach := echo6(1, 1, "")
			unreach[0] = 1
			try("type 1", unreach, nil, dst, 0)
			try("MSG_OOB", echo6(1, 1, ""), nil, dst, unix.MSG_OOB)
			try("no destination", echo6(1, 1, ""), nil, nil, 0)
			try("sockaddr 24 bytes", echo6(1, 1, ""), nil, dst[:24], 0)
			try("sockaddr_in", echo6(1, 1, ""), nil, harness.Sockaddr(v4Loopback, 0), 0)
			unspec := append([]byte(nil), dst...)
			unspec[0], unspec[1] = 0, 0
			try("AF_UNSPEC", echo6(1, 1, ""), nil, unspec, 0)
			try("v4-mapped", echo6(1, 1, ""), nil, sa6(v4Mapped, 0), 0)
			try("link-local no scope", echo6(1, 1, ""), nil, sa6(netip.MustParseAddr("fe80::1"), 0), 0)
			try("65536 bytes", append(echo6(1, 1, ""), make([]byte, 65536)...), nil, dst, 0)
			try("no route", echo6(1, 1, ""), nil, sa6(netip.MustParseAddr("2001:db8::1"), 0), 0)
			try("multicast on lo", echo6(1, 1, ""), nil, sa6(netip.MustParseAddr("ff0e::1"), 0), 0)
			try("port ignored", echo6(1, 1, ""), nil, sa6(v6Loopback, 77), 0)
			recvICMP6(e, "reply", s, 0, sockPort(s))
		}},
		{Name: "ipv6/ping-bind", Run: func(e *harness.Env) {
			e.Check("set ping_group_range", e.SetSysctl(e.DUT, pingGroupRange, "0 0"))
			try := func(op string, sa []byte) {
				s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, unix.IPPROTO_ICMPV6)
				e.Rec(op, s.Bind(sa))
				recNameAddr(e, op+" name", s)
				s.Close()
			}
			try("::1", sa6(v6Loopback, 0))
			try("::", sa6(netip.IPv6Unspecified(), 0))
			try("::1 24 bytes", sa6(v6Loopback, 0)[:24])
			try("::1 20 bytes", sa6(v6Loopback, 0)[:20])
			try("sockaddr_in", harness.Sockaddr(v4Loopback, 0))
			try("multicast", sa6(netip.MustParseAddr("ff02::1"), 0))
			try("v4-mapped", sa6(v4Mapped, 0))
			try("not local", sa6(netip.MustParseAddr("2001:db8::1"), 0))
			try("link-local no scope", sa6(netip.MustParseAddr("fe80::1"), 0))
			try("link-local bad scope", harness.Sockaddr6(netip.MustParseAddr("fe80::1"), 0, 999))
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, unix.IPPROTO_ICMPV6)
			e.Rec("bind", s.Bind(sa6(v6Loopback, 0)))
			e.Rec("bind again", s.Bind(sa6(v6Loopback, 0)))
			e.Rec("bind again bad address", s.Bind(sa6(netip.MustParseAddr("2001:db8::1"), 0)))
			t := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, unix.IPPROTO_ICMPV6)
			n, err := t.SendMsg(echo6(1, 1, ""), nil, sa6(v6Loopback, 0), 0)
			e.Rec("send autobinds", n, err)
			e.Rec("bind after send", t.Bind(sa6(v6Loopback, 0)))
			recvICMP6(e, "reply", t, 0, sockPort(t))
		}},
		{Name: "ipv6/ping-connect", Run: func(e *harness.Env) {
			s := ping6Socket(e)
			_, err := s.GetPeerName()
			e.Rec("peer before", err)
			e.Rec("connect sockaddr_in", s.Connect(harness.Sockaddr(v4Loopback, 0)))
			recNameAddr(e, "name after failed connect", s)
			e.Rec("connect 20 bytes", s.Connect(sa6(v6Loopback, 0)[:20]))
			e.Rec("connect ::1", s.Connect(sa6(v6Loopback, 5)))
			p, err := s.GetPeerName()
			e.Rec("peer", e.SA(p), err)
			recNameAddr(e, "name", s)
			n, err := s.SendMsg(echo6(1, 9, "conn"), nil, nil, 0)
			e.Rec("send connected", n, err)
			recvICMP6(e, "reply", s, 0, sockPort(s))
			e.Rec("disconnect", s.Connect(make([]byte, unix.SizeofSockaddrInet6)))
			_, err = s.GetPeerName()
			e.Rec("peer after disconnect", err)
			n, err = s.SendMsg(echo6(1, 10, ""), nil, nil, 0)
			e.Rec("send after disconnect", n, err)
		}},
		{Name: "ipv6/raw-socket-identity", Run: func(e *harness.Env) {
			for _, proto := range []int{0, unix.IPPROTO_ICMPV6, unix.IPPROTO_UDP, unix.IPPROTO_TCP} {
				trySocket(e, unix.AF_INET6, unix.SOCK_RAW, proto)
			}
			u := e.Unprivileged(e.DUT, unix.CAP_NET_RAW)
			_, err := u.Socket(unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
			e.Rec("unprivileged raw ICMPv6", err)
		}},
		{Name: "ipv6/raw-checksum-option", Run: func(e *harness.Env) {
			icmp := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
			e.GetInt("icmpv6 IPV6_CHECKSUM", icmp, unix.SOL_IPV6, unix.IPV6_CHECKSUM)
			e.GetInt("icmpv6 SOL_RAW IPV6_CHECKSUM", icmp, unix.SOL_RAW, unix.IPV6_CHECKSUM)
			e.SetInt("icmpv6 set IPV6_CHECKSUM 2", icmp, unix.SOL_IPV6, unix.IPV6_CHECKSUM, 2)
			e.SetInt("icmpv6 set IPV6_CHECKSUM -1", icmp, unix.SOL_IPV6, unix.IPV6_CHECKSUM, -1)
			e.SetInt("icmpv6 set SOL_RAW IPV6_CHECKSUM 3", icmp, unix.SOL_RAW, unix.IPV6_CHECKSUM, 3)
			e.SetInt("icmpv6 set SOL_RAW IPV6_CHECKSUM 2", icmp, unix.SOL_RAW, unix.IPV6_CHECKSUM, 2)
			for _, proto := range []int{unix.IPPROTO_UDP, unix.IPPROTO_TCP} {
				s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, proto)
				name := fmt.Sprintf("proto %d", proto)
				e.GetInt(name+" default", s, unix.SOL_IPV6, unix.IPV6_CHECKSUM)
				for _, v := range []int32{3, 4, 0, -5, 1, 6} {
					if e.SetInt(fmt.Sprintf("%s set %d", name, v), s, unix.SOL_IPV6, unix.IPV6_CHECKSUM, v) == nil {
						e.GetInt(name+" get", s, unix.SOL_IPV6, unix.IPV6_CHECKSUM)
					}
				}
				e.Rec(name+" optlen 1", s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_CHECKSUM, []byte{2}))
				e.SetInt(name+" SOL_RAW 8", s, unix.SOL_RAW, unix.IPV6_CHECKSUM, 8)
				e.GetInt(name+" SOL_RAW get", s, unix.SOL_RAW, unix.IPV6_CHECKSUM)
				buf := make([]byte, 2)
				n, err := s.GetSockOpt(unix.SOL_IPV6, unix.IPV6_CHECKSUM, buf)
				e.Rec(name+" optlen 2", n, err, buf)
				e.SetInt(name+" SOL_RAW 1000", s, unix.SOL_RAW, 1000, 1)
				e.Rec(name+" SOL_RAW 1000 optlen 1", s.SetSockOpt(unix.SOL_RAW, 1000, []byte{1}))
				_, err = s.GetSockOpt(unix.SOL_RAW, 1000, make([]byte, 4))
				e.Rec(name+" get SOL_RAW 1000", err)
			}
			udp := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.SetInt("udp IPV6_CHECKSUM", udp, unix.SOL_IPV6, unix.IPV6_CHECKSUM, 2)
			_, err := udp.GetSockOpt(unix.SOL_IPV6, unix.IPV6_CHECKSUM, make([]byte, 4))
			e.Rec("udp get IPV6_CHECKSUM", err)
		}},
		{Name: "ipv6/raw-icmp6-filter-option", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
			get := func(op string, n int) {
				buf := make([]byte, n)
				got, err := s.GetSockOpt(solICMPv6, icmpv6Filter, buf)
				e.Rec(op, got, err, buf[:max(got, 0)])
			}
			get("default", 32)
			f := make([]byte, 40)
			for i := range f {
				f[i] = byte(i + 1)
			}
			e.Rec("set 40 bytes", s.SetSockOpt(solICMPv6, icmpv6Filter, f))
			get("after 40", 40)
			get("8-byte buffer", 8)
			e.Rec("set 4 bytes", s.SetSockOpt(solICMPv6, icmpv6Filter, []byte{0xff, 0xff, 0xff, 0xff}))
			get("after 4", 32)
			e.Rec("set 0 bytes", s.SetSockOpt(solICMPv6, icmpv6Filter, nil))
			get("after 0", 32)
			e.Rec("set name 2", s.SetSockOpt(solICMPv6, 2, make([]byte, 32)))
			_, err := s.GetSockOpt(solICMPv6, 2, make([]byte, 32))
			e.Rec("get name 2", err)
			r := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, rawTestProto)
			e.Rec("non-ICMPv6 set", r.SetSockOpt(solICMPv6, icmpv6Filter, make([]byte, 32)))
			_, err = r.GetSockOpt(solICMPv6, icmpv6Filter, make([]byte, 32))
			e.Rec("non-ICMPv6 get", err)
		}},
		{Name: "ipv6/raw-icmp6-echo-and-filter", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
			e.SetInt("IPV6_RECVHOPLIMIT", s, unix.SOL_IPV6, unix.IPV6_RECVHOPLIMIT, 1)
			n, err := s.SendMsg(echo6(0x4242, 1, "raw"), nil, sa6(v6Loopback, 0), 0)
			e.Rec("send echo", n, err)
			// The request seen going in, then the reply; both whole,
			// checksum included, without the IPv6 header.
			for i := 0; i < 2; i++ {
				recvICMP6(e, fmt.Sprintf("got %d", i), s, 256, -1)
			}
			// Pass only echo replies (ICMP6_FILTER_SETBLOCKALL, SETPASS 129).
			f := make([]byte, 32)
			for i := range f {
				f[i] = 0xff
			}
			f[icmpv6EchoRep/8] &^= 1 << (icmpv6EchoRep % 8)
			e.Rec("filter", s.SetSockOpt(solICMPv6, icmpv6Filter, f))
			n, err = s.SendMsg(echo6(0x4242, 2, "filtered"), nil, sa6(v6Loopback, unix.IPPROTO_ICMPV6), 0)
			e.Rec("send echo port=proto", n, err)
			recvICMP6(e, "only the reply", s, 0, -1)
			_, _, _, _, err = s.RecvMsg(make([]byte, 64), nil, unix.MSG_DONTWAIT)
			e.Rec("nothing more", err)
		}},
		{Name: "ipv6/raw-proto-checksum-loopback", Run: func(e *harness.Env) {
			rx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, rawTestProto)
			tx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, rawTestProto)
			recv := func(op string) {
				harness.WaitReadable(rx, time.Second)
				buf := make([]byte, 64)
				n, _, fl, from, err := rx.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
				e.Rec(op, n, fmt.Sprintf("flags=%#x", fl), e.SA(from), buf[:max(n, 0)], err)
			}
			n, err := tx.SendMsg([]byte("abcdefgh"), nil, sa6(v6Loopback, 0), 0)
			e.Rec("send plain", n, err)
			recv("plain, no IPv6 header")
			e.SetInt("tx checksum at 2", tx, unix.SOL_IPV6, unix.IPV6_CHECKSUM, 2)
			e.SetInt("rx checksum at 2", rx, unix.SOL_IPV6, unix.IPV6_CHECKSUM, 2)
			n, err = tx.SendMsg([]byte("ab\x00\x00efgh"), nil, sa6(v6Loopback, 0), 0)
			e.Rec("send checksummed", n, err)
			recv("checksummed")
			e.SetInt("tx checksum off", tx, unix.SOL_IPV6, unix.IPV6_CHECKSUM, -1)
			n, err = tx.SendMsg([]byte("ab\x12\x34efgh"), nil, sa6(v6Loopback, 0), 0)
			e.Rec("send bad checksum", n, err)
			recv("bad checksum dropped")
			e.SetInt("tx checksum at 6", tx, unix.SOL_IPV6, unix.IPV6_CHECKSUM, 6)
			for _, l := range []int{7, 8} {
				n, err = tx.SendMsg(make([]byte, l), nil, sa6(v6Loopback, 0), 0)
				e.Rec(fmt.Sprintf("send %d bytes, checksum at 6", l), n, err)
			}
			recv("8 bytes")
			// A short buffer.
			e.SetInt("tx checksum off again", tx, unix.SOL_IPV6, unix.IPV6_CHECKSUM, -1)
			e.Check("send 3", func() error { _, err := tx.SendMsg([]byte("0123456789"), nil, sa6(v6Loopback, 0), 0); return err }())
			harness.WaitReadable(rx, time.Second)
			n, _, fl, _, err := rx.RecvMsg(make([]byte, 4), nil, unix.MSG_DONTWAIT|unix.MSG_TRUNC)
			e.Rec("MSG_TRUNC read", n, fmt.Sprintf("flags=%#x", fl), err)
		}},
		{Name: "ipv6/raw-send-errors", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, rawTestProto)
			dst := sa6(v6Loopback, 0)
			try := func(op string, p, to []byte, flags int) {
				n, err := s.SendMsg(p, nil, to, flags)
				e.Rec(op, n, err)
			}
			try("port = proto", []byte("x"), sa6(v6Loopback, rawTestProto), 0)
			try("port other", []byte("x"), sa6(v6Loopback, 17), 0)
			try("sockaddr 24 bytes", []byte("x"), dst[:24], 0)
			try("sockaddr 20 bytes", []byte("x"), dst[:20], 0)
			try("sockaddr_in", []byte("x"), harness.Sockaddr(v4Loopback, 0), 0)
			unspec := append([]byte(nil), dst...)
			unspec[0], unspec[1] = 0, 0
			try("AF_UNSPEC", []byte("x"), unspec, 0)
			try("::", []byte("x"), sa6(netip.IPv6Unspecified(), 0), 0)
			try("no destination", []byte("x"), nil, 0)
			try("empty", nil, dst, 0)
			try("no route", []byte("x"), sa6(netip.MustParseAddr("2001:db8::1"), 0), 0)
			try("v4-mapped", []byte("x"), sa6(v4Mapped, 0), 0)
			icmp := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
			for _, l := range []int{0, 1, 2, 3, 4} {
				n, err := icmp.SendMsg(make([]byte, l), nil, dst, 0)
				e.Rec(fmt.Sprintf("icmpv6 %d bytes", l), n, err)
			}
			_, _, _, _, err := s.RecvMsg(make([]byte, 8), nil, unix.MSG_OOB|unix.MSG_DONTWAIT)
			e.Rec("recv MSG_OOB", err)
		}},
		{Name: "ipv6/raw-icmp6-recv-cmsgs", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
			for _, o := range []int{unix.IPV6_RECVHOPLIMIT, unix.IPV6_RECVTCLASS, unix.IPV6_RECVPKTINFO} {
				e.SetInt(fmt.Sprintf("opt %d", o), s, unix.SOL_IPV6, o, 1)
			}
			tc := appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_TCLASS, harness.Int32(0x20))
			n, err := s.SendMsg(echo6(0x4343, 1, "cmsgs"), tc, sa6(v6Loopback, 0), 0)
			e.Rec("send echo tclass 0x20", n, err)
			for i := 0; i < 2; i++ {
				recvICMP6(e, fmt.Sprintf("got %d", i), s, 256, -1)
			}
		}},
		{Name: "ipv6/raw-send-msg-oob", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, rawTestProto)
			n, err := s.SendMsg([]byte("x"), nil, sa6(v6Loopback, 0), unix.MSG_OOB)
			e.Rec("send MSG_OOB", n, err)
		}},
		{Name: "ipv6/raw-bind-connect-names", Run: func(e *harness.Env) {
			try := func(op string, sa []byte) {
				s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, rawTestProto)
				e.Rec(op, s.Bind(sa))
				b, err := s.GetSockName()
				e.Rec(op+" name", e.SA(b), err)
				s.Close()
			}
			try("::1", sa6(v6Loopback, 0))
			try("::1 port 7", sa6(v6Loopback, 7))
			try("::", sa6(netip.IPv6Unspecified(), 0))
			try("::1 24 bytes", sa6(v6Loopback, 0)[:24])
			try("::1 20 bytes", sa6(v6Loopback, 0)[:20])
			try("sockaddr_in", harness.Sockaddr(v4Loopback, 0))
			try("v4-mapped", sa6(v4Mapped, 0))
			try("not local", sa6(netip.MustParseAddr("2001:db8::1"), 0))
			try("link-local no scope", sa6(netip.MustParseAddr("fe80::1"), 0))
			try("multicast", sa6(netip.MustParseAddr("ff0e::1"), 0))
			// A raw socket may bind again.
			rb := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, rawTestProto)
			e.Rec("bind ::1", rb.Bind(sa6(v6Loopback, 0)))
			e.Rec("bind :: again", rb.Bind(sa6(netip.IPv6Unspecified(), 0)))
			b, err := rb.GetSockName()
			e.Rec("rebound name", e.SA(b), err)
			n, err := rb.SendMsg([]byte("rebound"), nil, sa6(v6Loopback, 0), 0)
			e.Rec("send", n, err)
			harness.WaitReadable(rb, time.Second)
			_, _, _, from, err := rb.RecvMsg(make([]byte, 16), nil, unix.MSG_DONTWAIT)
			e.Rec("recv own", e.SA(from), err)
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, rawTestProto)
			_, err = s.GetPeerName()
			e.Rec("peer before", err)
			e.Rec("connect sockaddr_in", s.Connect(harness.Sockaddr(v4Loopback, 0)))
			e.Rec("connect 20 bytes", s.Connect(sa6(v6Loopback, 0)[:20]))
			e.Rec("connect ::1", s.Connect(sa6(v6Loopback, 9)))
			p, err := s.GetPeerName()
			e.Rec("peer", e.SA(p), err)
			b, err = s.GetSockName()
			e.Rec("name", e.SA(b), err)
			e.Rec("bind connected", s.Bind(sa6(v6Loopback, 0)))
			n, err = s.SendMsg([]byte("to self"), nil, nil, 0)
			e.Rec("send connected", n, err)
			harness.WaitReadable(s, time.Second)
			buf := make([]byte, 16)
			n, _, _, from, err = s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			e.Rec("recv own", n, e.SA(from), buf[:max(n, 0)], err)
			e.Rec("disconnect", s.Connect(make([]byte, unix.SizeofSockaddrInet6)))
			_, err = s.GetPeerName()
			e.Rec("peer after disconnect", err)
			n, err = s.SendMsg([]byte("x"), nil, nil, 0)
			e.Rec("send after disconnect", n, err)
		}},
	}
}
