package stack

import (
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/waiter"
)

// udpProtocol is netsandbox's UDP, registered in gVisor's stack as transport
// protocol 17 in place of gVisor's own.
type udpProtocol struct {
	s *Stack
	g *gstack.Stack
}

var _ gstack.TransportProtocol = (*udpProtocol)(nil)

func (*udpProtocol) Number() tcpip.TransportProtocolNumber { return header.UDPProtocolNumber }

// NewEndpoint is not supported: UDP sockets are made by endpoint/ through
// Stack.UDPBind.
func (*udpProtocol) NewEndpoint(tcpip.NetworkProtocolNumber, *waiter.Queue) (tcpip.Endpoint, tcpip.Error) {
	return nil, &tcpip.ErrNotSupported{}
}

func (p *udpProtocol) NewRawEndpoint(tcpip.NetworkProtocolNumber, *waiter.Queue) (tcpip.Endpoint, tcpip.Error) {
	return nil, &tcpip.ErrNotSupported{}
}

func (*udpProtocol) MinimumPacketSize() int { return header.UDPMinimumSize }

func (*udpProtocol) ParsePorts(b []byte) (src, dst uint16, err tcpip.Error) {
	if len(b) < header.UDPMinimumSize {
		return 0, 0, &tcpip.ErrUnknownProtocol{}
	}
	h := header.UDP(b)
	return h.SourcePort(), h.DestinationPort(), nil
}

func (p *udpProtocol) HandleUnknownDestinationPacket(gstack.TransportEndpointID, *gstack.PacketBuffer) gstack.UnknownDestinationPacketDisposition {
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

func (*udpProtocol) Parse(pkt *gstack.PacketBuffer) bool {
	_, ok := pkt.TransportHeader().Consume(header.UDPMinimumSize)
	return ok
}
