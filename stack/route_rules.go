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

// loopbackBlackhole tells whether a failed route lookup is one Linux
// answers with a route through lo: with an output interface given and no
// route, ip_route_output_key_hash_rcu assumes the destination is on that
// interface's link, and on lo that means the datagram is looped back and
// dropped on input (the destination is not ours, or a local route would
// have been found). Other interfaces would need an on-link route gVisor
// cannot make, so they keep the routing error.
func (s *Stack) loopbackBlackhole(err error, ifindex int, dst netip.Addr) bool {
	return err == unix.ENETUNREACH && ifindex == loopbackIfIndex &&
		!dst.IsMulticast() && dst != limitedBroadcast
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
		if s.loopbackBlackhole(err, ifindex, dst) {
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
