package scenarios

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// ICMPv6 errors about an AF_INET6 UDP (and UDP-Lite) socket's datagrams,
// forged on the DUT's loopback by a raw ICMPv6 socket (the kernel puts
// the checksum): icmpv6_notify's checks, __udp6_lib_err's errno and
// fatality per type and code, what IPV6_RECVERR queues and how
// ipv6_recv_error reads it back, and the pending error (SO_ERROR, the
// next send) with and without IPV6_RECVERR, connected or not.

// icmp6Case is one ICMPv6 error to forge.
type icmp6Case struct {
	name       string
	typ, code  uint8
	info       uint32
	transProto uint8
}

// forgedICMP6 is an ICMPv6 error quoting a UDP (or UDP-Lite: c's
// protocol) datagram from src to dst with payload (checksum 0: the kernel
// puts it).
func forgedICMP6(c icmp6Case, src, dst netip.AddrPort, payload string) []byte {
	udp := make([]byte, 8)
	binary.BigEndian.PutUint16(udp[0:], src.Port())
	binary.BigEndian.PutUint16(udp[2:], dst.Port())
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(payload)))
	return quotingICMP6(c, src.Addr(), dst.Addr(), append(udp, payload...))
}

// quotingICMP6 is an ICMPv6 error of c's type, code and info quoting an
// IPv6 packet of c's protocol from src to dst carrying upper.
func quotingICMP6(c icmp6Case, src, dst netip.Addr, upper []byte) []byte {
	b := []byte{c.typ, c.code, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[4:], c.info)
	ip := make([]byte, 40)
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:], uint16(len(upper)))
	ip[6], ip[7] = c.transProto, 64
	s, d := src.As16(), dst.As16()
	copy(ip[8:24], s[:])
	copy(ip[24:40], d[:])
	return append(append(b, ip...), upper...)
}

// recvErr6 waits (bounded) for the socket's error state and records it,
// then reads and records the error queue's head.
func recvErr6(e *harness.Env, op string, s harness.Sock, wait time.Duration) {
	r, _ := s.Poll(unix.EPOLLERR, wait)
	buf, oob := make([]byte, 64), make([]byte, 256)
	n, oobn, fl, from, err := s.RecvMsg(buf, oob, unix.MSG_ERRQUEUE)
	if err != nil {
		e.Rec(op, fmt.Sprintf("poll=%#x", r), err)
		return
	}
	e.Rec(op, fmt.Sprintf("poll=%#x", r), n, fmt.Sprintf("flags=%#x", fl), e.SA(from), buf[:n], harness.Cmsgs(oob[:oobn]))
}

// icmp6ErrorCases are the errors each connected socket is sent: every
// destination-unreachable code and one past the table, packet too big
// at lo's MTU (so the path MTU of ::1 does not change for the scenarios
// after), time exceeded with its unused field set, parameter problem
// with a pointer, an unknown error type and an informational one.
var icmp6ErrorCases = []icmp6Case{
	{name: "no route", typ: 1, code: 0},
	{name: "admin prohibited", typ: 1, code: 1},
	{name: "beyond scope", typ: 1, code: 2},
	{name: "address unreachable", typ: 1, code: 3},
	{name: "port unreachable", typ: 1, code: 4},
	{name: "policy", typ: 1, code: 5},
	{name: "reject route", typ: 1, code: 6},
	{name: "unreach code 7", typ: 1, code: 7},
	{name: "packet too big", typ: 2, code: 0, info: 65536},
	{name: "hop limit exceeded", typ: 3, code: 0, info: 0x01020304},
	{name: "reassembly timeout", typ: 3, code: 1},
	{name: "parameter problem", typ: 4, code: 0, info: 6},
	{name: "unknown next header", typ: 4, code: 1, info: 40},
	{name: "unknown error type", typ: 5, code: 3},
	{name: "informational", typ: 130, code: 0},
}

// icmp6Ends are the quoted datagram's ends: the socket at BasePort on
// ::1 and a peer port nobody uses.
func icmp6Ends(e *harness.Env) (local, peer netip.AddrPort) {
	lo := netip.IPv6Loopback()
	return netip.AddrPortFrom(lo, uint16(e.BasePort)), netip.AddrPortFrom(lo, uint16(e.BasePort+7))
}

