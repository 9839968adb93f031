package scenarios

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	fb "netsandbox/freebsd"
	"netsandbox/test/harness"
)

var (
	bsdGroup  = netip.MustParseAddr("239.1.2.3")
	bsdGroup2 = netip.MustParseAddr("239.1.2.4")
)

// mreq4 is struct ip_mreq (the same on both systems).
func mreq4(group, ifaddr netip.Addr) []byte {
	return append(append([]byte(nil), group.AsSlice()...), ifaddr.AsSlice()...)
}

// bsdMreqSource is FreeBSD's struct ip_mreq_source: group, source, then
// interface.
func bsdMreqSource(group, source, ifaddr netip.Addr) []byte {
	return append(mreq4(group, source), ifaddr.AsSlice()...)
}

// linuxMreqSource4 is Linux's: group, interface, then source.
func linuxMreqSource4(group, source, ifaddr netip.Addr) []byte {
	return append(mreq4(group, ifaddr), source.AsSlice()...)
}

// peerMcastSend has the kernel peer send payload to group:port out of its
// DUT-side address.
func peerMcastSend(e *harness.Env, from int, group netip.Addr, port int, payload []byte) {
	p := bsdPeerUDP(e, from)
	if p == nil {
		return
	}
	p.SetSockOpt(unix.SOL_IP, unix.IP_MULTICAST_IF, e.PeerAddr.AsSlice())
	if _, err := p.SendMsg(payload, nil, harness.Sockaddr(group, port), 0); err != nil {
		e.Rec("peer send", err)
	}
}

// delivered records (a wire line) the payload s is handed within a short
// wait, or "none".
func delivered(e *harness.Env, what string, s harness.Sock, flags int) {
	s.Poll(unix.EPOLLIN, 500*time.Millisecond)
	buf := make([]byte, 32)
	n, _, _, _, err := s.RecvMsg(buf, nil, flags)
	if err != nil {
		e.Wire(what, "none")
		return
	}
	e.Wire(what, fmt.Sprintf("[%s]", buf[:n]))
}

