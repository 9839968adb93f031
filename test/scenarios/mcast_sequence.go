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

// Sequence scenarios: long runs of membership operations, each step checked
// by getsockopt(IP_MSFILTER) and by which datagrams of several senders
// arrive. The senders are four spoofed sources of the DUT's subnet and the
// peer's own kernel UDP socket (198.18.0.1). Groups 239.1.9.N are theirs.
var fsrc4 = netip.MustParseAddr("198.18.0.54")

func seqGroup(n int) netip.Addr { return netip.AddrFrom4([4]byte{239, 1, 9, byte(n)}) }

// seqWorld sends one datagram from each sender to group:port per round.
type seqWorld struct {
	e     *harness.Env
	sp    *spoofer
	real  harness.Sock
	group netip.Addr
	port  int
}

func newSeqWorld(e *harness.Env, group netip.Addr, port int) *seqWorld {
	r := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_DGRAM, 0)
	e.Check("peer bind", r.Bind(harness.Sockaddr(e.PeerAddr, 4445)))
	e.Check("peer IP_MULTICAST_IF", r.SetSockOpt(unix.IPPROTO_IP, unix.IP_MULTICAST_IF, mreq(anyAddr, e.PeerAddr, -1)[4:8]))
	e.Check("peer IP_MULTICAST_LOOP 0", r.SetSockOpt(unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, harness.Int32(0)))
	return &seqWorld{e: e, sp: newSpoofer(e, group, port), real: r, group: group, port: port}
}

// send sends from every sender without waiting.
func (w *seqWorld) send() {
	for i, src := range []netip.Addr{fsrc1, fsrc2, fsrc3, fsrc4} {
		w.sp.send(src, fmt.Sprintf("s%d", i+1))
	}
	if _, err := w.real.SendMsg([]byte("peer"), nil, harness.Sockaddr(w.group, w.port), 0); err != nil {
		w.e.Rec("peer send", err)
	}
}

// round sends and records what each receiver got.
func (w *seqWorld) round(op string, rcv ...harness.Sock) {
	w.send()
	w.sp.barrier()
	for i, r := range rcv {
		w.e.Rec(fmt.Sprintf("%s: socket %d got", op, i), drainUDP(w.e, r))
	}
}

// drainUDP receives what is queued (bounded) and renders it sorted:
// datagrams of different senders may be reordered on the way.
func drainUDP(e *harness.Env, r harness.Sock) string {
	var got []string
	for k := 0; k < 16; k++ {
		buf := make([]byte, 16)
		n, _, _, from, err := r.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil {
			break
		}
		got = append(got, fmt.Sprintf("%s from %s", buf[:n], e.SA(from)))
	}
	sort.Strings(got)
	return "[" + strings.Join(got, ", ") + "]"
}

// step applies one option and checks the socket's filter and delivery.
func (w *seqWorld) step(op string, s harness.Sock, name int, v []byte, rcv ...harness.Sock) {
	setIP(w.e, op, s, name, v)
	getMsfilter(w.e, "  msfilter", s, w.group, 5)
	w.round("  delivered", rcv...)
}

// getGroupFilter records getsockopt(MCAST_MSFILTER) with room for n
// sources, the buffer's source slots prefilled with 0xff and the header's
// padding with junk (both show what the kernel writes).
func getGroupFilter(e *harness.Env, op string, s harness.Sock, ifindex int, group netip.Addr, n int) {
	buf := groupFilterBytes(ifindex, group, 0, zeros(n)...)
	for i := 144; i < len(buf); i++ {
		buf[i] = 0xff
	}
	buf[4], buf[5], buf[6], buf[7] = 0xaa, 0xbb, 0xcc, 0xdd
	binary.NativeEndian.PutUint32(buf[140:], uint32(n))
	got, err := s.GetSockOpt(unix.IPPROTO_IP, unix.MCAST_MSFILTER, buf)
	e.Rec(op, err, got, buf[:8], buf[136:144])
	for i := 0; i < n; i++ {
		e.Rec(fmt.Sprintf("  slot %d", i), buf[144+128*i:144+128*(i+1)])
	}
}

func mcastSequenceScenarios() []harness.Scenario {
	all := append(seqFilterScenarios(), seqLimitScenarios()...)
	all = append(all, seqSocketScenarios()...)
	return append(all, seqKindScenarios()...)
}

func seqFilterScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "mcast/seq-block-unblock-steps", Run: func(e *harness.Env) {
			g := seqGroup(1)
			r := mcastRcv(e, e.BasePort)
			w := newSeqWorld(e, g, e.BasePort)
			blk := func(a netip.Addr) []byte { return mreqSource(g, e.DUTAddr, a) }
			w.step("join", r, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1), r)
			w.step("block s1", r, unix.IP_BLOCK_SOURCE, blk(fsrc1), r)
			w.step("block s2", r, unix.IP_BLOCK_SOURCE, blk(fsrc2), r)
			w.step("block peer", r, unix.IP_BLOCK_SOURCE, blk(e.PeerAddr), r)
			w.step("unblock s1", r, unix.IP_UNBLOCK_SOURCE, blk(fsrc1), r)
			w.step("block s4", r, unix.IP_BLOCK_SOURCE, blk(fsrc4), r)
			w.step("unblock s2", r, unix.IP_UNBLOCK_SOURCE, blk(fsrc2), r)
			w.step("unblock peer", r, unix.IP_UNBLOCK_SOURCE, blk(e.PeerAddr), r)
			w.step("unblock s4 (list now empty)", r, unix.IP_UNBLOCK_SOURCE, blk(fsrc4), r)
			w.step("add source on empty exclude list", r, unix.IP_ADD_SOURCE_MEMBERSHIP, blk(fsrc1), r)
			w.step("leave", r, unix.IP_DROP_MEMBERSHIP, mreq(g, e.DUTAddr, -1), r)
		}},
		{Name: "mcast/seq-include-add-drop-steps", Run: func(e *harness.Env) {
			g := seqGroup(2)
			r := mcastRcv(e, e.BasePort)
			w := newSeqWorld(e, g, e.BasePort)
			src := func(a netip.Addr) []byte { return mreqSource(g, e.DUTAddr, a) }
			w.step("add s1", r, unix.IP_ADD_SOURCE_MEMBERSHIP, src(fsrc1), r)
			w.step("add peer", r, unix.IP_ADD_SOURCE_MEMBERSHIP, src(e.PeerAddr), r)
			w.step("add s3", r, unix.IP_ADD_SOURCE_MEMBERSHIP, src(fsrc3), r)
			w.step("drop peer", r, unix.IP_DROP_SOURCE_MEMBERSHIP, src(e.PeerAddr), r)
			w.step("add peer again (goes last)", r, unix.IP_ADD_SOURCE_MEMBERSHIP, src(e.PeerAddr), r)
			w.step("drop s2 (not listed)", r, unix.IP_DROP_SOURCE_MEMBERSHIP, src(fsrc2), r)
			w.step("drop s1", r, unix.IP_DROP_SOURCE_MEMBERSHIP, src(fsrc1), r)
			w.step("drop s3", r, unix.IP_DROP_SOURCE_MEMBERSHIP, src(fsrc3), r)
			w.step("drop peer (last: leaves)", r, unix.IP_DROP_SOURCE_MEMBERSHIP, src(e.PeerAddr), r)
			w.step("drop peer again", r, unix.IP_DROP_SOURCE_MEMBERSHIP, src(e.PeerAddr), r)
		}},
		{Name: "mcast/seq-msfilter-mode-switches", Run: func(e *harness.Env) {
			g := seqGroup(3)
			r := mcastRcv(e, e.BasePort)
			w := newSeqWorld(e, g, e.BasePort)
			msf := func(mode uint32, s ...netip.Addr) []byte { return ipMsfilter(g, e.DUTAddr, mode, s...) }
			w.step("msfilter before join", r, unix.IP_MSFILTER, msf(unix.MCAST_INCLUDE, fsrc1), r)
			w.step("join", r, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1), r)
			w.step("IN{s1,peer}", r, unix.IP_MSFILTER, msf(unix.MCAST_INCLUDE, fsrc1, e.PeerAddr), r)
			w.step("EX{peer,s3}", r, unix.IP_MSFILTER, msf(unix.MCAST_EXCLUDE, e.PeerAddr, fsrc3), r)
			w.step("EX{}", r, unix.IP_MSFILTER, msf(unix.MCAST_EXCLUDE), r)
			w.step("IN{s4}", r, unix.IP_MSFILTER, msf(unix.MCAST_INCLUDE, fsrc4), r)
			w.step("IN{s4,s2,s1}", r, unix.IP_MSFILTER, msf(unix.MCAST_INCLUDE, fsrc4, fsrc2, fsrc1), r)
			w.step("EX{s1}", r, unix.IP_MSFILTER, msf(unix.MCAST_EXCLUDE, fsrc1), r)
			w.step("IN{} leaves", r, unix.IP_MSFILTER, msf(unix.MCAST_INCLUDE), r)
			w.step("EX{} after leave", r, unix.IP_MSFILTER, msf(unix.MCAST_EXCLUDE), r)
		}},
		{Name: "mcast/seq-group-filter-mode-switches", Run: func(e *harness.Env) {
			g := seqGroup(4)
			r := mcastRcv(e, e.BasePort)
			w := newSeqWorld(e, g, e.BasePort)
			gf := func(mode uint32, s ...netip.Addr) []byte { return groupFilterBytes(2, g, mode, s...) }
			step := func(op string, name int, v []byte) {
				setIP(e, op, r, name, v)
				getGroupFilter(e, "  group_filter", r, 2, g, 3)
				w.round("  delivered", r)
			}
			step("MCAST_JOIN_GROUP", unix.MCAST_JOIN_GROUP, groupReqBytes(2, g, netip.Addr{}))
			step("EX{s2,s3}", unix.MCAST_MSFILTER, gf(unix.MCAST_EXCLUDE, fsrc2, fsrc3))
			step("MCAST_UNBLOCK_SOURCE s3", unix.MCAST_UNBLOCK_SOURCE, groupReqBytes(2, g, fsrc3))
			step("IN{peer,s4}", unix.MCAST_MSFILTER, gf(unix.MCAST_INCLUDE, e.PeerAddr, fsrc4))
			step("MCAST_JOIN_SOURCE_GROUP s1", unix.MCAST_JOIN_SOURCE_GROUP, groupReqBytes(2, g, fsrc1))
			step("MCAST_LEAVE_SOURCE_GROUP peer", unix.MCAST_LEAVE_SOURCE_GROUP, groupReqBytes(2, g, e.PeerAddr))
			step("MCAST_BLOCK_SOURCE in include mode", unix.MCAST_BLOCK_SOURCE, groupReqBytes(2, g, fsrc2))
			step("EX{}", unix.MCAST_MSFILTER, gf(unix.MCAST_EXCLUDE))
			step("MCAST_BLOCK_SOURCE s4", unix.MCAST_BLOCK_SOURCE, groupReqBytes(2, g, fsrc4))
			step("MCAST_LEAVE_GROUP", unix.MCAST_LEAVE_GROUP, groupReqBytes(2, g, netip.Addr{}))
		}},
		{Name: "mcast/seq-full-then-delta", Run: func(e *harness.Env) {
			g := seqGroup(5)
			r := mcastRcv(e, e.BasePort)
			w := newSeqWorld(e, g, e.BasePort)
			src := func(a netip.Addr) []byte { return mreqSource(g, e.DUTAddr, a) }
			msf := func(mode uint32, s ...netip.Addr) []byte { return ipMsfilter(g, e.DUTAddr, mode, s...) }
			w.step("join", r, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1), r)
			w.step("EX{} (no list)", r, unix.IP_MSFILTER, msf(unix.MCAST_EXCLUDE), r)
			w.step("add s1 switches to include", r, unix.IP_ADD_SOURCE_MEMBERSHIP, src(fsrc1), r)
			w.step("block s2 in include", r, unix.IP_BLOCK_SOURCE, src(fsrc2), r)
			w.step("EX{s2}", r, unix.IP_MSFILTER, msf(unix.MCAST_EXCLUDE, fsrc2), r)
			w.step("add s1 in exclude", r, unix.IP_ADD_SOURCE_MEMBERSHIP, src(fsrc1), r)
			w.step("unblock s2 (list empty, kept)", r, unix.IP_UNBLOCK_SOURCE, src(fsrc2), r)
			w.step("add s1 on empty kept list", r, unix.IP_ADD_SOURCE_MEMBERSHIP, src(fsrc1), r)
			w.step("unblock s2 again", r, unix.IP_UNBLOCK_SOURCE, src(fsrc2), r)
			w.step("block s3", r, unix.IP_BLOCK_SOURCE, src(fsrc3), r)
			w.step("IN{s4} via msfilter", r, unix.IP_MSFILTER, msf(unix.MCAST_INCLUDE, fsrc4), r)
			w.step("drop s4 leaves", r, unix.IP_DROP_SOURCE_MEMBERSHIP, src(fsrc4), r)
		}},
		{Name: "mcast/seq-drop-source-on-asm", Run: func(e *harness.Env) {
			g := seqGroup(6)
			r := mcastRcv(e, e.BasePort)
			w := newSeqWorld(e, g, e.BasePort)
			src := func(a netip.Addr) []byte { return mreqSource(g, e.DUTAddr, a) }
			w.step("join", r, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1), r)
			w.step("drop source s1 (switches to include)", r, unix.IP_DROP_SOURCE_MEMBERSHIP, src(fsrc1), r)
			w.step("unblock s1 (switches back)", r, unix.IP_UNBLOCK_SOURCE, src(fsrc1), r)
			w.step("drop source s1 again", r, unix.IP_DROP_SOURCE_MEMBERSHIP, src(fsrc1), r)
			w.step("add s2", r, unix.IP_ADD_SOURCE_MEMBERSHIP, src(fsrc2), r)
			w.step("block s3", r, unix.IP_BLOCK_SOURCE, src(fsrc3), r)
			w.step("ASM join again", r, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1), r)
			w.step("drop membership", r, unix.IP_DROP_MEMBERSHIP, mreq(g, anyAddr, 2), r)
		}},
		{Name: "mcast/seq-mixed-apis-one-membership", Run: func(e *harness.Env) {
			g := seqGroup(7)
			r := mcastRcv(e, e.BasePort)
			w := newSeqWorld(e, g, e.BasePort)
			w.step("MCAST_JOIN_GROUP ifindex 2", r, unix.MCAST_JOIN_GROUP, groupReqBytes(2, g, netip.Addr{}), r)
			w.step("IP_ADD_MEMBERSHIP by address", r, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1), r)
			w.step("IP_BLOCK_SOURCE s1 by address", r, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc1), r)
			w.step("MCAST_BLOCK_SOURCE s1 again", r, unix.MCAST_BLOCK_SOURCE, groupReqBytes(2, g, fsrc1), r)
			w.step("MCAST_BLOCK_SOURCE peer", r, unix.MCAST_BLOCK_SOURCE, groupReqBytes(2, g, e.PeerAddr), r)
			w.step("IP_BLOCK_SOURCE on lo (no membership)", r, unix.IP_BLOCK_SOURCE, mreqSource(g, loopback, fsrc2), r)
			w.step("MCAST_UNBLOCK_SOURCE s1", r, unix.MCAST_UNBLOCK_SOURCE, groupReqBytes(2, g, fsrc1), r)
			getGroupFilter(e, "group_filter", r, 2, g, 2)
			w.step("IP_MSFILTER IN{s2}", r, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_INCLUDE, fsrc2), r)
			getGroupFilter(e, "group_filter", r, 2, g, 2)
			w.step("MCAST_JOIN_SOURCE_GROUP s3", r, unix.MCAST_JOIN_SOURCE_GROUP, groupReqBytes(2, g, fsrc3), r)
			w.step("IP_DROP_SOURCE_MEMBERSHIP s2", r, unix.IP_DROP_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc2), r)
			w.step("IP_DROP_MEMBERSHIP ip_mreqn ifindex 2", r, unix.IP_DROP_MEMBERSHIP, mreq(g, anyAddr, 2), r)
			w.step("MCAST_LEAVE_GROUP after leave", r, unix.MCAST_LEAVE_GROUP, groupReqBytes(2, g, netip.Addr{}), r)
		}},
		{Name: "mcast/seq-msfilter-get-numsrc", Run: func(e *harness.Env) {
			g := seqGroup(8)
			r := mcastRcv(e, e.BasePort)
			setIP(e, "join", r, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			getMsfilter(e, "ASM, room 0", r, g, 0)
			getMsfilter(e, "ASM, room 2", r, g, 2)
			setIP(e, "EX{s3,s1,peer}", r, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_EXCLUDE, fsrc3, fsrc1, e.PeerAddr))
			for room := 0; room <= 4; room++ {
				getMsfilter(e, fmt.Sprintf("room %d", room), r, g, room)
			}
			// A buffer larger than imsf_numsrc says: only numsrc sources
			// are written, the rest stays as given.
			buf := ipMsfilter(g, e.DUTAddr, 7, fsrc4, fsrc4, fsrc4, fsrc4)
			binary.NativeEndian.PutUint32(buf[12:], 1)
			n, err := r.GetSockOpt(unix.IPPROTO_IP, unix.IP_MSFILTER, buf)
			e.Rec("numsrc 1, room 4", err, n, buf)
			short := ipMsfilter(g, e.DUTAddr, 0)
			n, err = r.GetSockOpt(unix.IPPROTO_IP, unix.IP_MSFILTER, short[:15])
			e.Rec("len 15", err, n)
			for _, c := range []struct {
				op           string
				group, iface netip.Addr
			}{
				{"interface 0.0.0.0", g, anyAddr}, {"interface lo", g, loopback}, {"foreign interface", g, foreign},
				{"other group", seqGroup(9), e.DUTAddr}, {"unicast group", fsrc1, e.DUTAddr}, {"224.0.0.1", allHosts, e.DUTAddr},
			} {
				b := ipMsfilter(c.group, c.iface, 0, anyAddr)
				n, err := r.GetSockOpt(unix.IPPROTO_IP, unix.IP_MSFILTER, b)
				e.Rec(c.op, err, n, b)
			}
			setIP(e, "unblock s1", r, unix.IP_UNBLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc1))
			getMsfilter(e, "after unblock, room 3", r, g, 3)
			setIP(e, "IN{s2}", r, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_INCLUDE, fsrc2))
			getMsfilter(e, "IN{s2}, room 0", r, g, 0)
			getMsfilter(e, "IN{s2}, room 1", r, g, 1)
		}},
		{Name: "mcast/seq-group-filter-get-numsrc", Run: func(e *harness.Env) {
			g := seqGroup(10)
			r := mcastRcv(e, e.BasePort)
			setIP(e, "join", r, unix.MCAST_JOIN_GROUP, groupReqBytes(2, g, netip.Addr{}))
			getGroupFilter(e, "ASM room 1", r, 2, g, 1)
			setIP(e, "IN{peer,s2,s4}", r, unix.MCAST_MSFILTER, groupFilterBytes(2, g, unix.MCAST_INCLUDE, e.PeerAddr, fsrc2, fsrc4))
			for room := 0; room <= 4; room++ {
				getGroupFilter(e, fmt.Sprintf("room %d", room), r, 2, g, room)
			}
			getGroupFilter(e, "ifindex 1", r, 1, g, 1)
			getGroupFilter(e, "ifindex 0", r, 0, g, 1)
			b := groupFilterBytes(2, g, 0, anyAddr)
			binary.NativeEndian.PutUint16(b[10:], 9999) // a port in the group's sockaddr is ignored
			n, err := r.GetSockOpt(unix.IPPROTO_IP, unix.MCAST_MSFILTER, b)
			e.Rec("group with port", err, n, b[136:144], b[144:152])
			n, err = r.GetSockOpt(unix.IPPROTO_IP, unix.MCAST_MSFILTER, b[:143])
			e.Rec("len 143", err, n)
		}},
		{Name: "mcast/seq-group-req-layout", Run: func(e *harness.Env) {
			g := seqGroup(11)
			r := mcastRcv(e, e.BasePort)
			w := newSeqWorld(e, g, e.BasePort)
			req := groupReqBytes(2, g, netip.Addr{})
			packed := append(append([]byte(nil), req[:4]...), req[8:]...) // 32-bit layout: no padding
			setIP(e, "packed group_req (132 bytes)", r, unix.MCAST_JOIN_GROUP, packed[:132])
			junk := append([]byte(nil), req...)
			junk[4], junk[5], junk[6], junk[7] = 1, 2, 3, 4 // padding
			binary.BigEndian.PutUint16(junk[10:], 5555)     // sin_port
			for i := 16; i < 24; i++ {
				junk[i] = 0xee // sin_zero
			}
			for i := 24; i < 136; i++ {
				junk[i] = 0x77 // rest of sockaddr_storage
			}
			w.step("group_req with junk", r, unix.MCAST_JOIN_GROUP, append(junk, 9, 9, 9, 9), r)
			sreq := groupReqBytes(2, g, fsrc2)
			sreq[4] = 0xff
			binary.BigEndian.PutUint16(sreq[138:], 7777)
			for i := 152; i < 264; i++ {
				sreq[i] = 0x55
			}
			w.step("group_source_req with junk: block s2", r, unix.MCAST_BLOCK_SOURCE, sreq, r)
			spacked := append(append([]byte(nil), sreq[:4]...), sreq[8:]...)
			setIP(e, "packed group_source_req (260 bytes)", r, unix.MCAST_UNBLOCK_SOURCE, spacked)
			w.step("unblock s2 (264 bytes)", r, unix.MCAST_UNBLOCK_SOURCE, groupReqBytes(2, g, fsrc2), r)
			w.step("leave with junk", r, unix.MCAST_LEAVE_GROUP, junk, r)
		}},
		{Name: "mcast/seq-two-interfaces", Run: func(e *harness.Env) {
			g := seqGroup(12)
			r := mcastRcv(e, e.BasePort)
			w := newSeqWorld(e, g, e.BasePort)
			lo := func(op string) {
				b := ipMsfilter(g, loopback, 0, zeros(3)...)
				n, err := r.GetSockOpt(unix.IPPROTO_IP, unix.IP_MSFILTER, b)
				e.Rec(op, err, n, b)
			}
			w.step("join on lo", r, unix.IP_ADD_MEMBERSHIP, mreq(g, loopback, -1), r)
			w.step("block s1 on lo", r, unix.IP_BLOCK_SOURCE, mreqSource(g, loopback, fsrc1), r)
			w.step("include s2 on eth0", r, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc2), r)
			lo("  lo msfilter")
			w.step("eth0 IN{s2,s1}", r, unix.MCAST_MSFILTER, groupFilterBytes(2, g, unix.MCAST_INCLUDE, fsrc2, fsrc1), r)
			w.step("lo IN{s3} by ifindex", r, unix.MCAST_MSFILTER, groupFilterBytes(1, g, unix.MCAST_INCLUDE, fsrc3), r)
			lo("  lo msfilter")
			w.step("leave eth0", r, unix.MCAST_LEAVE_GROUP, groupReqBytes(2, g, netip.Addr{}), r)
			lo("  lo msfilter")
			w.step("leave (route lookup, no route)", r, unix.IP_DROP_MEMBERSHIP, mreq(g, anyAddr, -1), r)
			w.step("leave lo by 0.0.0.0 ifindex 1", r, unix.IP_DROP_MEMBERSHIP, mreq(g, anyAddr, 1), r)
			lo("  lo msfilter")
		}},
		{Name: "mcast/seq-leave-rejoin-resets", Run: func(e *harness.Env) {
			g := seqGroup(13)
			r := mcastRcv(e, e.BasePort)
			w := newSeqWorld(e, g, e.BasePort)
			src := func(a netip.Addr) []byte { return mreqSource(g, e.DUTAddr, a) }
			setIP(e, "join", r, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			setIP(e, "block s1", r, unix.IP_BLOCK_SOURCE, src(fsrc1))
			setIP(e, "block peer", r, unix.IP_BLOCK_SOURCE, src(e.PeerAddr))
			w.step("leave", r, unix.IP_DROP_MEMBERSHIP, mreq(g, e.DUTAddr, -1), r)
			w.step("rejoin: no blocks left", r, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1), r)
			w.step("leave by MCAST_LEAVE_GROUP", r, unix.MCAST_LEAVE_GROUP, groupReqBytes(2, g, netip.Addr{}), r)
			w.step("SSM join s3", r, unix.IP_ADD_SOURCE_MEMBERSHIP, src(fsrc3), r)
			w.step("IP_DROP_MEMBERSHIP leaves SSM too", r, unix.IP_DROP_MEMBERSHIP, mreq(g, e.DUTAddr, -1), r)
			w.step("SSM join s4 by MCAST", r, unix.MCAST_JOIN_SOURCE_GROUP, groupReqBytes(2, g, fsrc4), r)
			w.step("block on the fresh SSM membership", r, unix.IP_BLOCK_SOURCE, src(fsrc1), r)
			e.Rec("close", r.Close())
			r2 := mcastRcv(e, e.BasePort)
			w.round("new socket, nobody joined", r2)
		}},
	}
}

func seqLimitScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "mcast/seq-max-msf-sysctl", Run: func(e *harness.Env) {
			g := seqGroup(20)
			r := mcastRcv(e, e.BasePort)
			w := newSeqWorld(e, g, e.BasePort)
			src := func(a netip.Addr) []byte { return mreqSource(g, e.DUTAddr, a) }
			e.Check("igmp_max_msf 2", e.SetSysctl(e.DUT, "net.ipv4.igmp_max_msf", "2"))
			setIP(e, "join", r, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			setIP(e, "block s1", r, unix.IP_BLOCK_SOURCE, src(fsrc1))
			setIP(e, "block s2", r, unix.IP_BLOCK_SOURCE, src(fsrc2))
			setIP(e, "block s3 over the limit", r, unix.IP_BLOCK_SOURCE, src(fsrc3))
			setIP(e, "block s1 again at the limit", r, unix.IP_BLOCK_SOURCE, src(fsrc1))
			setIP(e, "IP_MSFILTER 3 sources", r, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_EXCLUDE, fsrc1, fsrc2, fsrc3))
			setIP(e, "MCAST_MSFILTER 3 sources", r, unix.MCAST_MSFILTER, groupFilterBytes(2, g, unix.MCAST_EXCLUDE, fsrc1, fsrc2, fsrc3))
			getMsfilter(e, "msfilter", r, g, 4)
			w.round("EX{s1,s2}", r)
			e.Check("igmp_max_msf 3", e.SetSysctl(e.DUT, "net.ipv4.igmp_max_msf", "3"))
			setIP(e, "block s3", r, unix.IP_BLOCK_SOURCE, src(fsrc3))
			w.round("EX{s1,s2,s3}", r)
			e.Check("igmp_max_msf 1", e.SetSysctl(e.DUT, "net.ipv4.igmp_max_msf", "1"))
			setIP(e, "unblock s1 above the limit", r, unix.IP_UNBLOCK_SOURCE, src(fsrc1))
			setIP(e, "block s1 above the limit", r, unix.IP_BLOCK_SOURCE, src(fsrc1))
			setIP(e, "IP_MSFILTER 2 sources", r, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_INCLUDE, fsrc1, fsrc2))
			setIP(e, "IP_MSFILTER IN{peer}", r, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_INCLUDE, e.PeerAddr))
			w.round("IN{peer}", r)
			e.Check("igmp_max_msf 0", e.SetSysctl(e.DUT, "net.ipv4.igmp_max_msf", "0"))
			setIP(e, "add s4 with limit 0", r, unix.IP_ADD_SOURCE_MEMBERSHIP, src(fsrc4))
			setIP(e, "IP_MSFILTER EX{}", r, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_EXCLUDE))
			setIP(e, "block s4 on absent list", r, unix.IP_BLOCK_SOURCE, src(fsrc4))
			setIP(e, "block s3 with limit 0", r, unix.IP_BLOCK_SOURCE, src(fsrc3))
			getMsfilter(e, "msfilter", r, g, 2)
			w.round("EX{s4}", r)
		}},
		{Name: "mcast/seq-max-memberships-sysctl", Run: func(e *harness.Env) {
			g1, g2, g3 := seqGroup(21), seqGroup(22), seqGroup(23)
			a := mcastRcv(e, e.BasePort)
			b := mcastRcv(e, e.BasePort)
			e.SetInt("b IP_MULTICAST_ALL 0", b, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0)
			e.Check("igmp_max_memberships 2", e.SetSysctl(e.DUT, "net.ipv4.igmp_max_memberships", "2"))
			setIP(e, "a join g1", a, unix.IP_ADD_MEMBERSHIP, mreq(g1, e.DUTAddr, -1))
			setIP(e, "a join g2", a, unix.IP_ADD_MEMBERSHIP, mreq(g2, e.DUTAddr, -1))
			setIP(e, "a join g3 over the limit", a, unix.IP_ADD_MEMBERSHIP, mreq(g3, e.DUTAddr, -1))
			setIP(e, "a source join g3", a, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g3, e.DUTAddr, fsrc1))
			setIP(e, "a MCAST_JOIN_SOURCE_GROUP g3", a, unix.MCAST_JOIN_SOURCE_GROUP, groupReqBytes(2, g3, fsrc1))
			setIP(e, "a join g1 on lo", a, unix.IP_ADD_MEMBERSHIP, mreq(g1, loopback, -1))
			setIP(e, "a join g1 again", a, unix.IP_ADD_MEMBERSHIP, mreq(g1, e.DUTAddr, -1))
			setIP(e, "b join g3 (own count)", b, unix.IP_ADD_MEMBERSHIP, mreq(g3, e.DUTAddr, -1))
			setIP(e, "a block s2 on g2", a, unix.IP_BLOCK_SOURCE, mreqSource(g2, e.DUTAddr, fsrc2))
			setIP(e, "a leave g1", a, unix.IP_DROP_MEMBERSHIP, mreq(g1, e.DUTAddr, -1))
			setIP(e, "a source join g3 s1", a, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g3, e.DUTAddr, fsrc1))
			newSeqWorld(e, g3, e.BasePort).round("to g3", a, b)
			newSeqWorld(e, g2, e.BasePort).round("to g2", a, b)
			e.Check("igmp_max_memberships 0", e.SetSysctl(e.DUT, "net.ipv4.igmp_max_memberships", "0"))
			setIP(e, "a add s2 to g3 with limit 0", a, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g3, e.DUTAddr, fsrc2))
			setIP(e, "a msfilter g2 with limit 0", a, unix.IP_MSFILTER, ipMsfilter(g2, e.DUTAddr, unix.MCAST_INCLUDE, fsrc4))
			setIP(e, "b join g1 with limit 0", b, unix.IP_ADD_MEMBERSHIP, mreq(g1, e.DUTAddr, -1))
			e.Check("igmp_max_memberships -1", e.SetSysctl(e.DUT, "net.ipv4.igmp_max_memberships", "-1"))
			setIP(e, "b join g1 with limit -1", b, unix.IP_ADD_MEMBERSHIP, mreq(g1, e.DUTAddr, -1))
			newSeqWorld(e, g2, e.BasePort).round("to g2", a, b)
		}},
		{Name: "mcast/seq-optmem-limit", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("optmem_max 300", e.SetSysctl(e.DUT, "net.core.optmem_max", "300"))
			for i := 1; i <= 8; i++ {
				setIP(e, fmt.Sprintf("join %d", i), s, unix.IP_ADD_MEMBERSHIP, mreq(seqGroup(30+i), e.DUTAddr, -1))
			}
			setIP(e, "leave 1", s, unix.IP_DROP_MEMBERSHIP, mreq(seqGroup(31), e.DUTAddr, -1))
			for i := 1; i <= 12; i++ {
				setIP(e, fmt.Sprintf("block source %d on group 2", i), s, unix.IP_BLOCK_SOURCE, mreqSource(seqGroup(32), e.DUTAddr, netip.AddrFrom4([4]byte{198, 18, 2, byte(i)})))
			}
			setIP(e, "msfilter 5 sources on group 3", s, unix.IP_MSFILTER, ipMsfilter(seqGroup(33), e.DUTAddr, unix.MCAST_EXCLUDE, fsrc1, fsrc2, fsrc3, fsrc4, e.PeerAddr))
			e.Check("optmem_max 131072", e.SetSysctl(e.DUT, "net.core.optmem_max", "131072"))
			setIP(e, "msfilter 5 sources on group 3", s, unix.IP_MSFILTER, ipMsfilter(seqGroup(33), e.DUTAddr, unix.MCAST_EXCLUDE, fsrc1, fsrc2, fsrc3, fsrc4, e.PeerAddr))
			getMsfilter(e, "msfilter group 3", s, seqGroup(33), 5)
		}},
	}
}

func seqSocketScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "mcast/seq-sockets-one-port", Run: func(e *harness.Env) {
			g := seqGroup(40)
			a, b, c, d := mcastRcv(e, e.BasePort), mcastRcv(e, e.BasePort), mcastRcv(e, e.BasePort), mcastRcv(e, e.BasePort)
			e.SetInt("d IP_MULTICAST_ALL 0", d, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0)
			w := newSeqWorld(e, g, e.BasePort)
			all := []harness.Sock{a, b, c, d}
			st := func(op string, s harness.Sock, name int, v []byte) {
				setIP(e, op, s, name, v)
				w.round("  delivered", all...)
			}
			st("a IN{s1}", a, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc1))
			st("b join", b, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			st("b block s2", b, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc2))
			st("a add peer", a, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, e.PeerAddr))
			st("b block s1", b, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc1))
			st("d IN{s3}", d, unix.IP_MSFILTER, nil)
			st("d join s3", d, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc3))
			st("a EX{peer}", a, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_EXCLUDE, e.PeerAddr))
			st("b leaves", b, unix.IP_DROP_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			st("a leaves", a, unix.MCAST_LEAVE_GROUP, groupReqBytes(2, g, netip.Addr{}))
			e.Rec("close d", d.Close())
			w.round("  delivered", a, b, c)
		}},
		{Name: "mcast/seq-interface-merge-observed", Run: func(e *harness.Env) {
			// Members on other ports shape the interface's merged filter;
			// an unjoined socket on the probed port (IP_MULTICAST_ALL 1)
			// gets exactly what the interface lets through.
			g := seqGroup(41)
			a, b := mcastRcv(e, e.BasePort+1), mcastRcv(e, e.BasePort+2)
			obs := mcastRcv(e, e.BasePort)
			w := newSeqWorld(e, g, e.BasePort)
			st := func(op string, s harness.Sock, name int, v []byte) {
				setIP(e, op, s, name, v)
				w.round("  observer", obs, a, b)
			}
			src := func(x netip.Addr) []byte { return mreqSource(g, e.DUTAddr, x) }
			st("a IN{s1}", a, unix.IP_ADD_SOURCE_MEMBERSHIP, src(fsrc1))
			st("b IN{s2}", b, unix.IP_ADD_SOURCE_MEMBERSHIP, src(fsrc2))
			st("b EX{s1,s3}", b, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_EXCLUDE, fsrc1, fsrc3))
			st("a EX{s3,peer}", a, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_EXCLUDE, fsrc3, e.PeerAddr))
			st("b unblock s3", b, unix.IP_UNBLOCK_SOURCE, src(fsrc3))
			st("a IN{s4}", a, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_INCLUDE, fsrc4))
			st("b leaves", b, unix.IP_DROP_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			st("a drop s4 (leaves)", a, unix.IP_DROP_SOURCE_MEMBERSHIP, src(fsrc4))
		}},
		{Name: "mcast/seq-bound-to-group", Run: func(e *harness.Env) {
			g, h := seqGroup(42), seqGroup(43)
			onG := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("SO_REUSEADDR", onG.SetSockOpt(unix.SOL_SOCKET, unix.SO_REUSEADDR, harness.Int32(1)))
			e.Check("bind to g", onG.Bind(harness.Sockaddr(g, e.BasePort)))
			wild := mcastRcv(e, e.BasePort)
			wg, wh := newSeqWorld(e, g, e.BasePort), newSeqWorld(e, h, e.BasePort)
			both := func(op string) {
				wg.round(op+" to g", onG, wild)
				wh.round(op+" to h", onG, wild)
			}
			setIP(e, "bound socket joins h only", onG, unix.IP_ADD_MEMBERSHIP, mreq(h, e.DUTAddr, -1))
			both("h joined by bound socket")
			setIP(e, "bound socket IN{s1} on g", onG, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc1))
			both("g IN{s1}")
			setIP(e, "wild joins g", wild, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			setIP(e, "wild blocks s1 on g", wild, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc1))
			both("wild EX{s1} on g")
			e.SetInt("bound IP_MULTICAST_ALL 0", onG, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0)
			setIP(e, "bound leaves g", onG, unix.IP_DROP_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			both("bound left g, MULTICAST_ALL 0")
			e.SetInt("bound IP_MULTICAST_ALL 1", onG, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 1)
			both("MULTICAST_ALL 1")
			e.Rec("connect bound socket to peer", onG.Connect(harness.Sockaddr(e.PeerAddr, 4445)))
			both("connected to peer")
		}},
		{Name: "mcast/seq-multicast-all-other-interface", Run: func(e *harness.Env) {
			g := seqGroup(44)
			r := mcastRcv(e, e.BasePort)
			other := mcastRcv(e, e.BasePort)
			w := newSeqWorld(e, g, e.BasePort)
			setIP(e, "other joins g on eth0", other, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			setIP(e, "r joins g on lo", r, unix.IP_ADD_MEMBERSHIP, mreq(g, loopback, -1))
			w.round("r on lo, MULTICAST_ALL 1", r, other)
			e.SetInt("r IP_MULTICAST_ALL 0", r, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0)
			w.round("r on lo, MULTICAST_ALL 0", r, other)
			setIP(e, "r IN{s2} on eth0", r, unix.MCAST_JOIN_SOURCE_GROUP, groupReqBytes(2, g, fsrc2))
			w.round("r IN{s2} on eth0", r, other)
			setIP(e, "other blocks s2", other, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc2))
			w.round("other EX{s2}", r, other)
			e.SetInt("r IP_MULTICAST_ALL 1", r, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 1)
			setIP(e, "r leaves eth0", r, unix.MCAST_LEAVE_GROUP, groupReqBytes(2, g, netip.Addr{}))
			w.round("r back to lo only, MULTICAST_ALL 1", r, other)
			e.Rec("close other", other.Close())
			w.round("nobody on eth0", r)
		}},
		{Name: "mcast/seq-own-loopback-filters", Run: func(e *harness.Env) {
			g := seqGroup(45)
			s := mcastRcv(e, e.BasePort) // sends and receives
			o := mcastRcv(e, e.BasePort)
			setIP(e, "s IP_MULTICAST_IF", s, unix.IP_MULTICAST_IF, mreq(anyAddr, e.DUTAddr, -1)[4:8])
			to := harness.Sockaddr(g, e.BasePort)
			try := func(op string) {
				send(e, op, s, []byte("own"), to, 0)
				time.Sleep(100 * time.Millisecond)
				e.Rec("  s got", drainUDP(e, s))
				e.Rec("  o got", drainUDP(e, o))
			}
			try("nobody joined")
			setIP(e, "s joins", s, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			try("s joined")
			setIP(e, "o IN{dut}", o, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, e.DUTAddr))
			try("o includes own address")
			setIP(e, "s blocks own address", s, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, e.DUTAddr))
			try("s blocks itself")
			e.SetInt("IP_MULTICAST_TTL 0", s, unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, 0)
			try("ttl 0")
			e.SetInt("IP_MULTICAST_LOOP 0", s, unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, 0)
			try("loop 0, ttl 0")
			e.SetInt("IP_MULTICAST_LOOP 1", s, unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, 1)
			setIP(e, "s unblocks", s, unix.IP_UNBLOCK_SOURCE, mreqSource(g, e.DUTAddr, e.DUTAddr))
			setIP(e, "o leaves", o, unix.IP_DROP_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			try("o left, loop 1")
			setIP(e, "s leaves", s, unix.IP_DROP_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			try("nobody joined again")
		}},
		{Name: "mcast/seq-loopback-interface", Run: func(e *harness.Env) {
			g := seqGroup(46)
			r := mcastRcv(e, e.BasePort)
			e.SetInt("IP_PKTINFO", r, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			setIP(e, "s IP_MULTICAST_IF lo by ifindex", s, unix.IP_MULTICAST_IF, mreq(anyAddr, anyAddr, 1))
			to := harness.Sockaddr(g, e.BasePort)
			try := func(op string) {
				send(e, op, s, []byte("lo"), to, 0)
				time.Sleep(100 * time.Millisecond)
				for k := 0; k < 4; k++ {
					buf, oob := make([]byte, 16), make([]byte, 128)
					n, oobn, _, from, err := r.RecvMsg(buf, oob, unix.MSG_DONTWAIT)
					if err != nil {
						e.Rec("  recv", err)
						break
					}
					e.Rec("  recv", buf[:n], e.SA(from), harness.Cmsgs(oob[:oobn]))
				}
			}
			try("not joined")
			setIP(e, "r joins on lo", r, unix.IP_ADD_MEMBERSHIP, mreq(g, loopback, -1))
			try("joined on lo")
			setIP(e, "r blocks 127.0.0.1 on lo", r, unix.IP_BLOCK_SOURCE, mreqSource(g, loopback, loopback))
			try("blocked")
			setIP(e, "r unblocks", r, unix.IP_UNBLOCK_SOURCE, mreqSource(g, loopback, loopback))
			e.SetInt("s IP_MULTICAST_LOOP 0", s, unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, 0)
			try("loop 0")
			e.SetInt("s IP_MULTICAST_TTL 0", s, unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, 0)
			try("loop 0 ttl 0")
			e.SetInt("s IP_MULTICAST_LOOP 1", s, unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, 1)
			try("loop 1 ttl 0")
			setIP(e, "s IP_MULTICAST_IF 127.0.0.1", s, unix.IP_MULTICAST_IF, loopback.AsSlice())
			try("IP_MULTICAST_IF by address 127.0.0.1")
			setIP(e, "s IP_MULTICAST_IF reset", s, unix.IP_MULTICAST_IF, anyAddr.AsSlice())
			try("IP_MULTICAST_IF reset (route: none)")
			s = e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("bind 127.0.0.2", s.Bind(harness.Sockaddr(loopback2, 0)))
			try("bound to 127.0.0.2, no IP_MULTICAST_IF")
			setIP(e, "IP_MULTICAST_IF lo by ifindex", s, unix.IP_MULTICAST_IF, mreq(anyAddr, anyAddr, 1))
			try("bound to 127.0.0.2, IP_MULTICAST_IF lo")
			s = e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("bind 198.18.0.2", s.Bind(harness.Sockaddr(e.DUTAddr, 0)))
			setIP(e, "IP_MULTICAST_IF lo by ifindex", s, unix.IP_MULTICAST_IF, mreq(anyAddr, anyAddr, 1))
			try("bound to the eth0 address, IP_MULTICAST_IF lo")
		}},
		{Name: "mcast/seq-real-sender-pktinfo", Run: func(e *harness.Env) {
			g := seqGroup(47)
			r := mcastRcv(e, e.BasePort)
			e.SetInt("IP_PKTINFO", r, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
			e.SetInt("IP_RECVTTL", r, unix.IPPROTO_IP, unix.IP_RECVTTL, 1)
			w := newSeqWorld(e, g, e.BasePort)
			recv := func(op string) {
				w.send()
				time.Sleep(150 * time.Millisecond)
				var got []string
				for k := 0; k < 8; k++ {
					buf, oob := make([]byte, 16), make([]byte, 128)
					n, oobn, _, from, err := r.RecvMsg(buf, oob, unix.MSG_DONTWAIT)
					if err != nil {
						break
					}
					got = append(got, fmt.Sprintf("%s from %s %s", buf[:n], e.SA(from), harness.Cmsgs(oob[:oobn])))
				}
				sort.Strings(got)
				e.Rec(op, strings.Join(got, " | "))
			}
			setIP(e, "IN{peer}", r, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, e.PeerAddr))
			recv("IN{peer}")
			setIP(e, "add s2", r, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc2))
			recv("IN{peer,s2}")
			setIP(e, "EX{peer}", r, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_EXCLUDE, e.PeerAddr))
			recv("EX{peer}")
		}},
		{Name: "mcast/seq-raw-socket-membership", Run: func(e *harness.Env) {
			g := seqGroup(48)
			raw := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
			u := mcastRcv(e, e.BasePort)
			w := newSeqWorld(e, g, e.BasePort)
			rawRound := func(op string) {
				w.send()
				time.Sleep(150 * time.Millisecond)
				var got []string
				for k := 0; k < 16; k++ {
					buf := make([]byte, 64)
					n, _, _, _, err := raw.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
					if err != nil {
						break
					}
					if n < 28 || netip.AddrFrom4([4]byte(buf[16:20])) != g {
						continue // other traffic of the host
					}
					got = append(got, fmt.Sprintf("%s from %s", buf[28:n], netip.AddrFrom4([4]byte(buf[12:16]))))
				}
				sort.Strings(got)
				e.Rec(op+": raw got", "["+strings.Join(got, ", ")+"]")
				e.Rec(op+": udp got", drainUDP(e, u))
			}
			rawRound("nobody joined")
			setIP(e, "raw join", raw, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			rawRound("raw joined")
			setIP(e, "raw block s1", raw, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc1))
			getMsfilter(e, "raw msfilter", raw, g, 2)
			rawRound("raw EX{s1}")
			setIP(e, "raw IN{s2}", raw, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_INCLUDE, fsrc2))
			rawRound("raw IN{s2}")
			e.GetInt("raw IP_MULTICAST_ALL", raw, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL)
			setIP(e, "raw leave", raw, unix.IP_DROP_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			rawRound("raw left")
			rr := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
			setIP(e, "IPPROTO_RAW join", rr, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			setIP(e, "IPPROTO_RAW block", rr, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc3))
			getMsfilter(e, "IPPROTO_RAW msfilter", rr, g, 2)
			rawRound("IPPROTO_RAW joined")
		}},
	}
}

