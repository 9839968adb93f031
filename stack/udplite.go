package stack

import (
	"slices"
	"sync"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// UDP-Lite (RFC 3828) is served by the same transport as UDP, registered a
// second time as protocol 136 (Linux's udplite.c is likewise udp.c's code
// with another table). What differs is the header's length field, which
// holds the checksum coverage (0 = the whole datagram), and the checksum,
// which covers the pseudo-header and the first coverage bytes only and is
// never left out. Bindings, ports, control messages, the error queue and
// multicast are UDP's.
//
// gVisor's demuxer fans a multicast or broadcast datagram out to every
// matching endpoint for protocol 17 only, so the UDP-Lite registration
// keeps its bindings by port and fans out itself (liteBindings).
//
// Deviation: the counters are UDP's (Stats), where Linux keeps a UdpLite
// MIB of its own.

// UDPLiteProtocolNumber is IPPROTO_UDPLITE.
const UDPLiteProtocolNumber tcpip.TransportProtocolNumber = 136

// UDPLiteReceiver is implemented by the receiver of a UDP-Lite binding
// (UDPBindFlags.Lite).
type UDPLiteReceiver interface {
	UDPReceiver
	// AcceptCoverage is udp_queue_rcv_one_skb's UDPLITE_RECV_CSCOV test
	// for a datagram whose checksum covers only its first cov bytes
	// (header included): false drops it, and the receiver counts the drop
	// as its own (sk_drops).
	AcceptCoverage(cov int) bool
}

// newUDPLiteProtocol is the factory of the UDP-Lite registration.
func (s *Stack) newUDPLiteProtocol(g *gstack.Stack) gstack.TransportProtocol {
	return &udpProtocol{s: s, g: g, num: UDPLiteProtocolNumber}
}

// liteBindings are the UDP-Lite bindings by port with their demuxer
// registrations, kept by the UDP-Lite registration for the fan-out of
// multicast and broadcast datagrams.
type liteBindings struct {
	mu   sync.RWMutex
	m    map[uint16]map[*udpEndpoint]liteReg
	next uint64 // numbers registrations (liteReg.seq)
}

// liteReg is what __udp_is_mcast_sock matches a binding on.
type liteReg struct {
	id     gstack.TransportEndpointID
	device int                           // 0 = any
	nets   []tcpip.NetworkProtocolNumber // the families it takes
	seq    uint64                        // registration order
}

// sameSlot tells whether two registrations share gVisor's demuxer slot
// (one multiPortEndpoint: the same ID on the same device), every member
// of which the demuxer hands a multicast datagram to.
func (r liteReg) sameSlot(o liteReg) bool { return r.id == o.id && r.device == o.device }

// liteTable returns the UDP-Lite registration's bindings.
func (s *Stack) liteTable() *liteBindings {
	p, _ := s.g.TransportProtocolInstance(UDPLiteProtocolNumber).(*udpProtocol)
	return &p.bindings
}

// set records (or, with ok false, forgets) e's registration.
func (t *liteBindings) set(e *udpEndpoint, r liteReg, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	port := t.m[r.id.LocalPort]
	if !ok {
		delete(port, e)
		if len(port) == 0 {
			delete(t.m, r.id.LocalPort)
		}
		return
	}
	if t.m == nil {
		t.m = map[uint16]map[*udpEndpoint]liteReg{}
	}
	if port == nil {
		port = map[*udpEndpoint]liteReg{}
		t.m[r.id.LocalPort] = port
	}
	if old, ok := port[e]; ok {
		r.seq = old.seq
	} else {
		t.next++
		r.seq = t.next
	}
	port[e] = r
}

// noteLite keeps the UDP-Lite table in step with b's registration (ok
// false: b is gone). A binding's port never changes.
func (b *UDPBinding) noteLite(ok bool) {
	if b.proto == UDPLiteProtocolNumber {
		b.s.liteTable().set(b.ep, liteReg{id: b.id, device: b.flags.BindToDevice, nets: b.netsFor(b.id.LocalAddress)}, ok)
	}
}

// matching lists the bindings __udp4_lib_mcast_deliver (and
// __udp6_lib_mcast_deliver) hands a
// multicast or broadcast datagram to: same port, bound to the destination
// or to any address, connected to its source or not, bound to its
// interface or to none.
func (t *liteBindings) matching(pkt *gstack.PacketBuffer) ([]*udpEndpoint, []liteReg) {
	net := pkt.Network()
	udp := header.UDP(pkt.TransportHeader().Slice())
	dst, src := net.DestinationAddress(), net.SourceAddress()
	t.mu.RLock()
	defer t.mu.RUnlock()
	var eps []*udpEndpoint
	var regs []liteReg
	for e, r := range t.m[udp.DestinationPort()] {
		id := r.id
		if id.LocalAddress.Len() != 0 && id.LocalAddress != dst ||
			id.RemoteAddress.Len() != 0 && id.RemoteAddress != src ||
			id.RemotePort != 0 && id.RemotePort != udp.SourcePort() ||
			r.device != 0 && r.device != int(pkt.NICID) ||
			!slices.Contains(r.nets, pkt.NetworkProtocolNumber) {
			continue
		}
		eps = append(eps, e)
		regs = append(regs, r)
	}
	return eps, regs
}

// handleLite validates a UDP-Lite datagram once and delivers it to e or,
// to a multicast or broadcast destination, to every matching binding, each
// applying its own multicast filter and minimum coverage. gVisor's
// demuxer fans such a datagram out only within the one slot it picked (for
// any protocol but UDP), calling handleLite for each of its bindings: each
// takes its own copy, and the slot's oldest binding hands copies to the
// matching bindings of other slots, so that every binding gets one.
func (e *udpEndpoint) handleLite(pkt *gstack.PacketBuffer) {
	if !udpLiteValid(e.s, pkt) {
		return
	}
	dst := pkt.Network().DestinationAddress()
	if pkt.NetworkPacketInfo.LocalAddressBroadcast || header.IsV4MulticastAddress(dst) || header.IsV6MulticastAddress(dst) || dst == header.IPv4Broadcast {
		if eps, regs := e.s.liteTable().matching(pkt); len(eps) > 0 {
			own := slices.Index(eps, e)
			if own < 0 {
				// e left the table since the demuxer picked it: the
				// slot's remaining bindings, whose oldest now leads,
				// deliver without it.
				return
			}
			lead := true
			for i, r := range regs {
				if i != own && r.sameSlot(regs[own]) && r.seq < regs[own].seq {
					lead = false
				}
			}
			for i, o := range eps {
				if i == own || lead && !regs[i].sameSlot(regs[own]) {
					o.deliverLite(pkt)
				}
			}
			return
		}
	}
	e.deliverLite(pkt)
}

// deliverLite applies the binding's multicast filter and minimum coverage
// and delivers.
func (e *udpEndpoint) deliverLite(pkt *gstack.PacketBuffer) {
	if e.mcastDeliverable(pkt) && e.liteCoverageAccepted(pkt) {
		e.deliver(pkt)
	}
}

// lite tells whether p is the UDP-Lite registration.
func (p *udpProtocol) lite() bool { return p.num == UDPLiteProtocolNumber }

// parseUDPLite sets the header of a UDP-Lite datagram. Unlike UDP's the
// payload is not trimmed: the length field is the coverage, and the
// datagram ends where the IP datagram does.
func parseUDPLite(pkt *gstack.PacketBuffer) bool {
	if _, ok := pkt.TransportHeader().Consume(header.UDPMinimumSize); !ok {
		return false
	}
	pkt.TransportProtocolNumber = UDPLiteProtocolNumber
	return true
}

// udpLiteCoverage reads the coverage of an inbound datagram as
// udplite_checksum_init does: cov is the number of bytes the checksum
// covers and partial whether that is less than the datagram. ok is false
// for a zero checksum and for a coverage field of 1..7 or past the end.
func udpLiteCoverage(hdr header.UDP, udpLen int) (cov int, partial, ok bool) {
	if hdr.Checksum() == 0 {
		return 0, false, false
	}
	c := int(hdr.Length())
	switch {
	case c == 0:
		return udpLen, false, true
	case c < header.UDPMinimumSize || c > udpLen:
		return 0, false, false
	}
	return c, c < udpLen, true
}

// udpLiteValid checks the coverage and the checksum of an inbound UDP-Lite
// datagram, counting failures as __udp4_lib_rcv's csum_error does
// (InCsumErrors and InErrors). The checksum is always computed here: no
// NIC offloads UDP-Lite's.
func udpLiteValid(s *Stack, pkt *gstack.PacketBuffer) bool {
	hdr := header.UDP(pkt.TransportHeader().Slice())
	data := pkt.Data()
	udpLen := header.UDPMinimumSize + data.Size()
	cov, _, ok := udpLiteCoverage(hdr, udpLen)
	if ok {
		net := pkt.Network()
		xsum := header.PseudoHeaderChecksum(UDPLiteProtocolNumber, net.SourceAddress(), net.DestinationAddress(), uint16(udpLen))
		xsum = checksum.Checksum(hdr, xsum)
		covered, pulled := data.PullUp(cov - header.UDPMinimumSize)
		ok = pulled && checksum.Checksum(covered, xsum) == 0xffff
	}
	if !ok {
		s.stats.UDPInErrors.Add(1)
		s.stats.UDPInCsumErrors.Add(1)
	}
	return ok
}

// liteCoverageAccepted applies the receiver's minimum coverage to a valid
// datagram; a refused one counts in InErrors, as Linux's drop does.
func (e *udpEndpoint) liteCoverageAccepted(pkt *gstack.PacketBuffer) bool {
	hdr := header.UDP(pkt.TransportHeader().Slice())
	cov, partial, _ := udpLiteCoverage(hdr, header.UDPMinimumSize+pkt.Data().Size())
	if !partial || e.lite.AcceptCoverage(cov) {
		return true
	}
	e.s.stats.UDPInErrors.Add(1)
	return false
}

// putUDPLiteHeader fills in the header of a UDP-Lite datagram as
// udp_send_skb and udplite_csum do: with UDPLITE_SEND_CSCOV set below the
// datagram's length the length field carries it (0 = all) and the checksum
// covers that much, else the field is the length and the checksum covers
// everything. The pseudo-header always has the whole length, and a zero
// checksum is sent as all ones.
func putUDPLiteHeader(udp header.UDP, src, dst tcpip.Address, m *UDPSend) {
	length := header.UDPMinimumSize + len(m.Payload)
	field, cov := length, length
	if m.CsCovSet && int(m.CsCov) < length {
		field = int(m.CsCov)
		if m.CsCov != 0 {
			cov = int(m.CsCov)
		}
	}
	udp.Encode(&header.UDPFields{
		SrcPort: m.Src.Port(),
		DstPort: m.Dst.Port(),
		Length:  uint16(field),
	})
	xsum := header.PseudoHeaderChecksum(UDPLiteProtocolNumber, src, dst, uint16(length))
	xsum = checksum.Combine(xsum, checksum.Checksum(m.Payload[:cov-header.UDPMinimumSize], 0))
	if c := ^udp.CalculateChecksum(xsum); c != 0 {
		udp.SetChecksum(c)
	} else {
		udp.SetChecksum(0xffff)
	}
}

// proto is the IP protocol of the datagram m describes.
func (m *UDPSend) proto() tcpip.TransportProtocolNumber {
	if m.Lite {
		return UDPLiteProtocolNumber
	}
	return header.UDPProtocolNumber
}
