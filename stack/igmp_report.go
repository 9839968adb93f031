package stack

import (
	"cmp"
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// IGMPv3 record types (RFC 3376 4.2.12).
const (
	igmpIsIn    = 1
	igmpIsEx    = 2
	igmpToIn    = 3
	igmpToEx    = 4
	igmpAllow   = 5
	igmpBlock   = 6
	igmpV3Type  = 0x22
	igmpV2Type  = 0x16
	igmpLeave   = 0x17
	igmpQuery   = 0x11
	igmpV1Type  = 0x12
	igmpHdrSize = header.IPv4MinimumSize + 4 // IPv4 header with Router Alert
)

var (
	igmpv3Routers = netip.AddrFrom4([4]byte{224, 0, 0, 22})
	allHosts      = netip.AddrFrom4([4]byte{224, 0, 0, 1})
	allRouters    = netip.AddrFrom4([4]byte{224, 0, 0, 2})
)

// Timings of Linux's IGMP (net/ipv4/igmp.c): the first state-change report
// leaves a few milliseconds after the change, retransmissions within the
// unsolicited report interval (the interface's knobs, unsolicitedIvl).
const (
	firstReportDelay = 10 * time.Millisecond
	// A querier's defaults until its IGMPv3 queries say otherwise
	// (RFC 3376 8.2, 8.3; Linux's IGMP_QUERY_INTERVAL and
	// IGMP_QUERY_RESPONSE_INTERVAL).
	defaultQueryIvl     = 125 * time.Second
	defaultQueryRespIvl = 10 * time.Second
)

// igmpRecord is one group record of a report.
type igmpRecord struct {
	typ     byte
	group   netip.Addr
	sources []netip.Addr
}

// igmpIf is an interface's report machinery for one family: IGMPv3 for
// its IPv4 groups, MLDv2 (RFC 3810, the same protocol with IPv6
// addresses) for its IPv6 ones. Versions are counted IGMP's way: MLDv1
// is 2 (joins, done and a report per group, as IGMPv2) and MLDv2 is 3.
type igmpIf struct {
	ifindex   int
	v6        bool
	changeT   *time.Timer // state-change reports
	generalT  *time.Timer // answer to an IGMPv3 general query
	generalAt time.Time
	// v1Until and v2Until end the Older Version Querier Present
	// timeouts (RFC 3376 7.2.1, Linux's mr_v1_seen and mr_v2_seen; for
	// MLD v2Until is mc_v1_seen, MLDv1 counting as 2).
	v1Until, v2Until time.Time
	// knobs are the interface's conf knobs (force_igmp_version, the
	// unsolicited report intervals); found on first use.
	knobs *devKnobs
	// qrv is the querier's robustness variable from its last IGMPv3 query
	// (0: none heard, or it said 0; use net.ipv4.igmp_qrv); qi its query
	// interval and qri the query response interval, kept below qi (Linux's
	// mr_qi and mr_qri). With qrv they time an older querier's presence.
	qrv int
	qi  time.Duration
	qri time.Duration
}

// ifFamily names an interface's report machinery of one family.
type ifFamily struct {
	ifindex int
	v6      bool
}

func (m *mcastState) ifState(ifindex int, v6 bool) *igmpIf {
	st := m.ifs[ifFamily{ifindex, v6}]
	if st == nil {
		st = &igmpIf{ifindex: ifindex, v6: v6, qi: defaultQueryIvl, qri: defaultQueryRespIvl}
		m.ifs[ifFamily{ifindex, v6}] = st
	}
	return st
}

// igmpKnobs returns the interface's conf knobs (nil for an interface the
// table does not know). Called with ctl held.
func (s *Stack) igmpKnobs(st *igmpIf) *devKnobs {
	if st.knobs == nil {
		st.knobs = s.sysctl.devByIndex(st.ifindex)
	}
	return st.knobs
}

// igmpVersion is the IGMP version the interface speaks now, as Linux's
// IGMP_V1_SEEN and IGMP_V2_SEEN decide it: IGMPv1 while conf/all's or the
// interface's force_igmp_version is 1 or an IGMPv1 querier was heard
// lately, else IGMPv2 likewise with 2 (so a v1 querier still wins over a
// forced 2), else IGMPv3. Any other value, 3 included, forces nothing.
// Called with ctl held.
func (s *Stack) igmpVersion(st *igmpIf) int {
	if st.v6 {
		return s.mldVersion(st)
	}
	all := int64(s.sysctl.Int("net.ipv4.conf.all.force_igmp_version"))
	var dev int64
	if d := s.igmpKnobs(st); d != nil {
		dev = d.conf[confForceIGMP].val.Load()
	}
	now := time.Now()
	switch {
	case all == 1 || dev == 1 || now.Before(st.v1Until):
		return 1
	case all == 2 || dev == 2 || now.Before(st.v2Until):
		return 2
	}
	return 3
}

// unsolicitedIvl is Linux's unsolicited_report_interval: the span within
// which the next unsolicited report goes (a v1/v2 join's repetition, an
// IGMPv3 state-change retransmission). It is the interface's own
// igmpv2_unsolicited_report_interval while it speaks IGMPv1/v2, else its
// igmpv3_unsolicited_report_interval, in milliseconds; conf/all's do not
// count. Linux turns it into jiffies and uses at least one, so 0 and
// negative values (msecs_to_jiffies reads those as infinite, which is
// negative as an int) give the shortest interval. Called with ctl held.
func (s *Stack) unsolicitedIvl(st *igmpIf) time.Duration {
	k, ms := confIGMPv3Ivl, int64(1000)
	if s.igmpVersion(st) < 3 {
		k, ms = confIGMPv2Ivl, 10000
	}
	if st.v6 { // MLD's own pair, the same rules (unsolicited_report_interval)
		k += confMLDv1Ivl - confIGMPv2Ivl
	}
	if d := s.igmpKnobs(st); d != nil {
		ms = d.conf[k].val.Load()
	}
	return max(time.Duration(ms)*time.Millisecond, time.Millisecond)
}

// reportable tells whether a group is reported at all: never on lo
// (Linux's igmp_group_added), never 224.0.0.1, and for IPv6 never ff02::1
// nor a group of scope below link-local (mca_alloc's MAF_NOREPORT).
// Deviation: Linux sends MLD reports on lo too (from ::, measured);
// here none, as gVisor's MLD before, since nothing local could read
// them (gVisor gives raw sockets a packet behind a Hop-by-Hop header
// under next header 0, not ICMPv6).
func reportable(k mcKey) bool {
	if k.ifindex == loopbackIfIndex {
		return false
	}
	if k.group.Is6() {
		return k.group != allNodes && mcastScope6(k.group) >= 2
	}
	return k.group != allHosts && k.group.Is4()
}

// defaultQRV is the robustness variable until a querier says otherwise:
// net.ipv4.igmp_qrv, or for MLD sysctl_mld_qrv's default (sysctl.go says
// why it is fixed).
func (s *Stack) defaultQRV(st *igmpIf) int {
	if st.v6 {
		return mldQRV
	}
	return max(s.sysctl.Int("net.ipv4.igmp_qrv"), 1)
}

// stateChanged records the state-change report a membership change calls
// for (RFC 3376 5.1) and starts sending it. Called with ctl held.
func (s *Stack) stateChanged(k mcKey, g *ifGroup, oldMode FilterMode, oldSet srcSet) {
	m := &s.mc
	if m.closed || !reportable(k) {
		s.forgetIdle(k, g)
		return
	}
	newMode, newSet := g.state()
	st := m.ifState(k.ifindex, k.group.Is6())
	qrv := st.qrv
	if qrv == 0 {
		qrv = s.defaultQRV(st)
	}
	if s.igmpVersion(st) < 3 {
		s.stateChangedV2(st, k, g, oldMode, oldSet, newMode)
		return
	}
	if g.users == 0 {
		g.stopGroupTimer() // igmp_group_dropped
	}
	changed := false
	if oldMode != newMode {
		g.modeChange = qrv
		clear(g.allow)
		clear(g.block)
		changed = true
	} else if g.modeChange == 0 {
		// Sources that join the list are reported in list order; those
		// that leave it go to Linux's tomb list, newest first.
		joined := listOrder(setDiff(newSet, oldSet))
		var left []pending
		for _, a := range listOrder(setDiff(oldSet, newSet)) {
			g.tombSeq++
			left = append(left, pending{addr: a, left: qrv, key: -g.tombSeq})
		}
		var came []pending
		for _, a := range joined {
			came = append(came, pending{addr: a, left: qrv, key: int64(newSet[a])})
		}
		// In INCLUDE mode a listed source is wanted (ALLOW); in EXCLUDE
		// mode it is blocked (BLOCK).
		toAllow, toBlock := came, left
		if newMode == McastExclude {
			toAllow, toBlock = left, came
		}
		for _, p := range toAllow {
			g.allow = setPending(g.allow, p)
			delete(g.block, p.addr)
			changed = true
		}
		for _, p := range toBlock {
			g.block = setPending(g.block, p)
			delete(g.allow, p.addr)
			changed = true
		}
	}
	if !changed {
		s.forgetIdle(k, g)
		return
	}
	s.armChange(st, firstReportDelay)
}

// pending is a source of an ALLOW or BLOCK record still to be sent left
// times; key orders the record's sources.
type pending struct {
	addr netip.Addr
	left int
	key  int64
}

func setPending(m map[netip.Addr]pending, p pending) map[netip.Addr]pending {
	if m == nil {
		m = make(map[netip.Addr]pending)
	}
	m[p.addr] = p
	return m
}

// setDiff returns the members of a not in b with their order keys.
func setDiff(a, b srcSet) srcSet {
	out := make(srcSet)
	for x, seq := range a {
		if _, ok := b[x]; !ok {
			out[x] = seq
		}
	}
	return out
}

// listOrder returns a set's sources in list order.
func listOrder(set srcSet) []netip.Addr {
	out := make([]netip.Addr, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	slices.SortFunc(out, func(x, y netip.Addr) int { return cmp.Compare(set[x], set[y]) })
	return out
}

func sortAddrs(a []netip.Addr) { slices.SortFunc(a, func(x, y netip.Addr) int { return x.Compare(y) }) }

// forgetIdle drops a left group once nothing is left to report about it.
// Called with ctl held.
func (s *Stack) forgetIdle(k mcKey, g *ifGroup) {
	if g.users > 0 || g.modeChange > 0 || len(g.allow) > 0 || len(g.block) > 0 {
		return
	}
	s.mc.mu.Lock()
	if s.mc.groups[k] == g {
		delete(s.mc.groups, k)
	}
	s.mc.mu.Unlock()
}

// armChange (re)starts the interface's state-change timer: like
// igmp_ifc_start_timer, a new change moves it forward.
func (s *Stack) armChange(st *igmpIf, within time.Duration) {
	d := time.Duration(rand.Int64N(int64(within))) + time.Millisecond
	if st.changeT == nil {
		st.changeT = time.AfterFunc(d, func() { s.sendChanges(st) })
		return
	}
	st.changeT.Reset(d)
}

// sendChanges sends one round of the pending state-change records of an
// interface and schedules the next retransmission while any is left.
func (s *Stack) sendChanges(st *igmpIf) {
	m := &s.mc
	m.ctl.Lock()
	if m.closed {
		m.ctl.Unlock()
		return
	}
	var recs []igmpRecord
	more := false
	for _, k := range s.groupKeys(st, true) {
		g := m.groups[k]
		mode, set := g.state()
		if g.modeChange > 0 {
			typ := byte(igmpToIn)
			if mode == McastExclude {
				typ = igmpToEx
			}
			recs = append(recs, igmpRecord{typ: typ, group: k.group, sources: listOrder(set)})
			g.modeChange--
		} else {
			allow := igmpRecord{typ: igmpAllow, group: k.group, sources: takeRound(g.allow)}
			block := igmpRecord{typ: igmpBlock, group: k.group, sources: takeRound(g.block)}
			first, second := allow, block
			if mode == McastExclude {
				first, second = block, allow
			}
			for _, r := range []igmpRecord{first, second} {
				if len(r.sources) > 0 {
					recs = append(recs, r)
				}
			}
		}
		more = more || g.modeChange > 0 || len(g.allow) > 0 || len(g.block) > 0
		s.forgetIdle(k, g)
	}
	if more {
		s.armChange(st, s.unsolicitedIvl(st))
	}
	m.ctl.Unlock()
	s.sendV3(st, recs)
}

// takeRound returns the sources with retransmissions left, in record
// order, counting one off each.
func takeRound(m map[netip.Addr]pending) []netip.Addr {
	ps := make([]pending, 0, len(m))
	for a, p := range m {
		ps = append(ps, p)
		if p.left <= 1 {
			delete(m, a)
		} else {
			p.left--
			m[a] = p
		}
	}
	slices.SortFunc(ps, func(x, y pending) int { return cmp.Compare(x.key, y.key) })
	out := make([]netip.Addr, len(ps))
	for i, p := range ps {
		out[i] = p.addr
	}
	return out
}

// groupKeys lists the interface's reportable groups of st's family:
// left groups first (Linux reports its tomb list first), each part
// newest first as Linux links them. With left false, only joined groups.
// Called with ctl held (which keeps the map's groups in place while
// sorting).
func (s *Stack) groupKeys(st *igmpIf, left bool) []mcKey {
	var gone, joined []mcKey
	s.mc.mu.RLock()
	for k, g := range s.mc.groups {
		if k.ifindex != st.ifindex || k.group.Is6() != st.v6 || !reportable(k) {
			continue
		}
		if g.users == 0 {
			if left {
				gone = append(gone, k)
			}
			continue
		}
		joined = append(joined, k)
	}
	s.mc.mu.RUnlock()
	newestFirst := func(a, b mcKey) int {
		return cmp.Compare(s.mc.groups[b].order, s.mc.groups[a].order)
	}
	slices.SortFunc(gone, newestFirst)
	slices.SortFunc(joined, newestFirst)
	return append(gone, joined...)
}

// currentState is the IS_IN/IS_EX record of a joined group.
func currentState(k mcKey, g *ifGroup) igmpRecord {
	mode, set := g.state()
	typ := byte(igmpIsIn)
	if mode == McastExclude {
		typ = igmpIsEx
	}
	return igmpRecord{typ: typ, group: k.group, sources: listOrder(set)}
}

// sendV3 sends records as IGMPv3 or MLDv2 reports (the same layout with
// 16-byte addresses), as many per packet as the MTU allows; a record too
// large for one packet is cut (Linux truncates EXCLUDE records the same
// way).
func (s *Stack) sendV3(st *igmpIf, recs []igmpRecord) {
	if len(recs) == 0 {
		return
	}
	mtu := 1500
	if ifc, ok := s.InterfaceByIndex(st.ifindex); ok && ifc.MTU > 0 {
		mtu = int(ifc.MTU)
	}
	hdr, alen := igmpHdrSize, 4
	if st.v6 {
		hdr, alen = mldHdrSize, 16
	}
	room := mtu - hdr - 8
	var body []byte
	n := 0
	flush := func() {
		if n == 0 {
			return
		}
		if st.v6 {
			s.sendMLD(st.ifindex, mldv2Routers, v3Report(mldV2ReportType, body, n))
		} else {
			s.sendIGMP(st.ifindex, igmpv3Routers, v3Report(igmpV3Type, body, n))
		}
		body, n = body[:0], 0
	}
	for _, r := range recs {
		size := 4 + alen + alen*len(r.sources)
		if len(body)+size > room {
			flush()
		}
		if size > room {
			r.sources = r.sources[:(room-4-alen)/alen]
		}
		body = appendRecord(body, r)
		n++
	}
	flush()
}

func appendRecord(b []byte, r igmpRecord) []byte {
	b = append(b, r.typ, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.sources)))
	b = append(b, r.group.AsSlice()...)
	for _, a := range r.sources {
		b = append(b, a.AsSlice()...)
	}
	return b
}

