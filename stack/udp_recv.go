package stack

import (
	"net/netip"
	"sync"

	"gvisor.dev/gvisor/pkg/tcpip"
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
	// scratch is the Datagram of an IPv4 delivery, cheaper than a trip
	// through datagramPool. Deliveries to one endpoint rarely overlap
	// (one per inbound NIC queue at a time); one that finds scratchMu
	// taken uses the pool.
	scratchMu sync.Mutex
	scratch   Datagram
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
	if isIPv6(pkt) {
		if udpValid(e.s, pkt) && e.mcastDeliverable(pkt) {
			e.deliver6(pkt) // udp_ipv6.go
		}
		return
	}
	// Each header Slice is a PullUp in gVisor: taken once per datagram.
	ip := header.IPv4(pkt.NetworkHeader().Slice())
	udp := header.UDP(pkt.TransportHeader().Slice())
	if !udpValidFrom(e.s, pkt, udp, ip.SourceAddress(), ip.DestinationAddress()) {
		return
	}
	if header.IsV4MulticastAddress(ip.DestinationAddress()) && !e.mcastDeliverable(pkt) {
		return
	}
	e.deliver4(pkt, ip, udp)
}

// deliver hands a valid datagram to the receiver.
func (e *udpEndpoint) deliver(pkt *gstack.PacketBuffer) {
	if isIPv6(pkt) {
		e.deliver6(pkt) // udp_ipv6.go
		return
	}
	e.deliver4(pkt, header.IPv4(pkt.NetworkHeader().Slice()), header.UDP(pkt.TransportHeader().Slice()))
}

// deliver4 is deliver for an IPv4 datagram whose headers are ip and udp.
func (e *udpEndpoint) deliver4(pkt *gstack.PacketBuffer, ip header.IPv4, udp header.UDP) {
	tos, _ := ip.TOS()
	// The Datagram is valid only during DeliverUDP, so it is recycled; only
	// the payload, which the receiver keeps, is allocated per packet (and
	// the rare IP options).
	d := &e.scratch
	if !e.scratchMu.TryLock() {
		d = datagramPool.Get().(*Datagram)
	}
	*d = Datagram{
		// Straight from the header bytes: through tcpip.Address each
		// address is copied twice more.
		Src:     netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[12:16])), udp.SourcePort()),
		Dst:     netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[16:20])), udp.DestinationPort()),
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
	if d == &e.scratch {
		e.scratchMu.Unlock()
	} else {
		datagramPool.Put(d)
	}
}

var datagramPool = sync.Pool{New: func() any { return new(Datagram) }}

// Abort has nothing to tear down: the binding owns the registration.
func (*udpEndpoint) Abort() {}

// Wait has no goroutines to wait for.
func (*udpEndpoint) Wait() {}

// udpValid checks the UDP length and checksum of an inbound packet and counts
// a failure as Linux does (InErrors, plus InCsumErrors for a checksum).
func udpValid(s *Stack, pkt *gstack.PacketBuffer) bool {
	var src, dst tcpip.Address
	// Read through the concrete header type: pkt.Network() boxes the
	// header slice in an interface, an allocation per datagram.
	if nh := pkt.NetworkHeader().Slice(); isIPv6(pkt) {
		src, dst = header.IPv6(nh).SourceAddress(), header.IPv6(nh).DestinationAddress()
	} else {
		src, dst = header.IPv4(nh).SourceAddress(), header.IPv4(nh).DestinationAddress()
	}
	return udpValidFrom(s, pkt, header.UDP(pkt.TransportHeader().Slice()), src, dst)
}

// udpValidFrom is udpValid given the UDP header and the IP addresses.
func udpValidFrom(s *Stack, pkt *gstack.PacketBuffer, hdr header.UDP, src, dst tcpip.Address) bool {
	lengthOK, csumOK := header.UDPValid(hdr,
		func() uint16 { return pkt.Data().Checksum() },
		uint16(pkt.Data().Size()),
		pkt.NetworkProtocolNumber,
		src, dst,
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
