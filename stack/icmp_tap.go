package stack

import (
	"encoding/binary"
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// The highest codes icmp_unreach accepts: ICMP_REDIR_HOSTTOS (gVisor's
// header package names no redirect codes) and NR_ICMP_UNREACH.
const (
	icmpMaxRedirCode   header.ICMPv4Code = 3
	icmpMaxUnreachCode                   = header.ICMPv4PrecedenceCutInEffect
)

// icmpTap is a raw endpoint on ICMPv4: gVisor gives it a copy of every
// unfragmented ICMP packet before its own ICMP handling. It is the only
// path by which ICMP errors reach UDP bindings (gVisor's HandleError path
// is ignored, udp_icmp.go), because gVisor passes transports destination
// unreachable only, never time exceeded or parameter problem.
type icmpTap struct{ s *Stack }

// startICMPTap registers the tap, and with icmp6 the ICMPv6 one
// (icmp6_tap.go; a gateway stack has its own); called once by New.
func (s *Stack) startICMPTap(icmp6 bool) error {
	s.RawOpened(int(header.ICMPv4ProtocolNumber)) // the tap stays registered
	if e := s.g.RegisterRawTransportEndpoint(header.IPv4ProtocolNumber, header.ICMPv4ProtocolNumber, &icmpTap{s: s}); e != nil {
		return configErrno(e)
	}
	if icmp6 && s.hasIPv6() {
		if e := s.g.RegisterRawTransportEndpoint(header.IPv6ProtocolNumber, header.ICMPv6ProtocolNumber, &icmp6Tap{s: s}); e != nil {
			return configErrno(e)
		}
	}
	return nil
}

// HandlePacket runs icmp_rcv and icmp_unreach's checks on an ICMP error and
// hands it to the socket whose datagram it quotes, as icmp_socket_deliver
// and the protocols' err handlers do.
func (t *icmpTap) HandlePacket(pkt *gstack.PacketBuffer) {
	e, proto, quote, ok := t.s.parseICMPTap(pkt)
	if !ok {
		return
	}
	typ := header.ICMPv4Type(e.Type)
	fragNeeded := typ == header.ICMPv4DstUnreachable && header.ICMPv4Code(e.Code) == header.ICMPv4FragmentationNeeded
	if t.s.deliverToSockets(e, quote) && fragNeeded {
		t.s.LearnPMTU(e.Dst.Addr(), int(e.Info)) // raw_err, ping_err
	}
	if typ == header.ICMPv4SrcQuench || typ == header.ICMPv4Redirect {
		return // only ping sockets report these
	}
	id := gstack.TransportEndpointID{
		LocalPort:     e.Src.Port(),
		LocalAddress:  gAddr(e.Src.Addr()),
		RemotePort:    e.Dst.Port(),
		RemoteAddress: gAddr(e.Dst.Addr()),
	}
	ep := t.s.g.FindTransportEndpoint(header.IPv4ProtocolNumber, proto, id, pkt.NICID)
	if ep == nil {
		return
	}
	if fragNeeded {
		// ipv4_sk_update_pmtu / tcp_v4_mtu_reduced: the err handler of the
		// matched socket lowers the destination's path MTU (gVisor's TCP
		// also adjusts its own MSS through HandleError).
		t.s.LearnPMTU(e.Dst.Addr(), int(e.Info))
	}
	if u, ok := ep.(*udpEndpoint); ok {
		u.r.DeliverICMPError(e)
	}
}

// parseICMPTap validates an ICMP error as icmp_rcv and icmp_unreach do and
// reads what the sockets need. proto is the quoted transport protocol.
func (s *Stack) parseICMPTap(pkt *gstack.PacketBuffer) (*ICMPError, tcpip.TransportProtocolNumber, []byte, bool) {
	outer := header.IPv4(pkt.NetworkHeader().Slice())
	if len(outer) < header.IPv4MinimumSize || int(outer.HeaderLength()) != len(outer) {
		return nil, 0, nil, false
	}
	dst := nAddr(outer.DestinationAddress())
	// icmp_rcv: errors sent to a broadcast or multicast address are
	// dropped.
	if pkt.NetworkPacketInfo.LocalAddressBroadcast || dst.IsMulticast() || dst == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return nil, 0, nil, false
	}
	v := pkt.ToView()
	defer v.Release()
	all := v.AsSlice()
	start := len(pkt.LinkHeader().Slice()) + len(outer)
	end := len(pkt.LinkHeader().Slice()) + int(outer.TotalLength())
	if end > len(all) || start+header.ICMPv4MinimumSize > end {
		return nil, 0, nil, false
	}
	icmp := header.ICMPv4(all[start:end])
	if checksum.Checksum(icmp, 0) != 0xffff {
		return nil, 0, nil, false
	}
	typ, code := icmp.Type(), icmp.Code()
	var info uint32
	switch typ {
	case header.ICMPv4DstUnreachable:
		if code > icmpMaxUnreachCode {
			return nil, 0, nil, false
		}
		if code == header.ICMPv4FragmentationNeeded {
			switch s.sysctl.Int("net.ipv4.ip_no_pmtu_disc") {
			case 0:
				info = uint32(icmp.MTU())
			case 1:
			default:
				// 2 ignores every frag-needed; 3 those of protocols
				// without strict tag validation (all we carry).
				return nil, 0, nil, false
			}
		}
	case header.ICMPv4TimeExceeded:
		if code == header.ICMPv4ReassemblyTimeout {
			return nil, 0, nil, false // icmp_unreach ignores reassembly timeouts
		}
	case header.ICMPv4ParamProblem:
		info = uint32(icmp[4]) // the pointer: un.gateway >> 24
	case header.ICMPv4SrcQuench, header.ICMPv4Redirect:
		// For ping sockets only (ping_err reports them as EREMOTEIO).
		if code > icmpMaxRedirCode {
			return nil, 0, nil, false
		}
		if typ == header.ICMPv4Redirect {
			info = binary.BigEndian.Uint32(icmp[4:8]) // the gateway
		}
	default:
		return nil, 0, nil, false
	}
	quote := []byte(icmp[header.ICMPv4MinimumSize:])
	if len(quote) < header.IPv4MinimumSize {
		return nil, 0, nil, false
	}
	qip := header.IPv4(quote)
	ihl := int(qip.HeaderLength())
	// icmp_unreach: ihl >= 5; icmp_socket_deliver: 8 bytes of the
	// transport header must be there.
	if ihl < header.IPv4MinimumSize || len(quote) < ihl+8 {
		return nil, 0, nil, false
	}
	proto := tcpip.TransportProtocolNumber(qip.Protocol())
	th := quote[ihl:]
	tos, _ := outer.TOS()
	e := &ICMPError{
		Type:     uint8(typ),
		Code:     uint8(code),
		Info:     info,
		Offender: nAddr(outer.SourceAddress()),
		Src:      netip.AddrPortFrom(nAddr(qip.SourceAddress()), uint16(th[0])<<8|uint16(th[1])),
		Dst:      netip.AddrPortFrom(nAddr(qip.DestinationAddress()), uint16(th[2])<<8|uint16(th[3])),
		IfIndex:  int(pkt.NICID),
		TTL:      outer.TTL(),
		TOS:      tos,
		OrigLen:  icmp[5],
	}
	if proto == header.UDPProtocolNumber || proto == UDPLiteProtocolNumber {
		e.PayloadOffset = ihl + header.UDPMinimumSize
		e.Payload = append([]byte(nil), th[header.UDPMinimumSize:]...)
	}
	// The view is released on return: raw and ping sockets get a copy.
	return e, proto, append([]byte(nil), quote...), true
}
