package stack

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// igmpTap is a raw IGMP endpoint registered with gVisor's demuxer: it sees
// every IGMP packet the stack receives, queries included (gVisor's own IGMP
// is off).
type igmpTap struct{ s *Stack }

var _ gstack.RawTransportEndpoint = igmpTap{}

// initMcast sets up the multicast state and the IGMP tap.
func (s *Stack) initMcast() error {
	s.mc.groups = make(map[mcKey]*ifGroup)
	s.mc.ifs = make(map[int]*igmpIf)
	if e := s.g.RegisterRawTransportEndpoint(header.IPv4ProtocolNumber, header.IGMPProtocolNumber, igmpTap{s}); e != nil {
		return errnoOf(e)
	}
	return nil
}

// closeMcast stops every report timer.
func (s *Stack) closeMcast() {
	m := &s.mc
	m.ctl.Lock()
	defer m.ctl.Unlock()
	m.closed = true
	for _, st := range m.ifs {
		for _, t := range []*time.Timer{st.changeT, st.generalT} {
			if t != nil {
				t.Stop()
			}
		}
		for _, t := range st.groupT {
			t.Stop()
		}
	}
	for _, g := range m.groups {
		if g.v2T != nil {
			g.v2T.Stop()
		}
	}
}

// HandlePacket reads a query (RFC 3376 4.1, RFC 2236 2) and schedules the
// answer. Everything else, and anything malformed, is ignored.
func (t igmpTap) HandlePacket(pkt *gstack.PacketBuffer) {
	msg := append([]byte(nil), pkt.TransportHeader().Slice()...)
	msg = append(msg, pkt.Data().AsRange().ToSlice()...)
	if len(msg) < 8 || msg[0] != igmpQuery || igmpChecksum(msg) != 0xffff {
		return
	}
	t.s.heardQuery(int(pkt.NICID), msg)
}

// heardQuery is igmp_heard_query.
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
	st := m.ifState(ifindex)
	var maxDelay time.Duration
	var sources []netip.Addr
	switch {
	case len(q) == 8 && q[1] == 0: // IGMPv1 querier
		st.compat, st.compatUntil = 1, time.Now().Add(olderQuerierAfter)
		maxDelay, group = 10*time.Second, netip.IPv4Unspecified()
	case len(q) == 8: // IGMPv2 querier
		if st.compat != 1 || !time.Now().Before(st.compatUntil) {
			st.compat, st.compatUntil = 2, time.Now().Add(olderQuerierAfter)
		}
		maxDelay = time.Duration(q[1]) * 100 * time.Millisecond
	case len(q) >= 12:
		maxDelay = v3MaxResp(q[1])
		// RFC 3376 4.1.6: adopt the querier's robustness variable.
		st.qrv = int(q[8] & 7)
		n := int(binary.BigEndian.Uint16(q[10:12]))
		if len(q) < 12+4*n {
			return
		}
		for i := range n {
			sources = append(sources, netip.AddrFrom4([4]byte(q[12+4*i:])))
		}
	default:
		return
	}
	maxDelay = max(maxDelay, time.Millisecond)
	delay := time.Duration(rand.Int64N(int64(maxDelay)))
	if group.IsUnspecified() {
		s.armGeneral(st, delay)
		return
	}
	k := mcKey{ifindex, group}
	m.mu.RLock()
	g := m.groups[k]
	m.mu.RUnlock()
	if g == nil || g.users == 0 || !reportable(k) {
		return
	}
	// A group query widens a pending source query to the whole group;
	// source queries add up.
	switch {
	case len(sources) == 0:
		g.queriedSrc = nil
	case !g.queried || g.queriedSrc != nil:
		if g.queriedSrc == nil {
			g.queriedSrc = make(map[netip.Addr]struct{})
		}
		for _, a := range sources {
			g.queriedSrc[a] = struct{}{}
		}
	}
	g.queried = true
	if t := st.groupT[group]; t != nil {
		t.Reset(delay)
		return
	}
	st.groupT[group] = time.AfterFunc(delay, func() { s.answerGroup(st, k) })
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

