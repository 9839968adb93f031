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

// MaxUDPPayload is the largest payload of one IPv4 UDP datagram:
// 65535 - 20 (IP header) - 8 (UDP header).
const MaxUDPPayload = 0xffff - header.IPv4MinimumSize - header.UDPMinimumSize

// SendUDP sends one datagram. Errors are unix.Errno: EMSGSIZE for a payload
// over 65507 bytes or over the path MTU with DF, ENETUNREACH when no route
// matches, EINVAL for a loopback source towards another host. An IPv6
// destination goes the IPv6 way (sendUDP6).
func (s *Stack) SendUDP(m *UDPSend) error {
	if m.Dst.Addr().Is6() && !m.Dst.Addr().Is4In6() {
		return s.sendUDP6(m) // udp_ipv6.go
	}
	if len(m.Payload) > MaxUDPPayload {
		return unix.EMSGSIZE
	}
	if !m.Dst.Addr().Is4() || (m.Src.Addr().IsValid() && !m.Src.Addr().Is4()) {
		return unix.EAFNOSUPPORT
	}
	if m.Dst.Port() == 0 {
		return unix.EINVAL // udp_sendmsg refuses destination port 0
	}
	src := m.Src.Addr()
	ref, err := s.cachedRoute(src, m.routeDst(), m.IfIndex, !m.NoMulticastLoop)
	r := ref.r
	weakHost := false
	if err == unix.ENETUNREACH && src.IsValid() && !src.IsUnspecified() && (s.IsLocalAddr(src) || m.AnySource) {
		// gVisor is a strong host: it sends from an address only through
		// that address's NIC. Linux is a weak host and sends from any
		// local address through whatever interface the route picks, so
		// route without the source and write our own IPv4 header.
		r, err = s.findRoute(netip.Addr{}, m.routeDst(), m.IfIndex, !m.NoMulticastLoop)
		ref, weakHost = routeRef{r: r}, true
	}
	pmtuDst := m.Dst.Addr()
	if err != nil {
		if !s.loopbackOnLink(err, m.IfIndex, m.Dst.Addr()) {
			return err
		}
		// Through lo, on link: the datagram comes back to this host's
		// own sockets, from the bound source or loopbackSource's, and
		// with lo's MTU (the route has no nexthop to hold a path MTU).
		if r, err = s.onLinkLoopbackRoute(m.routeDst()); err != nil {
			return err
		}
		ref = routeRef{r: r}
		if !src.IsValid() || src.IsUnspecified() {
			src = s.loopbackSource()
		}
		weakHost, pmtuDst = true, netip.Addr{}
	}
	defer ref.release()
	if m.DontRoute && !onLink(r) {
		return unix.ENETUNREACH
	}
	if !weakHost {
		chosen := !src.IsValid() || src.IsUnspecified()
		src = nAddr(r.LocalAddress())
		if a, ok := s.mcastLoopbackSource(r, m.Dst.Addr()); ok && chosen {
			src, weakHost = a, true
		}
	}

	// gVisor fragments whatever the DF bit says, so the mode is applied
	// here, against the path MTU (pmtu_frag.go).
	mtu, ifMTU, locked := s.sendMTU(r, pmtuDst, m.PMTU)
	size := header.IPv4MinimumSize + m.IPOptions.Len() + header.UDPMinimumSize + len(m.Payload)
	fits := size <= mtu
	df, refuse := m.PMTU.dfAndRefuse(fits)
	if refuse {
		return unix.EMSGSIZE
	}
	df = df && !(locked && m.PMTU == PMTUWant)
	ttl := m.TTL
	if ttl == 0 && !m.Dst.Addr().IsMulticast() {
		// A multicast TTL of 0 is real (IP_MULTICAST_TTL 0): Linux sends
		// the datagram with TTL 0.
		ttl = r.DefaultTTL()
	}
	if m.TTLZero && m.TTL == 0 {
		ttl = 0
	}
	// Linux (ip_select_ident) sends ID 0 only for a DF datagram of an
	// unconnected socket in DO or PROBE mode; gVisor gives every DF
	// datagram ID 0, so other DF datagrams get a header built here.
	zeroID := df && (m.PMTU == PMTUDo || m.PMTU == PMTUProbe) && !m.Connected
	if m.IPOptions.Len() > 0 {
		var id uint16
		if !zeroID {
			id = s.datagramIPID(m.IPID, m.Connected)
		}
		err = s.writeWithOptions(r, src, m, ttl, df, id)
	} else if !fits && mtu < ifMTU {
		err = s.writeFragments(r, src, m, ttl, mtu)
	} else if weakHost || df && !zeroID {
		var id uint16
		if !zeroID {
			id = s.datagramIPID(m.IPID, m.Connected)
		}
		err = s.writeOwnHeader(r, ref.linkRoom(), src, m, ttl, df, id)
	} else {
		err = s.write(r, m, ttl, df)
	}
	if err != nil {
		return err
	}
	s.stats.UDPOutDatagrams.Add(1)
	return nil
}

