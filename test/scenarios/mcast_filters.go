package scenarios

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// Source-filter scenarios: a peer sends to a group from three source
// addresses of the DUT's subnet (spoofed with IP_HDRINCL), and which
// datagrams each DUT socket gets shows the per-socket and per-interface
// filters. Each scenario has its own group.
var (
	fsrc1 = netip.MustParseAddr("198.18.0.51")
	fsrc2 = netip.MustParseAddr("198.18.0.52")
	fsrc3 = netip.MustParseAddr("198.18.0.53")

	allRoutersV2 = netip.MustParseAddr("224.0.0.2")
)

func filterGroup(n int) netip.Addr { return netip.AddrFrom4([4]byte{239, 1, 2, byte(n)}) }

// spoofer is a peer raw socket that sends UDP datagrams to a group from any
// source address.
type spoofer struct {
	e     *harness.Env
	s     harness.Sock
	group netip.Addr
	port  int
	// bar (a DUT socket at barTo) receives the barrier barTx sends.
	bar, barTx harness.Sock
	barTo      []byte
}

func newSpoofer(e *harness.Env, group netip.Addr, port int) *spoofer {
	s := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
	e.Check("spoofer IP_HDRINCL", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_HDRINCL, harness.Int32(1)))
	e.Check("spoofer IP_MULTICAST_IF", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_MULTICAST_IF, mreq(anyAddr, e.PeerAddr, -1)[4:8]))
	e.Check("spoofer IP_MULTICAST_LOOP 0", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, harness.Int32(0)))
	bar := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
	e.Check("barrier bind", bar.Bind(harness.Sockaddr(e.DUTAddr, 0)))
	to, err := bar.GetSockName()
	e.Check("barrier getsockname", err)
	barTx := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_DGRAM, 0)
	return &spoofer{e: e, s: s, group: group, port: port, bar: bar, barTx: barTx, barTo: to}
}

// barrier sends a unicast datagram to a DUT socket after the spoofed
// ones and waits (bounded) for it: the DUT's link hands packets to its
// stack in order, so by then the earlier ones were delivered or dropped,
// however slow the DUT runs. The short sleep after it covers a kernel
// whose per-CPU backlogs may hold a packet sent from another CPU a little
// longer.
func (p *spoofer) barrier() {
	if _, err := p.barTx.SendMsg([]byte("b"), nil, p.barTo, 0); err != nil {
		p.e.Rec("barrier send", err)
	}
	harness.WaitReadable(p.bar, 2*time.Second)
	buf := make([]byte, 4)
	for range 8 {
		if _, _, _, _, err := p.bar.RecvMsg(buf, nil, unix.MSG_DONTWAIT); err != nil {
			break
		}
	}
	time.Sleep(30 * time.Millisecond)
}

// send sends payload from src; the kernel fills in the IP checksum and ID,
// the UDP checksum is left out (0).
func (p *spoofer) send(src netip.Addr, payload string) {
	n := 28 + len(payload)
	b := make([]byte, n)
	b[0], b[8], b[9] = 0x45, 1, unix.IPPROTO_UDP
	binary.BigEndian.PutUint16(b[2:], uint16(n))
	s, g := src.As4(), p.group.As4()
	copy(b[12:], s[:])
	copy(b[16:], g[:])
	binary.BigEndian.PutUint16(b[20:], 4444)
	binary.BigEndian.PutUint16(b[22:], uint16(p.port))
	binary.BigEndian.PutUint16(b[24:], uint16(8+len(payload)))
	copy(b[28:], payload)
	if _, err := p.s.SendMsg(b, nil, harness.Sockaddr(p.group, 0), 0); err != nil {
		p.e.Rec("spoof send", err)
	}
}

// round sends one datagram from each source and records what each
// receiver got (sender addresses and payloads, sorted: datagrams of
// different sources may be reordered on the way), once a barrier behind
// them has arrived.
func (p *spoofer) round(op string, rcv ...harness.Sock) {
	for i, src := range []netip.Addr{fsrc1, fsrc2, fsrc3} {
		p.send(src, fmt.Sprintf("s%d", i+1))
	}
	p.barrier()
	for i, r := range rcv {
		var got []string
		for k := 0; k < 8; k++ {
			buf := make([]byte, 16)
			n, _, _, from, err := r.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			if err != nil {
				break
			}
			got = append(got, fmt.Sprintf("%s from %s", buf[:n], p.e.SA(from)))
		}
		sort.Strings(got)
		p.e.Rec(fmt.Sprintf("%s: socket %d got", op, i), "["+strings.Join(got, ", ")+"]")
	}
}

// mcastRcv is a DUT UDP socket bound to the wildcard on port, sharing it.
func mcastRcv(e *harness.Env, port int) harness.Sock {
	s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
	e.Check("SO_REUSEADDR", s.SetSockOpt(unix.SOL_SOCKET, unix.SO_REUSEADDR, harness.Int32(1)))
	e.Check("bind", s.Bind(harness.Sockaddr(anyAddr, port)))
	return s
}

// getMsfilter records getsockopt(IP_MSFILTER) with room for n sources.
func getMsfilter(e *harness.Env, op string, s harness.Sock, group netip.Addr, n int) {
	buf := ipMsfilter(group, e.DUTAddr, 0, zeros(n)...)
	binary.NativeEndian.PutUint32(buf[12:], uint32(n))
	got, err := s.GetSockOpt(unix.IPPROTO_IP, unix.IP_MSFILTER, buf)
	e.Rec(op, err, got, buf)
}

// zeros is n times 0.0.0.0, room for sources in a getsockopt buffer.
func zeros(n int) []netip.Addr {
	z := make([]netip.Addr, n)
	for i := range z {
		z[i] = anyAddr
	}
	return z
}

// groupFilterBytes builds struct group_filter (64-bit layout) with AF_INET
// addresses.
func groupFilterBytes(ifindex int, group netip.Addr, mode uint32, sources ...netip.Addr) []byte {
	b := make([]byte, 144+128*len(sources))
	binary.NativeEndian.PutUint32(b, uint32(ifindex))
	copy(b[8:], harness.Sockaddr(group, 0))
	binary.NativeEndian.PutUint32(b[136:], mode)
	binary.NativeEndian.PutUint32(b[140:], uint32(len(sources)))
	for i, s := range sources {
		copy(b[144+128*i:], harness.Sockaddr(s, 0))
	}
	return b
}

// igmpv3SourceQuery is igmpv3Query for a group and sources.
func igmpv3SourceQuery(group netip.Addr, maxResp byte, sources ...netip.Addr) []byte {
	b := igmpv3Query(group, maxResp)
	b[2], b[3] = 0, 0
	binary.BigEndian.PutUint16(b[10:], uint16(len(sources)))
	for _, s := range sources {
		a := s.As4()
		b = append(b, a[:]...)
	}
	binary.BigEndian.PutUint16(b[2:], checksum(b))
	return b
}

// igmpv2Message builds an IGMPv1/v2 message (8 bytes).
func igmpv2Message(typ, code byte, group netip.Addr) []byte {
	b := []byte{typ, code, 0, 0}
	g := group.As4()
	b = append(b, g[:]...)
	binary.BigEndian.PutUint16(b[2:], checksum(b))
	return b
}

// captureFromDUT waits (bounded) on the peer's IGMP tap for a message of
// type typ that the DUT sent and records its IP header and bytes.
func captureFromDUT(e *harness.Env, op string, tap harness.Sock, typ byte) {
	deadline := time.Now().Add(3 * time.Second)
	buf := make([]byte, 2048)
	for i := 0; i < 64 && time.Now().Before(deadline); i++ {
		harness.WaitReadable(tap, time.Until(deadline))
		n, _, _, _, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil || n < 28 {
			continue
		}
		ihl := int(buf[0]&0xf) * 4
		if n < ihl+8 || netip.AddrFrom4([4]byte(buf[12:16])) != e.DUTAddr || buf[ihl] != typ {
			continue
		}
		e.Rec(op, ipHeaderNoLen(buf[:n]), buf[ihl:n])
		return
	}
	e.Rec(op, "nothing")
}