// v3Report is an IGMPv3 or MLDv2 report (typ) carrying n records. The
// IGMP checksum is set here; MLD's covers a pseudo-header (sendMLD).
func v3Report(typ byte, records []byte, n int) []byte {
	b := make([]byte, 8, 8+len(records))
	b[0] = typ
	binary.BigEndian.PutUint16(b[6:], uint16(n))
	b = append(b, records...)
	if typ == igmpV3Type {
		binary.BigEndian.PutUint16(b[2:], ^checksum.Checksum(b, 0))
	}
	return b
}

// sendIGMP sends an IGMP message out of the interface as Linux's
// igmpv3_newpack builds it: TOS 0xc0, DF, ID 0, TTL 1, Router Alert, from
// the interface's primary address. Without an address nothing is sent.
func (s *Stack) sendIGMP(ifindex int, dst netip.Addr, igmp []byte) {
	r, e := s.g.FindRoute(tcpip.NICID(ifindex), tcpip.Address{}, gAddr(dst), header.IPv4ProtocolNumber, false)
	if e != nil {
		return
	}
	defer r.Release()
	hdr := make([]byte, igmpHdrSize, igmpHdrSize+len(igmp))
	header.IPv4(hdr).Encode(&header.IPv4Fields{
		TOS:         0xc0,
		TotalLength: uint16(igmpHdrSize + len(igmp)),
		Flags:       header.IPv4FlagDontFragment,
		TTL:         1,
		Protocol:    uint8(header.IGMPProtocolNumber),
		SrcAddr:     r.LocalAddress(),
		DstAddr:     gAddr(dst),
		Options:     header.IPv4OptionsSerializer{&header.IPv4SerializableRouterAlertOption{}},
	})
	pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{
		ReserveHeaderBytes: int(r.MaxHeaderLength()),
		Payload:            buffer.MakeWithData(append(hdr, igmp...)),
	})
	defer pkt.DecRef()
	_ = r.WriteHeaderIncludedPacket(pkt)
}