// dfAndRefuse tells whether a datagram leaves with DF and whether it is
// refused with EMSGSIZE, given whether it fits the route MTU unfragmented.
func (p PMTUMode) dfAndRefuse(fits bool) (df, refuse bool) {
	switch p {
	case PMTUWant:
		return fits, false
	case PMTUDo, PMTUProbe:
		return true, !fits
	case PMTUInterface:
		return false, !fits
	}
	return false, false
}

// nextIPID returns a nonzero IP ID from a counter that starts at a random
// value.
func (s *Stack) nextIPID() uint16 {
	for {
		if id := uint16(s.ipID.Add(1)); id != 0 {
			return id
		}
	}
}

// write sends through gVisor's IPv4, which adds the header (ID 0 with DF,
// a fresh one without).
func (s *Stack) write(r *gstack.Route, m *UDPSend, ttl uint8, df bool) error {
	pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{
		ReserveHeaderBytes: header.UDPMinimumSize + int(r.MaxHeaderLength()),
		Payload:            buffer.MakeWithData(m.Payload),
	})
	defer pkt.DecRef()
	udp := header.UDP(pkt.TransportHeader().Push(header.UDPMinimumSize))
	pkt.TransportProtocolNumber = m.proto()
	putUDPHeader(udp, r.LocalAddress(), r.RemoteAddress(), m)
	if m.Connected && m.IPID != nil {
		// gVisor picks a random ID without DF; the IPv4 hook puts
		// the socket's next one in its place (ipid.go).
		pkt.Owner = m.IPID
	}
	e := r.WritePacket(gstack.NetworkHeaderParams{
		Protocol: m.proto(),
		TTL:      ttl,
		TOS:      m.TOS,
		DF:       df,
	}, pkt)
	if e != nil {
		return sendErrno(e)
	}
	return nil
}

// writeOwnHeader sends a datagram with an IPv4 header built here: for a
// source address of another NIC than the route's (weak host), or for an IP
// ID gVisor would not choose. gVisor fills in the header checksum, an ID
// when id is 0 and DF is clear, and fragments as needed. room is
// linkHeaderRoom(r).
func (s *Stack) writeOwnHeader(r *gstack.Route, room int, src netip.Addr, m *UDPSend, ttl uint8, df bool, id uint16) error {
	const hdrLen = header.IPv4MinimumSize + header.UDPMinimumSize
	n := hdrLen + len(m.Payload)
	// Headers and payload share one view: this is the path of every
	// datagram in the default IP_PMTUDISC_WANT mode, and a view apart for
	// the payload cost a buffer pool round trip more per datagram.
	v := buffer.NewViewSize(n)
	b := v.AsSlice()
	copy(b[hdrLen:], m.Payload)
	var flags uint8
	if df {
		flags = header.IPv4FlagDontFragment
	}
	gsrc := gAddr(src)
	header.IPv4(b).Encode(&header.IPv4Fields{
		TOS:         m.TOS,
		TotalLength: uint16(n),
		ID:          id,
		Flags:       flags,
		TTL:         ttl,
		Protocol:    uint8(m.proto()),
		SrcAddr:     gsrc,
		DstAddr:     r.RemoteAddress(),
	})
	putUDPHeader(header.UDP(b[header.IPv4MinimumSize:]), gsrc, r.RemoteAddress(), m)
	pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{
		ReserveHeaderBytes: room,
		Payload:            buffer.MakeWithView(v),
	})
	defer pkt.DecRef()
	if e := r.WriteHeaderIncludedPacket(pkt); e != nil {
		return sendErrno(e)
	}
	return nil
}

