package stack

import (
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// loopbackIfIndex is lo's ifindex: New adds it first.
const loopbackIfIndex = 1

var limitedBroadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// sourceDevice is the interface ip_route_output_key_hash_rcu picks from the
// source address alone: a multicast or limited-broadcast datagram from a
// bound source leaves through the interface that owns the source, with no
// route needed (0 = the route table decides). A source that is no local
// address cannot send there: ENETUNREACH.
func (s *Stack) sourceDevice(src, dst netip.Addr) (int, error) {
	if !src.IsValid() || src.IsUnspecified() || !(dst.IsMulticast() || dst == limitedBroadcast) {
		return 0, nil
	}
	if src.IsLoopback() {
		return loopbackIfIndex, nil
	}
	if i := s.AddrIfIndex(src); i != 0 {
		return i, nil // not lo's temporary copy of src (AddrIfIndex)
	}
	nic := s.g.CheckLocalAddress(0, header.IPv4ProtocolNumber, tcpip.AddrFrom4(src.As4()))
	if nic == 0 {
		return 0, unix.ENETUNREACH
	}
	return int(nic), nil
}

// loopbackOnLink tells whether a failed route lookup is one Linux answers
// with a route through lo (net/ipv4/route.c): with an output interface
// given, fib_lookup takes only next hops on it, and when none fits,
// ip_route_output_key_hash_rcu assumes the destination is on that
// interface's link ("routing tables are wrong"). __mkroute_output marks a
// route through a loopback device RTCF_LOCAL (input ip_local_deliver), and
// loopback_xmit keeps the route on the packet, so ip_rcv_finish delivers
// it to this host's own sockets with no input route lookup: it is never
// forwarded, whatever conf/*/forwarding says, and never reaches a wire.
// Other interfaces would need an on-link route gVisor cannot make, so they
// keep the routing error.
func (s *Stack) loopbackOnLink(err error, ifindex int, dst netip.Addr) bool {
	return err == unix.ENETUNREACH && ifindex == loopbackIfIndex &&
		!dst.IsMulticast() && dst != limitedBroadcast
}

// onLinkLoopbackRoute is that route: through lo to dst, with no gateway
// and lo's MTU. Its local address is lo's 127.0.0.1, not the source Linux
// picks (loopbackSource), so callers write their own IPv4 header. A
// packet written to it comes back in on lo (promiscuous: any destination
// is accepted) and is delivered locally, as in Linux.
func (s *Stack) onLinkLoopbackRoute(dst netip.Addr) (*gstack.Route, error) {
	r := s.g.NewRouteForMulticast(loopbackIfIndex, gAddr(dst), header.IPv4ProtocolNumber)
	if r == nil {
		return nil, unix.ENETUNREACH
	}
	return r, nil
}

// LoopsOnLink tells whether a unicast send to dst through ifindex takes
// the on-link route through lo (loopbackOnLink): the socket layer then
// sends through the stack rather than through gVisor's endpoint.
func (s *Stack) LoopsOnLink(dst netip.Addr, ifindex int) bool {
	if ifindex != loopbackIfIndex || !dst.Is4() {
		return false
	}
	r, err := s.findRoute(netip.Addr{}, dst, ifindex, true)
	if err == nil {
		r.Release()
		return false
	}
	return s.loopbackOnLink(err, ifindex, dst)
}

// loopbackSource is the source inet_select_addr gives a route through lo:
// lo's own 127.0.0.1 has host scope, so the first address of another
// interface wins, and 127.0.0.1 only when there is none.
func (s *Stack) loopbackSource() netip.Addr {
	for _, ifc := range s.Interfaces() {
		if ifc.Loopback {
			continue
		}
		for _, p := range ifc.Addrs {
			return p.Addr()
		}
	}
	return netip.AddrFrom4([4]byte{127, 0, 0, 1})
}

// onLink tells whether a route reaches its destination without a gateway,
// as a lookup with RT_SCOPE_LINK (SO_DONTROUTE) requires: gateway routes
// have universe scope and do not match it.
func onLink(r *gstack.Route) bool { return r.NextHop().Len() == 0 }

// CheckOnLink is the route lookup of a socket with SO_DONTROUTE (or a send
// with MSG_DONTROUTE) for gVisor-backed sockets: nil when the route to dst
// needs no gateway, ENETUNREACH when it does, routing errors as
// RouteSource.
func (s *Stack) CheckOnLink(dst netip.Addr, ifindex int) error {
	if !dst.Is4() {
		return unix.EAFNOSUPPORT
	}
	r, err := s.findRoute(netip.Addr{}, dst, ifindex, true)
	if err != nil {
		if s.loopbackOnLink(err, ifindex, dst) {
			return nil
		}
		return err
	}
	defer r.Release()
	if !onLink(r) {
		return unix.ENETUNREACH
	}
	return nil
}

// loopbackPrefSrc gives a datagram to any 127/8 address the source Linux's
// local route for 127.0.0.0/8 prefers, 127.0.0.1, when the socket has none
// (gVisor would answer from the destination address itself).
func loopbackPrefSrc(src, dst netip.Addr) netip.Addr {
	if (!src.IsValid() || src.IsUnspecified()) && dst.IsLoopback() {
		return netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	return src
}
