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

// MLD input. gVisor's IPv6 handles MLD itself and, with its MLD off,
// drops queries; and it hands raw endpoints a packet under its first
// next-header value, which for MLD (always behind a Hop-by-Hop Router
// Alert) is 0, not ICMPv6. So the NIC's link tap (fragTap) shows every
// inbound IPv6 packet here first, and MLD messages are read from it.

// mldMessage is an MLD message as parseMLD reads it from an IPv6 packet.
type mldMessage struct {
	typ         byte
	src, dst    netip.Addr
	hopLimit    uint8
	routerAlert bool // a Hop-by-Hop Router Alert with value 0 (MLD)
	length      int  // of the ICMPv6 message: 24 is an MLDv1 query, from 28 MLDv2
	group       netip.Addr
	code        uint16 // MLDv1 maximum response delay (ms), MLDv2 maximum response code
	// MLDv2 query fields: robustness, query interval code, the number of
	// sources it says it carries and, when they are all there, them.
	qrv     int
	qqic    byte
	nsrc    int
	sources []netip.Addr
}

// parseMLD reads an MLD message from an IPv6 packet with at most a
// Hop-by-Hop header before the ICMPv6 one, as icmpv6_rcv and
// __mld_query_work check it: a whole packet, a good ICMPv6 checksum, a
// message long enough for its type. ok is false for anything else.
func parseMLD(b []byte) (m mldMessage, ok bool) {
	if len(b) < header.IPv6MinimumSize || b[0]>>4 != 6 {
		return m, false
	}
	total := header.IPv6MinimumSize + int(binary.BigEndian.Uint16(b[4:6]))
	if total > len(b) {
		return m, false
	}
	b = b[:total]
	ip := header.IPv6(b)
	m.src, m.dst, m.hopLimit = nAddr(ip.SourceAddress()), nAddr(ip.DestinationAddress()), ip.HopLimit()
	nh, off := b[6], header.IPv6MinimumSize
	if nh == 0 {
		if len(b) < off+2 {
			return m, false
		}
		end := off + (int(b[off+1])+1)*8
		if end > len(b) {
			return m, false
		}
		for o := off + 2; o < end; {
			if b[o] == 0 { // Pad1
				o++
				continue
			}
			if o+2 > end || o+2+int(b[o+1]) > end {
				return m, false
			}
			if b[o] == 5 && b[o+1] == 2 { // Router Alert
				m.routerAlert = binary.BigEndian.Uint16(b[o+2:]) == 0
			}
			o += 2 + int(b[o+1])
		}
		nh, off = b[off], end
	}
	if nh != uint8(header.ICMPv6ProtocolNumber) || len(b) < off+header.ICMPv6MinimumSize {
		return m, false
	}
	icmp := b[off:]
	sum := header.PseudoHeaderChecksum(header.ICMPv6ProtocolNumber, ip.SourceAddress(), ip.DestinationAddress(), uint16(len(icmp)))
	if checksum.Checksum(icmp, sum) != 0xffff {
		return m, false
	}
	m.typ, m.length = icmp[0], len(icmp)
	switch m.typ {
	case mldQueryType, mldV1ReportType, mldDoneType:
	default:
		return m, false
	}
	if len(icmp) < 24 {
		return m, false
	}
	m.code = binary.BigEndian.Uint16(icmp[4:6])
	m.group = netip.AddrFrom16([16]byte(icmp[8:24]))
	if m.typ != mldQueryType || len(icmp) < 28 {
		return m, true
	}
	m.qrv, m.qqic = int(icmp[24]&7), icmp[25]
	m.nsrc = int(binary.BigEndian.Uint16(icmp[26:28]))
	if len(icmp) >= 28+16*m.nsrc {
		for i := range m.nsrc {
			m.sources = append(m.sources, netip.AddrFrom16([16]byte(icmp[28+16*i:])))
		}
	}
	return m, true
}

// tapMLD looks at an inbound IPv6 packet of the interface and reads it
// if it is MLD; the packet goes on to gVisor unchanged. Only the
// headers are looked at for the others.
func (s *Stack) tapMLD(ifindex int, pkt *gstack.PacketBuffer) {
	if !s.mldOwn {
		return
	}
	d := pkt.Data()
	h, ok := d.PullUp(header.IPv6MinimumSize + 2) // the next header's first two bytes
	if !ok || h[0]>>4 != 6 {
		return
	}
	typ := h[header.IPv6MinimumSize]
	switch h[6] {
	case uint8(header.ICMPv6ProtocolNumber):
	case 0:
		n := header.IPv6MinimumSize + 8*(int(h[header.IPv6MinimumSize+1])+1)
		if h, ok = d.PullUp(n + 1); !ok || h[header.IPv6MinimumSize] != uint8(header.ICMPv6ProtocolNumber) {
			return
		}
		typ = h[n]
	default:
		return
	}
	if typ < mldQueryType || typ > mldDoneType {
		return
	}
	s.heardMLD(ifindex, d.AsRange().ToSlice(), pkt)
}

