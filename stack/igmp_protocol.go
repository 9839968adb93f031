package stack

import (
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/raw"
	"gvisor.dev/gvisor/pkg/waiter"
)

// igmpProtocol registers IGMP (protocol 2) as a transport protocol in
// gVisor's stack. gVisor's IPv4 handles IGMP itself and never hands it to a
// transport, but its demuxer only gives raw copies of protocols it knows:
// this entry is what lets the IGMP tap (igmp_query.go) and raw IGMP sockets
// see queries.
type igmpProtocol struct{ g *gstack.Stack }

var _ gstack.TransportProtocol = (*igmpProtocol)(nil)

func (*igmpProtocol) Number() tcpip.TransportProtocolNumber { return header.IGMPProtocolNumber }

func (*igmpProtocol) NewEndpoint(tcpip.NetworkProtocolNumber, *waiter.Queue) (tcpip.Endpoint, tcpip.Error) {
	return nil, &tcpip.ErrNotSupported{}
}

// NewRawEndpoint gives SOCK_RAW IPPROTO_IGMP sockets gVisor's raw endpoint.
func (p *igmpProtocol) NewRawEndpoint(netProto tcpip.NetworkProtocolNumber, wq *waiter.Queue) (tcpip.Endpoint, tcpip.Error) {
	return raw.NewEndpoint(p.g, netProto, header.IGMPProtocolNumber, wq)
}

func (*igmpProtocol) MinimumPacketSize() int { return header.IGMPMinimumSize }

func (*igmpProtocol) ParsePorts([]byte) (src, dst uint16, err tcpip.Error) { return 0, 0, nil }

func (*igmpProtocol) HandleUnknownDestinationPacket(gstack.TransportEndpointID, *gstack.PacketBuffer) gstack.UnknownDestinationPacketDisposition {
	return gstack.UnknownDestinationPacketHandled
}

func (*igmpProtocol) SetOption(tcpip.SettableTransportProtocolOption) tcpip.Error {
	return &tcpip.ErrUnknownProtocolOption{}
}

func (*igmpProtocol) Option(tcpip.GettableTransportProtocolOption) tcpip.Error {
	return &tcpip.ErrUnknownProtocolOption{}
}

func (*igmpProtocol) Close()   {}
func (*igmpProtocol) Wait()    {}
func (*igmpProtocol) Pause()   {}
func (*igmpProtocol) Resume()  {}
func (*igmpProtocol) Restore() {}

// Parse leaves the message in the payload: IGMP has no header to split off.
func (*igmpProtocol) Parse(*gstack.PacketBuffer) bool { return true }
