package stack

import (
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// IPv6 for netsandbox's UDP transport (issue 14). A binding whose address
// is an IPv6 one (:: included) is an AF_INET6 socket's: registered for
// IPv6, and for IPv4 too when it is a dual-stack ::, so that the one
// transport serves both families as Linux's udp.c does (udpv6_rcv and
// udp_rcv share the hash tables). The socket layer unmaps v4-mapped
// addresses before they get here: an IPv4 address is IPv4's path.
//
// ICMPv6 errors reach bindings through the ICMPv6 tap (icmp6_tap.go);
// a packet too big lowers the path MTU (pmtu6.go), which a send that may
// not fragment is held to and a fragmented one cut at (udp6_frag.go).
// What IPv6 lacks here that IPv4 has: weak-host sending from an address
// of another interface.

// MaxUDP6Payload is the largest payload of one IPv6 UDP datagram without a
// jumbogram: 65535 (payload length) - 8 (UDP header).
const MaxUDP6Payload = 0xffff - header.UDPMinimumSize

// wildNets are the network protocols a wildcard binding of a registers
// for: an IPv6 :: takes IPv4 too unless v6only.
func wildNets(a netip.Addr, v6only bool) []tcpip.NetworkProtocolNumber {
	switch {
	case !a.Is6():
		return ipv4Only
	case v6only:
		return ipv6Only
	}
	return dualStack
}

// netsFor are the network protocols of a registration or reservation at
// addr: the address's own family, or the binding's wildcard ones.
func (b *UDPBinding) netsFor(addr tcpip.Address) []tcpip.NetworkProtocolNumber {
	switch addr.Len() {
	case 4:
		return ipv4Only
	case 16:
		return ipv6Only
	}
	return b.wildNets
}

// hasIPv6 tells whether the stack runs IPv6 (a gateway stack does not).
func (s *Stack) hasIPv6() bool {
	return s.g.NetworkProtocolInstance(header.IPv6ProtocolNumber) != nil
}

// connect6Locked is ip6_datagram_connect's part below the socket layer:
// the route to remote fixes the local address of a wildcard binding, and
// the registration becomes the 4-tuple (IPv6 only). A binding to an IPv4
// address cannot reach an IPv6 peer, nor one to an IPv6 address an IPv4
// peer.
func (b *UDPBinding) connect6Locked(remote netip.AddrPort, ifindex int) error {
	src := b.local.Addr()
	if !remote.Addr().Is6() || remote.Addr().Is4In6() || src.Is4() && !src.IsUnspecified() {
		return unix.EAFNOSUPPORT
	}
	if src.IsUnspecified() {
		src = netip.Addr{}
	}
	r, err := b.s.findRoute6(src, remote.Addr(), ifindex, true)
	if err != nil {
		return err
	}
	src = nAddr(r.LocalAddress())
	err = b.s.mcastOverLoopback(r, remote.Addr())
	r.Release()
	if err != nil {
		return err
	}
	return b.connectLocked(src, remote)
}

// findRoute6 asks gVisor for an IPv6 route and maps its errors to
// Linux's: no route is ENETUNREACH, an interface that does not exist
// ENODEV, a source no interface has EADDRNOTAVAIL (as ip6_dst_lookup).
func (s *Stack) findRoute6(src, dst netip.Addr, ifindex int, mcastLoop bool) (*gstack.Route, error) {
	if !s.hasIPv6() {
		return nil, unix.EAFNOSUPPORT
	}
	if ifindex != 0 && !s.g.HasNIC(tcpip.NICID(ifindex)) {
		return nil, unix.ENODEV
	}
	if src.IsValid() && !src.IsUnspecified() && !s.IsLocalAddr6(src) {
		return nil, unix.EADDRNOTAVAIL
	}
	r, e := s.g.FindRoute(tcpip.NICID(ifindex), gAddr(src), gAddr(dst), header.IPv6ProtocolNumber, mcastLoop)
	if e != nil {
		return nil, routeErrno(e)
	}
	return r, nil
}

// mcastOverLoopback is the route lookup's answer for an IPv6 group
// through lo, which has no IFF_MULTICAST: ENETUNREACH.
func (s *Stack) mcastOverLoopback(r *gstack.Route, dst netip.Addr) error {
	if !dst.IsMulticast() {
		return nil
	}
	if ifc, ok := s.InterfaceByIndex(int(r.NICID())); ok && ifc.Loopback {
		return unix.ENETUNREACH
	}
	return nil
}

// routeSource6 is the source a route lookup for a send from src takes:
// none for :: or an address no interface has (a freebind binding's,
// which the packet keeps: ip6_dst_lookup_tail does not check it).
func (s *Stack) routeSource6(src netip.Addr) netip.Addr {
	if !src.IsValid() || src.IsUnspecified() || !s.IsLocalAddr6(src) {
		return netip.Addr{}
	}
	return src
}

// sendUDP6 is SendUDP for an IPv6 destination (udpv6_sendmsg below the
// socket layer): m.TTL is the hop limit the socket chose (TTLZero sends
// 0), m.TOS the traffic class. A datagram larger than the MTU is refused
// or fragmented by netsandbox itself (udp6_frag.go), at the path MTU and
// IPV6_MTU, which gVisor's IPv6 does not know.
func (s *Stack) sendUDP6(m *UDPSend) error {
	if len(m.Payload) > MaxUDP6Payload {
		return unix.EMSGSIZE
	}
	src := m.Src.Addr()
	if src.IsValid() && (src.Is4() || src.Is4In6()) {
		return unix.EAFNOSUPPORT
	}
	if m.Dst.Port() == 0 {
		return unix.EINVAL
	}
	// A source no interface has is a freebind or transparent binding's:
	// the route is chosen as for no source, the packet keeps it.
	routeSrc := s.routeSource6(src)
	foreign := src.IsValid() && !src.IsUnspecified() && !routeSrc.IsValid()
	r, err := s.findRoute6(routeSrc, m.Dst.Addr(), m.IfIndex, !m.NoMulticastLoop)
	if err != nil {
		return err
	}
	defer r.Release()
	local := r.LocalAddress()
	if foreign {
		local = gAddr(src)
	}
	if err := s.mcastOverLoopback(r, m.Dst.Addr()); err != nil {
		return err
	}
	if m.DontRoute && !onLink(r) {
		return unix.ENETUNREACH
	}
	size := header.IPv6MinimumSize + header.UDPMinimumSize + len(m.Payload)
	// No MTU is below IPV6_MIN_MTU (a device's, a learnt one, IPV6_MTU):
	// a packet that fits it needs no look at them.
	cork, out := ipv6MinMTU, ipv6MinMTU
	if size > ipv6MinMTU {
		cork, out = s.mtus6(r, m.Dst.Addr(), m.PMTU, m.FragSize)
	}
	if refuses6(m, size, cork) {
		return unix.EMSGSIZE
	}
	hop := m.TTL
	if hop == 0 && !m.TTLZero {
		hop = r.DefaultTTL()
	}
	if size > out || foreign {
		var err error
		if size > out {
			err = s.writeFragments6(r, local, m, hop, cork)
		} else {
			err = s.writeForeign6(r, local, m, hop)
		}
		if err != nil {
			return err
		}
		s.stats.UDPOutDatagrams.Add(1)
		return nil
	}
	pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{
		ReserveHeaderBytes: header.UDPMinimumSize + int(r.MaxHeaderLength()),
		Payload:            buffer.MakeWithData(m.Payload),
	})
	defer pkt.DecRef()
	udp := header.UDP(pkt.TransportHeader().Push(header.UDPMinimumSize))
	pkt.TransportProtocolNumber = m.proto()
	putUDPHeader(udp, r.LocalAddress(), r.RemoteAddress(), m)
	if e := r.WritePacket(gstack.NetworkHeaderParams{Protocol: m.proto(), TTL: hop, TOS: m.TOS}, pkt); e != nil {
		return sendErrno(e)
	}
	s.stats.UDPOutDatagrams.Add(1)
	return nil
}