// heardMLD handles an inbound MLD message (icmpv6_rcv's MLD cases):
// queries as __mld_query_work, other hosts' MLDv1 reports as
// __mld_report_work; done messages are for routers. Malformed and
// invalid ones are counted and dropped.
func (s *Stack) heardMLD(ifindex int, b []byte, pkt *gstack.PacketBuffer) {
	m, ok := parseMLD(b)
	if !ok {
		s.stats.mldDropped.Add(1)
		return
	}
	switch m.typ {
	case mldQueryType:
		// RFC 3810 6.2: a link-local source, hop limit 1, Router Alert.
		if !m.src.IsLinkLocalUnicast() || m.hopLimit != 1 || !m.routerAlert {
			s.stats.mldDropped.Add(1)
			return
		}
		s.heardMLDQuery(ifindex, m)
	case mldV1ReportType:
		// Only reports the link sent to a group, from a link-local
		// source or ::, stand for this host's.
		if !linkMulticast6(pkt, m.dst) || !(m.src.IsUnspecified() || m.src.IsLinkLocalUnicast()) {
			return
		}
		s.heardReport(ifindex, m.group)
	}
}

// linkMulticast6 is linkMulticast for a packet not yet parsed by gVisor:
// without a link header, the IPv6 destination tells.
func linkMulticast6(pkt *gstack.PacketBuffer, dst netip.Addr) bool {
	switch pkt.PktType {
	case tcpip.PacketMulticast, tcpip.PacketBroadcast:
		return true
	case tcpip.PacketHost:
		if lh := pkt.LinkHeader().Slice(); len(lh) > 0 {
			return len(lh) >= header.EthernetMinimumSize && lh[0]&1 == 1
		}
		return dst.IsMulticast()
	}
	return false
}

// mldV1MaxCompat bounds an MLDv2 query's response code read as an MLDv1
// delay (MLDV1_MRD_MAX_COMPAT).
const mldV1MaxCompat = 1<<15 - 1

// heardMLDQuery is __mld_query_work: an MLDv1 query (24 bytes), or any
// query while MLDv1 is spoken, is answered group by group (an MLDv1 one
// also makes the interface speak MLDv1 for the Older Version Querier
// Present Timeout, unless MLDv2 is forced, which ignores it); an MLDv2
// general query is answered by one report, the others group by group.
func (s *Stack) heardMLDQuery(ifindex int, q mldMessage) {
	if !q.group.IsUnspecified() && !q.group.IsMulticast() {
		return
	}
	m := &s.mc
	m.ctl.Lock()
	defer m.ctl.Unlock()
	if m.closed {
		return
	}
	st := m.ifState(ifindex, true)
	var maxDelay time.Duration
	var sources []netip.Addr
	switch v := s.mldVersion(st); {
	case q.length == 24 || (v == 2 && q.length > 24):
		if s.mldForced(st) == 2 {
			return
		}
		md := int(q.code)
		if q.length != 24 {
			md = min(md, mldV1MaxCompat)
		}
		maxDelay = time.Duration(md) * time.Millisecond
		if q.length == 24 {
			st.v2Until = time.Now().Add(s.olderQuerierPresent(st))
		}
		if st.generalT != nil {
			st.generalT.Stop()
			st.generalAt = time.Time{}
		}
		s.v12QueryHeard(st)
	case q.length >= 28:
		maxDelay = max(mldMaxResp(q.code), time.Millisecond)
		// RFC 3810 9.1-9.3 (mld_update_qrv, _qi, _qri): a QRV of 0
		// keeps the last one, and none is taken below 2 (mld_qrv
		// being 2); the query interval is taken as said, 0 included.
		if q.qrv > 0 {
			st.qrv = max(q.qrv, min(2, s.defaultQRV(st)))
		}
		st.qi = time.Duration(mldQQI(q.qqic)) * time.Second
		st.qri = mldMaxResp(q.code)
		if q.group.IsUnspecified() {
			if q.nsrc == 0 {
				s.armGeneral(st, time.Duration(rand.Int64N(int64(maxDelay)))+timerSlack)
			}
			return
		}
		if q.nsrc > 0 {
			if len(q.sources) != q.nsrc {
				return // sources cut short
			}
			sources = q.sources
		}
	default:
		return
	}
	s.queryGroups(st, q.group, sources, maxDelay)
}

// mldForced is mld_force_mld_version: conf/all's force_mld_version when
// not 0, else the interface's. Called with ctl held.
func (s *Stack) mldForced(st *igmpIf) int64 {
	force := int64(s.sysctl.Int("net.ipv6.conf.all.force_mld_version"))
	if d := s.igmpKnobs(st); force == 0 && d != nil {
		force = d.conf[confForceMLD].val.Load()
	}
	return force
}

// mldMaxResp decodes an MLDv2 Maximum Response Code (milliseconds, with
// the floating-point form from 32768; RFC 3810 5.1.3).
func mldMaxResp(code uint16) time.Duration {
	v := int64(code)
	if code >= 0x8000 {
		v = int64(code&0x0fff|0x1000) << ((code>>12)&7 + 3)
	}
	return time.Duration(v) * time.Millisecond
}

// mldQQI decodes a Querier's Query Interval Code (seconds; RFC 3810
// 5.1.9).
func mldQQI(code byte) int64 {
	if code < 128 {
		return int64(code)
	}
	return int64(code&0x0f|0x10) << ((code>>4)&7 + 3)
}