// captureNoID is capture without the IP ID (gVisor's raw sockets send ID
// 0 with DF where Linux numbers them: not a multicast matter).
func captureNoID(e *harness.Env, op string, tap harness.Sock, port int) {
	deadline := time.Now().Add(2 * time.Second)
	buf := make([]byte, 2048)
	for i := 0; i < 32 && time.Now().Before(deadline); i++ {
		harness.WaitReadable(tap, time.Until(deadline))
		n, _, _, _, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil || n < 24 {
			continue
		}
		ihl := int(buf[0]&0xf) * 4
		if n < ihl+4 || int(binary.BigEndian.Uint16(buf[ihl+2:])) != port {
			continue
		}
		var kept []string
		for _, f := range strings.Fields(ipHeader(buf[:n])) {
			if !strings.HasPrefix(f, "id0=") {
				kept = append(kept, f)
			}
		}
		e.Rec(op, strings.Join(kept, " "))
		return
	}
	e.Rec(op, "nothing captured")
}

// captureReport waits (bounded) for an IGMPv3 report from the DUT with a
// record for group and records, in order, every record of it about group
// or the other groups given (the DUT is shared by the scenarios of a run:
// retransmissions of earlier scenarios' reports may ride along).
func captureReport(e *harness.Env, op string, tap harness.Sock, group netip.Addr, others ...netip.Addr) {
	deadline := time.Now().Add(3 * time.Second)
	buf := make([]byte, 2048)
	for i := 0; i < 64 && time.Now().Before(deadline); i++ {
		harness.WaitReadable(tap, time.Until(deadline))
		n, _, _, _, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil || n < 28 || netip.AddrFrom4([4]byte(buf[12:16])) != e.DUTAddr {
			continue
		}
		igmp := buf[int(buf[0]&0xf)*4 : n]
		if _, ok := igmpRecord(igmp, group, 0); !ok {
			continue
		}
		var recs []string
		off := 8
		for k := 0; k < int(binary.BigEndian.Uint16(igmp[6:8])) && off+8 <= len(igmp); k++ {
			nsrc := int(binary.BigEndian.Uint16(igmp[off+2:]))
			end := off + 8 + 4*nsrc + 4*int(igmp[off+1])
			if end > len(igmp) {
				break
			}
			if g := netip.AddrFrom4([4]byte(igmp[off+4 : off+8])); g == group || slices.Contains(others, g) {
				recs = append(recs, fmt.Sprintf("%d %v %x", igmp[off], g, igmp[off+8:off+8+4*nsrc]))
			}
			off = end
		}
		e.Rec(op, "["+strings.Join(recs, "; ")+"]")
		return
	}
	e.Rec(op, "no report")
}

// settleIGMP waits out the retransmissions of earlier reports and drops what
// the tap queued meanwhile, so the next capture sees only new reports.
func settleIGMP(tap harness.Sock) {
	time.Sleep(1200 * time.Millisecond)
	buf := make([]byte, 2048)
	for i := 0; i < 64; i++ {
		if _, _, _, _, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT); err != nil {
			return
		}
	}
}

func mcastFilterScenarios() []harness.Scenario {
	return append(append(mcastFilterCore(), mcastErrnoScenarios()...), mcastDeliveryScenarios()...)
}

func setIP(e *harness.Env, op string, s harness.Sock, name int, v []byte) {
	e.Rec(op, s.SetSockOpt(unix.IPPROTO_IP, name, v))
}

