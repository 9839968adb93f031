package stack

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// igmpTap is a raw IGMP endpoint registered with gVisor's demuxer: it sees
// every IGMP packet the stack receives, queries included (gVisor's own IGMP
// is off).
type igmpTap struct{ s *Stack }

var _ gstack.RawTransportEndpoint = igmpTap{}

// HandlePacket reads a query (RFC 3376 4.1, RFC 2236 2) and schedules the
// answer, and hears other hosts' IGMPv1/v2 membership reports sent to a
// link-layer group address (igmp_rcv). Everything else, and anything
// malformed, is ignored.
func (t igmpTap) HandlePacket(pkt *gstack.PacketBuffer) {
	msg := append([]byte(nil), pkt.TransportHeader().Slice()...)
	msg = append(msg, pkt.Data().AsRange().ToSlice()...)
	if len(msg) < 8 || checksum.Checksum(msg, 0) != 0xffff {
		return
	}
	switch msg[0] {
	case igmpQuery:
		t.s.heardQuery(int(pkt.NICID), msg)
	case igmpV1Type, igmpV2Type:
		if linkMulticast(pkt) {
			t.s.heardReport(int(pkt.NICID), netip.AddrFrom4([4]byte(msg[4:8])))
		}
	}
}

// linkMulticast tells whether a packet came to a link-layer multicast or
// broadcast address: Linux does not rely on reports unicast to it. Links
// that do not classify frames leave PktType at PacketHost: then an
// Ethernet header's destination says it, or without a link header (a
// point-to-point link) the IP destination.
func linkMulticast(pkt *gstack.PacketBuffer) bool {
	switch pkt.PktType {
	case tcpip.PacketMulticast, tcpip.PacketBroadcast:
		return true
	case tcpip.PacketHost:
		if lh := pkt.LinkHeader().Slice(); len(lh) > 0 {
			return len(lh) >= header.EthernetMinimumSize && lh[0]&1 == 1 // the group bit
		}
		ip := header.IPv4(pkt.NetworkHeader().Slice())
		return len(ip) >= header.IPv4MinimumSize && header.IsV4MulticastAddress(ip.DestinationAddress())
	}
	return false
}

// heardQuery is igmp_heard_query. An IGMPv1 or v2 query makes the
// interface speak that version for the Older Version Querier Present
// Timeout and is answered group by group; so is an IGMPv3 query while
// that lasts (as a general one when a v1 querier is present). In IGMPv3
// mode a general query is answered by one report, the others group by
// group.
func (s *Stack) heardQuery(ifindex int, q []byte) {
	group := netip.AddrFrom4([4]byte(q[4:8]))
	if !group.IsUnspecified() && !group.IsMulticast() {
		return
	}
	m := &s.mc
	m.ctl.Lock()
	defer m.ctl.Unlock()
	if m.closed {
		return
	}
	st := m.ifState(ifindex, false)
	var maxDelay time.Duration
	var sources []netip.Addr
	switch v := s.igmpVersion(st); {
	case len(q) == 8 && q[1] == 0: // IGMPv1 querier
		st.v1Until = time.Now().Add(s.olderQuerierPresent(st))
		maxDelay, group = 10*time.Second, netip.IPv4Unspecified()
		s.v12QueryHeard(st)
	case len(q) == 8: // IGMPv2 querier
		st.v2Until = time.Now().Add(s.olderQuerierPresent(st))
		maxDelay = time.Duration(q[1]) * 100 * time.Millisecond
		s.v12QueryHeard(st)
	case len(q) < 12:
		return
	case v == 1:
		maxDelay, group = 10*time.Second, netip.IPv4Unspecified()
	case v == 2:
		maxDelay = v3MaxResp(q[1])
	default:
		n := int(binary.BigEndian.Uint16(q[10:12]))
		if len(q) < 12+4*n {
			return
		}
		for i := range n {
			sources = append(sources, netip.AddrFrom4([4]byte(q[12+4*i:])))
		}
		maxDelay = max(v3MaxResp(q[1]), time.Millisecond)
		// RFC 3376 4.1.6, 4.1.7: adopt the querier's robustness
		// variable and query interval (0: the defaults); the response
		// interval stays below the query interval (8.3).
		st.qrv = int(q[8] & 7)
		st.qi = time.Duration(v3MaxResp(q[9])/100/time.Millisecond) * time.Second
		if st.qi == 0 {
			st.qi = defaultQueryIvl
		}
		if st.qri >= st.qi {
			st.qri = st.qi - time.Second
		}
		if group.IsUnspecified() {
			if n == 0 {
				s.armGeneral(st, time.Duration(rand.Int64N(int64(maxDelay))))
			}
			return
		}
	}
	s.queryGroups(st, group, sources, maxDelay)
}

// queryGroups is what a query answered group by group does, in either
// family: each joined group it asks about (all of them for a general
// query) notes the sources asked about and has its timer run out within
// maxDelay. Called with ctl held.
func (s *Stack) queryGroups(st *igmpIf, group netip.Addr, sources []netip.Addr, maxDelay time.Duration) {
	m := &s.mc
	maxDelay = max(maxDelay, time.Millisecond)
	m.mu.RLock()
	var keys []mcKey
	for k, g := range m.groups {
		if k.ifindex == st.ifindex && k.group.Is6() == st.v6 && g.users > 0 && reportable(k) &&
			(group.IsUnspecified() || k.group == group) {
			keys = append(keys, k)
		}
	}
	m.mu.RUnlock()
	for _, k := range keys {
		g := m.groups[k]
		if markSources(g, sources) {
			s.modGroupTimer(st, k, g, maxDelay)
		}
	}
}