// deliver6 hands a valid IPv6 datagram to the receiver: TTL carries the
// hop limit and TOS the traffic class.
func (e *udpEndpoint) deliver6(pkt *gstack.PacketBuffer) {
	ip := header.IPv6(pkt.NetworkHeader().Slice())
	udp := header.UDP(pkt.TransportHeader().Slice())
	tclass, _ := ip.TOS()
	d := datagramPool.Get().(*Datagram)
	*d = Datagram{
		Src:     netip.AddrPortFrom(nAddr(ip.SourceAddress()), udp.SourcePort()),
		Dst:     netip.AddrPortFrom(nAddr(ip.DestinationAddress()), udp.DestinationPort()),
		IfIndex: int(pkt.NICID),
		TTL:     ip.HopLimit(),
		TOS:     tclass,
		Payload: pkt.Data().AsRange().ToSlice(),
	}
	e.s.stats.UDPInDatagrams.Add(1)
	e.r.DeliverUDP(d)
	*d = Datagram{}
	datagramPool.Put(d)
}

// isIPv6 tells whether pkt came over IPv6.
func isIPv6(pkt *gstack.PacketBuffer) bool {
	return pkt.NetworkProtocolNumber == header.IPv6ProtocolNumber
}

// JoinGroup6 makes the interface ifindex (0: the one the route to group
// leaves by, ENODEV without one) a listener of the IPv6 group, as
// ipv6_sock_mc_join; gVisor counts the joins and sends the MLD reports.
// It returns the interface joined.
func (s *Stack) JoinGroup6(ifindex int, group netip.Addr) (int, error) {
	if ifindex == 0 {
		r, err := s.findRoute6(netip.Addr{}, group, 0, false)
		if err != nil {
			return 0, unix.ENODEV
		}
		ifindex = int(r.NICID())
		r.Release()
	} else if !s.g.HasNIC(tcpip.NICID(ifindex)) {
		return 0, unix.ENODEV
	}
	if e := s.g.JoinGroup(header.IPv6ProtocolNumber, tcpip.NICID(ifindex), gAddr(group)); e != nil {
		return 0, routeErrno(e)
	}
	return ifindex, nil
}

// LeaveGroup6 undoes one JoinGroup6.
func (s *Stack) LeaveGroup6(ifindex int, group netip.Addr) {
	_ = s.g.LeaveGroup(header.IPv6ProtocolNumber, tcpip.NICID(ifindex), gAddr(group))
}
