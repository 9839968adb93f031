package gateway

import (
	"net/netip"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/nested"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// FilterLink wraps the sandbox-facing link endpoint so that the gateway
// answers ARP only for its own addresses. The NIC spoofs (it must answer
// from any address), and a spoofing gVisor NIC answers ARP for every
// address: the sandbox would then "reach" neighbours of its own subnet that
// do not exist, through the gateway. Wrap the endpoint before AddInterface,
// and pass what FilterLink returned as Config.Link: the gateway then sees
// each IPv4 packet of the sandbox before the stack does (filter.go), so
// that the stack never answers one in the name of its destination.
func FilterLink(ep gstack.LinkEndpoint, own ...netip.Addr) gstack.LinkEndpoint {
	f := &arpFilter{own: own}
	f.Endpoint.Init(ep, f)
	return f
}

type arpFilter struct {
	nested.Endpoint
	own []netip.Addr
	gw  atomic.Pointer[Gateway] // set by New
}

func (f *arpFilter) DeliverNetworkPacket(protocol tcpip.NetworkProtocolNumber, pkt *gstack.PacketBuffer) {
	if protocol == header.ARPProtocolNumber {
		h := header.ARP(pkt.Data().AsRange().ToSlice())
		if h.IsValid() && h.Op() == header.ARPRequest && !f.owns(h.ProtocolAddressTarget()) {
			return // no such neighbour: the sandbox's ARP fails, as on a real link
		}
	}
	if protocol == header.IPv4ProtocolNumber {
		if gw := f.gw.Load(); gw != nil && (!gw.admit(pkt) || gw.fastIn(pkt)) {
			return // dropped, or relayed on the short path (fastpath.go)
		}
	}
	if protocol == header.IPv6ProtocolNumber {
		// Before New, and without Gateway6, IPv6 has nowhere to go.
		if gw := f.gw.Load(); gw == nil || !gw.admit6(pkt) {
			return
		}
	}
	f.Endpoint.DeliverNetworkPacket(protocol, pkt)
}

func (f *arpFilter) owns(target []byte) bool {
	a, ok := netip.AddrFromSlice(target)
	if !ok {
		return false
	}
	for _, o := range f.own {
		if o == a {
			return true
		}
	}
	return false
}
