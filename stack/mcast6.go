package stack

import (
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// IPv6 multicast source filters (issue 14). An interface's IPv6 groups
// are kept in the same per-interface state as IPv4's (mcast.go: socket
// counts per mode and per source, the merged filter), which gates
// delivery as on Linux: a datagram from a source the interface's merged
// filter excludes reaches no socket, not even one without a membership
// (measured: ipv6/mcast-source-delivery). Reports stay gVisor's MLD, which
// knows the groups but not their sources (reportable is IPv4's only).

// McastFindDev6 is ip6_mc_find_dev: the interface a request names by
// ifindex, else the one the route to the group leaves by. ok is false when
// there is none (ENODEV for the callers).
func (s *Stack) McastFindDev6(group netip.Addr, ifindex int) (int, bool) {
	if ifindex != 0 {
		return ifindex, ifindex > 0 && s.g.HasNIC(tcpip.NICID(ifindex))
	}
	r, err := s.findRoute6(netip.Addr{}, group, 0, false)
	if err != nil {
		return 0, false
	}
	defer r.Release()
	return int(r.NICID()), true
}

// mcastDeliverable6 is mcastDeliverable for an IPv6 datagram: a datagram
// to a group reaches the receiver only if the interface's merged filter
// and then the receiver's own (inet6_mc_check) admit the source.
func (e *udpEndpoint) mcastDeliverable6(pkt *gstack.PacketBuffer) bool {
	ip := header.IPv6(pkt.NetworkHeader().Slice())
	dst := ip.DestinationAddress()
	if !header.IsV6MulticastAddress(dst) {
		return true
	}
	group, src := netip.AddrFrom16(dst.As16()), nAddr(ip.SourceAddress())
	ifindex := int(pkt.NICID)
	if !e.s.mcastHostAllows(ifindex, group, src) {
		e.s.stats.udpMcastFiltered.Add(1)
		return false
	}
	if f, ok := e.r.(MulticastFilter); ok && !f.AllowMulticast(group, src, ifindex) {
		e.s.stats.udpMcastFiltered.Add(1)
		return false
	}
	return true
}
