package scenarios

import (
	"encoding/binary"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/options"
	"netsandbox/test/harness"
)

// IPv4 through an AF_INET6 UDP socket: ipv6_setsockopt hands SOL_IP to
// ip_setsockopt, udpv6_sendmsg hands a v4-mapped destination to
// udp_sendmsg (whose ip_cmsg_send also reads IPV6_PKTINFO) and
// udpv6_recvmsg gives an IPv4 datagram IP_* control messages after
// IPV6_PKTINFO.

var groupMapped = netip.MustParseAddr("239.1.7.1")

// solIPOnV6 are SOL_IP options read, set and read again on an AF_INET6
// UDP socket.
var solIPOnV6 = []struct {
	name string
	opt  int
	v    int32
}{
	{"IP_TTL", unix.IP_TTL, 9},
	{"IP_TOS", unix.IP_TOS, 0x28},
	{"IP_PKTINFO", unix.IP_PKTINFO, 1},
	{"IP_RECVTTL", unix.IP_RECVTTL, 1},
	{"IP_RECVTOS", unix.IP_RECVTOS, 1},
	{"IP_RECVOPTS", unix.IP_RECVOPTS, 1},
	{"IP_RETOPTS", unix.IP_RETOPTS, 1},
	{"IP_RECVORIGDSTADDR", unix.IP_RECVORIGDSTADDR, 1},
	{"IP_CHECKSUM", unix.IP_CHECKSUM, 1},
	{"IP_RECVFRAGSIZE", unix.IP_RECVFRAGSIZE, 1},
	{"IP_MTU_DISCOVER", unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DO},
	{"IP_MULTICAST_TTL", unix.IP_MULTICAST_TTL, 3},
	{"IP_MULTICAST_LOOP", unix.IP_MULTICAST_LOOP, 0},
	{"IP_MULTICAST_ALL", unix.IP_MULTICAST_ALL, 0},
	{"IP_MINTTL", unix.IP_MINTTL, 2},
	{"IP_BIND_ADDRESS_NO_PORT", unix.IP_BIND_ADDRESS_NO_PORT, 1},
	{"IP_PASSSEC", unix.IP_PASSSEC, 1},
	{"IP_RECVERR_RFC4884", unix.IP_RECVERR_RFC4884, 1},
	{"IP_HDRINCL", unix.IP_HDRINCL, 1},
	{"IP_NODEFRAG", unix.IP_NODEFRAG, 1},
	{"IP_ROUTER_ALERT", unix.IP_ROUTER_ALERT, 1},
	{"IP_MTU", unix.IP_MTU, 1500},
}

// solIPRoundTrip sets and reads back each SOL_IP option kind serves on a
// fresh AF_INET6 socket of kind.
func solIPRoundTrip(e *harness.Env, k sockKind) {
	s := e.Socket(e.DUT, unix.AF_INET6, k.typ, k.proto)
	for _, o := range solIPOnV6 {
		if _, missing := k.missingName(unix.IPPROTO_IP, o.opt); missing {
			continue
		}
		e.SetInt(k.name+" set "+o.name, s, unix.SOL_IP, o.opt, o.v)
		e.GetInt(k.name+" get "+o.name, s, unix.SOL_IP, o.opt)
	}
}

// in6Pktinfo is a struct in6_pktinfo.
func in6Pktinfo(a netip.Addr, ifindex uint32) []byte {
	b := a.As16()
	return binary.NativeEndian.AppendUint32(b[:], ifindex)
}

