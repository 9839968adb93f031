package gateway

import (
	"encoding/binary"
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// icmp6QuoteRoom is how much of the offending packet an ICMPv6 error
// quotes at most: the error must fit the minimum MTU (RFC 4443 2.4 (c)).
const icmp6QuoteRoom = header.IPv6MinimumMTU - header.IPv6MinimumSize - header.ICMPv6MinimumSize

// relayQuote6 sends the sandbox an ICMPv6 error of type/code from
// offender quoting quote (the sandbox's packet from its IPv6 header on),
// received by the host with hop limit hostHop (0: unknown): it reaches the
// sandbox one hop later.
func (gw *Gateway) relayQuote6(offender netip.Addr, typ, code uint8, info uint32, quote []byte, hostHop uint8) {
	if len(quote) < header.IPv6MinimumSize || !isV6(quote) {
		return
	}
	hop := uint8(0)
	if hostHop > 1 {
		hop = hostHop - 1
	}
	quote = quote[:min(len(quote), icmp6QuoteRoom)]
	msg := make([]byte, header.ICMPv6MinimumSize+len(quote))
	msg[0], msg[1] = typ, code
	binary.BigEndian.PutUint32(msg[4:], info)
	copy(msg[header.ICMPv6MinimumSize:], quote)
	gw.sendICMP(offender, addrOf(header.IPv6(quote).SourceAddress()), hop, 0, msg)
}

// gatewayError6 sends an ICMPv6 error from the gateway itself (the hop
// that could not forward head, the sandbox's packet).
func (gw *Gateway) gatewayError6(typ header.ICMPv6Type, code header.ICMPv6Code, info uint32, head []byte) {
	gw.relayQuote6(gw.cfg.Gateway6, uint8(typ), uint8(code), info, head, 0)
}

// The errors the gateway answers with as a router, in the family of the
// sandbox's packet head (its IP header and first transport bytes).

func (gw *Gateway) errTimeExceeded(head []byte) {
	if isV6(head) {
		gw.gatewayError6(header.ICMPv6TimeExceeded, header.ICMPv6HopLimitExceeded, 0, head)
		return
	}
	gw.sendICMPError(gw.cfg.Gateway, uint8(header.ICMPv4TimeExceeded), uint8(header.ICMPv4TTLExceeded), 0, head)
}

func (gw *Gateway) errProhibited(head []byte) {
	if isV6(head) {
		gw.gatewayError6(header.ICMPv6DstUnreachable, header.ICMPv6Prohibited, 0, head)
		return
	}
	gw.sendICMPError(gw.cfg.Gateway, uint8(header.ICMPv4DstUnreachable), uint8(header.ICMPv4AdminProhibited), 0, head)
}

// errTooBig tells the sandbox that the path from the gateway on takes mtu.
func (gw *Gateway) errTooBig(head []byte, mtu int) {
	if isV6(head) {
		gw.gatewayError6(header.ICMPv6PacketTooBig, 0, uint32(mtu), head)
		return
	}
	gw.sendICMPError(gw.cfg.Gateway, uint8(header.ICMPv4DstUnreachable), uint8(header.ICMPv4FragmentationNeeded), uint32(mtu), head)
}

func isV6(head []byte) bool { return len(head) > 0 && head[0]>>4 == 6 }

// errorInfoWord6 is the second word of an ICMPv6 error for the host's
// ee_info: the MTU of packet too big, a parameter problem's pointer; the
// others carry none.
func errorInfoWord6(typ uint8, info uint32) uint32 {
	switch header.ICMPv6Type(typ) {
	case header.ICMPv6PacketTooBig, header.ICMPv6ParamProblem:
		return info
	}
	return 0
}
