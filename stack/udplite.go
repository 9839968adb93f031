package stack

import (
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
// Deviations: the counters are UDP's (Stats), where Linux keeps a
// UdpLite MIB of its own; gVisor's demuxer fans a multicast or broadcast
// datagram out to every matching endpoint for protocol 17 only, so a
// UDP-Lite one reaches a single socket of those sharing the port.

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
