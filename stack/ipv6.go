package stack

import (
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// IPv6 (issue 14): gVisor's ipv6 network protocol carries it beside
// IPv4, with lo holding ::1/128 as Linux's lo does. NDP's router
// solicitations and DAD stay at gVisor's zero options (off), so a NIC
// sends no IPv6 packet until a socket or an address needs one. gVisor's
// MLD is off: netsandbox speaks MLDv2 with source lists itself, on the
// IGMPv3 machinery (mld_*.go); JoinGroup still drives the NIC. Gateway
// stacks (package gateway) carry IPv6 too, for `netsandbox run`'s relay,
// without MLD: their NIC listens to everything.

// ipv6Factory is gVisor's IPv6 with MLD and the other options left off.
func ipv6Factory() gstack.NetworkProtocolFactory {
	return ipv6.NewProtocolWithOptions(ipv6.Options{MLD: ipv6.MLDOptions{Enabled: false}})
}

// initIPv6 gives lo ::1/128 and the route to it.
func (s *Stack) initIPv6() error {
	if err := s.AddAddress6(1, netip.MustParsePrefix("::1/128")); err != nil {
		return err
	}
	return s.AddRoute6(netip.MustParsePrefix("::1/128"), netip.Addr{}, 1)
}

// AddAddress6 assigns an IPv6 address and prefix length to the interface.
// Unlike Linux it adds no prefix route: AddRoute6 does.
func (s *Stack) AddAddress6(ifindex int, p netip.Prefix) error {
	if !p.IsValid() || !p.Addr().Is6() || p.Addr().Is4In6() {
		return unix.EINVAL
	}
	if !s.g.HasNIC(tcpip.NICID(ifindex)) {
		return unix.ENODEV
	}
	if s.g.NetworkProtocolInstance(header.IPv6ProtocolNumber) == nil {
		return unix.EAFNOSUPPORT
	}
	pa := tcpip.ProtocolAddress{
		Protocol: header.IPv6ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{
			Address:   tcpip.AddrFrom16(p.Addr().As16()),
			PrefixLen: p.Bits(),
		},
	}
	if e := s.g.AddProtocolAddress(tcpip.NICID(ifindex), pa, gstack.AddressProperties{}); e != nil {
		return configErrno(e)
	}
	s.invalidateRoutes()
	if s.mldOwn && ifindex != loopbackIfIndex {
		// addrconf_join_solict: the address's solicited-node group is
		// a membership like a socket's (EXCLUDE {}), so MLD reports it
		// now and in answers to queries. gVisor joined it on the NIC.
		sn := nAddr(header.SolicitedNodeAddr(pa.AddressWithPrefix.Address))
		_ = s.McastIncGroup(ifindex, sn, McastExclude)
	}
	return nil
}

// AddRoute6 adds an IPv6 route to dst through gw (invalid gw = on-link).
// IPv6 routes follow the IPv4 ones in gVisor's first-match table, longest
// prefix first among themselves.
func (s *Stack) AddRoute6(dst netip.Prefix, gw netip.Addr, ifindex int) error {
	if !dst.IsValid() || !dst.Addr().Is6() || (gw.IsValid() && !gw.Is6()) {
		return unix.EINVAL
	}
	if !s.g.HasNIC(tcpip.NICID(ifindex)) {
		return unix.ENODEV
	}
	dst = dst.Masked()
	sub, err := tcpip.NewSubnet(tcpip.AddrFrom16(dst.Addr().As16()), tcpip.MaskFromBytes(prefixMask6(dst.Bits())))
	if err != nil {
		return unix.EINVAL
	}
	r := tcpip.Route{Destination: sub, NIC: tcpip.NICID(ifindex)}
	if gw.IsValid() {
		r.Gateway = tcpip.AddrFrom16(gw.As16())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, old := range s.routes6 {
		if old == r {
			return unix.EEXIST
		}
	}
	i := len(s.routes6)
	for i > 0 && s.routes6[i-1].Destination.Prefix() < dst.Bits() {
		i--
	}
	s.routes6 = append(s.routes6[:i], append([]tcpip.Route{r}, s.routes6[i:]...)...)
	table := s.g.GetRouteTable()
	kept := table[:0]
	for _, t := range table {
		if t.Destination.ID().Len() != 16 {
			kept = append(kept, t)
		}
	}
	s.g.SetRouteTable(append(kept, s.routes6...))
	s.invalidateRoutes()
	return nil
}

// prefixMask6 returns the 16-byte netmask of a prefix length.
func prefixMask6(bits int) []byte {
	m := make([]byte, 16)
	for i := range m {
		switch {
		case bits >= 8:
			m[i] = 0xff
			bits -= 8
		case bits > 0:
			m[i] = byte(0xff << (8 - bits))
			bits = 0
		}
	}
	return m
}

// IsLocalAddr6 reports whether a (16 bytes, not v4-mapped) is assigned to
// an interface.
func (s *Stack) IsLocalAddr6(a netip.Addr) bool {
	return a.Is6() && !a.Is4In6() && s.g.CheckLocalAddress(0, header.IPv6ProtocolNumber, tcpip.AddrFrom16(a.As16())) != 0
}

// Addrs6 returns the IPv6 addresses of every interface, by ifindex.
func (s *Stack) Addrs6() map[int][]netip.Prefix {
	out := make(map[int][]netip.Prefix)
	for id, pas := range s.g.AllAddresses() {
		for _, pa := range pas {
			if pa.Protocol != header.IPv6ProtocolNumber {
				continue
			}
			a := netip.AddrFrom16(pa.AddressWithPrefix.Address.As16())
			out[int(id)] = append(out[int(id)], netip.PrefixFrom(a, pa.AddressWithPrefix.PrefixLen))
		}
	}
	return out
}