func mcastFilterCore() []harness.Scenario {
	return []harness.Scenario{
		{Name: "mcast/filter-asm-all-sources", Run: func(e *harness.Env) {
			g := filterGroup(1)
			r := mcastRcv(e, e.BasePort)
			p := newSpoofer(e, g, e.BasePort)
			p.round("not joined", r)
			setIP(e, "join", r, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			p.round("joined", r)
		}},
		{Name: "mcast/filter-block-unblock", Run: func(e *harness.Env) {
			g := filterGroup(2)
			r := mcastRcv(e, e.BasePort)
			p := newSpoofer(e, g, e.BasePort)
			setIP(e, "join", r, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			setIP(e, "block s2", r, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc2))
			p.round("s2 blocked", r)
			setIP(e, "block s3", r, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc3))
			p.round("s2 s3 blocked", r)
			getMsfilter(e, "msfilter", r, g, 3)
			setIP(e, "unblock s2", r, unix.IP_UNBLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc2))
			p.round("s3 blocked", r)
			setIP(e, "unblock s1 (not blocked)", r, unix.IP_UNBLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc1))
			setIP(e, "add source in exclude mode", r, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc1))
		}},
		{Name: "mcast/filter-ssm-include", Run: func(e *harness.Env) {
			g := filterGroup(3)
			r := mcastRcv(e, e.BasePort)
			p := newSpoofer(e, g, e.BasePort)
			setIP(e, "add s1", r, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc1))
			setIP(e, "add s3", r, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc3))
			p.round("include s1 s3", r)
			getMsfilter(e, "msfilter", r, g, 3)
			setIP(e, "block in include mode", r, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc2))
			setIP(e, "drop s1", r, unix.IP_DROP_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc1))
			p.round("include s3", r)
			setIP(e, "drop s3 (leaves)", r, unix.IP_DROP_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc3))
			p.round("left", r)
			getMsfilter(e, "msfilter after leave", r, g, 1)
		}},
		{Name: "mcast/filter-msfilter-modes", Run: func(e *harness.Env) {
			g := filterGroup(4)
			r := mcastRcv(e, e.BasePort)
			p := newSpoofer(e, g, e.BasePort)
			setIP(e, "join", r, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			setIP(e, "include s2", r, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_INCLUDE, fsrc2))
			p.round("include s2", r)
			setIP(e, "exclude s2", r, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_EXCLUDE, fsrc2))
			p.round("exclude s2", r)
			getMsfilter(e, "msfilter", r, g, 2)
			setIP(e, "exclude s1 s1 (duplicate)", r, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_EXCLUDE, fsrc1, fsrc1))
			p.round("exclude s1", r)
			getMsfilter(e, "msfilter", r, g, 2)
			setIP(e, "include s3 s1", r, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_INCLUDE, fsrc3, fsrc1))
			p.round("include s3 s1", r)
			getMsfilter(e, "msfilter", r, g, 2)
			setIP(e, "unblock in include mode", r, unix.IP_UNBLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc1))
			setIP(e, "drop s3", r, unix.IP_DROP_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc3))
			setIP(e, "add s2", r, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc2))
			p.round("include s1 s2", r)
			getMsfilter(e, "msfilter", r, g, 2)
		}},
		{Name: "mcast/filter-mcast-api", Run: func(e *harness.Env) {
			g := filterGroup(5)
			r := mcastRcv(e, e.BasePort)
			p := newSpoofer(e, g, e.BasePort)
			setIP(e, "MCAST_JOIN_GROUP", r, unix.MCAST_JOIN_GROUP, groupReqBytes(2, g, netip.Addr{}))
			setIP(e, "MCAST_BLOCK_SOURCE s1", r, unix.MCAST_BLOCK_SOURCE, groupReqBytes(2, g, fsrc1))
			p.round("s1 blocked", r)
			setIP(e, "MCAST_MSFILTER include s3", r, unix.MCAST_MSFILTER, groupFilterBytes(2, g, unix.MCAST_INCLUDE, fsrc3))
			p.round("include s3", r)
			for _, room := range []int{0, 1, 2} {
				buf := groupFilterBytes(2, g, 0, zeros(room)...)
				n, err := r.GetSockOpt(unix.IPPROTO_IP, unix.MCAST_MSFILTER, buf)
				e.Rec(fmt.Sprintf("get MCAST_MSFILTER room %d", room), err, n, buf[136:])
			}
			setIP(e, "MCAST_UNBLOCK_SOURCE in include mode", r, unix.MCAST_UNBLOCK_SOURCE, groupReqBytes(2, g, fsrc3))
			setIP(e, "MCAST_JOIN_SOURCE_GROUP s2", r, unix.MCAST_JOIN_SOURCE_GROUP, groupReqBytes(2, g, fsrc2))
			p.round("include s3 s2", r)
			setIP(e, "MCAST_LEAVE_SOURCE_GROUP s3", r, unix.MCAST_LEAVE_SOURCE_GROUP, groupReqBytes(2, g, fsrc3))
			setIP(e, "MCAST_LEAVE_GROUP", r, unix.MCAST_LEAVE_GROUP, groupReqBytes(2, g, netip.Addr{}))
			p.round("left", r)
			setIP(e, "MCAST_LEAVE_GROUP again", r, unix.MCAST_LEAVE_GROUP, groupReqBytes(2, g, netip.Addr{}))
		}},
		{Name: "mcast/filter-two-sockets-merge", Run: func(e *harness.Env) {
			g := filterGroup(6)
			a, b := mcastRcv(e, e.BasePort), mcastRcv(e, e.BasePort)
			p := newSpoofer(e, g, e.BasePort)
			setIP(e, "a include s1", a, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc1))
			p.round("a IN{s1}", a, b)
			setIP(e, "b join", b, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			setIP(e, "b block s2", b, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc2))
			p.round("a IN{s1} b EX{s2}", a, b)
			setIP(e, "b block s1", b, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc1))
			p.round("a IN{s1} b EX{s1,s2}", a, b)
			e.Rec("close a", a.Close())
			p.round("b EX{s1,s2}", b)
		}},
		{Name: "mcast/filter-multicast-all", Run: func(e *harness.Env) {
			g := filterGroup(7)
			joined, other := mcastRcv(e, e.BasePort), mcastRcv(e, e.BasePort)
			p := newSpoofer(e, g, e.BasePort)
			e.GetInt("IP_MULTICAST_ALL default", other, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL)
			setIP(e, "joined include s1", joined, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc1))
			p.round("other multicast_all 1", joined, other)
			e.SetInt("other IP_MULTICAST_ALL 0", other, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0)
			e.GetInt("IP_MULTICAST_ALL", other, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL)
			p.round("other multicast_all 0", joined, other)
			e.SetInt("other IP_MULTICAST_ALL 1", other, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 1)
			e.Rec("close joined", joined.Close())
			p.round("nobody joined", other)
		}},
		{Name: "mcast/filter-bound-to-group", Run: func(e *harness.Env) {
			g, h := filterGroup(8), filterGroup(9)
			onG := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("SO_REUSEADDR", onG.SetSockOpt(unix.SOL_SOCKET, unix.SO_REUSEADDR, harness.Int32(1)))
			e.Rec("bind to group", onG.Bind(harness.Sockaddr(g, e.BasePort)))
			wild := mcastRcv(e, e.BasePort)
			setIP(e, "wildcard joins g and h", wild, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			setIP(e, "join h", wild, unix.IP_ADD_MEMBERSHIP, mreq(h, e.DUTAddr, -1))
			setIP(e, "block s1 on g", wild, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc1))
			newSpoofer(e, g, e.BasePort).round("to g", onG, wild)
			newSpoofer(e, h, e.BasePort).round("to h", onG, wild)
		}},
		{Name: "mcast/filter-long-sequence", Run: func(e *harness.Env) {
			g := filterGroup(10)
			r := mcastRcv(e, e.BasePort)
			p := newSpoofer(e, g, e.BasePort)
			setIP(e, "join", r, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			setIP(e, "block s1", r, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc1))
			setIP(e, "block s2", r, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc2))
			setIP(e, "unblock s1", r, unix.IP_UNBLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc1))
			p.round("EX{s2}", r)
			setIP(e, "msfilter include s3 s1", r, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_INCLUDE, fsrc3, fsrc1))
			setIP(e, "drop s3", r, unix.IP_DROP_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc3))
			setIP(e, "add s2", r, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc2))
			p.round("IN{s1,s2}", r)
			getMsfilter(e, "msfilter", r, g, 3)
			setIP(e, "msfilter exclude none", r, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_EXCLUDE))
			setIP(e, "block s3", r, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc3))
			p.round("EX{s3}", r)
			setIP(e, "leave", r, unix.IP_DROP_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			p.round("left", r)
			setIP(e, "rejoin by ifindex", r, unix.IP_ADD_MEMBERSHIP, mreq(g, anyAddr, 2))
			p.round("rejoined", r)
			getMsfilter(e, "msfilter", r, g, 3)
		}},
		{Name: "mcast/filter-igmp-block-allow", Run: func(e *harness.Env) {
			g := filterGroup(11)
			tap := peerIGMPTap(e)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			setIP(e, "join", s, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			captureIGMP(e, "peer saw join", tap, g, 4)
			settleIGMP(tap) // past the join's retransmission
			setIP(e, "block s1", s, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc1))
			captureIGMP(e, "peer saw block", tap, g, 6)
			settleIGMP(tap)
			setIP(e, "unblock s1", s, unix.IP_UNBLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc1))
			captureIGMP(e, "peer saw unblock", tap, g, 5)
		}},
		{Name: "mcast/filter-igmp-mode-change", Run: func(e *harness.Env) {
			g := filterGroup(12)
			tap := peerIGMPTap(e)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			setIP(e, "include s1", s, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc1))
			captureIGMP(e, "peer saw allow", tap, g, 5)
			settleIGMP(tap)
			setIP(e, "msfilter exclude s2", s, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_EXCLUDE, fsrc2))
			captureIGMP(e, "peer saw to_ex", tap, g, 4)
			settleIGMP(tap)
			setIP(e, "msfilter include s3", s, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_INCLUDE, fsrc3))
			captureIGMP(e, "peer saw to_in", tap, g, 3)
		}},
		{Name: "mcast/filter-igmp-source-order", Run: func(e *harness.Env) {
			g := filterGroup(15)
			tap := peerIGMPTap(e)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			pause := func() { settleIGMP(tap) }
			setIP(e, "include s3", s, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc3))
			captureIGMP(e, "peer saw allow", tap, g, 5)
			pause()
			setIP(e, "msfilter include s3 s2 s1", s, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_INCLUDE, fsrc3, fsrc2, fsrc1))
			captureIGMP(e, "peer saw allow", tap, g, 5)
			pause()
			setIP(e, "msfilter include s2", s, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_INCLUDE, fsrc2))
			captureIGMP(e, "peer saw block", tap, g, 6)
			pause()
			setIP(e, "msfilter exclude s1 s3 s2", s, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_EXCLUDE, fsrc1, fsrc3, fsrc2))
			captureIGMP(e, "peer saw to_ex", tap, g, 4)
			pause()
			setIP(e, "unblock s3", s, unix.IP_UNBLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc3))
			setIP(e, "unblock s1", s, unix.IP_UNBLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc1))
			captureIGMP(e, "peer saw allow", tap, g, 5)
		}},
		{Name: "mcast/filter-query-source-specific", Run: func(e *harness.Env) {
			g := filterGroup(16)
			tap := peerIGMPTap(e)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			setIP(e, "IP_MSFILTER empty", s, unix.IP_MSFILTER, nil)
			setIP(e, "join s1", s, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc1))
			setIP(e, "join s2", s, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc2))
			settleIGMP(tap)
			q := peerQuerier(e)
			send(e, "query s2 s3", q, igmpv3SourceQuery(g, 5, fsrc2, fsrc3), harness.Sockaddr(g, 0), 0)
			captureIGMP(e, "peer saw", tap, g, 1)
			send(e, "general query", q, igmpv3Query(anyAddr, 5), harness.Sockaddr(allHosts, 0), 0)
			captureIGMP(e, "peer saw", tap, g, 1)
		}},
		{Name: "mcast/filter-query-exclude", Run: func(e *harness.Env) {
			g := filterGroup(17)
			tap := peerIGMPTap(e)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			setIP(e, "join", s, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			setIP(e, "block s2", s, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc2))
			setIP(e, "block s1", s, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc1))
			settleIGMP(tap)
			q := peerQuerier(e)
			send(e, "general query", q, igmpv3Query(anyAddr, 5), harness.Sockaddr(allHosts, 0), 0)
			captureIGMP(e, "peer saw", tap, g, 2)
			send(e, "group query", q, igmpv3Query(g, 5), harness.Sockaddr(g, 0), 0)
			captureIGMP(e, "peer saw", tap, g, 2)
		}},
		{Name: "mcast/filter-query-source-exclude", Run: func(e *harness.Env) {
			g := filterGroup(49)
			tap := peerIGMPTap(e)
			settleIGMP(tap)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			setIP(e, "join", s, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			setIP(e, "block s1", s, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc1))
			settleIGMP(tap)
			q := peerQuerier(e)
			send(e, "query s1 (excluded)", q, igmpv3SourceQuery(g, 5, fsrc1), harness.Sockaddr(g, 0), 0)
			captureReport(e, "peer saw", tap, g)
			send(e, "query s1 s2", q, igmpv3SourceQuery(g, 5, fsrc1, fsrc2), harness.Sockaddr(g, 0), 0)
			captureReport(e, "peer saw", tap, g)
			send(e, "query s3", q, igmpv3SourceQuery(g, 5, fsrc3), harness.Sockaddr(g, 0), 0)
			captureReport(e, "peer saw", tap, g)
		}},
		{Name: "mcast/filter-query-source-include", Run: func(e *harness.Env) {
			g := filterGroup(50)
			tap := peerIGMPTap(e)
			settleIGMP(tap)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			setIP(e, "include s3 s1", s, unix.IP_MSFILTER, nil)
			setIP(e, "join s3", s, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc3))
			setIP(e, "join s1", s, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc1))
			settleIGMP(tap)
			q := peerQuerier(e)
			send(e, "query s2 (not wanted)", q, igmpv3SourceQuery(g, 5, fsrc2), harness.Sockaddr(g, 0), 0)
			captureReport(e, "peer saw", tap, g)
			send(e, "query s1 s2 s3", q, igmpv3SourceQuery(g, 5, fsrc1, fsrc2, fsrc3), harness.Sockaddr(g, 0), 0)
			captureReport(e, "peer saw", tap, g)
		}},
		{Name: "mcast/filter-querier-robustness", Run: func(e *harness.Env) {
			g := filterGroup(51)
			tap := peerIGMPTap(e)
			settleIGMP(tap)
			q := peerQuerier(e)
			query := igmpv3Query(anyAddr, 5)
			query[8] = 3 // QRV 3
			query[2], query[3] = 0, 0
			binary.BigEndian.PutUint16(query[2:], checksum(query))
			send(e, "general query with QRV 3", q, query, harness.Sockaddr(allHosts, 0), 0)
			time.Sleep(100 * time.Millisecond)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			setIP(e, "join", s, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			deadline := time.Now().Add(3500 * time.Millisecond)
			buf := make([]byte, 2048)
			reports := 0
			for i := 0; i < 64 && time.Now().Before(deadline); i++ {
				harness.WaitReadable(tap, time.Until(deadline))
				n, _, _, _, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
				if err != nil || n < 28 {
					continue
				}
				if _, ok := igmpRecord(buf[int(buf[0]&0xf)*4:n], g, 4); ok {
					reports++
				}
			}
			e.Rec("TO_EX reports in 3.5 s", reports)
		}},
		{Name: "mcast/filter-igmpv2-querier", Run: func(e *harness.Env) {
			g := filterGroup(18)
			tap := peerIGMPTap(e)
			e.Check("tap joins group", tap.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq(g, e.PeerAddr, -1)))
			e.Check("tap joins 224.0.0.2", tap.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq(allRoutersV2, e.PeerAddr, -1)))
			q := peerQuerier(e)
			send(e, "v2 general query", q, igmpv2Message(0x11, 10, anyAddr), harness.Sockaddr(allHosts, 0), 0)
			time.Sleep(200 * time.Millisecond)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			setIP(e, "join", s, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			captureFromDUT(e, "peer saw v2 report", tap, 0x16)
			setIP(e, "leave", s, unix.IP_DROP_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			captureFromDUT(e, "peer saw leave", tap, 0x17)
		}},
		{Name: "mcast/filter-own-loopback", Run: func(e *harness.Env) {
			g := filterGroup(19)
			r := mcastRcv(e, e.BasePort)
			setIP(e, "join", r, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			snd := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			setIP(e, "IP_MULTICAST_IF", snd, unix.IP_MULTICAST_IF, mreq(anyAddr, e.DUTAddr, -1)[4:8])
			to := harness.Sockaddr(g, e.BasePort)
			recv := func(op string) {
				rr, err := r.Poll(unix.EPOLLIN, 200*time.Millisecond)
				if err != nil || rr == 0 {
					e.Rec(op, "nothing")
					return
				}
				e.RecvDgram(op, r, 16, 0)
			}
			send(e, "send", snd, []byte("own"), to, 0)
			recv("recv own")
			setIP(e, "block own address", r, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, e.DUTAddr))
			send(e, "send", snd, []byte("blocked"), to, 0)
			recv("recv blocked")
			setIP(e, "include own address", r, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_INCLUDE, e.DUTAddr))
			send(e, "send", snd, []byte("incl"), to, 0)
			recv("recv included")
			e.SetInt("IP_MULTICAST_TTL 0", snd, unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, 0)
			send(e, "send ttl 0", snd, []byte("ttl0"), to, 0)
			recv("recv ttl 0")
			e.SetInt("IP_MULTICAST_LOOP 0", snd, unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, 0)
			send(e, "send no loop", snd, []byte("noloop"), to, 0)
			recv("recv no loop")
		}},
		{Name: "mcast/filter-ttl0-on-wire", Run: func(e *harness.Env) {
			g := filterGroup(20)
			tap := peerTap(e, unix.IPPROTO_UDP)
			e.Check("peer join", tap.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq(g, e.PeerAddr, -1)))
			snd := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			setIP(e, "IP_MULTICAST_IF", snd, unix.IP_MULTICAST_IF, mreq(anyAddr, e.DUTAddr, -1)[4:8])
			e.SetInt("IP_MULTICAST_TTL 0", snd, unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, 0)
			send(e, "send ttl 0", snd, []byte("z"), harness.Sockaddr(g, e.BasePort), 0)
			capture(e, "peer saw", tap, e.BasePort)
			e.SetInt("IP_MULTICAST_TTL 1", snd, unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, 1)
			send(e, "send ttl 1", snd, []byte("o"), harness.Sockaddr(g, e.BasePort), 0)
			capture(e, "peer saw", tap, e.BasePort)
		}},
		{Name: "mcast/filter-igmpv1-querier", Run: func(e *harness.Env) {
			g := filterGroup(42)
			tap := peerIGMPTap(e)
			e.Check("tap joins group", tap.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq(g, e.PeerAddr, -1)))
			e.Check("tap joins 224.0.0.2", tap.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq(allRoutersV2, e.PeerAddr, -1)))
			q := peerQuerier(e)
			send(e, "v1 query", q, igmpv2Message(0x11, 0, anyAddr), harness.Sockaddr(allHosts, 0), 0)
			time.Sleep(200 * time.Millisecond)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			setIP(e, "join", s, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			captureFromDUT(e, "peer saw v1 report", tap, 0x12)
			setIP(e, "leave", s, unix.IP_DROP_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			time.Sleep(300 * time.Millisecond)
			buf := make([]byte, 2048)
			leaves := 0
			for i := 0; i < 64; i++ {
				n, _, _, _, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
				if err != nil {
					break
				}
				if n > 24 && buf[24] == 0x17 {
					leaves++
				}
			}
			e.Rec("leaves seen (IGMPv1 has none)", leaves)
		}},
		{Name: "mcast/filter-multicast-if-other-sockets", Run: func(e *harness.Env) {
			g := filterGroup(43)
			tap := peerTap(e, unix.IPPROTO_UDP)
			e.Check("peer join", tap.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq(g, e.PeerAddr, -1)))
			get := func(op string, s harness.Sock) {
				buf := make([]byte, 4)
				n, err := s.GetSockOpt(unix.IPPROTO_IP, unix.IP_MULTICAST_IF, buf)
				e.Rec(op, err, n, buf)
			}
			t := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			get("tcp get", t)
			setIP(e, "tcp set", t, unix.IP_MULTICAST_IF, mreq(anyAddr, e.DUTAddr, -1)[4:8])
			r := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
			get("raw get", r)
			udp := make([]byte, 9)
			binary.BigEndian.PutUint16(udp[0:], 4444)
			binary.BigEndian.PutUint16(udp[2:], uint16(e.BasePort))
			binary.BigEndian.PutUint16(udp[4:], 9)
			udp[8] = 'r'
			send(e, "raw send without IP_MULTICAST_IF", r, udp, harness.Sockaddr(g, 0), 0)
			setIP(e, "raw set foreign", r, unix.IP_MULTICAST_IF, mreq(anyAddr, foreign, -1)[4:8])
			setIP(e, "raw set by ifindex", r, unix.IP_MULTICAST_IF, mreq(anyAddr, anyAddr, 2))
			get("raw get", r)
			setIP(e, "raw set by address", r, unix.IP_MULTICAST_IF, mreq(anyAddr, e.DUTAddr, -1)[4:8])
			get("raw get", r)
			send(e, "raw send", r, udp, harness.Sockaddr(g, 0), 0)
			captureNoID(e, "peer saw", tap, e.BasePort)
			setIP(e, "raw reset", r, unix.IP_MULTICAST_IF, mreq(anyAddr, anyAddr, -1)[4:8])
			send(e, "raw send after reset", r, udp, harness.Sockaddr(g, 0), 0)
		}},
		{Name: "mcast/filter-all-hosts", Run: func(e *harness.Env) {
			a, b := mcastRcv(e, e.BasePort), mcastRcv(e, e.BasePort)
			setIP(e, "a includes s1 on 224.0.0.1", a, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(allHosts, e.DUTAddr, fsrc1))
			newSpoofer(e, allHosts, e.BasePort).round("to 224.0.0.1", a, b)
			e.SetInt("b IP_MULTICAST_ALL 0", b, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0)
			newSpoofer(e, allHosts, e.BasePort).round("to 224.0.0.1", a, b)
		}},
		{Name: "mcast/filter-general-query-order", Run: func(e *harness.Env) {
			g1, g2, g3 := filterGroup(44), filterGroup(45), filterGroup(46)
			tap := peerIGMPTap(e)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			setIP(e, "join g2", s, unix.IP_ADD_MEMBERSHIP, mreq(g2, e.DUTAddr, -1))
			setIP(e, "include s3 s1 on g1", s, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g1, e.DUTAddr, fsrc3))
			setIP(e, "", s, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g1, e.DUTAddr, fsrc1))
			setIP(e, "join g3", s, unix.IP_ADD_MEMBERSHIP, mreq(g3, e.DUTAddr, -1))
			setIP(e, "block s2 s1 on g3", s, unix.IP_BLOCK_SOURCE, mreqSource(g3, e.DUTAddr, fsrc2))
			setIP(e, "", s, unix.IP_BLOCK_SOURCE, mreqSource(g3, e.DUTAddr, fsrc1))
			settleIGMP(tap)
			settleIGMP(tap)
			q := peerQuerier(e)
			send(e, "general query", q, igmpv3Query(anyAddr, 5), harness.Sockaddr(allHosts, 0), 0)
			captureReport(e, "peer saw", tap, g1, g2, g3)
			settleIGMP(tap)
			setIP(e, "leave g2", s, unix.IP_DROP_MEMBERSHIP, mreq(g2, e.DUTAddr, -1))
			setIP(e, "leave g1", s, unix.IP_DROP_MEMBERSHIP, mreq(g1, e.DUTAddr, -1))
			captureReport(e, "peer saw", tap, g1, g2, g3)
		}},
		{Name: "mcast/filter-shared-group-reports", Run: func(e *harness.Env) {
			g := filterGroup(47)
			tap := peerIGMPTap(e)
			a := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			b := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			setIP(e, "a join", a, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			captureReport(e, "peer saw", tap, g)
			settleIGMP(tap)
			setIP(e, "b join", b, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			setIP(e, "a leaves", a, unix.IP_DROP_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			captureReport(e, "peer saw", tap, g)
			e.Rec("b closes", b.Close())
			captureReport(e, "peer saw", tap, g)
		}},
		{Name: "mcast/filter-leave-matching", Run: func(e *harness.Env) {
			g := filterGroup(48)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			setIP(e, "join on lo by address", s, unix.IP_ADD_MEMBERSHIP, mreq(g, loopback, -1))
			setIP(e, "join on eth0 by ifindex", s, unix.IP_ADD_MEMBERSHIP, mreq(g, anyAddr, 2))
			setIP(e, "leave 0.0.0.0 (route)", s, unix.IP_DROP_MEMBERSHIP, mreq(g, anyAddr, -1))
			setIP(e, "leave foreign address", s, unix.IP_DROP_MEMBERSHIP, mreq(g, foreign, -1))
			getMsfilter(e, "msfilter eth0", s, g, 0)
			setIP(e, "leave ifindex 1", s, unix.IP_DROP_MEMBERSHIP, mreq(g, anyAddr, 1))
			setIP(e, "leave lo again", s, unix.IP_DROP_MEMBERSHIP, mreq(g, loopback, -1))
			setIP(e, "leave by address", s, unix.IP_DROP_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			setIP(e, "leave again", s, unix.IP_DROP_MEMBERSHIP, mreq(g, anyAddr, 2))
			getMsfilter(e, "msfilter eth0", s, g, 0)
		}},
		{Name: "mcast/filter-link-local-report", Run: func(e *harness.Env) {
			g := netip.MustParseAddr("224.0.0.251")
			tap := peerIGMPTap(e)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			setIP(e, "join 224.0.0.251", s, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			captureReport(e, "peer saw", tap, g)
		}},
		{Name: "mcast/filter-option-errors", Run: func(e *harness.Env) {
			g := filterGroup(13)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			set := func(op string, name int, v []byte) { setIP(e, op, s, name, v) }
			get := func(op string, name int, buf []byte) {
				n, err := s.GetSockOpt(unix.IPPROTO_IP, name, buf)
				e.Rec(op, err, n, buf)
			}
			set("IP_MULTICAST_ALL 2", unix.IP_MULTICAST_ALL, harness.Int32(2))
			set("IP_MULTICAST_ALL empty", unix.IP_MULTICAST_ALL, nil)
			set("IP_MULTICAST_ALL one byte", unix.IP_MULTICAST_ALL, []byte{0})
			e.GetInt("IP_MULTICAST_ALL", s, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL)
			set("source membership short", unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc1)[:11])
			set("source membership long", unix.IP_ADD_SOURCE_MEMBERSHIP, append(mreqSource(g, e.DUTAddr, fsrc1), 0))
			set("source membership unicast group", unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(fsrc1, e.DUTAddr, fsrc1))
			set("source membership foreign interface", unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, foreign, fsrc1))
			set("block without join", unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc1))
			set("drop source without join", unix.IP_DROP_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc1))
			set("msfilter unicast group", unix.IP_MSFILTER, ipMsfilter(fsrc1, e.DUTAddr, unix.MCAST_EXCLUDE))
			set("msfilter foreign interface", unix.IP_MSFILTER, ipMsfilter(g, foreign, unix.MCAST_EXCLUDE))
			set("msfilter 11 sources", unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_EXCLUDE, zeros(11)...))
			set("MCAST_MSFILTER short", unix.MCAST_MSFILTER, groupFilterBytes(2, g, 0)[:143])
			set("MCAST_MSFILTER not joined", unix.MCAST_MSFILTER, groupFilterBytes(2, g, unix.MCAST_EXCLUDE, fsrc1))
			set("MCAST_MSFILTER bad ifindex", unix.MCAST_MSFILTER, groupFilterBytes(99, g, unix.MCAST_EXCLUDE, fsrc1))
			bad := groupFilterBytes(2, g, unix.MCAST_EXCLUDE, fsrc1)
			binary.NativeEndian.PutUint16(bad[144:], unix.AF_INET6)
			set("MCAST_MSFILTER inet6 source", unix.MCAST_MSFILTER, bad)
			src := groupReqBytes(2, g, fsrc1)
			set("group_source_req short", unix.MCAST_JOIN_SOURCE_GROUP, src[:263])
			binary.NativeEndian.PutUint16(src[136:], unix.AF_INET6)
			set("group_source_req inet6 source", unix.MCAST_JOIN_SOURCE_GROUP, src)
			set("MCAST_JOIN_SOURCE_GROUP bad ifindex", unix.MCAST_JOIN_SOURCE_GROUP, groupReqBytes(99, g, fsrc1))
			get("get IP_MSFILTER short", unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, 0)[:15])
			get("get IP_MSFILTER unicast", unix.IP_MSFILTER, ipMsfilter(fsrc1, e.DUTAddr, 0))
			get("get IP_MSFILTER foreign", unix.IP_MSFILTER, ipMsfilter(g, foreign, 0))
			get("get MCAST_MSFILTER short", unix.MCAST_MSFILTER, groupFilterBytes(2, g, 0)[:143])
			get("get MCAST_MSFILTER not joined", unix.MCAST_MSFILTER, groupFilterBytes(2, g, 0))
			gbad := groupFilterBytes(2, g, 0)
			binary.NativeEndian.PutUint16(gbad[8:], unix.AF_INET6)
			get("get MCAST_MSFILTER inet6", unix.MCAST_MSFILTER, gbad)
			set("join", unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			get("get MCAST_MSFILTER ifindex 0", unix.MCAST_MSFILTER, groupFilterBytes(0, g, 0))
			get("get MCAST_MSFILTER ifindex 2", unix.MCAST_MSFILTER, groupFilterBytes(2, g, 0))
			for i := 1; i <= 11; i++ {
				a := netip.AddrFrom4([4]byte{198, 18, 1, byte(i)})
				if err := s.SetSockOpt(unix.IPPROTO_IP, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, a)); err != nil || i >= 10 {
					e.Rec(fmt.Sprintf("block source %d", i), err)
				}
			}
		}},
		{Name: "mcast/filter-membership-limit", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			for i := 1; i <= 21; i++ {
				err := s.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq(netip.AddrFrom4([4]byte{239, 1, 3, byte(i)}), e.DUTAddr, -1))
				if err != nil || i >= 20 {
					e.Rec(fmt.Sprintf("join %d", i), err)
				}
			}
			e.Rec("source join over the limit", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(filterGroup(14), e.DUTAddr, fsrc1)))
			e.Rec("leave one", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_DROP_MEMBERSHIP, mreq(netip.AddrFrom4([4]byte{239, 1, 3, 1}), e.DUTAddr, -1)))
			e.Rec("source join", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(filterGroup(14), e.DUTAddr, fsrc1)))
		}},
	}
}

