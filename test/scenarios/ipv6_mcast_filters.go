package scenarios

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// IPv6 multicast source filters of AF_INET6 UDP sockets (issue 14): the
// MCAST_* options at level SOL_IPV6 (ipv6_sockglue.c, net/ipv6/mcast.c),
// their errnos, limits and interplay with IPV6_JOIN_GROUP, and delivery
// by source. The option scenarios keep their memberships on lo (ifindex
// 1), the only interface with IPv6 in the DUT namespace; the delivery
// ones turn IPv6 on over the veth for their run (EnableIPv6Link) and have
// the peer send to the group from three addresses of its own.

var (
	msrc1 = netip.MustParseAddr("2001:db8::51")
	msrc2 = netip.MustParseAddr("2001:db8::52")
	msrc3 = netip.MustParseAddr("2001:db8::53")
)

// mgroup6 is the n-th group of these scenarios (global scope).
func mgroup6(n int) netip.Addr {
	return netip.AddrFrom16([16]byte{0xff, 0x0e, 14: 0x61, 15: byte(n)})
}

// ss6 writes an AF_INET6 sockaddr_in6 for a into a sockaddr_storage slot.
func ss6(b []byte, a netip.Addr) { copy(b, harness.Sockaddr6(a, 0, 0)) }

// groupReq6 is struct group_req with an AF_INET6 group.
func groupReq6(ifindex int, group netip.Addr) []byte {
	b := make([]byte, 136)
	binary.NativeEndian.PutUint32(b, uint32(ifindex))
	ss6(b[8:], group)
	return b
}

// groupSourceReq6 is struct group_source_req with AF_INET6 addresses.
func groupSourceReq6(ifindex int, group, source netip.Addr) []byte {
	b := make([]byte, 264)
	binary.NativeEndian.PutUint32(b, uint32(ifindex))
	ss6(b[8:], group)
	ss6(b[136:], source)
	return b
}

// groupFilter6 is struct group_filter with AF_INET6 addresses.
func groupFilter6(ifindex int, group netip.Addr, mode uint32, sources ...netip.Addr) []byte {
	b := make([]byte, 144+128*len(sources))
	binary.NativeEndian.PutUint32(b, uint32(ifindex))
	ss6(b[8:], group)
	binary.NativeEndian.PutUint32(b[136:], mode)
	binary.NativeEndian.PutUint32(b[140:], uint32(len(sources)))
	for i, s := range sources {
		ss6(b[144+128*i:], s)
	}
	return b
}

func setIPv6(e *harness.Env, op string, s harness.Sock, name int, v []byte) {
	e.Rec(op, s.SetSockOpt(unix.SOL_IPV6, name, v))
}

// getFilter6 records getsockopt(SOL_IPV6, MCAST_MSFILTER) for group on
// ifindex with room for n sources: the errno, the length and the bytes
// after the group (mode, count, sources).
func getFilter6(e *harness.Env, op string, s harness.Sock, ifindex int, group netip.Addr, n int) {
	buf := groupFilter6(ifindex, group, 0, make([]netip.Addr, n)...)
	for i := range n {
		clear(buf[144+128*i : 144+128*(i+1)])
	}
	got, err := s.GetSockOpt(unix.SOL_IPV6, unix.MCAST_MSFILTER, buf)
	if err != nil {
		e.Rec(op, err)
		return
	}
	e.Rec(op, got, buf[136:])
}

// msrcN is the i-th source of the limit scenarios.
func msrcN(i int) netip.Addr {
	return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 1, 13: byte(i >> 8), 14: 0, 15: byte(i)})
}

// The peer's IPv6 sources for the delivery scenarios (ULA, only inside
// the namespaces).
var (
	psrc1 = netip.MustParseAddr("fd6e:7362::51")
	psrc2 = netip.MustParseAddr("fd6e:7362::52")
	psrc3 = netip.MustParseAddr("fd6e:7362::53")
)

// mcSender6 sends to an IPv6 group over the veth from each of the peer's
// sources, with a barrier behind (spoofer's, IPv4 unicast to the DUT).
type mcSender6 struct {
	e   *harness.Env
	tx  []harness.Sock // one per source
	to  []byte
	bar *spoofer
}

