package stack

import (
	"net/netip"
	"sync"

	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// udpEndpoint is what a UDPBinding registers with gVisor's demuxer: it turns
// a packet into a Datagram for the socket's receiver.
type udpEndpoint struct {
	s *Stack
	r UDPReceiver
	// lite is r of a UDP-Lite binding (udplite.go), nil for UDP.
	lite UDPLiteReceiver
}

var _ gstack.TransportEndpoint = (*udpEndpoint)(nil)

// HandlePacket validates the datagram (length and checksum, dropping and
// counting as Linux's __udp4_lib_rcv does) and delivers it. A UDP-Lite
// datagram has its coverage and checksum checked instead, and then the
// socket's minimum coverage.
func (e *udpEndpoint) HandlePacket(id gstack.TransportEndpointID, pkt *gstack.PacketBuffer) {
	if e.lite != nil {
		e.handleLite(pkt) // udplite.go
		return
	}
	if !udpValid(e.s, pkt) || !isIPv6(pkt) && !e.mcastDeliverable(pkt) {
		return
	}
	e.deliver(pkt)
}

// deliver hands a valid datagram to the receiver.
func (e *udpEndpoint) deliver(pkt *gstack.PacketBuffer) {
	if isIPv6(pkt) {
		e.deliver6(pkt) // udp_ipv6.go
		return
	}
	ip := header.IPv4(pkt.NetworkHeader().Slice())
	udp := header.UDP(pkt.TransportHeader().Slice())
	tos, _ := ip.TOS()
	// The Datagram is valid only during DeliverUDP, so it is recycled; only
	// the payload, which the receiver keeps, is allocated per packet (and
	// the rare IP options).
	d := datagramPool.Get().(*Datagram)
	*d = Datagram{
		Src:     netip.AddrPortFrom(nAddr(ip.SourceAddress()), udp.SourcePort()),
		Dst:     netip.AddrPortFrom(nAddr(ip.DestinationAddress()), udp.DestinationPort()),
		IfIndex: int(pkt.NICID),
		TTL:     ip.TTL(),
		TOS:     tos,
		Payload: pkt.Data().AsRange().ToSlice(),
	}
	d.FragSize = e.s.frags.lookup(ip, int(ip.TotalLength())-len(ip))
	if opts := ip.Options(); len(opts) > 0 {
		// Copied although the contract allows less: a receiver that keeps
		// the whole Datagram must not see packet memory reused under it.
		d.IPOptions = append([]byte(nil), opts...)
	}
	e.s.stats.UDPInDatagrams.Add(1)
	e.r.DeliverUDP(d)
	*d = Datagram{}
	datagramPool.Put(d)
}

var datagramPool = sync.Pool{New: func() any { return new(Datagram) }}

// Abort has nothing to tear down: the binding owns the registration.
func (*udpEndpoint) Abort() {}

// Wait has no goroutines to wait for.
func (*udpEndpoint) Wait() {}

// udpValid checks the UDP length and checksum of an inbound packet and counts
// a failure as Linux does (InErrors, plus InCsumErrors for a checksum).
func udpValid(s *Stack, pkt *gstack.PacketBuffer) bool {
	hdr := header.UDP(pkt.TransportHeader().Slice())
	net := pkt.Network()
	lengthOK, csumOK := header.UDPValid(hdr,
		func() uint16 { return pkt.Data().Checksum() },
		uint16(pkt.Data().Size()),
		pkt.NetworkProtocolNumber,
		net.SourceAddress(), net.DestinationAddress(),
		pkt.RXChecksumValidated)
	if !lengthOK {
		s.stats.UDPInErrors.Add(1)
		return false
	}
	if !csumOK {
		s.stats.UDPInErrors.Add(1)
		s.stats.UDPInCsumErrors.Add(1)
		return false
	}
	return true
}
