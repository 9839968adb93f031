package stack

import (
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// HandleUnknownDestinationPacket counts what gVisor's TCP does with a
// segment no socket wants, which gVisor leaves uncounted: a good segment
// is answered with RST, a good RST is dropped. A malformed one is counted
// by gVisor's NIC (MalformedL4RcvdPackets).
func (p *minTTLTCP) HandleUnknownDestinationPacket(id gstack.TransportEndpointID, pkt *gstack.PacketBuffer) gstack.UnknownDestinationPacketDisposition {
	res := p.TransportProtocol.HandleUnknownDestinationPacket(id, pkt)
	if res != gstack.UnknownDestinationPacketHandled || p.st == nil {
		return res
	}
	if h := header.TCP(pkt.TransportHeader().Slice()); len(h) >= header.TCPMinimumSize && h.Flags().Contains(header.TCPFlagRst) {
		p.st.tcpResetsNoSocket.Add(1)
	} else {
		p.st.tcpResetsAnswered.Add(1)
	}
	return res
}
