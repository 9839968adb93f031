package gateway

import (
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// The ICMPv6 errors the sandbox's stack sends about datagrams of relayed
// UDP flows go to the flow's remote as ICMP errors do (icmp_out.go),
// through gw.out6, a raw ICMPv6 socket (the kernel fills the checksum);
// without one the flow's host socket is closed, as for IPv4.

type icmpOutTap6 struct{ gw *Gateway }

func (gw *Gateway) startICMPOut6() error {
	return gw.out6.start(gw.g, unix.AF_INET6, hostICMPv6Limits(), &icmpOutTap6{gw: gw})
}

func (gw *Gateway) stopICMPOut6() { gw.out6.stop(gw.g) }

// hostICMPv6Limits are Linux's limits for ICMPv6 errors: per destination
// net.ipv6.icmp.ratelimit, overall the IPv4 knobs (icmp_global_allow
// serves both families); every error but packet too big is limited.
func hostICMPv6Limits() icmpLimits {
	l := hostICMPLimits()
	l.perPeer = time.Second
	if b, err := os.ReadFile("/proc/sys/net/ipv6/icmp/ratelimit"); err == nil {
		if v, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && v >= 0 {
			l.perPeer = time.Duration(v) * time.Millisecond
		}
	}
	l.ratemask = 1<<header.ICMPv6DstUnreachable | 1<<header.ICMPv6TimeExceeded | 1<<header.ICMPv6ParamProblem
	return l
}

// HandlePacket sees every ICMPv6 packet the sandbox sends (a raw endpoint
// of the gateway's stack): an error about a datagram of a relayed UDP flow
// goes to the flow's remote; one about no such flow is dropped, counted.
func (t *icmpOutTap6) HandlePacket(pkt *gstack.PacketBuffer) {
	gw := t.gw
	if pkt.NICID != gw.nic || gw.closed.Load() {
		return
	}
	nh := pkt.NetworkHeader().Slice()
	if len(nh) < header.IPv6MinimumSize {
		return
	}
	outer := header.IPv6(nh)
	toGateway := gw.isGatewayAddr(addrOf(outer.DestinationAddress()))
	v := pkt.ToView()
	defer v.Release()
	all := v.AsSlice()
	start := len(pkt.LinkHeader().Slice()) + len(nh)
	end := start + int(outer.PayloadLength())
	if len(nh) != header.IPv6MinimumSize || end > len(all) || start+header.ICMPv6ErrorHeaderSize > end {
		return
	}
	msg := all[start:end]
	switch header.ICMPv6Type(msg[0]) {
	case header.ICMPv6DstUnreachable, header.ICMPv6PacketTooBig, header.ICMPv6TimeExceeded, header.ICMPv6ParamProblem:
	default:
		return // not an error: echo is icmp6.go's, NDP the stack's
	}
	sum := header.PseudoHeaderChecksum(header.ICMPv6ProtocolNumber, outer.SourceAddress(), outer.DestinationAddress(), uint16(len(msg)))
	if checksum.Checksum(msg, sum) != 0xffff {
		gw.stats.ICMPErrDropped.Add(1)
		return
	}
	src, dst, udpLen, payload, hop, tclass, ok := parseUDPQuote6(msg[header.ICMPv6ErrorHeaderSize:])
	f := gw.quotedFlow(src, dst, ok, toGateway)
	if f == nil {
		if s := gw.pubSession6(src, dst, ok && toGateway); s != nil {
			s.relayError6(msg[0], msg[1], msg[4:8], udpLen, payload)
		}
		return
	}
	if hop < 255 {
		hop++ // the gateway took one off on the way in
	}
	gw.relayErrorToWorld(&gw.out6, f, msg[0], msg[1], msg[4:8], hop, tclass, udpLen, payload)
}

// parseUDPQuote6 reads an ICMPv6 error's quote of a UDP datagram (no
// extension headers): its addresses, UDP length, quoted payload, hop limit
// and traffic class.
func parseUDPQuote6(q []byte) (src, dst netip.AddrPort, udpLen uint16, payload []byte, hop, tclass uint8, ok bool) {
	if len(q) < header.IPv6MinimumSize+header.UDPMinimumSize || !isV6(q) {
		return
	}
	ip := header.IPv6(q)
	if ip.NextHeader() != uint8(header.UDPProtocolNumber) {
		return
	}
	u := header.UDP(q[header.IPv6MinimumSize:])
	src = netip.AddrPortFrom(addrOf(ip.SourceAddress()), u.SourcePort())
	dst = netip.AddrPortFrom(addrOf(ip.DestinationAddress()), u.DestinationPort())
	tclass, _ = ip.TOS()
	return src, dst, u.Length(), q[header.IPv6MinimumSize+header.UDPMinimumSize:], ip.HopLimit(), tclass, true
}

// buildUDPError6 makes an ICMPv6 error (checksum left to the kernel)
// quoting a UDP datagram from -> to of UDP length udpLen whose payload
// starts with payload, with the hop limit and traffic class the host
// received it with; rest is the header's second word.
func buildUDPError6(typ, code uint8, rest []byte, from, to netip.AddrPort, hop, tclass uint8, udpLen uint16, payload []byte) []byte {
	room := icmp6QuoteRoom - header.IPv6MinimumSize - header.UDPMinimumSize
	payload = payload[:min(len(payload), room)]
	msg := make([]byte, header.ICMPv6ErrorHeaderSize+header.IPv6MinimumSize+header.UDPMinimumSize+len(payload))
	msg[0], msg[1] = typ, code
	copy(msg[4:8], rest)
	ip := header.IPv6(msg[header.ICMPv6ErrorHeaderSize:])
	ip.Encode(&header.IPv6Fields{
		TrafficClass:      tclass,
		PayloadLength:     udpLen,
		TransportProtocol: header.UDPProtocolNumber,
		HopLimit:          hop,
		SrcAddr:           gAddr(from.Addr()),
		DstAddr:           gAddr(to.Addr()),
	})
	putQuotedUDP(msg[header.ICMPv6ErrorHeaderSize+header.IPv6MinimumSize:], from, to, udpLen, payload, true)
	return msg
}