// resize returns b cut or zero-extended to n bytes.
func resize(b []byte, n int) []byte {
	out := make([]byte, n)
	copy(out, b)
	return out
}

// withIfindex returns an ip_mreqn with the given ifindex.
func withIfindex(group, iface netip.Addr, ifindex int32) []byte {
	return mreq(group, iface, int(uint32(ifindex)))
}

// errnoCase is one setsockopt of an errno scenario.
type errnoCase struct {
	label string
	val   func(e *harness.Env, g netip.Addr) []byte
}

// mcastErrnoScenarios checks every membership option's errnos: lengths,
// address kinds, interfaces and state, each option on a fresh socket
// (joins made by the scenario are listed as cases too).
func mcastErrnoScenarios() []harness.Scenario {
	mr := func(iface func(e *harness.Env) netip.Addr, ifindex int32, n int) func(*harness.Env, netip.Addr) []byte {
		return func(e *harness.Env, g netip.Addr) []byte {
			return resize(withIfindex(g, iface(e), ifindex), n)
		}
	}
	dut := func(e *harness.Env) netip.Addr { return e.DUTAddr }
	zero := func(*harness.Env) netip.Addr { return anyAddr }
	lo := func(*harness.Env) netip.Addr { return loopback }
	far := func(*harness.Env) netip.Addr { return foreign }
	grp := func(a string) func(*harness.Env, netip.Addr) []byte {
		return func(e *harness.Env, _ netip.Addr) []byte { return mreq(netip.MustParseAddr(a), e.DUTAddr, -1) }
	}
	src := func(iface func(e *harness.Env) netip.Addr, source netip.Addr, n int) func(*harness.Env, netip.Addr) []byte {
		return func(e *harness.Env, g netip.Addr) []byte { return resize(mreqSource(g, iface(e), source), n) }
	}
	gr := func(ifindex int, fam uint16, n int) func(*harness.Env, netip.Addr) []byte {
		return func(e *harness.Env, g netip.Addr) []byte {
			b := groupReqBytes(ifindex, g, netip.Addr{})
			binary.NativeEndian.PutUint16(b[8:], fam)
			return resize(b, n)
		}
	}
	gsr := func(ifindex int, gfam, sfam uint16, n int) func(*harness.Env, netip.Addr) []byte {
		return func(e *harness.Env, g netip.Addr) []byte {
			b := groupReqBytes(ifindex, g, fsrc1)
			binary.NativeEndian.PutUint16(b[8:], gfam)
			binary.NativeEndian.PutUint16(b[136:], sfam)
			return resize(b, n)
		}
	}
	msf := func(iface func(e *harness.Env) netip.Addr, mode uint32, numsrc uint32, n int, srcs ...netip.Addr) func(*harness.Env, netip.Addr) []byte {
		return func(e *harness.Env, g netip.Addr) []byte {
			b := ipMsfilter(g, iface(e), mode, srcs...)
			binary.NativeEndian.PutUint32(b[12:], numsrc)
			if n >= 0 {
				b = resize(b, n)
			}
			return b
		}
	}
	gf := func(ifindex int, mode uint32, numsrc uint32, n int, srcs ...netip.Addr) func(*harness.Env, netip.Addr) []byte {
		return func(e *harness.Env, g netip.Addr) []byte {
			b := groupFilterBytes(ifindex, g, mode, srcs...)
			binary.NativeEndian.PutUint32(b[140:], numsrc)
			if n >= 0 {
				b = resize(b, n)
			}
			return b
		}
	}
	join := errnoCase{"join (ip_mreq)", func(e *harness.Env, g netip.Addr) []byte { return mreq(g, e.DUTAddr, -1) }}
	type opt struct {
		name  string
		num   int
		cases []errnoCase
	}
	opts := []opt{
		{"IP_ADD_MEMBERSHIP", unix.IP_ADD_MEMBERSHIP, []errnoCase{
			{"len 0", mr(dut, 0, 0)}, {"len 4", mr(dut, 0, 4)}, {"len 7", mr(dut, 0, 7)},
			{"group 0.0.0.0", grp("0.0.0.0")}, {"group 255.255.255.255", grp("255.255.255.255")},
			{"group 240.0.0.1", grp("240.0.0.1")}, {"group 224.0.0.1", grp("224.0.0.1")},
			{"ifindex -1", mr(zero, -1, 12)}, {"ifindex 0 no route", mr(zero, 0, 12)},
			{"address 0 no route (ip_mreq)", mr(zero, 0, 8)}, {"foreign address", mr(far, 0, 8)},
			{"foreign address, ifindex 2", mr(far, 2, 12)}, {"lo by address", mr(lo, 0, 8)},
			{"len 11 (ip_mreq)", mr(dut, 0, 11)}, {"len 16 (ip_mreqn)", mr(zero, 2, 16)},
			{"ifindex 1", mr(zero, 1, 12)}, {"ifindex 2 again", mr(zero, 2, 12)},
		}},
		{"IP_DROP_MEMBERSHIP", unix.IP_DROP_MEMBERSHIP, []errnoCase{
			{"len 7", mr(dut, 0, 7)}, {"not joined", mr(dut, 0, 8)}, {"no route", mr(zero, 0, 8)},
			{"foreign address", mr(far, 0, 8)}, {"bad ifindex", mr(zero, 77, 12)},
			{"unicast group", grp("198.18.0.1")},
		}},
		{"IP_ADD_SOURCE_MEMBERSHIP", unix.IP_ADD_SOURCE_MEMBERSHIP, []errnoCase{
			{"len 0", src(dut, fsrc1, 0)}, {"len 8", src(dut, fsrc1, 8)}, {"len 11", src(dut, fsrc1, 11)},
			{"len 13", src(dut, fsrc1, 13)}, {"len 16", src(dut, fsrc1, 16)}, {"no route", src(zero, fsrc1, 12)},
			{"foreign interface", src(far, fsrc1, 12)}, {"source 0.0.0.0", src(dut, anyAddr, 12)},
			{"source s1", src(dut, fsrc1, 12)}, {"source s1 again", src(dut, fsrc1, 12)},
			{"source on lo", src(lo, fsrc2, 12)}, {"source group address", src(dut, filterGroup(40), 12)},
		}},
		{"IP_DROP_SOURCE_MEMBERSHIP", unix.IP_DROP_SOURCE_MEMBERSHIP, []errnoCase{
			{"len 11", src(dut, fsrc1, 11)}, {"not joined", src(dut, fsrc1, 12)}, join,
			{"ASM, no source list", src(dut, fsrc1, 12)}, {"no route", src(zero, fsrc1, 12)},
			{"foreign interface", src(far, fsrc1, 12)},
		}},
		{"IP_BLOCK_SOURCE", unix.IP_BLOCK_SOURCE, []errnoCase{
			{"len 11", src(dut, fsrc1, 11)}, {"not joined", src(dut, fsrc1, 12)}, join,
			{"block s1", src(dut, fsrc1, 12)}, {"block s1 again", src(dut, fsrc1, 12)},
			{"block 0.0.0.0", src(dut, anyAddr, 12)}, {"block own address", src(dut, netip.MustParseAddr("198.18.0.2"), 12)},
			{"no route", src(zero, fsrc2, 12)}, {"foreign interface", src(far, fsrc2, 12)},
		}},
		{"IP_UNBLOCK_SOURCE", unix.IP_UNBLOCK_SOURCE, []errnoCase{
			{"len 13", src(dut, fsrc1, 13)}, {"not joined", src(dut, fsrc1, 12)}, join,
			{"nothing blocked", src(dut, fsrc1, 12)}, {"no route", src(zero, fsrc1, 12)},
		}},
		{"MCAST_JOIN_GROUP", unix.MCAST_JOIN_GROUP, []errnoCase{
			{"len 0", gr(2, unix.AF_INET, 0)}, {"len 135", gr(2, unix.AF_INET, 135)},
			{"family 0", gr(2, 0, 136)}, {"family inet6", gr(2, unix.AF_INET6, 136)},
			{"ifindex 99", gr(99, unix.AF_INET, 136)}, {"ifindex -1", gr(-1, unix.AF_INET, 136)},
			{"ifindex 0 no route", gr(0, unix.AF_INET, 136)}, {"ifindex 1", gr(1, unix.AF_INET, 136)},
			{"ifindex 2 len 200", gr(2, unix.AF_INET, 200)}, {"ifindex 2 again", gr(2, unix.AF_INET, 136)},
			{"ifindex 1 again", gr(1, unix.AF_INET, 136)},
		}},
		{"MCAST_LEAVE_GROUP", unix.MCAST_LEAVE_GROUP, []errnoCase{
			{"len 135", gr(2, unix.AF_INET, 135)}, {"family inet6", gr(2, unix.AF_INET6, 136)},
			{"not joined", gr(2, unix.AF_INET, 136)}, {"ifindex 0 no route", gr(0, unix.AF_INET, 136)},
			{"ifindex 99", gr(99, unix.AF_INET, 136)},
		}},
		{"MCAST_JOIN_SOURCE_GROUP", unix.MCAST_JOIN_SOURCE_GROUP, []errnoCase{
			{"len 136", gsr(2, unix.AF_INET, unix.AF_INET, 136)}, {"len 263", gsr(2, unix.AF_INET, unix.AF_INET, 263)},
			{"len 265", gsr(2, unix.AF_INET, unix.AF_INET, 265)}, {"group family inet6", gsr(2, unix.AF_INET6, unix.AF_INET, 264)},
			{"source family 0", gsr(2, unix.AF_INET, 0, 264)}, {"ifindex 0 no route", gsr(0, unix.AF_INET, unix.AF_INET, 264)},
			{"ifindex 99", gsr(99, unix.AF_INET, unix.AF_INET, 264)}, {"ok", gsr(2, unix.AF_INET, unix.AF_INET, 264)},
			{"again", gsr(2, unix.AF_INET, unix.AF_INET, 264)}, {"on lo", gsr(1, unix.AF_INET, unix.AF_INET, 264)},
		}},
		{"MCAST_BLOCK_SOURCE", unix.MCAST_BLOCK_SOURCE, []errnoCase{
			{"len 263", gsr(2, unix.AF_INET, unix.AF_INET, 263)}, {"source family inet6", gsr(2, unix.AF_INET, unix.AF_INET6, 264)},
			{"not joined", gsr(2, unix.AF_INET, unix.AF_INET, 264)}, join, {"ifindex 0 no route", gsr(0, unix.AF_INET, unix.AF_INET, 264)},
			{"ok", gsr(2, unix.AF_INET, unix.AF_INET, 264)}, {"again", gsr(2, unix.AF_INET, unix.AF_INET, 264)},
		}},
		{"MCAST_UNBLOCK_SOURCE", unix.MCAST_UNBLOCK_SOURCE, []errnoCase{
			{"len 263", gsr(2, unix.AF_INET, unix.AF_INET, 263)}, {"not joined", gsr(2, unix.AF_INET, unix.AF_INET, 264)}, join,
			{"nothing blocked", gsr(2, unix.AF_INET, unix.AF_INET, 264)}, {"ifindex 1", gsr(1, unix.AF_INET, unix.AF_INET, 264)},
		}},
		{"MCAST_LEAVE_SOURCE_GROUP", unix.MCAST_LEAVE_SOURCE_GROUP, []errnoCase{
			{"len 263", gsr(2, unix.AF_INET, unix.AF_INET, 263)}, {"not joined", gsr(2, unix.AF_INET, unix.AF_INET, 264)}, join,
			{"ASM", gsr(2, unix.AF_INET, unix.AF_INET, 264)}, {"group family inet6", gsr(2, unix.AF_INET6, unix.AF_INET, 264)},
		}},
		{"IP_MSFILTER", unix.IP_MSFILTER, []errnoCase{
			{"len 0", msf(dut, 0, 0, 0)}, {"len 15", msf(dut, 0, 0, 15)}, {"not joined include 1", msf(dut, 1, 1, -1, fsrc1)},
			{"not joined include 0", msf(dut, 1, 0, 16)}, {"not joined exclude 0", msf(dut, 0, 0, 16)}, join,
			{"mode 2", msf(dut, 2, 0, 16)}, {"mode -1", msf(dut, 0xffffffff, 0, 16)},
			{"numsrc 1 len 16", msf(dut, 0, 1, 16)}, {"numsrc 11", msf(dut, 0, 11, 16)},
			{"numsrc huge", msf(dut, 0, 0x3ffffffc, 16)}, {"no route", msf(zero, 0, 0, 16)},
			{"foreign interface", msf(far, 0, 0, 16)}, {"exclude s1 len 24", msf(dut, 0, 1, 24, fsrc1)},
			{"include s1 s2", msf(dut, 1, 2, -1, fsrc1, fsrc2)}, {"include 0 leaves", msf(dut, 1, 0, 16)},
			{"include 0 again", msf(dut, 1, 0, 16)},
		}},
		{"MCAST_MSFILTER", unix.MCAST_MSFILTER, []errnoCase{
			{"len 0", gf(2, 0, 0, 0)}, {"len 143", gf(2, 0, 0, 143)}, {"not joined", gf(2, 0, 0, 144)},
			{"not joined include 0", gf(2, 1, 0, 144)}, join, {"mode 3", gf(2, 3, 0, 144)},
			{"numsrc 1 len 144", gf(2, 0, 1, 144)}, {"numsrc 11", gf(2, 0, 11, 144)},
			{"numsrc huge", gf(2, 0, 0x1ffffff, 144)}, {"ifindex 0 no route", gf(0, 0, 0, 144)},
			{"ifindex 99", gf(99, 0, 0, 144)}, {"exclude s1", gf(2, 0, 1, -1, fsrc1)},
			{"include s1 s2 s3", gf(2, 1, 3, -1, fsrc1, fsrc2, fsrc3)}, {"include 0 leaves", gf(2, 1, 0, 144)},
		}},
		{"IP_MULTICAST_IF", unix.IP_MULTICAST_IF, []errnoCase{
			{"len 0", mr(dut, 0, 0)}, {"len 3", func(*harness.Env, netip.Addr) []byte { return []byte{198, 18, 0} }},
			{"len 5", func(e *harness.Env, _ netip.Addr) []byte { return resize(mreq(e.DUTAddr, anyAddr, -1)[:4], 5) }},
			{"ip_mreq with group", func(e *harness.Env, g netip.Addr) []byte { return mreq(g, e.DUTAddr, -1) }},
			{"ip_mreqn ifindex 1 address foreign", mr(far, 1, 12)}, {"ip_mreqn ifindex -1", mr(zero, -1, 12)},
			{"loopback address", func(*harness.Env, netip.Addr) []byte { a := loopback.As4(); return a[:] }},
			{"127.0.0.5", func(*harness.Env, netip.Addr) []byte { return []byte{127, 0, 0, 5} }},
			{"broadcast address", func(*harness.Env, netip.Addr) []byte { return []byte{198, 18, 0, 255} }},
		}},
	}
	var out []harness.Scenario
	for i, o := range opts {
		g := netip.AddrFrom4([4]byte{239, 1, 4, byte(i + 1)})
		out = append(out, harness.Scenario{Name: "mcast/errno/" + o.name, Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			for _, c := range o.cases {
				num := o.num
				if c.label == join.label {
					num = unix.IP_ADD_MEMBERSHIP
				}
				setIP(e, c.label, s, num, c.val(e, g))
				if o.num == unix.IP_MULTICAST_IF {
					buf := make([]byte, 4)
					n, err := s.GetSockOpt(unix.IPPROTO_IP, unix.IP_MULTICAST_IF, buf)
					e.Rec("  get", err, n, buf)
				}
			}
		}})
	}
	return out
}

