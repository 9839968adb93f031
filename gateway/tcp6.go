package gateway

import (
	"errors"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// hopAndClass is a received packet's TTL and TOS, or for IPv6 its hop
// limit and traffic class: what the relay carries on to the host socket.
func hopAndClass(pkt *gstack.PacketBuffer) (hop, class uint8) {
	nh := pkt.NetworkHeader().Slice()
	if pkt.NetworkProtocolNumber == header.IPv6ProtocolNumber {
		if len(nh) < header.IPv6MinimumSize {
			return 0, 0
		}
		ip := header.IPv6(nh)
		class, _ = ip.TOS()
		return ip.HopLimit(), class
	}
	if len(nh) < header.IPv4MinimumSize {
		return 0, 0
	}
	ip := header.IPv4(nh)
	return ip.TTL(), tosOf(ip)
}

// refuseTCP6 is refuseTCP for an IPv6 SYN: the host's ICMPv6 error from
// the real offender, the gateway's "no route" or "address unreachable"
// when the host has no way there, else a RST.
func (gw *Gateway) refuseTCP6(r *tcp.ForwarderRequest, syn synInfo, ie *hostICMPError, err error) {
	switch {
	case ie != nil:
		r.Complete(false)
		gw.relayQuote6(ie.offender, ie.typ, ie.code, errorInfoWord6(ie.typ, ie.info), syn.head, ie.ttl)
	case errors.Is(err, unix.ENETUNREACH):
		r.Complete(false)
		gw.gatewayError6(header.ICMPv6DstUnreachable, header.ICMPv6NetworkUnreachable, 0, syn.head)
	case errors.Is(err, unix.EHOSTUNREACH):
		r.Complete(false)
		gw.gatewayError6(header.ICMPv6DstUnreachable, header.ICMPv6AddressUnreachable, 0, syn.head)
	default:
		r.Complete(true)
	}
}
