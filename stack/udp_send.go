package stack

import (
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// maxUDPPayload is the largest payload of one IPv4 UDP datagram:
// 65535 - 20 (IP header) - 8 (UDP header).
const maxUDPPayload = 0xffff - header.IPv4MinimumSize - header.UDPMinimumSize

// SendUDP sends one datagram. Errors are unix.Errno: EMSGSIZE for a payload
// over 65507 bytes or over the path MTU with DF, ENETUNREACH when no route
// matches, EINVAL for a loopback source towards another host.
func (s *Stack) SendUDP(m *UDPSend) error {
	if len(m.Payload) > maxUDPPayload {
		return unix.EMSGSIZE
	}
	if !m.Dst.Addr().Is4() || (m.Src.Addr().IsValid() && !m.Src.Addr().Is4()) {
		return unix.EAFNOSUPPORT
	}
	if m.Dst.Port() == 0 {
		return unix.EINVAL // udp_sendmsg refuses destination port 0
	}
	r, err := s.findRoute(m.Src.Addr(), m.Dst.Addr(), m.IfIndex, !m.NoMulticastLoop)
	if err != nil {
		return err
	}
	defer r.Release()

	// gVisor fragments regardless of DF; Linux refuses a datagram that
	// cannot go out whole when fragmenting is not allowed.
	// Route.MTU is the room left after the IPv4 header.
	if m.DF && header.UDPMinimumSize+len(m.Payload) > int(r.MTU()) {
		return unix.EMSGSIZE
	}
	ttl := m.TTL
	if ttl == 0 {
		ttl = r.DefaultTTL()
	}
	length := uint16(header.UDPMinimumSize + len(m.Payload))
	pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{
		ReserveHeaderBytes: header.UDPMinimumSize + int(r.MaxHeaderLength()),
		Payload:            buffer.MakeWithData(m.Payload),
	})
	defer pkt.DecRef()
	udp := header.UDP(pkt.TransportHeader().Push(header.UDPMinimumSize))
	pkt.TransportProtocolNumber = header.UDPProtocolNumber
	udp.Encode(&header.UDPFields{
		SrcPort: m.Src.Port(),
		DstPort: m.Dst.Port(),
		Length:  length,
	})
	// Always checksum, also on loopback, so that raw sockets and captures see
	// a valid datagram. Zero means "no checksum" in UDP, so it is sent as
	// all ones (RFC 768).
	xsum := r.PseudoHeaderChecksum(header.UDPProtocolNumber, length)
	xsum = checksum.Combine(xsum, checksum.Checksum(m.Payload, 0))
	if c := ^udp.CalculateChecksum(xsum); c != 0 {
		udp.SetChecksum(c)
	} else {
		udp.SetChecksum(0xffff)
	}
	e := r.WritePacket(gstack.NetworkHeaderParams{
		Protocol: header.UDPProtocolNumber,
		TTL:      ttl,
		TOS:      m.TOS,
		DF:       m.DF,
	}, pkt)
	if e != nil {
		return errnoOf(e)
	}
	s.stats.UDPOutDatagrams.Add(1)
	return nil
}

// RouteSource returns the source address and ifindex the route to dst would
// choose (ifindex 0 = any interface).
func (s *Stack) RouteSource(dst netip.Addr, ifindex int) (netip.Addr, int, error) {
	if !dst.Is4() {
		return netip.Addr{}, 0, unix.EAFNOSUPPORT
	}
	r, err := s.findRoute(netip.Addr{}, dst, ifindex, true)
	if err != nil {
		return netip.Addr{}, 0, err
	}
	defer r.Release()
	return nAddr(r.LocalAddress()), int(r.OutgoingNIC()), nil
}

// findRoute asks gVisor for a route and maps its errors to Linux's.
func (s *Stack) findRoute(src, dst netip.Addr, ifindex int, mcastLoop bool) (*gstack.Route, error) {
	if ifindex != 0 && !s.g.HasNIC(tcpip.NICID(ifindex)) {
		return nil, unix.ENODEV
	}
	// Linux: a loopback source may only talk to this host (EINVAL from
	// ip_route_output for an outgoing device that is not loopback).
	if src.IsValid() && src.IsLoopback() && !s.IsLocalAddr(dst) {
		return nil, unix.EINVAL
	}
	r, e := s.g.FindRoute(tcpip.NICID(ifindex), gAddr(src), gAddr(dst), header.IPv4ProtocolNumber, mcastLoop)
	if e != nil {
		switch e.(type) {
		case *tcpip.ErrBadLocalAddress:
			// Linux's ip_route_output rejects a source that is not local
			// with EINVAL.
			return nil, unix.EINVAL
		case *tcpip.ErrHostUnreachable:
			return nil, unix.EHOSTUNREACH
		}
		return nil, unix.ENETUNREACH
	}
	return r, nil
}