func newMcSender6(e *harness.Env, group netip.Addr, port, proto int) *mcSender6 {
	if err := harness.EnableIPv6Link(e, psrc1, psrc2, psrc3); err != nil {
		e.Check("IPv6 on the veth", err)
	}
	p := &mcSender6{e: e, to: harness.Sockaddr6(group, port, 0)}
	for _, a := range []netip.Addr{psrc1, psrc2, psrc3} {
		s := e.Socket(e.Peer, unix.AF_INET6, unix.SOCK_DGRAM, proto)
		e.Check("peer bind", s.Bind(sa6(a, 0)))
		e.Check("peer IPV6_MULTICAST_IF", s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_MULTICAST_IF, harness.Int32(2)))
		e.Check("peer IPV6_MULTICAST_LOOP 0", s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_MULTICAST_LOOP, harness.Int32(0)))
		p.tx = append(p.tx, s)
	}
	bar := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
	e.Check("barrier bind", bar.Bind(harness.Sockaddr(e.DUTAddr, 0)))
	to, err := bar.GetSockName()
	e.Check("barrier getsockname", err)
	p.bar = &spoofer{e: e, bar: bar, barTx: e.Socket(e.Peer, unix.AF_INET, unix.SOCK_DGRAM, 0), barTo: to}
	return p
}

// rcv6 is a DUT AF_INET6 UDP (or UDP-Lite) socket bound to [::]:port,
// sharing it.
func rcv6(e *harness.Env, port, proto int) harness.Sock {
	s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, proto)
	e.Check("SO_REUSEADDR", s.SetSockOpt(unix.SOL_SOCKET, unix.SO_REUSEADDR, harness.Int32(1)))
	e.Check("bind", s.Bind(sa6(netip.IPv6Unspecified(), port)))
	return s
}

// round sends one datagram from each source and records, once the
// barrier is in, what each receiver got (sorted: sources may reorder).
func (p *mcSender6) round(op string, rcv ...harness.Sock) {
	for i, s := range p.tx {
		if _, err := s.SendMsg([]byte(fmt.Sprintf("s%d", i+1)), nil, p.to, 0); err != nil {
			p.e.Rec(op+": send", err)
		}
	}
	p.bar.barrier()
	for i, r := range rcv {
		var got []string
		for range 8 {
			buf := make([]byte, 16)
			n, _, _, from, err := r.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			if err != nil {
				break
			}
			a := netip.AddrFrom16([16]byte(from[8:24]))
			got = append(got, fmt.Sprintf("%s from %s", buf[:n], a))
		}
		sort.Strings(got)
		p.e.Rec(fmt.Sprintf("%s: socket %d got", op, i), "["+strings.Join(got, ", ")+"]")
	}
}

// mldTap is a peer raw ICMPv6 socket that hears the MLDv2 reports on the
// veth (a member of ff02::16, where they go).
func mldTap(e *harness.Env) harness.Sock {
	s := e.Socket(e.Peer, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
	e.Check("tap IPV6_JOIN_GROUP ff02::16", s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_JOIN_GROUP, mreq6(netip.MustParseAddr("ff02::16"), 2)))
	return s
}

// mldRecords drains the tap for d and returns the records about group of
// the MLDv2 reports heard, each once, in the order first heard
// ("ALLOW [s1 s2]"): retransmissions repeat them at random times.
func mldRecords(s harness.Sock, group netip.Addr, d time.Duration) string {
	out := drainMLD(s, d, func(r mldRecord) string {
		if r.group == group {
			return r.String()
		}
		return ""
	})
	return "[" + strings.Join(out, ", ") + "]"
}