func ipv6MappedScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "ipv6/udp-solip-options", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			for _, o := range solIPOnV6 {
				e.GetInt("default "+o.name, s, unix.SOL_IP, o.opt)
				e.SetInt("set "+o.name, s, unix.SOL_IP, o.opt, o.v)
				e.GetInt("get "+o.name, s, unix.SOL_IP, o.opt)
			}
			e.Rec("IP_OPTIONS set", s.SetSockOpt(unix.SOL_IP, unix.IP_OPTIONS, []byte{1, 1, 1, 0}))
			opts := make([]byte, 40)
			n, err := s.GetSockOpt(unix.SOL_IP, unix.IP_OPTIONS, opts)
			e.Rec("IP_OPTIONS get", n, err, opts[:max(n, 0)])
			e.Check("connect ::ffff:127.0.0.1", s.Connect(sa6(v4Mapped, e.BasePort)))
			e.GetInt("IP_MTU connected v4-mapped", s, unix.SOL_IP, unix.IP_MTU)
			e.GetInt("IPV6_MTU connected v4-mapped", s, unix.SOL_IPV6, unix.IPV6_MTU)
			u := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("connect ::1", u.Connect(sa6(v6Loopback, e.BasePort)))
			e.GetInt("IP_MTU connected ::1", u, unix.SOL_IP, unix.IP_MTU)
		}},
		// A TCP or ping socket's SOL_IP is IPv4's code, as UDP's; a raw
		// socket's is ENOPROTOOPT. Options a kind does not serve yet are
		// left to the defaults group's -missing scenarios.
		{Name: "ipv6/solip-options-tcp-raw", Run: func(e *harness.Env) {
			for _, k := range sweepKinds6 {
				if k.typ == unix.SOCK_STREAM || k.typ == unix.SOCK_RAW {
					solIPRoundTrip(e, k)
				}
			}
		}},
		{Name: "ipv6/solip-options-ping", Run: func(e *harness.Env) {
			e.Check("set ping_group_range", e.SetSysctl(e.DUT, pingGroupRange, "0 0"))
			for _, k := range sweepKinds6 {
				if k.needPingRange {
					solIPRoundTrip(e, k)
				}
			}
		}},
		{Name: "ipv6/tcp-pathmtu-mcast-all", Run: func(e *harness.Env) {
			l := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_STREAM, 0)
			e.Check("bind ::1", l.Bind(sa6(v6Loopback, e.BasePort)))
			e.Check("listen", l.Listen(4))
			c := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_STREAM, 0)
			getOptBytes(e, "IPV6_PATHMTU unconnected", c, unix.SOL_IPV6, unix.IPV6_PATHMTU, 32)
			e.Check("connect ::1", c.Connect(sa6(v6Loopback, e.BasePort)))
			getOptBytes(e, "IPV6_PATHMTU connected", c, unix.SOL_IPV6, unix.IPV6_PATHMTU, 32)
			getOptBytes(e, "IPV6_PATHMTU short", c, unix.SOL_IPV6, unix.IPV6_PATHMTU, 31)
			e.GetInt("IPV6_MTU connected", c, unix.SOL_IPV6, unix.IPV6_MTU)
			e.GetInt("IPV6_MULTICAST_ALL", c, unix.SOL_IPV6, unix.IPV6_MULTICAST_ALL)
			e.SetInt("IPV6_MULTICAST_ALL 0", c, unix.SOL_IPV6, unix.IPV6_MULTICAST_ALL, 0)
			e.GetInt("IPV6_MULTICAST_ALL", c, unix.SOL_IPV6, unix.IPV6_MULTICAST_ALL)
			e.SetInt("IPV6_MULTICAST_ALL 7", c, unix.SOL_IPV6, unix.IPV6_MULTICAST_ALL, 7)
			e.GetInt("IPV6_MULTICAST_ALL", c, unix.SOL_IPV6, unix.IPV6_MULTICAST_ALL)
		}},
		{Name: "ipv6/bind-sets-v6only", Run: func(e *harness.Env) {
			for _, k := range []struct {
				name     string
				typ, pro int
			}{{"udp", unix.SOCK_DGRAM, 0}, {"tcp", unix.SOCK_STREAM, 0}, {"raw", unix.SOCK_RAW, unix.IPPROTO_ICMPV6}} {
				for i, a := range []netip.Addr{v6Loopback, v4Mapped, netip.IPv6Unspecified()} {
					if k.typ == unix.SOCK_RAW && a.Is4In6() {
						continue // raw sockets are IPv6 only (EADDRNOTAVAIL)
					}
					s := e.Socket(e.DUT, unix.AF_INET6, k.typ, k.pro)
					port := e.BasePort + i
					if k.typ == unix.SOCK_RAW {
						port = 0
					}
					e.Check(k.name+" bind", s.Bind(sa6(a, port)))
					e.GetInt(k.name+" IPV6_V6ONLY after bind "+a.String(), s, unix.SOL_IPV6, unix.IPV6_V6ONLY)
					if k.typ == unix.SOCK_STREAM {
						e.Rec(k.name+" connect v4-mapped after bind "+a.String(), s.Connect(sa6(v4Mapped, e.BasePort+9)))
					}
				}
			}
		}},
		{Name: "ipv6/tcp-dontfrag", Run: func(e *harness.Env) {
			l := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_STREAM, 0)
			e.Check("bind", l.Bind(sa6(v6Loopback, e.BasePort)))
			e.Check("listen", l.Listen(1))
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_STREAM, 0)
			e.GetInt("IPV6_DONTFRAG default", s, unix.SOL_IPV6, unix.IPV6_DONTFRAG)
			e.Rec("IPV6_DONTFRAG short", s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_DONTFRAG, []byte{1}))
			e.GetInt("IPV6_DONTFRAG after short", s, unix.SOL_IPV6, unix.IPV6_DONTFRAG)
			e.SetInt("IPV6_DONTFRAG 1", s, unix.SOL_IPV6, unix.IPV6_DONTFRAG, 1)
			e.GetInt("IPV6_DONTFRAG", s, unix.SOL_IPV6, unix.IPV6_DONTFRAG)
			e.Check("connect", s.Connect(sa6(v6Loopback, e.BasePort)))
			a, _, err := l.Accept(0)
			e.Check("accept", err)
			n, err := s.SendMsg(make([]byte, 100000), nil, nil, 0)
			e.Rec("send 100000 under IPV6_DONTFRAG", n, err)
			got := 0
			buf := make([]byte, 65536)
			for i := 0; i < 200 && got < 100000; i++ {
				harness.WaitReadable(a, 2*time.Second)
				m, _, _, _, err := a.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
				if err != nil {
					break
				}
				got += m
			}
			e.Rec("received", got)
		}},
		{Name: "ipv6/udp-mapped-recv-cmsgs", Run: func(e *harness.Env) {
			rx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind [::]", rx.Bind(sa6(netip.IPv6Unspecified(), e.BasePort)))
			tx4 := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			tx6 := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			to4, to6 := harness.Sockaddr(v4Loopback, e.BasePort), sa6(v6Loopback, e.BasePort)
			e.SetInt("tx4 IP_TTL", tx4, unix.SOL_IP, unix.IP_TTL, 33)
			e.SetInt("tx4 IP_TOS", tx4, unix.SOL_IP, unix.IP_TOS, 0x10)
			for _, step := range []struct {
				name       string
				level, opt int
			}{
				{"IP_PKTINFO", unix.SOL_IP, unix.IP_PKTINFO},
				{"IPV6_RECVPKTINFO", unix.SOL_IPV6, unix.IPV6_RECVPKTINFO},
				{"IP_RECVTTL", unix.SOL_IP, unix.IP_RECVTTL},
				{"IP_RECVTOS", unix.SOL_IP, unix.IP_RECVTOS},
				{"IPV6_RECVHOPLIMIT", unix.SOL_IPV6, unix.IPV6_RECVHOPLIMIT},
				{"IP_RECVORIGDSTADDR", unix.SOL_IP, unix.IP_RECVORIGDSTADDR},
			} {
				e.SetInt(step.name, rx, step.level, step.opt, 1)
				n, err := tx4.SendMsg([]byte("from v4"), nil, to4, 0)
				e.Rec("send v4", n, err)
				v6Recv(e, "recv v4 after "+step.name, rx, 512)
				n, err = tx6.SendMsg([]byte("from v6"), nil, to6, 0)
				e.Rec("send v6", n, err)
				v6Recv(e, "recv v6 after "+step.name, rx, 512)
			}
			// Room for IPV6_PKTINFO but not the IPv4 ones after it.
			n, err := tx4.SendMsg([]byte("short"), nil, to4, 0)
			e.Rec("send v4", n, err)
			v6Recv(e, "recv v4 short control", rx, 48)
		}},
		{Name: "ipv6/udp-mapped-send", Run: func(e *harness.Env) {
			// The peer's kernel socket shows what left (TTL, TOS, IP
			// options); a DUT socket on lo without control messages
			// shows the sources IPV6_PKTINFO and IP_PKTINFO choose.
			peer := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("peer bind", peer.Bind(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			for _, o := range []int{unix.IP_RECVTTL, unix.IP_RECVTOS, unix.IP_RECVOPTS} {
				e.Check("peer option", peer.SetSockOpt(unix.SOL_IP, o, harness.Int32(1)))
			}
			lo := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("lo bind", lo.Bind(harness.Sockaddr(anyAddr, e.BasePort+1)))
			toPeer := sa6(netip.AddrFrom16(e.PeerAddr.As16()), e.BasePort)
			toLo := sa6(v4Mapped, e.BasePort+1)
			tx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			sendTo := func(op string, s harness.Sock, oob []byte, to []byte, rx harness.Sock, ctl int) {
				n, err := s.SendMsg([]byte(op), oob, to, 0)
				e.Rec(op, n, err)
				if err == nil {
					v6Recv(e, op+" received", rx, ctl)
				}
			}
			toP := func(op string, oob []byte) { sendTo(op, tx, oob, toPeer, peer, 256) }
			toL := func(op string, oob []byte) { sendTo(op, tx, oob, toLo, lo, 0) }
			toP("plain", nil)
			e.SetInt("IP_TTL", tx, unix.SOL_IP, unix.IP_TTL, 9)
			e.SetInt("IP_TOS", tx, unix.SOL_IP, unix.IP_TOS, 0x20)
			e.SetInt("IPV6_UNICAST_HOPS", tx, unix.SOL_IPV6, unix.IPV6_UNICAST_HOPS, 77)
			toP("socket TTL and TOS", nil)
			toP("IP_TTL cmsg", cmsgInt(unix.SOL_IP, unix.IP_TTL, 5))
			toP("IP_TOS cmsg", cmsgInt(unix.SOL_IP, unix.IP_TOS, 0x48))
			toP("IPV6_HOPLIMIT cmsg (ignored)", cmsgInt(unix.SOL_IPV6, unix.IPV6_HOPLIMIT, 3))
			toP("IPV6_TCLASS cmsg (ignored)", cmsgInt(unix.SOL_IPV6, unix.IPV6_TCLASS, 3))
			toP("IP_TTL cmsg 0", cmsgInt(unix.SOL_IP, unix.IP_TTL, 0))
			e.Rec("IP_OPTIONS", tx.SetSockOpt(unix.SOL_IP, unix.IP_OPTIONS, []byte{1, 1, 1, 0}))
			toP("socket IP options", nil)
			src2 := netip.MustParseAddr("::ffff:127.0.0.2")
			toL("IPV6_PKTINFO v4-mapped source", options.AppendCmsg(nil, unix.SOL_IPV6, unix.IPV6_PKTINFO, in6Pktinfo(src2, 0)))
			toL("IPV6_PKTINFO ::1", options.AppendCmsg(nil, unix.SOL_IPV6, unix.IPV6_PKTINFO, in6Pktinfo(v6Loopback, 0)))
			toL("IPV6_PKTINFO short", options.AppendCmsg(nil, unix.SOL_IPV6, unix.IPV6_PKTINFO, in6Pktinfo(src2, 0)[:16]))
			toL("IPV6_PKTINFO long", options.AppendCmsg(nil, unix.SOL_IPV6, unix.IPV6_PKTINFO, append(in6Pktinfo(src2, 1), 0, 0, 0, 0)))
			toL("IPV6_PKTINFO no such interface", options.AppendCmsg(nil, unix.SOL_IPV6, unix.IPV6_PKTINFO, in6Pktinfo(src2, 999)))
			toL("IP_PKTINFO source", options.AppendCmsg(nil, unix.SOL_IP, unix.IP_PKTINFO, []byte{0, 0, 0, 0, 127, 0, 0, 3, 0, 0, 0, 0}))
			// Binding to an IPv6 address makes the socket IPV6_V6ONLY.
			b := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind ::1", b.Bind(sa6(v6Loopback, 0)))
			e.GetInt("IPV6_V6ONLY after bind ::1", b, unix.SOL_IPV6, unix.IPV6_V6ONLY)
			sendTo("bound to ::1", b, nil, toLo, lo, 0)
			e.Rec("bound to ::1 connect v4-mapped", b.Connect(toLo))
			m := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind ::ffff:127.0.0.1", m.Bind(sa6(v4Mapped, 0)))
			e.GetInt("IPV6_V6ONLY after bind v4-mapped", m, unix.SOL_IPV6, unix.IPV6_V6ONLY)
			sendTo("bound to ::ffff:127.0.0.1", m, nil, toLo, lo, 0)
			v6only := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.SetInt("IPV6_V6ONLY", v6only, unix.SOL_IPV6, unix.IPV6_V6ONLY, 1)
			sendTo("v6only", v6only, nil, toLo, lo, 0)
		}},
		{Name: "ipv6/udp-mapped-send-retopts", Run: func(e *harness.Env) {
			peer := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("peer bind", peer.Bind(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			e.Check("peer IP_RECVOPTS", peer.SetSockOpt(unix.SOL_IP, unix.IP_RECVOPTS, harness.Int32(1)))
			tx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			n, err := tx.SendMsg([]byte("opts"), options.AppendCmsg(nil, unix.SOL_IP, unix.IP_RETOPTS, []byte{1, 1, 1, 0}),
				sa6(netip.AddrFrom16(e.PeerAddr.As16()), e.BasePort), 0)
			e.Rec("IP_RETOPTS cmsg", n, err)
			if err == nil {
				v6Recv(e, "received", peer, 256)
			}
		}},
		{Name: "ipv6/udp-mapped-mcast", Run: func(e *harness.Env) {
			// Two sockets on the port, one joined: IP_MULTICAST_ALL is
			// off on AF_INET6 sockets, so the other gets nothing.
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			other := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			for _, k := range []harness.Sock{s, other} {
				e.Check("SO_REUSEADDR", k.SetSockOpt(unix.SOL_SOCKET, unix.SO_REUSEADDR, harness.Int32(1)))
				e.Check("bind", k.Bind(sa6(netip.IPv6Unspecified(), e.BasePort)))
			}
			e.SetInt("IP_PKTINFO", s, unix.SOL_IP, unix.IP_PKTINFO, 1)
			e.Rec("IP_ADD_MEMBERSHIP", s.SetSockOpt(unix.SOL_IP, unix.IP_ADD_MEMBERSHIP, mreq(groupMapped, e.DUTAddr, -1)))
			e.Rec("IP_ADD_MEMBERSHIP again", s.SetSockOpt(unix.SOL_IP, unix.IP_ADD_MEMBERSHIP, mreq(groupMapped, e.DUTAddr, -1)))
			time.Sleep(100 * time.Millisecond) // let the join reach the wire first
			p := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("peer IP_MULTICAST_IF", p.SetSockOpt(unix.SOL_IP, unix.IP_MULTICAST_IF, mreq(anyAddr, e.PeerAddr, -1)[4:8]))
			to := harness.Sockaddr(groupMapped, e.BasePort)
			send(e, "peer send to group", p, []byte("to group"), to, 0)
			v6Recv(e, "recv", s, 256)
			r, err := other.Poll(unix.EPOLLIN, 100*time.Millisecond)
			e.Rec("not joined: poll", err, r)
			// Sending to the group through the AF_INET6 socket uses
			// SOL_IP's multicast interface and TTL.
			tx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Rec("tx IP_MULTICAST_IF", tx.SetSockOpt(unix.SOL_IP, unix.IP_MULTICAST_IF, mreq(anyAddr, e.DUTAddr, -1)[4:8]))
			n, err := tx.SendMsg([]byte("own"), nil, harness.Sockaddr6(netip.AddrFrom16(groupMapped.As16()), e.BasePort, 0), 0)
			e.Rec("send to v4-mapped group", n, err)
			v6Recv(e, "recv own", s, 256)
			e.Rec("IP_DROP_MEMBERSHIP", s.SetSockOpt(unix.SOL_IP, unix.IP_DROP_MEMBERSHIP, mreq(groupMapped, e.DUTAddr, -1)))
			send(e, "peer send after drop", p, []byte("late"), to, 0)
			r, err = s.Poll(unix.EPOLLIN, 300*time.Millisecond)
			e.Rec("poll after drop", err, r)
		}},
	}
}