func freebsdMcastScenarios() []harness.BSDScenario {
	return []harness.BSDScenario{
		{
			Name: "freebsd/mcast-ttl-loop-if",
			Cite: "in_mcast.c (FreeBSD 8) inp_setmoptions: only SOCK_DGRAM and SOCK_RAW (EOPNOTSUPP); IP_MULTICAST_TTL and " +
				"IP_MULTICAST_LOOP take one u_char or a u_int (sooptcopyin: EINVAL under 4 bytes), a TTL over 255 is EINVAL, " +
				"loop = !!(u_char)value; inp_getmoptions answers a 1-byte buffer with a u_char, else an int, and without " +
				"ip_moptions yet the defaults IP_DEFAULT_MULTICAST_TTL/LOOP (1) whatever net.inet.ip.mcast.loop says; " +
				"inp_findmoptions takes the loop default from net.inet.ip.mcast.loop; inp_set_multicast_if: a 12-byte " +
				"ip_mreqn (ifindex out of range EINVAL) or an in_addr whose interface must exist (EADDRNOTAVAIL); " +
				"IP_MULTICAST_IF reads back as ip_mreqn for a 12-byte buffer, else the interface's address; ip_output " +
				"sends with imo_multicast_ttl (Linux: the same options)",
			BSD: func(e *harness.Env, h harness.BSDHost) {
				tcp, err := h.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
				e.Check("bsd socket(AF_INET,SOCK_STREAM,0)", err)
				e.Rec("TCP set IP_MULTICAST_TTL", tcp.SetSockOpt(fb.IPPROTO_IP, fb.IP_MULTICAST_TTL, bsdInt(2)))
				bsdGet(e, "TCP get IP_MULTICAST_TTL", tcp, fb.IPPROTO_IP, fb.IP_MULTICAST_TTL, 4)
				e.Rec("mcast.loop 0", e.SetSysctl(h, "net.inet.ip.mcast.loop", "0"))
				s := bsdUDP(e, h)
				bsdGet(e, "get IP_MULTICAST_TTL", s, fb.IPPROTO_IP, fb.IP_MULTICAST_TTL, 4)
				bsdGet(e, "get IP_MULTICAST_TTL u_char", s, fb.IPPROTO_IP, fb.IP_MULTICAST_TTL, 1)
				bsdGet(e, "get IP_MULTICAST_LOOP", s, fb.IPPROTO_IP, fb.IP_MULTICAST_LOOP, 4)
				bsdGet(e, "get IP_MULTICAST_IF", s, fb.IPPROTO_IP, fb.IP_MULTICAST_IF, 4)
				e.Rec("set IP_MULTICAST_TTL 2 bytes", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_MULTICAST_TTL, []byte{3, 0}))
				e.Rec("set IP_MULTICAST_TTL 256", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_MULTICAST_TTL, bsdInt(256)))
				e.Rec("set IP_MULTICAST_TTL u_char 3", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_MULTICAST_TTL, []byte{3}))
				bsdGet(e, "get IP_MULTICAST_TTL", s, fb.IPPROTO_IP, fb.IP_MULTICAST_TTL, 4)
				bsdGet(e, "get IP_MULTICAST_LOOP (now from net.inet.ip.mcast.loop)", s, fb.IPPROTO_IP, fb.IP_MULTICAST_LOOP, 4)
				e.Rec("set IP_MULTICAST_LOOP 0x100", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_MULTICAST_LOOP, bsdInt(0x100)))
				bsdGet(e, "get IP_MULTICAST_LOOP u_char", s, fb.IPPROTO_IP, fb.IP_MULTICAST_LOOP, 1)
				e.Rec("set IP_MULTICAST_IF 198.18.0.9", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_MULTICAST_IF, netip.MustParseAddr("198.18.0.9").AsSlice()))
				mreqn := make([]byte, 12)
				binary.LittleEndian.PutUint32(mreqn[8:], 99)
				e.Rec("set IP_MULTICAST_IF ip_mreqn ifindex 99", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_MULTICAST_IF, mreqn))
				e.Rec("set IP_MULTICAST_IF DUT address", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_MULTICAST_IF, e.DUTAddr.AsSlice()))
				bsdGet(e, "get IP_MULTICAST_IF ip_mreqn", s, fb.IPPROTO_IP, fb.IP_MULTICAST_IF, 12)
				bsdGet(e, "get IP_MULTICAST_IF in_addr", s, fb.IPPROTO_IP, fb.IP_MULTICAST_IF, 4)
				tap := tapUDP(e, e.Peer)
				p := bsdPeerUDP(e, e.BasePort+1)
				if p != nil {
					p.SetSockOpt(unix.SOL_IP, unix.IP_ADD_MEMBERSHIP, mreq4(bsdGroup, e.PeerAddr))
				}
				_, err = s.SendMsg([]byte("mc"), nil, bsdSA(bsdGroup, e.BasePort+1), 0)
				e.Wire("send to the group", err)
				tap.expect(e, "peer sees", e.BasePort+1)
			},
			Want: []string{
				"bsd socket(AF_INET,SOCK_STREAM,0): ok",
				"TCP set IP_MULTICAST_TTL: ENOTSUP",
				"TCP get IP_MULTICAST_TTL: ENOTSUP",
				"mcast.loop 0: ok",
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"get IP_MULTICAST_TTL: ok 4 [01000000]",
				"get IP_MULTICAST_TTL u_char: ok 1 [01]",
				"get IP_MULTICAST_LOOP: ok 4 [01000000]",
				"get IP_MULTICAST_IF: ok 4 [00000000]",
				"set IP_MULTICAST_TTL 2 bytes: EINVAL",
				"set IP_MULTICAST_TTL 256: EINVAL",
				"set IP_MULTICAST_TTL u_char 3: ok",
				"get IP_MULTICAST_TTL: ok 4 [03000000]",
				"get IP_MULTICAST_LOOP (now from net.inet.ip.mcast.loop): ok 4 [00000000]",
				"set IP_MULTICAST_LOOP 0x100: ok",
				"get IP_MULTICAST_LOOP u_char: ok 1 [00]",
				"set IP_MULTICAST_IF 198.18.0.9: EADDRNOTAVAIL",
				"set IP_MULTICAST_IF ip_mreqn ifindex 99: EINVAL",
				"set IP_MULTICAST_IF DUT address: ok",
				"get IP_MULTICAST_IF ip_mreqn: ok 12 [00000000c612000202000000]",
				"get IP_MULTICAST_IF in_addr: ok 4 [c6120002]",
				"wire send to the group: ok",
				"wire peer sees: src=198.18.0.2 dst=239.1.2.3 ttl=3 tos=0x0 df=false opts=[] udplen=10 payload=[6d63]",
			},
			Linux: func(e *harness.Env) {
				s := linuxUDP(e)
				s.SetSockOpt(unix.SOL_IP, unix.IP_MULTICAST_TTL, []byte{3})
				s.SetSockOpt(unix.SOL_IP, unix.IP_MULTICAST_IF, e.DUTAddr.AsSlice())
				s.SetSockOpt(unix.SOL_IP, unix.IP_MTU_DISCOVER, harness.Int32(unix.IP_PMTUDISC_DONT))
				tap := tapUDP(e, e.Peer)
				p := bsdPeerUDP(e, e.BasePort+1)
				if p != nil {
					p.SetSockOpt(unix.SOL_IP, unix.IP_ADD_MEMBERSHIP, mreq4(bsdGroup, e.PeerAddr))
				}
				_, err := s.SendMsg([]byte("mc"), nil, harness.Sockaddr(bsdGroup, e.BasePort+1), 0)
				e.Wire("send to the group", err)
				tap.expect(e, "peer sees", e.BasePort+1)
			},
		},
		{
			Name: "freebsd/mcast-membership-and-sources",
			Cite: "in_mcast.c (FreeBSD 8) inp_join_group: IP_ADD_MEMBERSHIP copies a struct ip_mreq (8 bytes, EINVAL " +
				"under), IP_ADD_SOURCE_MEMBERSHIP a struct ip_mreq_source {imr_multiaddr, imr_sourceaddr, imr_interface} " +
				"(12); a group that is not multicast is EINVAL, an interface address no interface has EADDRNOTAVAIL; an " +
				"existing membership: without a source EADDRINUSE (exclude mode) or EINVAL (include mode), with one EINVAL " +
				"unless include mode, EADDRNOTAVAIL for a source it has; inp_block_unblock_source: only exclude mode " +
				"(EINVAL), blocking a blocked source or unblocking an unblocked one EADDRNOTAVAIL; inp_leave_group: not a " +
				"member EADDRNOTAVAIL, a source drop on an exclude membership or of a missing source EADDRNOTAVAIL, and " +
				"dropping the last source keeps the (include-mode) membership (ip(4) says it is dropped; the source " +
				"decides) (Linux: the same joins, blocks and drops with its own ip_mreq_source layout; the datagrams " +
				"delivered must match)",
			BSD: func(e *harness.Env, h harness.BSDHost) {
				s := bsdUDP(e, h)
				e.Rec("bind", s.Bind(bsdSA(netip.IPv4Unspecified(), e.BasePort)))
				set := func(op string, name int, v []byte) { e.Rec(op, s.SetSockOpt(fb.IPPROTO_IP, name, v)) }
				set("join 7 bytes", fb.IP_ADD_MEMBERSHIP, mreq4(bsdGroup, e.DUTAddr)[:7])
				set("join a unicast group", fb.IP_ADD_MEMBERSHIP, mreq4(e.PeerAddr, e.DUTAddr))
				set("join on 198.18.0.9", fb.IP_ADD_MEMBERSHIP, mreq4(bsdGroup, netip.MustParseAddr("198.18.0.9")))
				set("join", fb.IP_ADD_MEMBERSHIP, mreq4(bsdGroup, e.DUTAddr))
				set("join again", fb.IP_ADD_MEMBERSHIP, mreq4(bsdGroup, e.DUTAddr))
				bsdGet(e, "get IP_ADD_MEMBERSHIP", s, fb.IPPROTO_IP, fb.IP_ADD_MEMBERSHIP, 8)
				peerMcastSend(e, e.BasePort+2, bsdGroup, e.BasePort, []byte("asm"))
				delivered(e, "joined", s, fb.MSG_DONTWAIT)
				src := bsdMreqSource(bsdGroup, e.PeerAddr, e.DUTAddr)
				set("add source on an exclude membership", fb.IP_ADD_SOURCE_MEMBERSHIP, src)
				set("unblock an unblocked source", fb.IP_UNBLOCK_SOURCE, src)
				set("block", fb.IP_BLOCK_SOURCE, src)
				set("block again", fb.IP_BLOCK_SOURCE, src)
				peerMcastSend(e, e.BasePort+3, bsdGroup, e.BasePort, []byte("blk"))
				delivered(e, "blocked", s, fb.MSG_DONTWAIT)
				set("unblock", fb.IP_UNBLOCK_SOURCE, src)
				set("drop source on an exclude membership", fb.IP_DROP_SOURCE_MEMBERSHIP, src)
				set("drop", fb.IP_DROP_MEMBERSHIP, mreq4(bsdGroup, e.DUTAddr))
				set("drop again", fb.IP_DROP_MEMBERSHIP, mreq4(bsdGroup, e.DUTAddr))
				src2 := bsdMreqSource(bsdGroup2, e.PeerAddr, e.DUTAddr)
				set("add source 11 bytes", fb.IP_ADD_SOURCE_MEMBERSHIP, src2[:11])
				set("add source", fb.IP_ADD_SOURCE_MEMBERSHIP, src2)
				set("add the same source", fb.IP_ADD_SOURCE_MEMBERSHIP, src2)
				set("join an include membership", fb.IP_ADD_MEMBERSHIP, mreq4(bsdGroup2, e.DUTAddr))
				set("block on an include membership", fb.IP_BLOCK_SOURCE, src2)
				peerMcastSend(e, e.BasePort+4, bsdGroup2, e.BasePort, []byte("ssm"))
				delivered(e, "source joined", s, fb.MSG_DONTWAIT)
				set("drop the source", fb.IP_DROP_SOURCE_MEMBERSHIP, src2)
				set("drop it again", fb.IP_DROP_SOURCE_MEMBERSHIP, src2)
				set("join the emptied include membership", fb.IP_ADD_MEMBERSHIP, mreq4(bsdGroup2, e.DUTAddr))
				set("drop the membership", fb.IP_DROP_MEMBERSHIP, mreq4(bsdGroup2, e.DUTAddr))
			},
			Want: []string{
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"bind: ok",
				"join 7 bytes: EINVAL",
				"join a unicast group: EINVAL",
				"join on 198.18.0.9: EADDRNOTAVAIL",
				"join: ok",
				"join again: EADDRINUSE",
				"get IP_ADD_MEMBERSHIP: ENOPROTOOPT",
				"wire joined: [asm]",
				"add source on an exclude membership: EINVAL",
				"unblock an unblocked source: EADDRNOTAVAIL",
				"block: ok",
				"block again: EADDRNOTAVAIL",
				"wire blocked: none",
				"unblock: ok",
				"drop source on an exclude membership: EADDRNOTAVAIL",
				"drop: ok",
				"drop again: EADDRNOTAVAIL",
				"add source 11 bytes: EINVAL",
				"add source: ok",
				"add the same source: EADDRNOTAVAIL",
				"join an include membership: EINVAL",
				"block on an include membership: EINVAL",
				"wire source joined: [ssm]",
				"drop the source: ok",
				"drop it again: EADDRNOTAVAIL",
				"join the emptied include membership: EINVAL",
				"drop the membership: ok",
			},
			Linux: func(e *harness.Env) {
				s := linuxUDP(e)
				s.Bind(harness.Sockaddr(netip.IPv4Unspecified(), e.BasePort))
				s.SetSockOpt(unix.SOL_IP, unix.IP_ADD_MEMBERSHIP, mreq4(bsdGroup, e.DUTAddr))
				peerMcastSend(e, e.BasePort+2, bsdGroup, e.BasePort, []byte("asm"))
				delivered(e, "joined", s, unix.MSG_DONTWAIT)
				src := linuxMreqSource4(bsdGroup, e.PeerAddr, e.DUTAddr)
				s.SetSockOpt(unix.SOL_IP, unix.IP_BLOCK_SOURCE, src)
				peerMcastSend(e, e.BasePort+3, bsdGroup, e.BasePort, []byte("blk"))
				delivered(e, "blocked", s, unix.MSG_DONTWAIT)
				s.SetSockOpt(unix.SOL_IP, unix.IP_DROP_MEMBERSHIP, mreq4(bsdGroup, e.DUTAddr))
				s.SetSockOpt(unix.SOL_IP, unix.IP_ADD_SOURCE_MEMBERSHIP, linuxMreqSource4(bsdGroup2, e.PeerAddr, e.DUTAddr))
				peerMcastSend(e, e.BasePort+4, bsdGroup2, e.BasePort, []byte("ssm"))
				delivered(e, "source joined", s, unix.MSG_DONTWAIT)
			},
		},
		{
			Name: "freebsd/mcast-limits",
			Cite: "in.h IP_MAX_MEMBERSHIPS 4095: in_mcast.c imo_grow doubles the membership vector from IP_MIN_MEMBERSHIPS (31) " +
				"and fails past it with ETOOMANYREFS; inm_get_source: a group (per interface, over every socket) holding " +
				"net.inet.ip.mcast.maxgrpsrc sources refuses a new one with ENOSPC, counted when inm_merge takes a socket's " +
				"filter (no Linux equivalent: Linux's limits are per socket, igmp_max_memberships 20 and igmp_max_msf 10, ENOBUFS)",
			BSD: func(e *harness.Env, h harness.BSDHost) {
				s := bsdUDP(e, h)
				var err error
				n := 0
				for ; n < 4095; n++ {
					g := netip.AddrFrom4([4]byte{239, 20, byte(n >> 8), byte(n)})
					if err = s.SetSockOpt(fb.IPPROTO_IP, fb.IP_ADD_MEMBERSHIP, mreq4(g, e.DUTAddr)); err != nil {
						break
					}
				}
				e.Rec("joins", n, err)
				e.Rec("join 4096", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_ADD_MEMBERSHIP, mreq4(netip.MustParseAddr("239.21.0.0"), e.DUTAddr)))
				e.Rec("close", s.Close())
				e.Rec("maxgrpsrc 2", e.SetSysctl(h, "net.inet.ip.mcast.maxgrpsrc", "2"))
				a, b := bsdUDP(e, h), bsdUDP(e, h)
				for _, x := range []harness.Sock{a, b} {
					e.Rec("join", x.SetSockOpt(fb.IPPROTO_IP, fb.IP_ADD_MEMBERSHIP, mreq4(bsdGroup, e.DUTAddr)))
				}
				src := func(n byte) []byte {
					return bsdMreqSource(bsdGroup, netip.AddrFrom4([4]byte{198, 19, 0, n}), e.DUTAddr)
				}
				e.Rec("first socket blocks 198.19.0.1", a.SetSockOpt(fb.IPPROTO_IP, fb.IP_BLOCK_SOURCE, src(1)))
				e.Rec("first socket blocks 198.19.0.2", a.SetSockOpt(fb.IPPROTO_IP, fb.IP_BLOCK_SOURCE, src(2)))
				e.Rec("first socket blocks 198.19.0.3", a.SetSockOpt(fb.IPPROTO_IP, fb.IP_BLOCK_SOURCE, src(3)))
				e.Rec("second socket blocks 198.19.0.2", b.SetSockOpt(fb.IPPROTO_IP, fb.IP_BLOCK_SOURCE, src(2)))
				e.Rec("second socket blocks 198.19.0.3", b.SetSockOpt(fb.IPPROTO_IP, fb.IP_BLOCK_SOURCE, src(3)))
				e.Rec("first socket unblocks 198.19.0.1", a.SetSockOpt(fb.IPPROTO_IP, fb.IP_UNBLOCK_SOURCE, src(1)))
				e.Rec("second socket blocks 198.19.0.3", b.SetSockOpt(fb.IPPROTO_IP, fb.IP_BLOCK_SOURCE, src(3)))
			},
			Want: []string{
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"joins: 4095 ok",
				"join 4096: ETOOMANYREFS",
				"close: ok",
				"maxgrpsrc 2: ok",
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"join: ok",
				"join: ok",
				"first socket blocks 198.19.0.1: ok",
				"first socket blocks 198.19.0.2: ok",
				"first socket blocks 198.19.0.3: ENOSPC",
				"second socket blocks 198.19.0.2: ok",
				"second socket blocks 198.19.0.3: ENOSPC",
				"first socket unblocks 198.19.0.1: ok",
				"second socket blocks 198.19.0.3: ok",
			},
		},
		{
			Name: "freebsd/mcast-group-req",
			Cite: "in_mcast.c (FreeBSD 8) inp_join_group/inp_leave_group/inp_block_unblock_source for MCAST_*: struct " +
				"group_req (136 bytes on amd64) or group_source_req (264) copied whole (EINVAL when shorter), a " +
				"sockaddr_storage that is not AF_INET with ss_len 16 EINVAL, gr_interface 0 or past if_index " +
				"EADDRNOTAVAIL, checked before the group's class on leave and block, after it on join; then the rules " +
				"of the ip_mreq forms; getsockopt has no case for them (ENOPROTOOPT) (Linux: its own group_req " +
				"layout; the datagrams delivered must match)",
			BSD: func(e *harness.Env, h harness.BSDHost) {
				s := bsdUDP(e, h)
				e.Rec("bind", s.Bind(bsdSA(netip.IPv4Unspecified(), e.BasePort)))
				req := func(ifindex uint32, group netip.Addr, source netip.Addr) []byte {
					n := fb.SizeofGroupReq
					if source.IsValid() {
						n = fb.SizeofGroupSourceReq
					}
					b := make([]byte, n)
					binary.LittleEndian.PutUint32(b, ifindex)
					b[8], b[9] = fb.SizeofSockaddrIn, fb.AF_INET
					copy(b[12:16], group.AsSlice())
					if source.IsValid() {
						b[136], b[137] = fb.SizeofSockaddrIn, fb.AF_INET
						copy(b[140:144], source.AsSlice())
					}
					return b
				}
				set := func(op string, name int, v []byte) { e.Rec(op, s.SetSockOpt(fb.IPPROTO_IP, name, v)) }
				g := req(2, bsdGroup, netip.Addr{})
				set("join 135 bytes", fb.MCAST_JOIN_GROUP, g[:135])
				bad := append([]byte(nil), g...)
				bad[9] = 28
				set("join family 28", fb.MCAST_JOIN_GROUP, bad)
				bad = append([]byte(nil), g...)
				bad[8] = 0
				set("join ss_len 0", fb.MCAST_JOIN_GROUP, bad)
				set("join ifindex 0", fb.MCAST_JOIN_GROUP, req(0, bsdGroup, netip.Addr{}))
				set("join ifindex 9", fb.MCAST_JOIN_GROUP, req(9, bsdGroup, netip.Addr{}))
				set("join a unicast group on ifindex 0", fb.MCAST_JOIN_GROUP, req(0, e.PeerAddr, netip.Addr{}))
				set("join", fb.MCAST_JOIN_GROUP, g)
				set("join again", fb.MCAST_JOIN_GROUP, g)
				bsdGet(e, "get MCAST_JOIN_GROUP", s, fb.IPPROTO_IP, fb.MCAST_JOIN_GROUP, fb.SizeofGroupReq)
				peerMcastSend(e, e.BasePort+2, bsdGroup, e.BasePort, []byte("asm"))
				delivered(e, "joined", s, fb.MSG_DONTWAIT)
				gs := req(2, bsdGroup, e.PeerAddr)
				set("block 263 bytes", fb.MCAST_BLOCK_SOURCE, gs[:263])
				set("block", fb.MCAST_BLOCK_SOURCE, gs)
				peerMcastSend(e, e.BasePort+3, bsdGroup, e.BasePort, []byte("blk"))
				delivered(e, "blocked", s, fb.MSG_DONTWAIT)
				set("unblock", fb.MCAST_UNBLOCK_SOURCE, gs)
				set("leave a unicast group on ifindex 0", fb.MCAST_LEAVE_GROUP, req(0, e.PeerAddr, netip.Addr{}))
				set("leave", fb.MCAST_LEAVE_GROUP, g)
				set("leave again", fb.MCAST_LEAVE_GROUP, g)
				gs2 := req(2, bsdGroup2, e.PeerAddr)
				set("join source", fb.MCAST_JOIN_SOURCE_GROUP, gs2)
				peerMcastSend(e, e.BasePort+4, bsdGroup2, e.BasePort, []byte("ssm"))
				delivered(e, "source joined", s, fb.MSG_DONTWAIT)
				set("leave source", fb.MCAST_LEAVE_SOURCE_GROUP, gs2)
			},
			Want: []string{
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"bind: ok",
				"join 135 bytes: EINVAL",
				"join family 28: EINVAL",
				"join ss_len 0: EINVAL",
				"join ifindex 0: EADDRNOTAVAIL",
				"join ifindex 9: EADDRNOTAVAIL",
				"join a unicast group on ifindex 0: EINVAL",
				"join: ok",
				"join again: EADDRINUSE",
				"get MCAST_JOIN_GROUP: ENOPROTOOPT",
				"wire joined: [asm]",
				"block 263 bytes: EINVAL",
				"block: ok",
				"wire blocked: none",
				"unblock: ok",
				"leave a unicast group on ifindex 0: EADDRNOTAVAIL",
				"leave: ok",
				"leave again: EADDRNOTAVAIL",
				"join source: ok",
				"wire source joined: [ssm]",
				"leave source: ok",
			},
			Linux: func(e *harness.Env) {
				s := linuxUDP(e)
				s.Bind(harness.Sockaddr(netip.IPv4Unspecified(), e.BasePort))
				req := func(group netip.Addr, source netip.Addr) []byte {
					n := 136
					if source.IsValid() {
						n = 264
					}
					b := make([]byte, n)
					binary.NativeEndian.PutUint32(b, 2)
					binary.NativeEndian.PutUint16(b[8:], unix.AF_INET)
					copy(b[12:16], group.AsSlice())
					if source.IsValid() {
						binary.NativeEndian.PutUint16(b[136:], unix.AF_INET)
						copy(b[140:144], source.AsSlice())
					}
					return b
				}
				s.SetSockOpt(unix.SOL_IP, unix.MCAST_JOIN_GROUP, req(bsdGroup, netip.Addr{}))
				peerMcastSend(e, e.BasePort+2, bsdGroup, e.BasePort, []byte("asm"))
				delivered(e, "joined", s, unix.MSG_DONTWAIT)
				s.SetSockOpt(unix.SOL_IP, unix.MCAST_BLOCK_SOURCE, req(bsdGroup, e.PeerAddr))
				peerMcastSend(e, e.BasePort+3, bsdGroup, e.BasePort, []byte("blk"))
				delivered(e, "blocked", s, unix.MSG_DONTWAIT)
				s.SetSockOpt(unix.SOL_IP, unix.MCAST_LEAVE_GROUP, req(bsdGroup, netip.Addr{}))
				s.SetSockOpt(unix.SOL_IP, unix.MCAST_JOIN_SOURCE_GROUP, req(bsdGroup2, e.PeerAddr))
				peerMcastSend(e, e.BasePort+4, bsdGroup2, e.BasePort, []byte("ssm"))
				delivered(e, "source joined", s, unix.MSG_DONTWAIT)
			},
		},
		{
			Name: "freebsd/mcast-msfilter",
			Cite: "in_mcast.c (FreeBSD 8) inp_set_source_filters: struct __msfilterreq copied whole (EINVAL), msfr_nsrcs over " +
				"net.inet.ip.mcast.maxsocksrc ENOBUFS, a mode other than MCAST_INCLUDE (1)/MCAST_EXCLUDE (2) EINVAL, msfr_ifindex " +
				"0 or past if_index EADDRNOTAVAIL, not a member EADDRNOTAVAIL, a source not AF_INET EAFNOSUPPORT or not 16 " +
				"bytes long EINVAL; inp_getmoptions: no ip_moptions EADDRNOTAVAIL; inp_get_source_filters: the mode, as " +
				"many sources as msfr_nsrcs has room for, msfr_nsrcs set to their count (msfr_srcs, a user pointer, stands " +
				"for the sockaddr_storage array after the structure here) (Linux: IP_MSFILTER; the datagrams delivered must " +
				"match)",
			BSD: func(e *harness.Env, h harness.BSDHost) {
				s := bsdUDP(e, h)
				e.Rec("bind", s.Bind(bsdSA(netip.IPv4Unspecified(), e.BasePort)))
				msf := func(ifindex, fmode, nsrcs uint32, group netip.Addr, srcs ...netip.Addr) []byte {
					b := make([]byte, fb.SizeofMsfilterreq+128*len(srcs))
					binary.LittleEndian.PutUint32(b[0:], ifindex)
					binary.LittleEndian.PutUint32(b[4:], fmode)
					binary.LittleEndian.PutUint32(b[8:], nsrcs)
					b[16], b[17] = fb.SizeofSockaddrIn, fb.AF_INET
					copy(b[20:24], group.AsSlice())
					if len(srcs) > 0 {
						b[144] = 1 // msfr_srcs: the array below
					}
					for i, a := range srcs {
						o := fb.SizeofMsfilterreq + 128*i
						b[o], b[o+1] = fb.SizeofSockaddrIn, fb.AF_INET
						copy(b[o+4:o+8], a.AsSlice())
					}
					return b
				}
				get := func(op string, room int) {
					b := msf(2, 0, uint32(room), bsdGroup)
					if room > 0 {
						b = append(b, make([]byte, 128*room)...)
						b[144] = 1
					}
					n, err := s.GetSockOpt(fb.IPPROTO_IP, fb.IP_MSFILTER, b)
					if err != nil {
						e.Rec(op, err)
						return
					}
					e.Rec(op, n, fmt.Sprintf("fmode=%d nsrcs=%d", binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[8:])), b[fb.SizeofMsfilterreq:])
				}
				set := func(op string, v []byte) { e.Rec(op, s.SetSockOpt(fb.IPPROTO_IP, fb.IP_MSFILTER, v)) }
				get("get with no multicast options", 0)
				e.Rec("join", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_ADD_MEMBERSHIP, mreq4(bsdGroup, e.DUTAddr)))
				ex := msf(2, fb.MCAST_EXCLUDE, 1, bsdGroup, e.PeerAddr)
				set("151 bytes", ex[:151])
				set("mode 3", msf(2, 3, 1, bsdGroup, e.PeerAddr))
				set("129 sources", msf(2, fb.MCAST_EXCLUDE, 129, bsdGroup))
				set("ifindex 0", msf(0, fb.MCAST_EXCLUDE, 1, bsdGroup, e.PeerAddr))
				set("a group not joined", msf(2, fb.MCAST_EXCLUDE, 1, bsdGroup2, e.PeerAddr))
				bad := append([]byte(nil), ex...)
				bad[fb.SizeofMsfilterreq+1] = 28
				set("a source of family 28", bad)
				bad = append([]byte(nil), ex...)
				bad[fb.SizeofMsfilterreq] = 0
				set("a source with ss_len 0", bad)
				set("exclude the peer", ex)
				get("get, room for 2", 2)
				get("get, room for none", 0)
				peerMcastSend(e, e.BasePort+2, bsdGroup, e.BasePort, []byte("ex"))
				delivered(e, "peer excluded", s, fb.MSG_DONTWAIT)
				set("include the peer", msf(2, fb.MCAST_INCLUDE, 1, bsdGroup, e.PeerAddr))
				get("get, room for 1", 1)
				peerMcastSend(e, e.BasePort+3, bsdGroup, e.BasePort, []byte("in"))
				delivered(e, "peer included", s, fb.MSG_DONTWAIT)
			},
			Want: []string{
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"bind: ok",
				"get with no multicast options: EADDRNOTAVAIL",
				"join: ok",
				"151 bytes: EINVAL",
				"mode 3: EINVAL",
				"129 sources: ENOBUFS",
				"ifindex 0: EADDRNOTAVAIL",
				"a group not joined: EADDRNOTAVAIL",
				"a source of family 28: EAFNOSUPPORT",
				"a source with ss_len 0: EINVAL",
				"exclude the peer: ok",
				"get, room for 2: 152 fmode=2 nsrcs=1 [10020000c61200010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000]",
				"get, room for none: 152 fmode=2 nsrcs=1 []",
				"wire peer excluded: none",
				"include the peer: ok",
				"get, room for 1: 152 fmode=1 nsrcs=1 [10020000c6120001000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000]",
				"wire peer included: [in]",
			},
			Linux: func(e *harness.Env) {
				s := linuxUDP(e)
				s.Bind(harness.Sockaddr(netip.IPv4Unspecified(), e.BasePort))
				s.SetSockOpt(unix.SOL_IP, unix.IP_ADD_MEMBERSHIP, mreq4(bsdGroup, e.DUTAddr))
				lmsf := func(mode uint32) []byte {
					b := make([]byte, 20)
					copy(b[0:4], bsdGroup.AsSlice())
					copy(b[4:8], e.DUTAddr.AsSlice())
					binary.NativeEndian.PutUint32(b[8:], mode)
					binary.NativeEndian.PutUint32(b[12:], 1)
					copy(b[16:20], e.PeerAddr.AsSlice())
					return b
				}
				s.SetSockOpt(unix.SOL_IP, unix.IP_MSFILTER, lmsf(0))
				peerMcastSend(e, e.BasePort+2, bsdGroup, e.BasePort, []byte("ex"))
				delivered(e, "peer excluded", s, unix.MSG_DONTWAIT)
				s.SetSockOpt(unix.SOL_IP, unix.IP_MSFILTER, lmsf(1))
				peerMcastSend(e, e.BasePort+3, bsdGroup, e.BasePort, []byte("in"))
				delivered(e, "peer included", s, unix.MSG_DONTWAIT)
			},
		},
	}
}