// seqKindScenarios: membership options of other socket kinds and the
// option lengths of the full-state calls.
func seqKindScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "mcast/seq-raw-close-leaves", Run: func(e *harness.Env) {
			g := seqGroup(49)
			raw := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
			obs := mcastRcv(e, e.BasePort) // unjoined: sees what the interface takes
			w := newSeqWorld(e, g, e.BasePort)
			e.SetInt("raw IP_MULTICAST_ALL 0", raw, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0)
			e.GetInt("raw IP_MULTICAST_ALL", raw, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL)
			setIP(e, "raw MCAST_JOIN_SOURCE_GROUP s1", raw, unix.MCAST_JOIN_SOURCE_GROUP, groupReqBytes(2, g, fsrc1))
			setIP(e, "raw MCAST_JOIN_SOURCE_GROUP s3", raw, unix.MCAST_JOIN_SOURCE_GROUP, groupReqBytes(2, g, fsrc3))
			getGroupFilter(e, "raw group_filter", raw, 2, g, 2)
			w.round("raw IN{s1,s3}", obs)
			setIP(e, "raw MCAST_BLOCK_SOURCE in include", raw, unix.MCAST_BLOCK_SOURCE, groupReqBytes(2, g, fsrc2))
			setIP(e, "raw MCAST_MSFILTER EX{s3}", raw, unix.MCAST_MSFILTER, groupFilterBytes(2, g, unix.MCAST_EXCLUDE, fsrc3))
			w.round("raw EX{s3}", obs)
			e.Rec("close raw", raw.Close())
			w.round("raw closed", obs)
			tcp := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			setIP(e, "tcp MCAST_JOIN_GROUP", tcp, unix.MCAST_JOIN_GROUP, groupReqBytes(2, g, netip.Addr{}))
			setIP(e, "tcp IP_MSFILTER", tcp, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_EXCLUDE))
			getMsfilter(e, "tcp get IP_MSFILTER", tcp, g, 1)
			w.round("after tcp", obs)
		}},
		{Name: "mcast/seq-msfilter-set-lengths", Run: func(e *harness.Env) {
			g := seqGroup(50)
			r := mcastRcv(e, e.BasePort)
			w := newSeqWorld(e, g, e.BasePort)
			setIP(e, "join", r, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			three := ipMsfilter(g, e.DUTAddr, unix.MCAST_EXCLUDE, fsrc1, fsrc2, fsrc3)
			binary.NativeEndian.PutUint32(three[12:], 1)
			w.step("numsrc 1 in a buffer of 3 (rest ignored)", r, unix.IP_MSFILTER, three, r)
			binary.NativeEndian.PutUint32(three[12:], 4)
			w.step("numsrc 4 in a buffer of 3", r, unix.IP_MSFILTER, three, r)
			binary.NativeEndian.PutUint32(three[12:], 2)
			w.step("numsrc 2, length 24 (one source short)", r, unix.IP_MSFILTER, three[:24], r)
			w.step("numsrc 2, length 25", r, unix.IP_MSFILTER, append(append([]byte(nil), three[:24]...), 0), r)
			gf := groupFilterBytes(2, g, unix.MCAST_INCLUDE, fsrc4, e.PeerAddr)
			binary.NativeEndian.PutUint32(gf[140:], 1)
			w.step("group_filter numsrc 1 of 2", r, unix.MCAST_MSFILTER, gf, r)
			binary.NativeEndian.PutUint32(gf[140:], 2)
			w.step("group_filter numsrc 2, one byte short", r, unix.MCAST_MSFILTER, gf[:len(gf)-1], r)
			e.Check("optmem_max 40", e.SetSysctl(e.DUT, "net.core.optmem_max", "40"))
			w.step("ip_msfilter longer than optmem_max", r, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_EXCLUDE, fsrc1, fsrc2, fsrc3, fsrc4, e.PeerAddr, fsrc1, fsrc2), r)
			w.step("group_filter longer than optmem_max", r, unix.MCAST_MSFILTER, groupFilterBytes(2, g, unix.MCAST_EXCLUDE), r)
			w.step("ip_msfilter EX{} within optmem_max", r, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_EXCLUDE), r)
		}},
		{Name: "mcast/seq-ping-socket-membership", Run: func(e *harness.Env) {
			g := seqGroup(51)
			e.Check("ping_group_range", e.SetSysctl(e.DUT, pingGroupRange, "0 0"))
			ping := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
			obs := mcastRcv(e, e.BasePort)
			w := newSeqWorld(e, g, e.BasePort)
			setIP(e, "ping IP_ADD_MEMBERSHIP", ping, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			setIP(e, "ping IP_BLOCK_SOURCE s2", ping, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc2))
			getMsfilter(e, "ping IP_MSFILTER", ping, g, 2)
			e.GetInt("ping IP_MULTICAST_ALL", ping, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL)
			w.round("ping EX{s2}", obs)
			e.Rec("close ping", ping.Close())
			w.round("ping closed", obs)
		}},
	}
}
