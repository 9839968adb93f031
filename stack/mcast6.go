package stack

import (
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// IPv6 multicast source filters (issue 14). An interface's IPv6 groups
// are kept in the same per-interface state as IPv4's (mcast.go: socket
// counts per mode and per source, the merged filter), which gates
// delivery as on Linux: a datagram from a source the interface's merged
// filter excludes reaches no socket, not even one without a membership
// (measured: ipv6/mcast-source-delivery). They are reported by the same
// machinery as IPv4's, as MLDv2 with source lists or MLDv1 (mld_*.go);
// gVisor's MLD is off.

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