// linkHeaderRoom is what a packet whose IP header is already in its data
// must reserve: the link header only. A route's MaxHeaderLength adds
// IPv4's largest header (gVisor's ipv4 endpoint: link + 60), and reserving
// it allocates a view that nothing fills (none at all on a bare-IP link).
// Fragments get their own room from gVisor.
func linkHeaderRoom(r *gstack.Route) int {
	return max(int(r.MaxHeaderLength())-header.IPv4MaximumHeaderSize, 0)
}

// putUDPHeader fills in the UDP header of a datagram carrying m.Payload.
func putUDPHeader(udp header.UDP, src, dst tcpip.Address, m *UDPSend) {
	if m.Lite {
		putUDPLiteHeader(udp, src, dst, m)
		return
	}
	length := uint16(header.UDPMinimumSize + len(m.Payload))
	udp.Encode(&header.UDPFields{
		SrcPort: m.Src.Port(),
		DstPort: m.Dst.Port(),
		Length:  length,
	})
	if m.NoChecksum {
		return // the checksum field stays 0: none
	}
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
	return s.RouteFrom(netip.Addr{}, dst, ifindex)
}

// RouteFrom is RouteSource for a socket bound to src (invalid or 0.0.0.0 =
// none): a bound source takes part in the lookup as in Linux (a multicast
// or limited broadcast leaves through the source's interface), and, Linux
// being a weak host, a local source of another interface does not make a
// route fail.
func (s *Stack) RouteFrom(src, dst netip.Addr, ifindex int) (netip.Addr, int, error) {
	if !dst.Is4() || src.IsValid() && !src.Is4() {
		return netip.Addr{}, 0, unix.EAFNOSUPPORT
	}
	if src.IsValid() && src.IsUnspecified() {
		src = netip.Addr{}
	}
	r, err := s.findRoute(src, dst, ifindex, true)
	if err == unix.ENETUNREACH && src.IsValid() && s.IsLocalAddr(src) {
		r, err = s.findRoute(netip.Addr{}, dst, ifindex, true)
	}
	if err != nil {
		if !s.loopbackOnLink(err, ifindex, dst) {
			return netip.Addr{}, 0, err
		}
		if src.IsValid() {
			return src, loopbackIfIndex, nil
		}
		return s.loopbackSource(), loopbackIfIndex, nil
	}
	defer r.Release()
	return nAddr(r.LocalAddress()), int(r.OutgoingNIC()), nil
}

// findRoute asks gVisor for a route and maps its errors to Linux's.
func (s *Stack) findRoute(src, dst netip.Addr, ifindex int, mcastLoop bool) (*gstack.Route, error) {
	if ifindex != 0 && !s.g.HasNIC(tcpip.NICID(ifindex)) {
		return nil, unix.ENODEV
	}
	if ifindex == 0 {
		var err error
		if ifindex, err = s.sourceDevice(src, dst); err != nil {
			return nil, err
		}
	}
	src = loopbackPrefSrc(src, dst)
	if src.IsValid() && src.IsLoopback() && ifindex != loopbackIfIndex && !s.IsLocalAddr(dst) {
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
		return nil, routeErrno(e)
	}
	if ifindex != 0 && r.Loop() == gstack.PacketOut && int(r.OutgoingNIC()) != ifindex {
		// With forwarding on the output interface's NIC missing, gVisor
		// lends a route of a forwarding NIC with ifindex's address as
		// the source (a 127.0.0.1 leaving through eth0 for lo). Linux's
		// output lookup reads no forwarding switch: with an output
		// interface only next hops on it count, as without forwarding.
		r.Release()
		return nil, unix.ENETUNREACH
	}
	return r, nil
}

// routeErrno is Linux's errno for gVisor's FindRoute failing: an
// unreachable host (no neighbour) EHOSTUNREACH, anything else no route,
// ENETUNREACH.
func routeErrno(e tcpip.Error) error {
	if _, ok := e.(*tcpip.ErrHostUnreachable); ok {
		return unix.EHOSTUNREACH
	}
	return unix.ENETUNREACH
}