// armGeneral schedules the answer to a general query unless an earlier one
// is pending.
func (s *Stack) armGeneral(st *igmpIf, delay time.Duration) {
	at := time.Now().Add(delay)
	if st.generalT != nil && !st.generalAt.IsZero() && st.generalAt.Before(at) {
		return
	}
	st.generalAt = at
	if st.generalT == nil {
		st.generalT = time.AfterFunc(delay, func() { s.answerGeneral(st) })
		return
	}
	st.generalT.Reset(delay)
}

// answerGeneral sends the current state of every joined group.
func (s *Stack) answerGeneral(st *igmpIf) {
	m := &s.mc
	m.ctl.Lock()
	if m.closed {
		m.ctl.Unlock()
		return
	}
	st.generalAt = time.Time{}
	var recs []igmpRecord
	var groups []netip.Addr
	v := st.version()
	for _, k := range s.groupKeys(st.ifindex, false) {
		g := m.groups[k]
		recs = append(recs, currentState(k, g))
		groups = append(groups, k.group)
		g.reporter = g.reporter || v < 3
	}
	m.ctl.Unlock()
	if v < 3 {
		for _, g := range groups {
			s.sendV12(st.ifindex, v, g)
		}
		return
	}
	s.sendV3(st.ifindex, recs)
}

// answerGroup answers a group-specific query with the group's current
// state, or a group-and-source-specific one in INCLUDE mode with IS_IN of
// the queried sources the interface wants (RFC 3376 5.2).
func (s *Stack) answerGroup(st *igmpIf, k mcKey) {
	m := &s.mc
	m.ctl.Lock()
	if m.closed {
		m.ctl.Unlock()
		return
	}
	delete(st.groupT, k.group)
	m.mu.RLock()
	g := m.groups[k]
	m.mu.RUnlock()
	if g == nil || g.users == 0 || !g.queried {
		m.ctl.Unlock()
		return
	}
	rec := currentState(k, g)
	if g.queriedSrc != nil && g.mode() == McastExclude {
		// Linux (igmp_xmarksources) answers a source query in EXCLUDE
		// mode with the whole current state, and not at all when every
		// queried source is excluded.
		all := true
		for a := range g.queriedSrc {
			all = all && g.listed(a)
		}
		if all {
			rec = igmpRecord{typ: igmpIsIn, group: k.group}
		}
	} else if g.queriedSrc != nil {
		rec = igmpRecord{typ: igmpIsIn, group: k.group}
		wanted := make(srcSet)
		for a := range g.queriedSrc {
			if g.allows(a) {
				var seq uint64 = 1 << 62 // sources the group never listed go last
				if c := g.sources[a]; c != nil {
					seq = c.seq
				}
				wanted[a] = seq
			}
		}
		rec.sources = listOrder(wanted)
	}
	g.queried, g.queriedSrc = false, nil
	v := st.version()
	g.reporter = g.reporter || v < 3
	m.ctl.Unlock()
	if v < 3 {
		s.sendV12(st.ifindex, v, k.group)
		return
	}
	if rec.typ == igmpIsIn && len(rec.sources) == 0 {
		return // nothing wanted of what was asked
	}
	s.sendV3(st.ifindex, []igmpRecord{rec})
}

// sendV12 sends an IGMPv1 or v2 membership report for group, to the group.
func (s *Stack) sendV12(ifindex, version int, group netip.Addr) {
	typ := byte(igmpV2Type)
	if version == 1 {
		typ = igmpV1Type
	}
	s.sendIGMP(ifindex, group, v2Message(typ, group))
}

func v2Message(typ byte, group netip.Addr) []byte {
	b := make([]byte, 8)
	b[0] = typ
	g := group.As4()
	copy(b[4:], g[:])
	binary.BigEndian.PutUint16(b[2:], ^igmpChecksum(b))
	return b
}