func ipv6McastFilterScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "ipv6/mcast-source-option-errors", Run: func(e *harness.Env) {
			g := mgroup6(1)
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			set := func(op string, name int, v []byte) { setIPv6(e, op, s, name, v) }
			get := func(op string, buf []byte) {
				n, err := s.GetSockOpt(unix.SOL_IPV6, unix.MCAST_MSFILTER, buf)
				if err != nil {
					e.Rec(op, err)
					return
				}
				e.Rec(op, n, buf[136:])
			}
			v4 := groupReq6(1, g)
			binary.NativeEndian.PutUint16(v4[8:], unix.AF_INET)
			set("MCAST_JOIN_GROUP short", unix.MCAST_JOIN_GROUP, groupReq6(1, g)[:135])
			set("MCAST_JOIN_GROUP AF_INET group", unix.MCAST_JOIN_GROUP, v4)
			set("MCAST_JOIN_GROUP unicast group", unix.MCAST_JOIN_GROUP, groupReq6(1, msrc1))
			set("MCAST_JOIN_GROUP ifindex 99", unix.MCAST_JOIN_GROUP, groupReq6(99, g))
			set("MCAST_JOIN_GROUP ifindex -1", unix.MCAST_JOIN_GROUP, groupReq6(-1, g))
			set("MCAST_LEAVE_GROUP not joined", unix.MCAST_LEAVE_GROUP, groupReq6(1, g))
			set("MCAST_LEAVE_GROUP unicast", unix.MCAST_LEAVE_GROUP, groupReq6(1, msrc1))
			set("MCAST_LEAVE_GROUP AF_INET", unix.MCAST_LEAVE_GROUP, v4)
			set("MCAST_JOIN_GROUP lo", unix.MCAST_JOIN_GROUP, groupReq6(1, g))
			set("MCAST_JOIN_GROUP lo again", unix.MCAST_JOIN_GROUP, groupReq6(1, g))
			set("MCAST_JOIN_GROUP any again", unix.MCAST_JOIN_GROUP, groupReq6(0, g))
			set("IPV6_JOIN_GROUP lo again", unix.IPV6_JOIN_GROUP, mreq6(g, 1))
			set("MCAST_JOIN_GROUP long", unix.MCAST_JOIN_GROUP, append(groupReq6(1, mgroup6(2)), 1, 2, 3))

			src := groupSourceReq6(1, mgroup6(3), msrc1)
			set("group_source_req short", unix.MCAST_JOIN_SOURCE_GROUP, src[:263])
			set("group_source_req long", unix.MCAST_JOIN_SOURCE_GROUP, append(src, 9))
			badSrc := groupSourceReq6(1, mgroup6(4), msrc1)
			binary.NativeEndian.PutUint16(badSrc[136:], unix.AF_INET)
			set("group_source_req AF_INET source", unix.MCAST_JOIN_SOURCE_GROUP, badSrc)
			badGrp := groupSourceReq6(1, mgroup6(4), msrc1)
			binary.NativeEndian.PutUint16(badGrp[8:], 0)
			set("group_source_req family 0 group", unix.MCAST_BLOCK_SOURCE, badGrp)
			set("JOIN_SOURCE_GROUP unicast group", unix.MCAST_JOIN_SOURCE_GROUP, groupSourceReq6(1, msrc2, msrc1))
			set("JOIN_SOURCE_GROUP ifindex 99", unix.MCAST_JOIN_SOURCE_GROUP, groupSourceReq6(99, mgroup6(4), msrc1))
			set("BLOCK_SOURCE not joined", unix.MCAST_BLOCK_SOURCE, groupSourceReq6(1, mgroup6(4), msrc1))
			set("UNBLOCK_SOURCE not joined", unix.MCAST_UNBLOCK_SOURCE, groupSourceReq6(1, mgroup6(4), msrc1))
			set("LEAVE_SOURCE_GROUP not joined", unix.MCAST_LEAVE_SOURCE_GROUP, groupSourceReq6(1, mgroup6(4), msrc1))
			set("BLOCK_SOURCE ifindex 99", unix.MCAST_BLOCK_SOURCE, groupSourceReq6(99, g, msrc1))
			set("BLOCK_SOURCE unicast group", unix.MCAST_BLOCK_SOURCE, groupSourceReq6(1, msrc2, msrc1))
			set("BLOCK_SOURCE on INCLUDE", unix.MCAST_BLOCK_SOURCE, groupSourceReq6(1, mgroup6(3), msrc2))
			set("JOIN_SOURCE_GROUP again", unix.MCAST_JOIN_SOURCE_GROUP, src)
			set("LEAVE_SOURCE_GROUP not listed", unix.MCAST_LEAVE_SOURCE_GROUP, groupSourceReq6(1, mgroup6(3), msrc2))
			set("UNBLOCK_SOURCE on INCLUDE", unix.MCAST_UNBLOCK_SOURCE, groupSourceReq6(1, mgroup6(3), msrc1))

			set("MCAST_MSFILTER short", unix.MCAST_MSFILTER, groupFilter6(1, g, unix.MCAST_EXCLUDE)[:143])
			set("MCAST_MSFILTER 65 sources", unix.MCAST_MSFILTER, groupFilter6(1, g, unix.MCAST_EXCLUDE, make([]netip.Addr, 65)...))
			trunc := groupFilter6(1, g, unix.MCAST_EXCLUDE, msrc1, msrc2)
			set("MCAST_MSFILTER sources beyond optlen", unix.MCAST_MSFILTER, trunc[:len(trunc)-1])
			set("MCAST_MSFILTER mode 2", unix.MCAST_MSFILTER, groupFilter6(1, g, 2, msrc1))
			set("MCAST_MSFILTER unicast group", unix.MCAST_MSFILTER, groupFilter6(1, msrc1, unix.MCAST_EXCLUDE, msrc1))
			set("MCAST_MSFILTER ifindex 99", unix.MCAST_MSFILTER, groupFilter6(99, g, unix.MCAST_EXCLUDE, msrc1))
			set("MCAST_MSFILTER not joined", unix.MCAST_MSFILTER, groupFilter6(1, mgroup6(5), unix.MCAST_EXCLUDE, msrc1))
			set("MCAST_MSFILTER include empty not joined", unix.MCAST_MSFILTER, groupFilter6(1, mgroup6(5), unix.MCAST_INCLUDE))
			v4src := groupFilter6(1, g, unix.MCAST_EXCLUDE, msrc1, msrc2)
			binary.NativeEndian.PutUint16(v4src[8:], unix.AF_INET)
			binary.NativeEndian.PutUint16(v4src[144:], unix.AF_INET)
			set("MCAST_MSFILTER AF_INET families", unix.MCAST_MSFILTER, v4src)
			getFilter6(e, "get after AF_INET families", s, 1, g, 2)
			set("MCAST_MSFILTER long", unix.MCAST_MSFILTER, append(groupFilter6(1, g, unix.MCAST_EXCLUDE, msrc3), 7, 7))
			getFilter6(e, "get after long", s, 1, g, 2)

			get("get short", groupFilter6(1, g, 0)[:143])
			gv4 := groupFilter6(1, g, 0)
			binary.NativeEndian.PutUint16(gv4[8:], unix.AF_INET)
			get("get AF_INET group", gv4)
			get("get unicast group", groupFilter6(1, msrc1, 0))
			get("get not joined", groupFilter6(1, mgroup6(5), 0))
			get("get ifindex 0", groupFilter6(0, g, 0))
			get("get ifindex 99", groupFilter6(99, g, 0))
			getFilter6(e, "get no room", s, 1, g, 0)
			getFilter6(e, "get INCLUDE", s, 1, mgroup6(3), 3)
			getFilter6(e, "get any-source", s, 1, mgroup6(2), 1)
			_, err := s.GetSockOpt(unix.SOL_IPV6, unix.MCAST_JOIN_GROUP, make([]byte, 136))
			e.Rec("getsockopt MCAST_JOIN_GROUP", err)
			_, err = s.GetSockOpt(unix.SOL_IPV6, unix.MCAST_BLOCK_SOURCE, make([]byte, 264))
			e.Rec("getsockopt MCAST_BLOCK_SOURCE", err)
		}},
		{Name: "ipv6/mcast-source-optmem", Run: func(e *harness.Env) {
			// A group_filter longer than net.core.optmem_max is ENOBUFS
			// before anything in it is read.
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			v, err := e.DUT.GetSysctl("net.core.optmem_max")
			e.Rec("optmem_max", v, err)
			setIPv6(e, "MCAST_MSFILTER over optmem_max", s, unix.MCAST_MSFILTER, append(groupFilter6(1, mgroup6(1), unix.MCAST_EXCLUDE), make([]byte, 131072)...))
		}},
		{Name: "ipv6/mcast-source-limits", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			for i := 1; i <= 65; i++ {
				err := s.SetSockOpt(unix.SOL_IPV6, unix.MCAST_JOIN_SOURCE_GROUP, groupSourceReq6(1, mgroup6(10), msrcN(i)))
				if err != nil || i >= 63 {
					e.Rec(fmt.Sprintf("include source %d", i), err)
				}
			}
			e.Rec("include duplicate at the limit", s.SetSockOpt(unix.SOL_IPV6, unix.MCAST_JOIN_SOURCE_GROUP, groupSourceReq6(1, mgroup6(10), msrcN(1))))
			e.Rec("leave one", s.SetSockOpt(unix.SOL_IPV6, unix.MCAST_LEAVE_SOURCE_GROUP, groupSourceReq6(1, mgroup6(10), msrcN(30))))
			e.Rec("include one more, ifindex 0", s.SetSockOpt(unix.SOL_IPV6, unix.MCAST_JOIN_SOURCE_GROUP, groupSourceReq6(0, mgroup6(10), msrcN(100))))
			e.Rec("include one more", s.SetSockOpt(unix.SOL_IPV6, unix.MCAST_JOIN_SOURCE_GROUP, groupSourceReq6(1, mgroup6(10), msrcN(100))))
			buf := groupFilter6(1, mgroup6(10), 0, make([]netip.Addr, 64)...)
			n, err := s.GetSockOpt(unix.SOL_IPV6, unix.MCAST_MSFILTER, buf)
			e.Rec("get 64", n, err, buf[136:144])
			var got []string
			for i := range 64 {
				got = append(got, netip.AddrFrom16([16]byte(buf[144+128*i+8:144+128*i+24])).String())
			}
			e.Rec("sources in order", strings.Join(got, " "))
			setIPv6(e, "IPV6_JOIN_GROUP", s, unix.IPV6_JOIN_GROUP, mreq6(mgroup6(11), 1))
			for i := 1; i <= 65; i++ {
				err := s.SetSockOpt(unix.SOL_IPV6, unix.MCAST_BLOCK_SOURCE, groupSourceReq6(1, mgroup6(11), msrcN(i)))
				if err != nil || i >= 64 {
					e.Rec(fmt.Sprintf("block source %d", i), err)
				}
			}
			srcs := make([]netip.Addr, 64)
			for i := range srcs {
				srcs[i] = msrcN(200 + i)
			}
			setIPv6(e, "MCAST_MSFILTER 64", s, unix.MCAST_MSFILTER, groupFilter6(1, mgroup6(11), unix.MCAST_INCLUDE, srcs...))
			getFilter6(e, "get after 64", s, 1, mgroup6(11), 2)
			setIPv6(e, "MCAST_MSFILTER 65", s, unix.MCAST_MSFILTER, groupFilter6(1, mgroup6(11), unix.MCAST_INCLUDE, append(srcs, msrc1)...))
			for i := 1; i <= 40; i++ {
				if err := s.SetSockOpt(unix.SOL_IPV6, unix.MCAST_JOIN_GROUP, groupReq6(1, mgroup6(100+i))); err != nil {
					e.Rec(fmt.Sprintf("join %d", i), err)
				}
			}
			e.Rec("40 more groups joined")
		}},
		{Name: "ipv6/mcast-source-sequences", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			g := mgroup6(20)
			set := func(op string, name int, v []byte) { setIPv6(e, op, s, name, v) }
			// Any-source join, then exclusions.
			set("IPV6_JOIN_GROUP", unix.IPV6_JOIN_GROUP, mreq6(g, 1))
			getFilter6(e, "get any-source", s, 1, g, 2)
			set("BLOCK s1", unix.MCAST_BLOCK_SOURCE, groupSourceReq6(1, g, msrc1))
			set("BLOCK s2 any interface", unix.MCAST_BLOCK_SOURCE, groupSourceReq6(0, g, msrc2))
			set("BLOCK s1 again", unix.MCAST_BLOCK_SOURCE, groupSourceReq6(1, g, msrc1))
			getFilter6(e, "get excluding", s, 1, g, 3)
			set("JOIN_SOURCE_GROUP on EXCLUDE", unix.MCAST_JOIN_SOURCE_GROUP, groupSourceReq6(1, g, msrc3))
			set("LEAVE_SOURCE_GROUP on EXCLUDE", unix.MCAST_LEAVE_SOURCE_GROUP, groupSourceReq6(1, g, msrc1))
			set("UNBLOCK s1", unix.MCAST_UNBLOCK_SOURCE, groupSourceReq6(1, g, msrc1))
			set("UNBLOCK s1 again", unix.MCAST_UNBLOCK_SOURCE, groupSourceReq6(1, g, msrc1))
			set("UNBLOCK s2", unix.MCAST_UNBLOCK_SOURCE, groupSourceReq6(1, g, msrc2))
			getFilter6(e, "get EXCLUDE empty list", s, 1, g, 1)
			// An empty list that exists keeps its mode.
			set("JOIN_SOURCE_GROUP on empty EXCLUDE list", unix.MCAST_JOIN_SOURCE_GROUP, groupSourceReq6(1, g, msrc3))
			// MSFILTER replaces; an absent list (EXCLUDE, no sources) may switch mode.
			set("MSFILTER ifindex 0", unix.MCAST_MSFILTER, groupFilter6(0, g, unix.MCAST_EXCLUDE))
			set("MSFILTER EXCLUDE none", unix.MCAST_MSFILTER, groupFilter6(1, g, unix.MCAST_EXCLUDE))
			getFilter6(e, "get after MSFILTER EXCLUDE none", s, 1, g, 1)
			set("JOIN_SOURCE_GROUP switches mode", unix.MCAST_JOIN_SOURCE_GROUP, groupSourceReq6(1, g, msrc3))
			set("JOIN_SOURCE_GROUP s1", unix.MCAST_JOIN_SOURCE_GROUP, groupSourceReq6(0, g, msrc1))
			getFilter6(e, "get INCLUDE", s, 1, g, 3)
			set("MSFILTER EXCLUDE s2 s2", unix.MCAST_MSFILTER, groupFilter6(1, g, unix.MCAST_EXCLUDE, msrc2, msrc2))
			getFilter6(e, "get duplicates", s, 1, g, 3)
			set("MSFILTER INCLUDE s1 s3", unix.MCAST_MSFILTER, groupFilter6(1, g, unix.MCAST_INCLUDE, msrc1, msrc3))
			set("LEAVE_SOURCE s3", unix.MCAST_LEAVE_SOURCE_GROUP, groupSourceReq6(1, g, msrc3))
			set("LEAVE_SOURCE s1 leaves the group", unix.MCAST_LEAVE_SOURCE_GROUP, groupSourceReq6(0, g, msrc1))
			getFilter6(e, "get after leaving", s, 1, g, 1)
			set("IPV6_LEAVE_GROUP after leaving", unix.IPV6_LEAVE_GROUP, mreq6(g, 1))
			// MSFILTER (INCLUDE, empty) leaves, on any interface for 0.
			set("MCAST_JOIN_GROUP", unix.MCAST_JOIN_GROUP, groupReq6(1, g))
			set("MSFILTER INCLUDE empty, ifindex 0", unix.MCAST_MSFILTER, groupFilter6(0, g, unix.MCAST_INCLUDE))
			set("MCAST_LEAVE_GROUP after", unix.MCAST_LEAVE_GROUP, groupReq6(1, g))
			// A source join needs no prior join; MCAST_LEAVE_GROUP drops it with its sources.
			set("JOIN_SOURCE_GROUP fresh", unix.MCAST_JOIN_SOURCE_GROUP, groupSourceReq6(1, g, msrc2))
			set("IPV6_JOIN_GROUP on source join", unix.IPV6_JOIN_GROUP, mreq6(g, 1))
			set("MCAST_LEAVE_GROUP any interface", unix.MCAST_LEAVE_GROUP, groupReq6(0, g))
			getFilter6(e, "get after MCAST_LEAVE_GROUP", s, 1, g, 1)
			set("IPV6_JOIN_GROUP any interface", unix.IPV6_JOIN_GROUP, mreq6(g, 0))
			set("IPV6_JOIN_GROUP lo after", unix.IPV6_JOIN_GROUP, mreq6(g, 1))
			set("IPV6_LEAVE_GROUP any", unix.IPV6_LEAVE_GROUP, mreq6(g, 0))
		}},
		{Name: "ipv6/mcast-source-delivery", Run: func(e *harness.Env) {
			g := mgroup6(30)
			p := newMcSender6(e, g, e.BasePort, 0)
			// r0 includes s1, r1 includes s2 and s3, r2 excludes s1,
			// r3 is an any-source member, r4 has no membership (it
			// gets what the interface takes: IPV6_MULTICAST_ALL).
			r := []harness.Sock{rcv6(e, e.BasePort, 0), rcv6(e, e.BasePort, 0), rcv6(e, e.BasePort, 0), rcv6(e, e.BasePort, 0), rcv6(e, e.BasePort, 0)}
			p.round("nobody joined", r...)
			setIPv6(e, "r0 JOIN_SOURCE_GROUP s1", r[0], unix.MCAST_JOIN_SOURCE_GROUP, groupSourceReq6(2, g, psrc1))
			setIPv6(e, "r1 MCAST_JOIN_GROUP", r[1], unix.MCAST_JOIN_GROUP, groupReq6(2, g))
			setIPv6(e, "r1 MSFILTER INCLUDE s2 s3", r[1], unix.MCAST_MSFILTER, groupFilter6(2, g, unix.MCAST_INCLUDE, psrc2, psrc3))
			setIPv6(e, "r2 IPV6_JOIN_GROUP", r[2], unix.IPV6_JOIN_GROUP, mreq6(g, 2))
			setIPv6(e, "r2 BLOCK s1", r[2], unix.MCAST_BLOCK_SOURCE, groupSourceReq6(2, g, psrc1))
			setIPv6(e, "r3 IPV6_JOIN_GROUP", r[3], unix.IPV6_JOIN_GROUP, mreq6(g, 2))
			p.round("filters set", r...)
			setIPv6(e, "r0 JOIN_SOURCE_GROUP s3", r[0], unix.MCAST_JOIN_SOURCE_GROUP, groupSourceReq6(2, g, psrc3))
			setIPv6(e, "r1 LEAVE_SOURCE_GROUP s2", r[1], unix.MCAST_LEAVE_SOURCE_GROUP, groupSourceReq6(2, g, psrc2))
			setIPv6(e, "r2 BLOCK s2", r[2], unix.MCAST_BLOCK_SOURCE, groupSourceReq6(2, g, psrc2))
			setIPv6(e, "r2 UNBLOCK s1", r[2], unix.MCAST_UNBLOCK_SOURCE, groupSourceReq6(2, g, psrc1))
			setIPv6(e, "r3 MSFILTER EXCLUDE s1 s2 s3", r[3], unix.MCAST_MSFILTER, groupFilter6(2, g, unix.MCAST_EXCLUDE, psrc1, psrc2, psrc3))
			p.round("filters changed", r...)
			setIPv6(e, "r1 LEAVE_SOURCE_GROUP s3", r[1], unix.MCAST_LEAVE_SOURCE_GROUP, groupSourceReq6(2, g, psrc3))
			setIPv6(e, "r3 MSFILTER INCLUDE empty", r[3], unix.MCAST_MSFILTER, groupFilter6(2, g, unix.MCAST_INCLUDE))
			p.round("r1 and r3 left", r...)
			e.Check("close r0", r[0].Close())
			e.Check("close r2", r[2].Close())
			p.round("every member closed", r[1], r[3], r[4])
		}},
		{Name: "ipv6/mcast-multicast-all", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.GetInt("IPV6_MULTICAST_ALL default", s, unix.SOL_IPV6, unix.IPV6_MULTICAST_ALL)
			setIPv6(e, "IPV6_MULTICAST_ALL short", s, unix.IPV6_MULTICAST_ALL, []byte{0, 0, 0})
			e.SetInt("IPV6_MULTICAST_ALL 7", s, unix.SOL_IPV6, unix.IPV6_MULTICAST_ALL, 7)
			e.GetInt("IPV6_MULTICAST_ALL after 7", s, unix.SOL_IPV6, unix.IPV6_MULTICAST_ALL)
			e.SetInt("IPV6_MULTICAST_ALL 0", s, unix.SOL_IPV6, unix.IPV6_MULTICAST_ALL, 0)
			e.GetInt("IPV6_MULTICAST_ALL after 0", s, unix.SOL_IPV6, unix.IPV6_MULTICAST_ALL)
			n, err := s.GetSockOpt(unix.SOL_IPV6, unix.IPV6_MULTICAST_ALL, make([]byte, 1))
			e.Rec("get IPV6_MULTICAST_ALL 1 byte", n, err)
			g := mgroup6(31)
			p := newMcSender6(e, g, e.BasePort, 0)
			// r0 joins; r1 and r2 do not, r2 with IPV6_MULTICAST_ALL 0.
			r := []harness.Sock{rcv6(e, e.BasePort, 0), rcv6(e, e.BasePort, 0), rcv6(e, e.BasePort, 0)}
			e.SetInt("r2 IPV6_MULTICAST_ALL 0", r[2], unix.SOL_IPV6, unix.IPV6_MULTICAST_ALL, 0)
			setIPv6(e, "r0 MCAST_JOIN_GROUP", r[0], unix.MCAST_JOIN_GROUP, groupReq6(2, g))
			p.round("r0 joined", r...)
			setIPv6(e, "r2 JOIN_SOURCE_GROUP s2", r[2], unix.MCAST_JOIN_SOURCE_GROUP, groupSourceReq6(2, g, psrc2))
			p.round("r2 joined s2", r...)
			setIPv6(e, "r2 IPV6_JOIN_GROUP other group", r[2], unix.IPV6_JOIN_GROUP, mreq6(mgroup6(32), 2))
			setIPv6(e, "r2 LEAVE_SOURCE_GROUP s2", r[2], unix.MCAST_LEAVE_SOURCE_GROUP, groupSourceReq6(2, g, psrc2))
			p.round("r2 left", r...)
		}},
		{Name: "ipv6/mcast-mld-report", Run: func(e *harness.Env) {
			if err := harness.EnableIPv6Link(e); err != nil {
				e.Check("IPv6 on the veth", err)
			}
			tap := mldTap(e)
			// Both ends' IPv6 just came up: let what that sends pass.
			mldRecords(tap, netip.IPv6Unspecified(), 1000*time.Millisecond)
			g := mgroup6(34)
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			setIPv6(e, "JOIN_SOURCE_GROUP s1", s, unix.MCAST_JOIN_SOURCE_GROUP, groupSourceReq6(2, g, psrc1))
			e.Rec("reports", mldRecords(tap, g, 1500*time.Millisecond))
			setIPv6(e, "JOIN_SOURCE_GROUP s2", s, unix.MCAST_JOIN_SOURCE_GROUP, groupSourceReq6(2, g, psrc2))
			e.Rec("reports", mldRecords(tap, g, 1500*time.Millisecond))
			setIPv6(e, "MSFILTER EXCLUDE s3", s, unix.MCAST_MSFILTER, groupFilter6(2, g, unix.MCAST_EXCLUDE, psrc3))
			e.Rec("reports", mldRecords(tap, g, 1500*time.Millisecond))
			setIPv6(e, "MCAST_LEAVE_GROUP", s, unix.MCAST_LEAVE_GROUP, groupReq6(2, g))
			e.Rec("reports", mldRecords(tap, g, 1500*time.Millisecond))
		}},
		{Name: "ipv6/mcast-source-delivery-udplite", Run: func(e *harness.Env) {
			g := mgroup6(33)
			p := newMcSender6(e, g, e.BasePort, unix.IPPROTO_UDPLITE)
			r := []harness.Sock{rcv6(e, e.BasePort, unix.IPPROTO_UDPLITE), rcv6(e, e.BasePort, unix.IPPROTO_UDPLITE), rcv6(e, e.BasePort, unix.IPPROTO_UDPLITE)}
			setIPv6(e, "r0 JOIN_SOURCE_GROUP s3", r[0], unix.MCAST_JOIN_SOURCE_GROUP, groupSourceReq6(2, g, psrc3))
			setIPv6(e, "r1 IPV6_JOIN_GROUP", r[1], unix.IPV6_JOIN_GROUP, mreq6(g, 2))
			setIPv6(e, "r1 BLOCK s1", r[1], unix.MCAST_BLOCK_SOURCE, groupSourceReq6(2, g, psrc1))
			setIPv6(e, "r1 BLOCK s3", r[1], unix.MCAST_BLOCK_SOURCE, groupSourceReq6(2, g, psrc3))
			p.round("filters set", r...)
			setIPv6(e, "r1 MSFILTER INCLUDE s1", r[1], unix.MCAST_MSFILTER, groupFilter6(2, g, unix.MCAST_INCLUDE, psrc1))
			p.round("r1 includes s1", r...)
		}},
	}
}
