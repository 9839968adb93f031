package stack

import (
	"net/netip"
	"sync"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// nonLocalBind serializes BindNonLocal6's spoofing window.
type nonLocalBind struct{ mu sync.Mutex }

// BindNonLocal6 runs bind, a gVisor endpoint's Bind to the IPv6 address
// a that no interface has, with the local-address check Linux skips under
// IPV6_FREEBIND, IPV6_TRANSPARENT and their IPv4 twins
// (ipv6_can_nonlocal_bind). gVisor's IPv6 bind accepts only an address
// assigned to the NIC it names unless that NIC spoofs (its IPv4 bind
// checks only the NIC), so the NIC is told to spoof for the call only:
// the interface of a's scope, else the one its route leaves through, else
// lo, as where the address would be assigned. A stack that is not a
// gateway's never spoofs otherwise, so off is the state to restore; a
// gateway's NIC spoofs for good (gateway.New), and its binds are left as
// they are. While the bind runs, a concurrent send from an address no
// NIC has may pass gVisor's check too: it is the window of one Bind.
func (s *Stack) BindNonLocal6(a netip.Addr, ifindex int, bind func(nic tcpip.NICID) tcpip.Error) tcpip.Error {
	if s.gateway {
		return bind(tcpip.NICID(ifindex))
	}
	nic := tcpip.NICID(ifindex)
	if nic == 0 {
		nic = loopbackIfIndex
		if r, e := s.g.FindRoute(0, tcpip.Address{}, gAddr(a), header.IPv6ProtocolNumber, false); e == nil {
			nic = r.NICID()
			r.Release()
		}
	}
	s.nonLocal.mu.Lock()
	defer s.nonLocal.mu.Unlock()
	if e := s.g.SetSpoofing(nic, true); e != nil {
		return e
	}
	defer s.g.SetSpoofing(nic, false)
	return bind(nic)
}
