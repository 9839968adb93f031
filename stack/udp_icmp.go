package stack

import (
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// ICMPError is an ICMP error message about a datagram a UDP binding sent,
// with what Linux's __udp4_lib_err and ip_icmp_error use: the ICMP type,
// code and info, who sent it, and the quoted datagram.
type ICMPError struct {
	Type, Code uint8
	// Info is Linux's "info" of the error: the next-hop MTU of a
	// "fragmentation needed" (0 when the router gave none), else 0.
	Info uint32
	// Offender is the source of the ICMP message (sock_extended_err's
	// offender address).
	Offender netip.Addr
	// Src and Dst are the quoted datagram's addresses: the binding's
	// source and the original destination.
	Src, Dst netip.AddrPort
	IfIndex  int   // interface the ICMP message arrived on
	TTL, TOS uint8 // of the ICMP message's IP header
	// Payload is the quoted UDP payload after the UDP header, as far as
	// the ICMP message carried it; the receiver owns it.
	Payload []byte
}

// HandleError receives the ICMP errors gVisor's IPv4 passes to transports
// (destination unreachable, every code) for a datagram of this binding, and
// hands them to the receiver. A malformed quote is dropped.
func (e *udpEndpoint) HandleError(_ gstack.TransportError, pkt *gstack.PacketBuffer) {
	ie, ok := parseICMPError(pkt)
	if !ok {
		return
	}
	e.r.DeliverICMPError(ie)
}

// parseICMPError reads an ICMP error as gVisor hands it to a transport:
// the network header is the ICMP message's, the transport header the ICMP
// header, and the data starts after the quoted IPv4 header, which gVisor
// has consumed but not removed from the buffer.
func parseICMPError(pkt *gstack.PacketBuffer) (*ICMPError, bool) {
	outer := header.IPv4(pkt.NetworkHeader().Slice())
	icmp := header.ICMPv4(pkt.TransportHeader().Slice())
	if len(outer) < header.IPv4MinimumSize || len(icmp) < header.ICMPv4MinimumSize {
		return nil, false
	}
	v := pkt.ToView()
	defer v.Release()
	all := v.AsSlice()
	quoteStart := len(pkt.LinkHeader().Slice()) + len(outer) + len(icmp)
	dataStart := pkt.HeaderSize()
	if quoteStart+header.IPv4MinimumSize > dataStart || dataStart > len(all) {
		return nil, false
	}
	quoted := header.IPv4(all[quoteStart:dataStart])
	if quoted.HeaderLength() != uint8(len(quoted)) || quoted.TransportProtocol() != header.UDPProtocolNumber {
		return nil, false
	}
	rest := all[dataStart:]
	if len(rest) < header.UDPMinimumSize {
		return nil, false
	}
	udp := header.UDP(rest)
	tos, _ := outer.TOS()
	ie := &ICMPError{
		Type:     uint8(icmp.Type()),
		Code:     uint8(icmp.Code()),
		Offender: nAddr(outer.SourceAddress()),
		Src:      netip.AddrPortFrom(nAddr(quoted.SourceAddress()), udp.SourcePort()),
		Dst:      netip.AddrPortFrom(nAddr(quoted.DestinationAddress()), udp.DestinationPort()),
		IfIndex:  int(pkt.NICID),
		TTL:      outer.TTL(),
		TOS:      tos,
		Payload:  append([]byte(nil), rest[header.UDPMinimumSize:]...),
	}
	if icmp.Type() == header.ICMPv4DstUnreachable && icmp.Code() == header.ICMPv4FragmentationNeeded {
		ie.Info = uint32(icmp.MTU())
	}
	return ie, true
}
