package stack

import (
	"encoding/binary"
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// icmp6Tap is icmpTap's IPv6 twin: a raw endpoint on ICMPv6 that sees
// every ICMPv6 packet before gVisor handles it, and hands the errors that
// quote a UDP or UDP-Lite datagram to the binding that sent it, as
// icmpv6_notify and __udp6_lib_err do. gVisor's own HandleError path
// reaches transports for a few destination-unreachable codes and packet
// too big only, never for time exceeded or parameter problem.
type icmp6Tap struct{ s *Stack }

// HandlePacket runs icmpv6_rcv's checks and icmpv6_notify's delivery:
// to the raw and ping sockets whose datagram the error quotes
// (raw6_icmp_error, ping_err), and to the UDP or UDP-Lite binding that
// sent it (__udp6_lib_err).
func (t *icmp6Tap) HandlePacket(pkt *gstack.PacketBuffer) {
	e, quote, inner, proto6, ok := parseICMP6Error(pkt)
	if !ok {
		return
	}
	t.s.deliverToSockets6(e, quote, inner, proto6)
	proto := tcpip.TransportProtocolNumber(proto6)
	if proto == header.ICMPv6ProtocolNumber && header.ICMPv6Type(e.Type) == header.ICMPv6PacketTooBig {
		t.s.LearnPMTU6(e.Dst.Addr(), int(e.Info)) // icmpv6_err: ip6_update_pmtu
	}
	if proto != header.UDPProtocolNumber && proto != UDPLiteProtocolNumber {
		return
	}
	th := quote[inner:]
	e.PayloadOffset = inner + header.UDPMinimumSize
	e.Payload = append([]byte(nil), th[header.UDPMinimumSize:]...)
	id := gstack.TransportEndpointID{
		LocalPort:     e.Src.Port(),
		LocalAddress:  gAddr(e.Src.Addr()),
		RemotePort:    e.Dst.Port(),
		RemoteAddress: gAddr(e.Dst.Addr()),
	}
	ep := t.s.g.FindTransportEndpoint(header.IPv6ProtocolNumber, proto, id, pkt.NICID)
	if u, ok := ep.(*udpEndpoint); ok {
		u.r.DeliverICMPError(e)
	}
}

// parseICMP6Error reads an ICMPv6 error as icmpv6_rcv and icmpv6_notify
// do: a good checksum, an error type (below 128; the unknown ones are
// passed up too), the quoted IPv6 header and, past its extension
// headers (at inner), 8 bytes of the upper-layer header, whose first
// four bytes are taken as ports. Info is the 32-bit field after the
// ICMPv6 header (the MTU of packet too big, the pointer of a parameter
// problem). quote is a copy, from the quoted IPv6 header on; proto is
// the upper-layer protocol.
func parseICMP6Error(pkt *gstack.PacketBuffer) (e *ICMPError, quote []byte, inner int, proto uint8, ok bool) {
	outer := header.IPv6(pkt.NetworkHeader().Slice())
	if len(outer) < header.IPv6MinimumSize || outer.NextHeader() != uint8(header.ICMPv6ProtocolNumber) {
		return nil, nil, 0, 0, false // extension headers before the ICMPv6 message: not handled
	}
	if th := pkt.TransportHeader().Slice(); len(th) > 0 && th[0]&0x80 != 0 {
		// Informational (echo, NDP, MLD): most ICMPv6 traffic, refused
		// before the packet is copied out.
		return nil, nil, 0, 0, false
	}
	v := pkt.ToView()
	defer v.Release()
	all := v.AsSlice()
	start := len(pkt.LinkHeader().Slice()) + len(outer)
	end := start + int(outer.PayloadLength())
	if end > len(all) || start+header.ICMPv6MinimumSize > end {
		return nil, nil, 0, 0, false
	}
	icmp := all[start:end]
	src, dst := outer.SourceAddress(), outer.DestinationAddress()
	if checksum.Checksum(icmp, header.PseudoHeaderChecksum(header.ICMPv6ProtocolNumber, src, dst, uint16(len(icmp)))) != 0xffff {
		return nil, nil, 0, 0, false
	}
	typ := icmp[0]
	if typ&0x80 != 0 {
		return nil, nil, 0, 0, false // informational
	}
	q := icmp[header.ICMPv6ErrorHeaderSize:]
	inner, proto, ok = skipExtHeaders(q)
	if !ok || len(q) < inner+8 {
		return nil, nil, 0, 0, false
	}
	qip := header.IPv6(q)
	th := q[inner:]
	tclass, _ := outer.TOS()
	e = &ICMPError{
		Type:     typ,
		Code:     icmp[1],
		Info:     binary.BigEndian.Uint32(icmp[4:8]),
		Offender: nAddr(src),
		Src:      netip.AddrPortFrom(nAddr(qip.SourceAddress()), binary.BigEndian.Uint16(th[0:2])),
		Dst:      netip.AddrPortFrom(nAddr(qip.DestinationAddress()), binary.BigEndian.Uint16(th[2:4])),
		IfIndex:  int(pkt.NICID),
		TTL:      outer.HopLimit(),
		TOS:      tclass,
		OrigLen:  icmp[4], // RFC 4884's length sits in the first byte for ICMPv6
	}
	return e, append([]byte(nil), q...), inner, proto, true
}

// skipExtHeaders is ipv6_skip_exthdr over a quoted IPv6 packet: the
// offset of the upper-layer header and its protocol. Hop-by-hop,
// routing and destination options are skipped by their length, a first
// fragment by its 8 bytes; a later fragment has no upper header.
func skipExtHeaders(b []byte) (off int, proto uint8, ok bool) {
	if len(b) < header.IPv6MinimumSize {
		return 0, 0, false
	}
	off, proto = header.IPv6MinimumSize, b[6]
	for n := 0; n < 8; n++ { // bounded: Linux walks until a non-extension header
		switch proto {
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(b) < off+2 {
				return 0, 0, false
			}
			proto, off = b[off], off+(int(b[off+1])+1)*8
		case 44: // fragment
			if len(b) < off+8 {
				return 0, 0, false
			}
			if binary.BigEndian.Uint16(b[off+2:off+4])&^7 != 0 {
				return 0, 0, false
			}
			proto, off = b[off], off+8
		default:
			return off, proto, true
		}
	}
	return 0, 0, false
}
