package stack

import (
	"net/netip"

	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// mcastLoopbackSource is inet_select_addr for a datagram to a group that
// leaves through lo when neither bind nor IP_MULTICAST_IF chose a source: lo's 127/8 addresses have
// host scope, too narrow for a group, so Linux takes the first address of
// universe scope of any interface, in ifindex order (lo comes first and
// has none). gVisor would send from 127.0.0.1. ok is false when the route
// is not such a case or no interface has such an address.
func (s *Stack) mcastLoopbackSource(r *gstack.Route, dst netip.Addr) (src netip.Addr, ok bool) {
	if !dst.IsMulticast() || int(r.OutgoingNIC()) != loopbackIfIndex || !nAddr(r.LocalAddress()).IsLoopback() {
		return netip.Addr{}, false
	}
	for _, ifc := range s.Interfaces() {
		for _, p := range ifc.Addrs {
			if a := p.Addr(); a.Is4() && !a.IsLoopback() && !a.IsLinkLocalUnicast() {
				return a, true
			}
		}
	}
	return netip.Addr{}, false
}
