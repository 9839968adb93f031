package stack

import (
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
)

// icmpCounting is gVisor's ICMPv4 transport (ping sockets) with a count of
// the echo replies no ping socket wanted, which gVisor drops uncounted:
// with it, Accounting tells replies handed to a socket from dropped ones.
type icmpCounting struct {
	gstack.TransportProtocol
	st *Stats
	s  *Stack
}

func (s *Stack) newICMPProtocol(g *gstack.Stack) gstack.TransportProtocol {
	return &icmpCounting{TransportProtocol: icmp.NewProtocol4(g), st: &s.stats, s: s}
}

// HandleUnknownDestinationPacket runs for every echo request (no ping
// socket takes them; IPv4 answers them) and for every echo reply: ping
// sockets keep no registration in gVisor's demuxer (ping_table.go), so
// replies reach them here, through ping_lookup.
func (p *icmpCounting) HandleUnknownDestinationPacket(id gstack.TransportEndpointID, pkt *gstack.PacketBuffer) gstack.UnknownDestinationPacketDisposition {
	if h := header.ICMPv4(pkt.TransportHeader().Slice()); len(h) >= header.ICMPv4MinimumSize && h.Type() == header.ICMPv4EchoReply {
		if p.s.deliverEchoReply(id, pkt) {
			return gstack.UnknownDestinationPacketHandled
		}
		p.st.icmpEchoReplyNoSocket.Add(1)
	}
	return p.TransportProtocol.HandleUnknownDestinationPacket(id, pkt)
}