func ipv6ICMPErrorScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "ipv6/udp-icmp6-errors-each", Run: func(e *harness.Env) {
			local, peer := icmp6Ends(e)
			raw := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
			for _, proto := range []int{unix.IPPROTO_UDP, unix.IPPROTO_UDPLITE} {
				s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, proto)
				e.Check("bind", s.Bind(sa6(local.Addr(), int(local.Port()))))
				e.Check("connect", s.Connect(sa6(peer.Addr(), int(peer.Port()))))
				e.SetInt("IPV6_RECVERR", s, unix.SOL_IPV6, unix.IPV6_RECVERR, 1)
				for _, c := range icmp6ErrorCases {
					c.transProto = uint8(proto)
					n, err := raw.SendMsg(forgedICMP6(c, local, peer, "quoted"), nil, sa6(netip.IPv6Loopback(), 0), 0)
					e.Rec(fmt.Sprintf("%d forge %s", proto, c.name), n, err)
					wait := 2 * time.Second
					if c.typ >= 128 {
						wait = 200 * time.Millisecond // nothing to wait for
					}
					recvErr6(e, fmt.Sprintf("%d errqueue %s", proto, c.name), s, wait)
					e.GetInt(fmt.Sprintf("%d SO_ERROR %s", proto, c.name), s, unix.SOL_SOCKET, unix.SO_ERROR)
				}
				e.GetInt(fmt.Sprintf("%d IPV6_MTU", proto), s, unix.SOL_IPV6, unix.IPV6_MTU)
				e.Check("close", s.Close())
			}
		}},
		{Name: "ipv6/udp-icmp6-errors-pending", Run: func(e *harness.Env) {
			local, peer := icmp6Ends(e)
			lo := sa6(netip.IPv6Loopback(), 0)
			raw := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
			forge := func(op string, c icmp6Case) {
				c.transProto = unix.IPPROTO_UDP
				n, err := raw.SendMsg(forgedICMP6(c, local, peer, "quoted"), nil, lo, 0)
				e.Rec("forge "+op, n, err)
			}
			// Connected, no IPV6_RECVERR: a fatal error is pending, a
			// soft one is not; the next send and recv report it.
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind", s.Bind(sa6(local.Addr(), int(local.Port()))))
			e.Check("connect", s.Connect(sa6(peer.Addr(), int(peer.Port()))))
			forge("port unreachable", icmp6Case{typ: 1, code: 4})
			r, _ := s.Poll(unix.EPOLLERR, 2*time.Second)
			e.Rec("poll", fmt.Sprintf("%#x", r))
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
			forge("hop limit exceeded", icmp6Case{typ: 3})
			r, _ = s.Poll(unix.EPOLLERR, 200*time.Millisecond)
			e.Rec("poll soft", fmt.Sprintf("%#x", r))
			e.GetInt("SO_ERROR soft", s, unix.SOL_SOCKET, unix.SO_ERROR)
			forge("admin prohibited", icmp6Case{typ: 1, code: 1})
			s.Poll(unix.EPOLLERR, 2*time.Second)
			n, err := s.SendMsg([]byte("x"), nil, nil, 0)
			e.Rec("send after error", n, err)
			n, err = s.SendMsg([]byte("x"), nil, nil, 0)
			e.Rec("send again", n, err)
			forge("packet too big", icmp6Case{typ: 2, info: 65536})
			s.Poll(unix.EPOLLERR, 2*time.Second)
			_, _, _, _, err = s.RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT)
			e.Rec("recv after error", err)
			_, _, _, _, err = s.RecvMsg(make([]byte, 8), nil, unix.MSG_ERRQUEUE)
			e.Rec("errqueue without IPV6_RECVERR", err)
			// IPV6_PMTUDISC_DONT: packet too big is not fatal.
			e.SetInt("IPV6_MTU_DISCOVER DONT", s, unix.SOL_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_DONT)
			forge("packet too big under DONT", icmp6Case{typ: 2, info: 65536})
			r, _ = s.Poll(unix.EPOLLERR, 200*time.Millisecond)
			e.Rec("poll DONT", fmt.Sprintf("%#x", r))
			e.Check("close", s.Close())

			// Unconnected: nothing pending without IPV6_RECVERR; queued
			// and pending with it.
			u := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind unconnected", u.Bind(sa6(local.Addr(), int(local.Port()))))
			forge("port unreachable, unconnected", icmp6Case{typ: 1, code: 4})
			r, _ = u.Poll(unix.EPOLLERR, 200*time.Millisecond)
			e.Rec("poll unconnected", fmt.Sprintf("%#x", r))
			e.GetInt("SO_ERROR unconnected", u, unix.SOL_SOCKET, unix.SO_ERROR)
			e.SetInt("IPV6_RECVERR", u, unix.SOL_IPV6, unix.IPV6_RECVERR, 1)
			forge("port unreachable, unconnected, IPV6_RECVERR", icmp6Case{typ: 1, code: 4})
			forge("hop limit exceeded, unconnected, IPV6_RECVERR", icmp6Case{typ: 3})
			u.Poll(unix.EPOLLERR, 2*time.Second)
			time.Sleep(50 * time.Millisecond) // the second error too
			e.GetInt("SO_ERROR with two queued", u, unix.SOL_SOCKET, unix.SO_ERROR)
			recvErr6(e, "errqueue first", u, 0)
			e.GetInt("SO_ERROR after first", u, unix.SOL_SOCKET, unix.SO_ERROR)
			recvErr6(e, "errqueue second", u, 0)
			e.GetInt("SO_ERROR after second", u, unix.SOL_SOCKET, unix.SO_ERROR)
			// IPV6_PMTUDISC_INTERFACE ignores packet too big altogether.
			e.SetInt("IPV6_MTU_DISCOVER INTERFACE", u, unix.SOL_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_INTERFACE)
			forge("packet too big under INTERFACE", icmp6Case{typ: 2, info: 65536})
			recvErr6(e, "errqueue INTERFACE", u, 200*time.Millisecond)
		}},
		{Name: "ipv6/udp-icmp6-errqueue-cmsgs", Run: func(e *harness.Env) {
			local, peer := icmp6Ends(e)
			raw := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
			e.SetInt("raw IPV6_UNICAST_HOPS 9", raw, unix.SOL_IPV6, unix.IPV6_UNICAST_HOPS, 9)
			e.SetInt("raw IPV6_TCLASS 0x28", raw, unix.SOL_IPV6, unix.IPV6_TCLASS, 0x28)
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind", s.Bind(sa6(local.Addr(), int(local.Port()))))
			e.SetInt("IPV6_RECVERR", s, unix.SOL_IPV6, unix.IPV6_RECVERR, 1)
			for _, o := range []struct {
				name string
				opt  int
			}{
				{"IPV6_RECVPKTINFO", unix.IPV6_RECVPKTINFO},
				{"IPV6_RECVHOPLIMIT", unix.IPV6_RECVHOPLIMIT},
				{"IPV6_RECVTCLASS", unix.IPV6_RECVTCLASS},
				{"IPV6_RECVORIGDSTADDR", unix.IPV6_RECVORIGDSTADDR},
			} {
				e.SetInt(o.name, s, unix.SOL_IPV6, o.opt, 1)
			}
			c := icmp6Case{typ: 3, transProto: unix.IPPROTO_UDP}
			for _, payload := range []string{"payload with ports", "ab", ""} {
				n, err := raw.SendMsg(forgedICMP6(c, local, peer, payload), nil, sa6(netip.IPv6Loopback(), 0), 0)
				e.Rec(fmt.Sprintf("forge %q", payload), n, err)
				recvErr6(e, fmt.Sprintf("errqueue %q", payload), s, 2*time.Second)
			}
			// A short control buffer: MSG_CTRUNC, as put_cmsg leaves it.
			raw.SendMsg(forgedICMP6(c, local, peer, "cut"), nil, sa6(netip.IPv6Loopback(), 0), 0)
			s.Poll(unix.EPOLLERR, 2*time.Second)
			n, oobn, fl, _, err := s.RecvMsg(make([]byte, 2), make([]byte, 40), unix.MSG_ERRQUEUE)
			e.Rec("errqueue short buffers", n, oobn, fmt.Sprintf("flags=%#x", fl), err)
		}},
		{Name: "ipv6/udp-freebind", Run: func(e *harness.Env) {
			nonLocal := netip.MustParseAddr("2001:db8::5")
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.GetInt("IPV6_FREEBIND default", s, unix.SOL_IPV6, unix.IPV6_FREEBIND)
			e.GetInt("IPV6_TRANSPARENT default", s, unix.SOL_IPV6, unix.IPV6_TRANSPARENT)
			e.Rec("IPV6_FREEBIND short", s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_FREEBIND, []byte{1, 0}))
			e.Rec("IPV6_TRANSPARENT short", s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_TRANSPARENT, []byte{1, 0}))
			e.Rec("bind non-local", s.Bind(sa6(nonLocal, e.BasePort)))
			e.SetInt("IPV6_FREEBIND 1", s, unix.SOL_IPV6, unix.IPV6_FREEBIND, 1)
			e.GetInt("IPV6_FREEBIND", s, unix.SOL_IPV6, unix.IPV6_FREEBIND)
			e.GetInt("IP_FREEBIND (the same bit)", s, unix.SOL_IP, unix.IP_FREEBIND)
			e.Rec("bind non-local under IPV6_FREEBIND", s.Bind(sa6(nonLocal, e.BasePort)))
			name, err := s.GetSockName()
			e.Rec("getsockname", e.SA(name), err)
			// IPv6 output keeps the bound source (ip6_dst_lookup_tail).
			rx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("receiver bind", rx.Bind(sa6(v6Loopback, e.BasePort+1)))
			n, err := s.SendMsg([]byte("from non-local"), nil, sa6(v6Loopback, e.BasePort+1), 0)
			e.Rec("send from non-local", n, err)
			v6Recv(e, "received", rx, 0)

			t := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.SetInt("IP_TRANSPARENT 1", t, unix.SOL_IP, unix.IP_TRANSPARENT, 1)
			e.GetInt("IPV6_TRANSPARENT (the same bit)", t, unix.SOL_IPV6, unix.IPV6_TRANSPARENT)
			e.Rec("bind non-local under IP_TRANSPARENT", t.Bind(sa6(netip.MustParseAddr("2001:db8::6"), e.BasePort)))
			e.SetInt("IP_TRANSPARENT 0", t, unix.SOL_IP, unix.IP_TRANSPARENT, 0)
			e.GetInt("IPV6_TRANSPARENT after", t, unix.SOL_IPV6, unix.IPV6_TRANSPARENT)

			m := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			mapped := netip.AddrFrom16(netip.MustParseAddr("192.0.2.9").As16())
			e.Rec("bind v4-mapped non-local", m.Bind(sa6(mapped, e.BasePort)))
			e.SetInt("IPV6_FREEBIND 1", m, unix.SOL_IPV6, unix.IPV6_FREEBIND, 1)
			e.Rec("bind v4-mapped non-local under IPV6_FREEBIND", m.Bind(sa6(mapped, e.BasePort)))
		}},
		{Name: "ipv6/ping-icmp6-errors", Run: func(e *harness.Env) {
			lo := netip.IPv6Loopback()
			raw := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
			p := ping6Socket(e)
			ident := uint16(e.BasePort + 3)
			e.Check("bind", p.Bind(sa6(lo, int(ident))))
			e.Check("connect", p.Connect(sa6(lo, 0)))
			forge := func(op string, c icmp6Case, id uint16) {
				c.transProto = unix.IPPROTO_ICMPV6
				n, err := raw.SendMsg(quotingICMP6(c, lo, lo, echo6(id, 1, "ping")), nil, sa6(lo, 0), 0)
				e.Rec("forge "+op, n, err)
			}
			// Without IPV6_RECVERR: a fatal error on the connected socket
			// is pending, a soft one or another identifier's is not.
			forge("admin prohibited", icmp6Case{typ: 1, code: 1}, ident)
			r, _ := p.Poll(unix.EPOLLERR, 2*time.Second)
			e.Rec("poll", fmt.Sprintf("%#x", r))
			e.GetInt("SO_ERROR", p, unix.SOL_SOCKET, unix.SO_ERROR)
			forge("hop limit exceeded", icmp6Case{typ: 3}, ident)
			r, _ = p.Poll(unix.EPOLLERR, 200*time.Millisecond)
			e.Rec("poll soft", fmt.Sprintf("%#x", r))
			forge("port unreachable, other identifier", icmp6Case{typ: 1, code: 4}, ident+1)
			r, _ = p.Poll(unix.EPOLLERR, 200*time.Millisecond)
			e.Rec("poll other identifier", fmt.Sprintf("%#x", r))
			forge("port unreachable", icmp6Case{typ: 1, code: 4}, ident)
			p.Poll(unix.EPOLLERR, 2*time.Second)
			_, _, _, _, err := p.RecvMsg(make([]byte, 16), nil, unix.MSG_DONTWAIT)
			e.Rec("recv after error", err)
			forge("reject route", icmp6Case{typ: 1, code: 6}, ident)
			p.Poll(unix.EPOLLERR, 2*time.Second)
			n, err := p.SendMsg(echo6(0, 2, "x"), nil, nil, 0)
			e.Rec("send after error", n, err)
			// With IPV6_RECVERR every error is queued.
			e.SetInt("IPV6_RECVERR", p, unix.SOL_IPV6, unix.IPV6_RECVERR, 1)
			for _, c := range []icmp6Case{
				{name: "no route", typ: 1, code: 0},
				{name: "packet too big", typ: 2, info: 65536},
				{name: "hop limit exceeded", typ: 3, info: 7},
				{name: "parameter problem", typ: 4, code: 0, info: 40},
			} {
				forge(c.name, c, ident)
				recvErr6(e, "errqueue "+c.name, p, 2*time.Second)
				e.GetInt("SO_ERROR "+c.name, p, unix.SOL_SOCKET, unix.SO_ERROR)
			}
		}},
		{Name: "ipv6/raw-icmp6-errors", Run: func(e *harness.Env) {
			lo := netip.IPv6Loopback()
			forger := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
			forge := func(op string, c icmp6Case) {
				c.transProto = unix.IPPROTO_ICMPV6
				n, err := forger.SendMsg(quotingICMP6(c, lo, lo, echo6(0x4242, 1, "raw")), nil, sa6(lo, 0), 0)
				e.Rec("forge "+op, n, err)
			}
			// ICMPV6_FILTER keeps the forged errors out of the data
			// queue: only echo replies pass.
			filter := make([]byte, 32)
			for i := range filter {
				filter[i] = 0xff
			}
			filter[icmpv6EchoRep/32*4+icmpv6EchoRep%32/8] &^= 1 << (icmpv6EchoRep % 8)
			// Unconnected, no IPV6_RECVERR: nothing.
			u := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
			e.Rec("filter", u.SetSockOpt(solICMPv6, icmpv6Filter, filter))
			forge("port unreachable, unconnected", icmp6Case{typ: 1, code: 4})
			r, _ := u.Poll(unix.EPOLLERR, 200*time.Millisecond)
			e.Rec("poll unconnected", fmt.Sprintf("%#x", r))
			e.Check("close unconnected", u.Close())
			// Connected, no IPV6_RECVERR: fatal errors are pending;
			// packet too big only under IPV6_PMTUDISC_DO.
			c := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
			e.Rec("filter", c.SetSockOpt(solICMPv6, icmpv6Filter, filter))
			e.Check("connect", c.Connect(sa6(lo, 0)))
			forge("port unreachable", icmp6Case{typ: 1, code: 4})
			r, _ = c.Poll(unix.EPOLLERR, 2*time.Second)
			e.Rec("poll", fmt.Sprintf("%#x", r))
			e.GetInt("SO_ERROR", c, unix.SOL_SOCKET, unix.SO_ERROR)
			forge("packet too big", icmp6Case{typ: 2, info: 65536})
			r, _ = c.Poll(unix.EPOLLERR, 200*time.Millisecond)
			e.Rec("poll packet too big", fmt.Sprintf("%#x", r))
			e.SetInt("IPV6_MTU_DISCOVER DO", c, unix.SOL_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_DO)
			forge("packet too big under DO", icmp6Case{typ: 2, info: 65536})
			r, _ = c.Poll(unix.EPOLLERR, 2*time.Second)
			e.Rec("poll packet too big under DO", fmt.Sprintf("%#x", r))
			_, _, _, _, err := c.RecvMsg(make([]byte, 16), nil, unix.MSG_DONTWAIT)
			e.Rec("recv after error", err)
			// With IPV6_RECVERR, unconnected: queued and pending.
			q := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
			e.Rec("filter", q.SetSockOpt(solICMPv6, icmpv6Filter, filter))
			e.SetInt("IPV6_RECVERR", q, unix.SOL_IPV6, unix.IPV6_RECVERR, 1)
			for _, k := range []icmp6Case{
				{name: "hop limit exceeded", typ: 3},
				{name: "admin prohibited", typ: 1, code: 1},
			} {
				forge(k.name, k)
				recvErr6(e, "errqueue "+k.name, q, 2*time.Second)
				e.GetInt("SO_ERROR "+k.name, q, unix.SOL_SOCKET, unix.SO_ERROR)
			}
		}},
		{Name: "ipv6/udp-local-emsgsize", Run: func(e *harness.Env) {
			lo := netip.IPv6Loopback()
			big := make([]byte, 65528) // one past IPv6's largest UDP payload
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			n, err := s.SendMsg(big, nil, sa6(lo, e.BasePort), 0)
			e.Rec("send too big, no IPV6_RECVERR", n, err)
			_, _, _, _, err = s.RecvMsg(make([]byte, 8), nil, unix.MSG_ERRQUEUE)
			e.Rec("errqueue", err)
			e.SetInt("IPV6_RECVERR", s, unix.SOL_IPV6, unix.IPV6_RECVERR, 1)
			for _, mode := range []int32{unix.IPV6_PMTUDISC_WANT, unix.IPV6_PMTUDISC_DO, unix.IPV6_PMTUDISC_PROBE} {
				e.SetInt(fmt.Sprintf("IPV6_MTU_DISCOVER %d", mode), s, unix.SOL_IPV6, unix.IPV6_MTU_DISCOVER, mode)
				n, err = s.SendMsg(big, nil, sa6(lo, e.BasePort), 0)
				e.Rec("send too big", n, err)
				recvErr6(e, "errqueue", s, 0)
				e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
			}
			e.Check("connect", s.Connect(sa6(lo, e.BasePort+1)))
			n, err = s.SendMsg(big, nil, nil, 0)
			e.Rec("send too big, connected", n, err)
			recvErr6(e, "errqueue connected", s, 0)
			// A v4-mapped destination is IPv4's: ip_local_error follows
			// SOL_IP's IP_RECVERR, which is off.
			m := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.SetInt("IPV6_RECVERR", m, unix.SOL_IPV6, unix.IPV6_RECVERR, 1)
			n, err = m.SendMsg(big[:65508], nil, sa6(netip.AddrFrom16(netip.MustParseAddr("127.0.0.1").As16()), e.BasePort), 0)
			e.Rec("send too big, v4-mapped", n, err)
			_, _, _, _, err = m.RecvMsg(make([]byte, 8), nil, unix.MSG_ERRQUEUE)
			e.Rec("errqueue v4-mapped", err)
		}},
		{Name: "ipv6/ping-raw-local-emsgsize", Run: func(e *harness.Env) {
			lo := netip.IPv6Loopback()
			big := echo6(0, 1, string(make([]byte, 65492))) // 65500 bytes: past lo's 65536 with the IPv6 header
			// Under WANT both fragment it (netsandbox cuts them:
			// raw6_bigsend.go).
			for _, k := range []struct {
				name  string
				open  func() harness.Sock
				modes []int32
			}{
				{"ping", func() harness.Sock { return ping6Socket(e) }, []int32{unix.IPV6_PMTUDISC_DO, unix.IPV6_PMTUDISC_PROBE, unix.IPV6_PMTUDISC_WANT}},
				{"raw", func() harness.Sock { return e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6) }, []int32{unix.IPV6_PMTUDISC_DO, unix.IPV6_PMTUDISC_PROBE, unix.IPV6_PMTUDISC_WANT}},
			} {
				s := k.open()
				e.SetInt(k.name+" IPV6_RECVERR", s, unix.SOL_IPV6, unix.IPV6_RECVERR, 1)
				for _, mode := range k.modes {
					e.SetInt(fmt.Sprintf("%s IPV6_MTU_DISCOVER %d", k.name, mode), s, unix.SOL_IPV6, unix.IPV6_MTU_DISCOVER, mode)
					n, err := s.SendMsg(big, nil, sa6(lo, 0), 0)
					e.Rec(k.name+" send 65500", n, err)
					recvErr6(e, k.name+" errqueue", s, 0)
				}
				e.Check("close", s.Close())
			}
		}},
		{Name: "ipv6/dontfrag", Run: func(e *harness.Env) {
			lo := netip.IPv6Loopback()
			to := sa6(lo, e.BasePort)
			big := make([]byte, 65500) // past lo's 65536 with its headers
			rx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind", rx.Bind(to))
			drain := func(op string) {
				harness.WaitReadable(rx, 2*time.Second)
				n, _, _, _, err := rx.RecvMsg(make([]byte, 70000), nil, unix.MSG_DONTWAIT)
				e.Rec(op, n, err)
			}
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.GetInt("IPV6_DONTFRAG default", s, unix.SOL_IPV6, unix.IPV6_DONTFRAG)
			e.Rec("IPV6_DONTFRAG short", s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_DONTFRAG, []byte{1}))
			e.SetInt("IPV6_RECVERR", s, unix.SOL_IPV6, unix.IPV6_RECVERR, 1)
			n, err := s.SendMsg(big, nil, to, 0)
			e.Rec("send fragmented", n, err)
			drain("recv fragmented")
			e.SetInt("IPV6_DONTFRAG 1", s, unix.SOL_IPV6, unix.IPV6_DONTFRAG, 1)
			e.GetInt("IPV6_DONTFRAG", s, unix.SOL_IPV6, unix.IPV6_DONTFRAG)
			n, err = s.SendMsg(big, nil, to, 0)
			e.Rec("send under IPV6_DONTFRAG", n, err)
			recvErr6(e, "errqueue", s, 0)
			n, err = s.SendMsg(big, cmsgInt(unix.SOL_IPV6, unix.IPV6_DONTFRAG, 0), to, 0)
			e.Rec("send with IPV6_DONTFRAG 0 message", n, err)
			recvErr6(e, "errqueue", s, 0)
			e.SetInt("IPV6_DONTFRAG 0", s, unix.SOL_IPV6, unix.IPV6_DONTFRAG, 0)
			n, err = s.SendMsg(big, cmsgInt(unix.SOL_IPV6, unix.IPV6_DONTFRAG, 1), to, 0)
			e.Rec("send with IPV6_DONTFRAG 1 message", n, err)
			recvErr6(e, "errqueue", s, 0)
			n, err = s.SendMsg([]byte("x"), cmsgData(unix.SOL_IPV6, unix.IPV6_DONTFRAG, []byte{1, 0}), to, 0)
			e.Rec("send with a short IPV6_DONTFRAG message", n, err)
			n, err = s.SendMsg([]byte("small"), cmsgInt(unix.SOL_IPV6, unix.IPV6_DONTFRAG, 1), to, 0)
			e.Rec("send small with IPV6_DONTFRAG", n, err)
			drain("recv small")
			// Ping and raw sockets, by message and by option.
			p := ping6Socket(e)
			ping := echo6(0, 1, string(big[:65492]))
			n, err = p.SendMsg(ping, cmsgInt(unix.SOL_IPV6, unix.IPV6_DONTFRAG, 1), sa6(lo, 0), 0)
			e.Rec("ping with IPV6_DONTFRAG message", n, err)
			n, err = p.SendMsg(ping, nil, sa6(lo, 0), 0)
			e.Rec("ping without", n, err)
			r := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
			e.SetInt("raw IPV6_DONTFRAG 1", r, unix.SOL_IPV6, unix.IPV6_DONTFRAG, 1)
			e.GetInt("raw IPV6_DONTFRAG", r, unix.SOL_IPV6, unix.IPV6_DONTFRAG)
			n, err = r.SendMsg(ping, nil, sa6(lo, 0), 0)
			e.Rec("raw under IPV6_DONTFRAG", n, err)
		}},
		{Name: "ipv6/recvpathmtu", Run: func(e *harness.Env) {
			lo := netip.IPv6Loopback()
			to := sa6(lo, e.BasePort)
			big := make([]byte, 65500) // past lo's 65536 with its headers
			rx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind", rx.Bind(to))
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.GetInt("IPV6_RECVPATHMTU default", s, unix.SOL_IPV6, unix.IPV6_RECVPATHMTU)
			buf := make([]byte, 40)
			n, err := s.GetSockOpt(unix.SOL_IPV6, unix.IPV6_PATHMTU, buf)
			e.Rec("IPV6_PATHMTU unconnected", n, err)
			e.SetInt("IPV6_DONTFRAG", s, unix.SOL_IPV6, unix.IPV6_DONTFRAG, 1)
			n, err = s.SendMsg(big, nil, to, 0)
			e.Rec("send without IPV6_RECVPATHMTU", n, err)
			_, _, _, _, err = s.RecvMsg(make([]byte, 8), make([]byte, 64), unix.MSG_DONTWAIT)
			e.Rec("recv", err)
			e.SetInt("IPV6_RECVPATHMTU", s, unix.SOL_IPV6, unix.IPV6_RECVPATHMTU, 1)
			e.GetInt("IPV6_RECVPATHMTU", s, unix.SOL_IPV6, unix.IPV6_RECVPATHMTU)
			n, err = s.SendMsg(big, nil, to, 0)
			e.Rec("send", n, err)
			n, err = s.SendMsg(big[:65400], nil, to, 0)
			e.Rec("send again", n, err)
			oob := make([]byte, 64)
			rn, oobn, fl, from, err := s.RecvMsg(make([]byte, 8), oob, unix.MSG_DONTWAIT)
			e.Rec("recv path MTU", rn, fmt.Sprintf("flags=%#x", fl), e.SA(from), harness.Cmsgs(oob[:max(oobn, 0)]), err)
			_, _, _, _, err = s.RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT)
			e.Rec("recv again", err)
			// The message form of IPV6_DONTFRAG too; under DO the socket
			// never fragments, so no path MTU is kept.
			e.SetInt("IPV6_DONTFRAG 0", s, unix.SOL_IPV6, unix.IPV6_DONTFRAG, 0)
			n, err = s.SendMsg(big, cmsgInt(unix.SOL_IPV6, unix.IPV6_DONTFRAG, 1), to, 0)
			e.Rec("send with IPV6_DONTFRAG message", n, err)
			v6Recv(e, "recv path MTU", s, 128)
			e.SetInt("IPV6_MTU_DISCOVER DO", s, unix.SOL_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_DO)
			n, err = s.SendMsg(big, cmsgInt(unix.SOL_IPV6, unix.IPV6_DONTFRAG, 1), to, 0)
			e.Rec("send under DO", n, err)
			_, _, _, _, err = s.RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT)
			e.Rec("recv under DO", err)
			e.Check("connect", s.Connect(to))
			n, err = s.GetSockOpt(unix.SOL_IPV6, unix.IPV6_PATHMTU, buf)
			e.Rec("IPV6_PATHMTU connected", n, buf[:max(n, 0)], err)
			n, err = s.GetSockOpt(unix.SOL_IPV6, unix.IPV6_PATHMTU, buf[:31])
			e.Rec("IPV6_PATHMTU short", n, err)
		}},
		{Name: "ipv6/udp-v4mapped-icmp-errors", Run: func(e *harness.Env) {
			// An ICMP error about an AF_INET6 socket's IPv4 datagram
			// follows __udp4_lib_err and SOL_IP's IP_RECVERR (not
			// IPV6_RECVERR), and ipv6_recv_error reads it back
			// v4-mapped.
			src, dst := errAddrs(e)
			mapped := sa6(netip.AddrFrom16(dst.Addr().As16()), int(dst.Port()))
			f := newForger(e)
			open := func() harness.Sock {
				s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
				e.Check("bind", s.Bind(sa6(netip.IPv6Unspecified(), int(src.Port()))))
				e.Check("connect", s.Connect(mapped))
				return s
			}
			s := open()
			e.SetInt("IPV6_RECVERR", s, unix.SOL_IPV6, unix.IPV6_RECVERR, 1)
			f.send(3, 3, 0, quote(src, dst, []byte("mapped")), false)
			settle()
			pollNow(e, "poll, IPV6_RECVERR only", s)
			recvErrOOB(e, "errqueue, IPV6_RECVERR only", s, 64, 128)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
			e.Check("close", s.Close())
			s = open()
			e.SetInt("IP_RECVERR", s, unix.SOL_IP, unix.IP_RECVERR, 1)
			e.GetInt("IP_RECVERR", s, unix.SOL_IP, unix.IP_RECVERR)
			e.SetInt("IPV6_RECVPKTINFO", s, unix.SOL_IPV6, unix.IPV6_RECVPKTINFO, 1)
			f.send(11, 0, 0, quote(src, dst, []byte("mapped")), false)
			settle()
			pollNow(e, "poll, IP_RECVERR", s)
			recvErrOOB(e, "errqueue, IP_RECVERR", s, 64, 256)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
			f.send(3, 3, 0, quote(src, dst, []byte("mapped")), false)
			settle()
			e.SetInt("IP_RECVERR 0", s, unix.SOL_IP, unix.IP_RECVERR, 0)
			recvErrOOB(e, "errqueue after IP_RECVERR 0", s, 64, 256)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
		}},
	}
}
