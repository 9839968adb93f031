package gateway

import (
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// IPv6 through the gateway. The sandbox's link carries Gateway6's prefix
// (`netsandbox run`: fd00::/64, gateway fd00::2, sandbox fd00::100, as
// slirp4netns --enable-ipv6 lays it out); TCP, UDP and ICMPv6 echo to any
// other unicast address are relayed over the host's AF_INET6 sockets as
// IPv4 flows are over AF_INET ones, under the same egress policy.

// prefix6 is Gateway6's prefix on the NIC (a /128 when it has none).
func (gw *Gateway) prefix6() netip.Prefix {
	a := gw.cfg.Gateway6
	if !a.IsValid() {
		return netip.Prefix{}
	}
	for _, p := range gw.cfg.Stack.Addrs6()[gw.cfg.NIC] {
		if p.Addr() == a {
			return p.Masked()
		}
	}
	return netip.PrefixFrom(a, 128)
}

// target6 is target for an IPv6 destination.
func (gw *Gateway) target6(proto Proto, dst netip.AddrPort) (to netip.AddrPort, ok bool, why string) {
	a := dst.Addr()
	switch {
	case !gw.cfg.Gateway6.IsValid():
		return to, false, "no IPv6"
	case gw.cfg.DNS6.IsValid() && a == gw.cfg.DNS6:
		if dst.Port() == 53 && gw.cfg.Resolver.IsValid() && proto != ProtoICMP {
			return gw.cfg.Resolver, true, ""
		}
		return to, false, "no service on the DNS address"
	case a == gw.cfg.Gateway6:
		if !gw.cfg.AllowHostLoopback || proto == ProtoICMP {
			return to, false, "host loopback not allowed (--allow-host-loopback)"
		}
		return netip.AddrPortFrom(netip.IPv6Loopback(), dst.Port()), true, ""
	case a.Is4In6():
		// The host would send it as IPv4, past the IPv4 checks.
		return to, false, "an IPv4-mapped destination"
	case a.IsLoopback() || a.IsMulticast() || a.IsUnspecified() || a.IsLinkLocalUnicast():
		return to, false, "not a unicast destination"
	case gw.sandboxNet6.Contains(a):
		return to, false, "on the sandbox's own link"
	}
	if ok, why := gw.policyVerdict(proto, dst); !ok {
		return to, false, why
	}
	return dst, true, ""
}

// admit6 is admit for the sandbox's IPv6 packets. The stack answers as
// any destination (promiscuous, spoofing), so what it must not see is
// dropped here: every IPv6 packet when the gateway has no IPv6; a
// neighbour solicitation for an address that is not the gateway's (the
// sandbox's neighbour discovery then fails, as on a real link); and, to
// another address, anything but TCP, UDP, ICMPv6 and fragments (an
// extension header the stack would answer with a parameter problem "from"
// the destination, a routing header, another protocol).
func (gw *Gateway) admit6(pkt *gstack.PacketBuffer) bool {
	if !gw.cfg.Gateway6.IsValid() {
		// Not counted: a kernel sends router solicitations and MLD
		// reports on any link it has, and without IPv6 the gateway is
		// not there to hear them.
		return false
	}
	d := pkt.Data()
	b, ok := d.PullUp(header.IPv6MinimumSize)
	if !ok {
		return true // the stack drops what is too short
	}
	ip := header.IPv6(b)
	dst := addrOf(ip.DestinationAddress())
	next := ip.NextHeader()
	if next == uint8(header.ICMPv6ProtocolNumber) {
		const nsEnd = header.IPv6MinimumSize + header.ICMPv6NeighborSolicitMinimumSize
		if b, ok := d.PullUp(nsEnd); ok && header.ICMPv6(b[header.IPv6MinimumSize:]).Type() == header.ICMPv6NeighborSolicit {
			target := header.NDPNeighborSolicit(b[header.IPv6MinimumSize+header.ICMPv6HeaderSize:]).TargetAddress()
			t := addrOf(target)
			return t == gw.cfg.Gateway6 || (gw.cfg.DNS6.IsValid() && t == gw.cfg.DNS6)
		}
	}
	if dst == gw.cfg.Gateway6 || (gw.cfg.DNS6.IsValid() && dst == gw.cfg.DNS6) || dst.IsMulticast() {
		return true
	}
	switch next {
	case uint8(header.TCPProtocolNumber), uint8(header.UDPProtocolNumber), uint8(header.ICMPv6ProtocolNumber),
		uint8(header.IPv6FragmentExtHdrIdentifier):
		if !dst.IsLinkLocalUnicast() {
			return true
		}
	case uint8(header.IPv6RoutingExtHdrIdentifier):
		gw.stats.SourceRouted.Add(1)
		gw.logf("ipv6 %v -> %v dropped: routing header", addrOf(ip.SourceAddress()), dst)
		return false
	}
	gw.stats.Unrelayed.Add(1)
	gw.logf("ipv6 %v -> %v next header %d dropped: only TCP, UDP and ICMPv6 to unicast addresses are relayed", addrOf(ip.SourceAddress()), dst, next)
	return false
}
