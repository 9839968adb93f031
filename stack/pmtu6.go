package stack

import (
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// IPv6's path MTU, in the same cache as IPv4's (the addresses cannot
// collide): learnt from packet too big as rt6_do_update_pmtu, read as
// dst_mtu for IPV6_MTU and for a send that may not fragment.

// ipv6MinMTU is IPV6_MIN_MTU: a packet too big never lowers a path below it.
const ipv6MinMTU = 1280

// pathMTU6 is dst_mtu of the IPv6 route from src to dst: the device MTU
// lowered by a learnt path MTU.
func (s *Stack) pathMTU6(src, dst netip.Addr, ifindex int) (int, error) {
	mtu, err := s.DeviceMTU6(src, dst, ifindex)
	if err != nil {
		return 0, err
	}
	if c, ok := s.cachedPMTU(dst); ok && c.mtu < mtu {
		mtu = c.mtu
	}
	return mtu, nil
}

// DeviceMTU6 is the MTU of the device the IPv6 route from src to dst
// leaves by (lo's 65536 included: IPv6 has no IP_MAX_MTU cap there),
// what a socket under IPV6_PMTUDISC_PROBE and above is held to.
func (s *Stack) DeviceMTU6(src, dst netip.Addr, ifindex int) (int, error) {
	if src.IsValid() && src.IsUnspecified() {
		src = netip.Addr{}
	}
	r, err := s.findRoute6(src, dst, ifindex, true)
	if err != nil {
		return 0, err
	}
	defer r.Release()
	return s.deviceMTU6(r), nil
}

// deviceMTU6 is the MTU of the device r leaves by: gVisor caps a route's
// MTU at the largest IPv6 payload, so lo's 65536 comes from the
// interface table, read only then (it allocates).
func (s *Stack) deviceMTU6(r *gstack.Route) int {
	mtu := int(r.MTU()) + header.IPv6MinimumSize
	if r.MTU() >= header.IPv6MaximumPayloadSize {
		if ifc, ok := s.InterfaceByIndex(int(r.NICID())); ok && ifc.MTU != 0 {
			mtu = int(ifc.MTU)
		}
	}
	return mtu
}

// LearnPMTU6 records a packet too big for dst: the path MTU only goes
// down, and never below IPV6_MIN_MTU; it lasts
// net.ipv6.route.mtu_expires seconds.
func (s *Stack) LearnPMTU6(dst netip.Addr, mtu int) {
	old, err := s.pathMTU6(netip.Addr{}, dst, 0)
	if err != nil {
		return
	}
	mtu = max(mtu, ipv6MinMTU)
	if mtu >= old {
		return
	}
	life := time.Duration(s.sysctl.Int("net.ipv6.route.mtu_expires")) * time.Second
	s.pmtu.store(dst, mtu, false, time.Now().Add(life))
}
