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
	src := m.Src.Addr()
	r, err := s.findRoute(src, m.Dst.Addr(), m.IfIndex, !m.NoMulticastLoop)
	weakHost := false
	if err == unix.ENETUNREACH && src.IsValid() && !src.IsUnspecified() && s.IsLocalAddr(src) {
		// gVisor is a strong host: it sends from an address only through
		// that address's NIC. Linux is a weak host and sends from any
		// local address through whatever interface the route picks, so
		// route without the source and write our own IPv4 header.
		r, err = s.findRoute(netip.Addr{}, m.Dst.Addr(), m.IfIndex, !m.NoMulticastLoop)
		weakHost = true
	}
	if err != nil {
		return err
	}
	defer r.Release()
	if !weakHost {
		src = nAddr(r.LocalAddress())
	}

	// gVisor fragments regardless of DF; Linux refuses a datagram that
	// cannot go out whole when fragmenting is not allowed. Route.MTU is the
	// room left after the IPv4 header.
	if m.DF && header.UDPMinimumSize+len(m.Payload) > int(r.MTU()) {
		return unix.EMSGSIZE
	}
	ttl := m.TTL
	if ttl == 0 {
		ttl = r.DefaultTTL()
	}
	if weakHost {
		err = s.writeWeakHost(r, src, m, ttl)
	} else {
		err = s.write(r, m, ttl)
	}
	if err != nil {
		return err
	}
	s.stats.UDPOutDatagrams.Add(1)
	return nil
}

// write sends through gVisor's IPv4, which adds the header.
func (s *Stack) write(r *gstack.Route, m *UDPSend, ttl uint8) error {
	pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{
		ReserveHeaderBytes: header.UDPMinimumSize + int(r.MaxHeaderLength()),
		Payload:            buffer.MakeWithData(m.Payload),
	})
	defer pkt.DecRef()
	udp := header.UDP(pkt.TransportHeader().Push(header.UDPMinimumSize))
	pkt.TransportProtocolNumber = header.UDPProtocolNumber
	putUDPHeader(udp, r.LocalAddress(), r.RemoteAddress(), m)
	e := r.WritePacket(gstack.NetworkHeaderParams{
		Protocol: header.UDPProtocolNumber,
		TTL:      ttl,
		TOS:      m.TOS,
		DF:       m.DF,
	}, pkt)
	if e != nil {
		return errnoOf(e)
	}
	return nil
}

// writeWeakHost sends a datagram whose source address belongs to another
// NIC than the route's, with an IPv4 header built here. gVisor still fills
// in the ID and header checksum and fragments as needed.
func (s *Stack) writeWeakHost(r *gstack.Route, src netip.Addr, m *UDPSend, ttl uint8) error {
	n := header.IPv4MinimumSize + header.UDPMinimumSize + len(m.Payload)
	b := make([]byte, n)
	var flags uint8
	if m.DF {
		flags = header.IPv4FlagDontFragment
	}
	header.IPv4(b).Encode(&header.IPv4Fields{
		TOS:         m.TOS,
		TotalLength: uint16(n),
		Flags:       flags,
		TTL:         ttl,
		Protocol:    uint8(header.UDPProtocolNumber),
		SrcAddr:     gAddr(src),
		DstAddr:     r.RemoteAddress(),
	})
	udp := header.UDP(b[header.IPv4MinimumSize:])
	copy(udp.Payload(), m.Payload)
	putUDPHeader(udp, gAddr(src), r.RemoteAddress(), m)
	pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{
		ReserveHeaderBytes: int(r.MaxHeaderLength()),
		Payload:            buffer.MakeWithData(b),
	})
	defer pkt.DecRef()
	if e := r.WriteHeaderIncludedPacket(pkt); e != nil {
		return errnoOf(e)
	}
	return nil
}

// putUDPHeader fills in a UDP header whose payload follows it in udp's
// backing memory or, for write, is m.Payload.
func putUDPHeader(udp header.UDP, src, dst tcpip.Address, m *UDPSend) {
	length := uint16(header.UDPMinimumSize + len(m.Payload))
	udp.Encode(&header.UDPFields{
		SrcPort: m.Src.Port(),
		DstPort: m.Dst.Port(),
		Length:  length,
	})
	// Always checksum, also on loopback, so that raw sockets and captures see
	// a valid datagram. Zero means "no checksum" in UDP, so it is sent as
	// all ones (RFC 768).
	xsum := header.PseudoHeaderChecksum(header.UDPProtocolNumber, src, dst, length)
	xsum = checksum.Combine(xsum, checksum.Checksum(m.Payload, 0))
	if c := ^udp.CalculateChecksum(xsum); c != 0 {
		udp.SetChecksum(c)
	} else {
		udp.SetChecksum(0xffff)
	}
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
	if src.IsValid() && src.IsLoopback() && !s.IsLocalAddr(dst) {
		// Linux's ip_route_output: with a route to dst the error is EINVAL
		// (a loopback source on a non-loopback device), without one it is
		// ENETUNREACH.
		r, err := s.findRoute(netip.Addr{}, dst, ifindex, mcastLoop)
		if err != nil {
			return nil, err
		}
		r.Release()
		return nil, unix.EINVAL
	}
	r, e := s.g.FindRoute(tcpip.NICID(ifindex), gAddr(src), gAddr(dst), header.IPv4ProtocolNumber, mcastLoop)
	if e != nil {
		if _, ok := e.(*tcpip.ErrHostUnreachable); ok {
			return nil, unix.EHOSTUNREACH
		}
		return nil, unix.ENETUNREACH
	}
	return r, nil
}