// markSources records what a query asks about a group (Linux's gsquery
// and igmp_marksources) and tells whether it calls for an answer. A
// group query, or any query while a whole-group answer is pending, asks
// for the whole group; source queries add up. In INCLUDE mode a source
// query asking only for sources not listed is not answered (and makes a
// pending source answer a whole-group one); in EXCLUDE mode it is
// answered with the whole group unless every source asked for is
// excluded.
func markSources(g *ifGroup, sources []netip.Addr) bool {
	gs := len(sources) > 0 && (!g.tOn || g.queriedSrc != nil)
	if !gs {
		g.queriedSrc = nil
		return true
	}
	if g.mode() == McastExclude {
		g.queriedSrc = nil
		for _, a := range sources {
			if !g.listed(a) {
				return true
			}
		}
		return false
	}
	if !g.tOn || g.queriedSrc == nil {
		g.queriedSrc = make(map[netip.Addr]struct{})
	}
	marked := false
	for _, a := range sources {
		if g.listed(a) {
			g.queriedSrc[a] = struct{}{}
			marked = true
		}
	}
	if !marked {
		g.queriedSrc = nil
	}
	return marked
}

// olderQuerierPresent is the Older Version Querier Present Timeout (RFC
// 3376 8.12): robustness variable times query interval plus query
// response interval, as last heard from an IGMPv3 querier.
func (s *Stack) olderQuerierPresent(st *igmpIf) time.Duration {
	qrv := st.qrv
	if qrv == 0 {
		qrv = s.defaultQRV(st)
	}
	return time.Duration(qrv)*st.qi + st.qri
}

// v12QueryHeard is what an IGMPv1/v2 query does to IGMPv3 state-change
// reporting (igmp_heard_query): pending retransmissions stop, and what is
// pending about left groups and left sources is dropped. Called with ctl
// held.
func (s *Stack) v12QueryHeard(st *igmpIf) {
	if st.changeT != nil {
		st.changeT.Stop()
	}
	for _, k := range s.groupKeys(st, true) {
		g := s.mc.groups[k]
		switch {
		case g.users == 0:
			g.modeChange = 0
			clear(g.allow)
			clear(g.block)
			s.forgetIdle(k, g)
		case g.mode() == McastInclude:
			clear(g.block) // sources no longer included
		default:
			clear(g.allow) // sources no longer excluded
		}
	}
}

// v3MaxResp decodes an IGMPv3 Max Resp Code (tenths of a second, with the
// floating-point form above 127).
func v3MaxResp(code byte) time.Duration {
	v := int(code)
	if code >= 128 {
		v = int(code&0x0f|0x10) << ((code>>4)&7 + 3)
	}
	return time.Duration(v) * 100 * time.Millisecond
}

// armGeneral schedules the answer to an IGMPv3 general query unless an
// earlier one is pending (igmp_gq_start_timer); MLD's moves a pending
// one to the new time, earlier or later (mld_gq_start_work).
func (s *Stack) armGeneral(st *igmpIf, delay time.Duration) {
	at := time.Now().Add(delay)
	if !st.v6 && st.generalT != nil && !st.generalAt.IsZero() && st.generalAt.Before(at) {
		return
	}
	st.generalAt = at
	if st.generalT == nil {
		st.generalT = time.AfterFunc(delay, func() { s.answerGeneral(st) })
		return
	}
	st.generalT.Reset(delay)
}

// answerGeneral answers an IGMPv3 general query with the current state
// of every joined group.
func (s *Stack) answerGeneral(st *igmpIf) {
	m := &s.mc
	m.ctl.Lock()
	if m.closed {
		m.ctl.Unlock()
		return
	}
	st.generalAt = time.Time{}
	var recs []igmpRecord
	for _, k := range s.groupKeys(st, false) {
		recs = append(recs, currentState(k, m.groups[k]))
	}
	m.ctl.Unlock()
	// Only an IGMPv3 (MLDv2) query starts this timer, and it answers in
	// that version even if an older querier spoke since
	// (igmp_gq_timer_expire; MLD's stops it then, heardMLDQuery).
	s.sendV3(st, recs)
}

// sendV12 sends an IGMPv1 or v2 (MLDv1) membership report for group, to
// the group.
func (s *Stack) sendV12(st *igmpIf, version int, group netip.Addr) {
	if st.v6 {
		s.sendMLD(st.ifindex, group, mldV1Message(mldV1ReportType, group))
		return
	}
	typ := byte(igmpV2Type)
	if version == 1 {
		typ = igmpV1Type
	}
	s.sendIGMP(st.ifindex, group, v2Message(typ, group))
}

// sendLeave announces that this host left group (IGMPv2 leave to
// 224.0.0.2, MLDv1 done to ff02::2).
func (s *Stack) sendLeave(st *igmpIf, group netip.Addr) {
	if st.v6 {
		s.sendMLD(st.ifindex, allRouters6, mldV1Message(mldDoneType, group))
		return
	}
	s.sendIGMP(st.ifindex, allRouters, v2Message(igmpLeave, group))
}

func v2Message(typ byte, group netip.Addr) []byte {
	b := make([]byte, 8)
	b[0] = typ
	g := group.As4()
	copy(b[4:], g[:])
	binary.BigEndian.PutUint16(b[2:], ^checksum.Checksum(b, 0))
	return b
}
