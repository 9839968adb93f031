package stack

import (
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/header/parse"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/raw"
	"gvisor.dev/gvisor/pkg/waiter"
)

// udpProtocol is netsandbox's UDP, registered in gVisor's stack as transport
// protocol 17 in place of gVisor's own, and again as UDP-Lite (136,
// udplite.go) with num set.
type udpProtocol struct {
	s   *Stack
	g   *gstack.Stack
	num tcpip.TransportProtocolNumber // 0 = UDP (17)
	// bindings are UDP-Lite's, for its multicast fan-out (udplite.go).
	bindings liteBindings
}

var _ gstack.TransportProtocol = (*udpProtocol)(nil)

func (p *udpProtocol) Number() tcpip.TransportProtocolNumber {
	if p.lite() {
		return UDPLiteProtocolNumber
	}
	return header.UDPProtocolNumber
}

// NewEndpoint is not supported: UDP sockets are made by endpoint/ through
// Stack.UDPBind.
func (*udpProtocol) NewEndpoint(tcpip.NetworkProtocolNumber, *waiter.Queue) (tcpip.Endpoint, tcpip.Error) {
	return nil, &tcpip.ErrNotSupported{}
}

// NewRawEndpoint gives SOCK_RAW IPPROTO_UDP (and IPPROTO_UDPLITE) sockets
// gVisor's raw endpoint.
func (p *udpProtocol) NewRawEndpoint(netProto tcpip.NetworkProtocolNumber, wq *waiter.Queue) (tcpip.Endpoint, tcpip.Error) {
	return raw.NewEndpoint(p.g, netProto, p.Number(), wq)
}

func (*udpProtocol) MinimumPacketSize() int { return header.UDPMinimumSize }

func (*udpProtocol) ParsePorts(b []byte) (src, dst uint16, err tcpip.Error) {
	if len(b) < header.UDPMinimumSize {
		return 0, 0, &tcpip.ErrUnknownProtocol{}
	}
	h := header.UDP(b)
	return h.SourcePort(), h.DestinationPort(), nil
}

// HandleUnknownDestinationPacket runs for a datagram no socket wants. Like
// Linux, a corrupt datagram is dropped silently; a good one counts as NoPorts
// and is left unhandled so that gVisor's IPv4 answers with ICMP port
// unreachable (it sends none for broadcast or multicast destinations).
func (p *udpProtocol) HandleUnknownDestinationPacket(_ gstack.TransportEndpointID, pkt *gstack.PacketBuffer) gstack.UnknownDestinationPacketDisposition {
	if !p.valid(pkt) {
		return gstack.UnknownDestinationPacketHandled
	}
	if dst := pkt.Network().DestinationAddress(); pkt.NetworkPacketInfo.LocalAddressBroadcast || header.IsV4MulticastAddress(dst) || header.IsV6MulticastAddress(dst) {
		// Linux counts these as IgnoredMulti, not NoPorts.
		p.s.stats.UDPIgnoredMulti.Add(1)
		return gstack.UnknownDestinationPacketHandled
	}
	p.s.stats.UDPNoPorts.Add(1)
	return gstack.UnknownDestinationPacketUnhandled
}

func (*udpProtocol) SetOption(tcpip.SettableTransportProtocolOption) tcpip.Error {
	return &tcpip.ErrUnknownProtocolOption{}
}

func (*udpProtocol) Option(tcpip.GettableTransportProtocolOption) tcpip.Error {
	return &tcpip.ErrUnknownProtocolOption{}
}

func (*udpProtocol) Close()   {}
func (*udpProtocol) Wait()    {}
func (*udpProtocol) Pause()   {}
func (*udpProtocol) Resume()  {}
func (*udpProtocol) Restore() {}

// Parse sets the UDP header and trims the payload to the UDP length. A
// datagram shorter than its header or its length field is counted as an
// input error (Linux's "short packet"). A UDP-Lite datagram needs its
// header only.
func (p *udpProtocol) Parse(pkt *gstack.PacketBuffer) bool {
	ok := false
	if p.lite() {
		ok = parseUDPLite(pkt)
	} else {
		ok = parse.UDP(pkt)
	}
	if !ok {
		p.s.stats.UDPInErrors.Add(1)
		p.s.stats.udpParseErrors.Add(1)
		return false
	}
	return true
}

// valid is udpValid or, for UDP-Lite, udpLiteValid.
func (p *udpProtocol) valid(pkt *gstack.PacketBuffer) bool {
	if p.lite() {
		return udpLiteValid(p.s, pkt)
	}
	return udpValid(p.s, pkt)
}