// mcastDeliveryScenarios check which sockets a group's datagrams reach.
// (SO_REUSEPORT groups are left out: Linux steers a group's datagrams
// through a reuseport group by a per-namespace hash, so which socket gets
// them differs from run to run on the kernel itself.)
func mcastDeliveryScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "mcast/deliver/bound-to-unicast-address", Run: func(e *harness.Env) {
			g := filterGroup(30)
			u := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("SO_REUSEADDR", u.SetSockOpt(unix.SOL_SOCKET, unix.SO_REUSEADDR, harness.Int32(1)))
			e.Rec("bind unicast", u.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort)))
			setIP(e, "join", u, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			w := mcastRcv(e, e.BasePort)
			newSpoofer(e, g, e.BasePort).round("to group", u, w)
		}},
		{Name: "mcast/deliver/connected", Run: func(e *harness.Env) {
			g := filterGroup(31)
			c := mcastRcv(e, e.BasePort)
			setIP(e, "join", c, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			e.Rec("connect to s2:4444", c.Connect(harness.Sockaddr(fsrc2, 4444)))
			w := mcastRcv(e, e.BasePort)
			newSpoofer(e, g, e.BasePort).round("to group", c, w)
		}},
		{Name: "mcast/deliver/bound-to-device", Run: func(e *harness.Env) {
			g := filterGroup(32)
			onLo := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("SO_REUSEADDR", onLo.SetSockOpt(unix.SOL_SOCKET, unix.SO_REUSEADDR, harness.Int32(1)))
			e.Rec("SO_BINDTODEVICE lo", onLo.SetSockOpt(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, []byte("lo")))
			e.Rec("bind", onLo.Bind(harness.Sockaddr(anyAddr, e.BasePort)))
			setIP(e, "join on eth0", onLo, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			onEth := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("SO_REUSEADDR", onEth.SetSockOpt(unix.SOL_SOCKET, unix.SO_REUSEADDR, harness.Int32(1)))
			e.Rec("SO_BINDTODEVICE eth0", onEth.SetSockOpt(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, []byte("eth0")))
			e.Rec("bind", onEth.Bind(harness.Sockaddr(anyAddr, e.BasePort)))
			newSpoofer(e, g, e.BasePort).round("to group", onLo, onEth)
		}},
		{Name: "mcast/deliver/other-port", Run: func(e *harness.Env) {
			g := filterGroup(34)
			j := mcastRcv(e, e.BasePort)
			setIP(e, "join", j, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			o := mcastRcv(e, e.BasePort+1)
			newSpoofer(e, g, e.BasePort+1).round("to other port", j, o)
			setIP(e, "other port socket blocks s1 (not joined)", o, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc1))
		}},
		{Name: "mcast/deliver/joined-on-lo-only", Run: func(e *harness.Env) {
			g := filterGroup(35)
			r := mcastRcv(e, e.BasePort)
			setIP(e, "join on lo", r, unix.IP_ADD_MEMBERSHIP, mreq(g, loopback, -1))
			p := newSpoofer(e, g, e.BasePort)
			p.round("lo only", r)
			setIP(e, "join on eth0 by ifindex", r, unix.IP_ADD_MEMBERSHIP, mreq(g, anyAddr, 2))
			setIP(e, "block s1 on lo", r, unix.IP_BLOCK_SOURCE, mreqSource(g, loopback, fsrc1))
			p.round("lo and eth0", r)
			getMsfilter(e, "msfilter eth0", r, g, 2)
		}},
		{Name: "mcast/deliver/include-and-exclude-sockets", Run: func(e *harness.Env) {
			g := filterGroup(36)
			a, b := mcastRcv(e, e.BasePort), mcastRcv(e, e.BasePort)
			setIP(e, "a join", a, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			setIP(e, "a block s1", a, unix.IP_BLOCK_SOURCE, mreqSource(g, e.DUTAddr, fsrc1))
			setIP(e, "b include s1", b, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc1))
			p := newSpoofer(e, g, e.BasePort)
			p.round("a EX{s1} b IN{s1}", a, b)
			setIP(e, "b leaves", b, unix.IP_DROP_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc1))
			p.round("a EX{s1}", a, b)
		}},
		{Name: "mcast/deliver/two-groups-one-port", Run: func(e *harness.Env) {
			g, h := filterGroup(37), filterGroup(38)
			r := mcastRcv(e, e.BasePort)
			setIP(e, "include s1 on g", r, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc1))
			setIP(e, "join h", r, unix.IP_ADD_MEMBERSHIP, mreq(h, e.DUTAddr, -1))
			setIP(e, "block s1 on h", r, unix.IP_BLOCK_SOURCE, mreqSource(h, e.DUTAddr, fsrc1))
			e.SetInt("IP_MULTICAST_ALL 0", r, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0)
			newSpoofer(e, g, e.BasePort).round("to g", r)
			newSpoofer(e, h, e.BasePort).round("to h", r)
		}},
		{Name: "mcast/deliver/rejoin-other-mode", Run: func(e *harness.Env) {
			g := filterGroup(39)
			r := mcastRcv(e, e.BasePort)
			p := newSpoofer(e, g, e.BasePort)
			setIP(e, "include s2", r, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(g, e.DUTAddr, fsrc2))
			p.round("IN{s2}", r)
			setIP(e, "ASM join while SSM", r, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			setIP(e, "leave", r, unix.IP_DROP_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			setIP(e, "ASM join", r, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			p.round("ASM", r)
			getMsfilter(e, "msfilter", r, g, 1)
		}},
		{Name: "mcast/deliver/close-with-sources", Run: func(e *harness.Env) {
			g := filterGroup(41)
			a, other := mcastRcv(e, e.BasePort), mcastRcv(e, e.BasePort)
			setIP(e, "a exclude s1 s2", a, unix.IP_MSFILTER, nil)
			setIP(e, "a join", a, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			setIP(e, "a msfilter exclude s1 s2", a, unix.IP_MSFILTER, ipMsfilter(g, e.DUTAddr, unix.MCAST_EXCLUDE, fsrc1, fsrc2))
			p := newSpoofer(e, g, e.BasePort)
			p.round("a EX{s1,s2}", a, other)
			e.Rec("close a", a.Close())
			p.round("after close", other)
		}},
	}
}
