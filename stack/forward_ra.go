package stack

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"netsandbox/options"
)

// IP_ROUTER_ALERT. Linux keeps the raw sockets that set it in a chain and,
// when it is about to forward a packet carrying a Router Alert option
// (value 0), hands the packet to every chained socket of the packet's
// protocol whose bound device is none or the arrival interface instead of
// forwarding it (ip_forward -> ip_call_ra_chain), before the TTL check.
// Packets addressed to the host are delivered as usual, so on a host that
// does not forward the chain receives nothing.

// RouterAlertSocket is a raw socket that set IP_ROUTER_ALERT.
type RouterAlertSocket interface {
	// RouterAlertProtocol is the socket's protocol.
	RouterAlertProtocol() uint8
	// BoundDevice is SO_BINDTODEVICE's ifindex, 0 for none.
	BoundDevice() int
	// DeliverRouterAlert queues the packet, its IPv4 header parsed, as a
	// raw socket's datagram; pkt is valid only during the call.
	DeliverRouterAlert(pkt *gstack.PacketBuffer)
}

// raChain is the stack's list of router-alert sockets, read per packet
// without a lock.
type raChain struct {
	mu    sync.Mutex
	socks atomic.Pointer[[]RouterAlertSocket]
}

// JoinRouterAlert adds r to the chain (once).
func (s *Stack) JoinRouterAlert(r RouterAlertSocket) {
	c := &s.ra
	c.mu.Lock()
	defer c.mu.Unlock()
	var next []RouterAlertSocket
	if old := c.socks.Load(); old != nil {
		for _, x := range *old {
			if x == r {
				return // joined already
			}
		}
		next = append(next, *old...)
	}
	next = append(next, r)
	c.socks.Store(&next)
}

// LeaveRouterAlert removes r from the chain (nothing if it is not there).
func (s *Stack) LeaveRouterAlert(r RouterAlertSocket) {
	c := &s.ra
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.socks.Load()
	if old == nil {
		return
	}
	var next []RouterAlertSocket
	for _, x := range *old {
		if x != r {
			next = append(next, x)
		}
	}
	c.socks.Store(&next)
}

// routerAlertTake is called for each IPv4 packet ep's NIC receives, before
// gVisor sees it: a packet gVisor would forward that carries a Router
// Alert option goes to the matching chained sockets instead. It reports
// whether the packet was taken.
func (s *Stack) routerAlertTake(ep ipv4Endpoint, nic tcpip.NICID, pkt *gstack.PacketBuffer) bool {
	chain := s.ra.socks.Load()
	if chain == nil || len(*chain) == 0 {
		return false
	}
	b, ok := pkt.Data().PullUp(header.IPv4MinimumSize)
	if !ok || b[0]>>4 != 4 {
		return false
	}
	ihl := int(b[0]&0xf) * 4
	if ihl <= header.IPv4MinimumSize {
		return false // no options, no Router Alert
	}
	if b, ok = pkt.Data().PullUp(ihl); !ok {
		return false
	}
	h := header.IPv4(b)
	total := int(h.TotalLength())
	if total < ihl || total > pkt.Data().Size() || !h.IsChecksumValid() || h.More() || h.FragmentOffset() != 0 {
		// Bad headers are gVisor's to drop; Linux reassembles a fragmented
		// Router Alert packet first, which is not done here.
		return false
	}
	if !routerAlertOption(h.Options()) {
		return false
	}
	proto := uint8(h.Protocol())
	var match []RouterAlertSocket
	for _, r := range *chain {
		if r.RouterAlertProtocol() == proto && (r.BoundDevice() == 0 || r.BoundDevice() == int(nic)) {
			match = append(match, r)
		}
	}
	if len(match) == 0 || !s.wouldForward(ep, nic, h) {
		return false
	}
	for _, r := range match {
		p := gstack.NewPacketBuffer(gstack.PacketBufferOptions{Payload: buffer.MakeWithData(pkt.Data().AsRange().ToSlice()[:total])})
		p.NetworkProtocolNumber = header.IPv4ProtocolNumber
		p.NICID = nic
		p.NetworkHeader().Consume(ihl)
		r.DeliverRouterAlert(p)
		p.DecRef()
	}
	return true
}

// routerAlertOption tells whether opts hold a Router Alert option with
// value 0 (ip_options_compile's router_alert), read up to End of List.
// Malformed options answer false: gVisor's option checks handle them.
func routerAlertOption(opts []byte) bool {
	it := options.NewIPOptionIter(opts)
	for opt, _, ok := it.Next(); ok; opt, _, ok = it.Next() {
		if opt[0] == options.IPOptRA && len(opt) >= 4 && opt[2] == 0 && opt[3] == 0 {
			return true
		}
	}
	return false
}

// wouldForward tells whether the packet is one Linux would forward: the
// arrival interface forwards, the destination is unicast and not ours, the
// source is not a martian, and there is a route.
func (s *Stack) wouldForward(ep ipv4Endpoint, nic tcpip.NICID, h header.IPv4) bool {
	if on, e := s.g.NICForwarding(nic, header.IPv4ProtocolNumber); e != nil || !on {
		return false
	}
	dst, src := nAddr(h.DestinationAddress()), nAddr(h.SourceAddress())
	if !dst.Is4() || dst.IsMulticast() || dst.IsUnspecified() || s.IsBroadcast(dst) || dst.IsLoopback() {
		return false
	}
	if src.IsMulticast() || src.IsLoopback() || src == netip.IPv4Unspecified() || s.IsBroadcast(src) || s.IsLocalAddr(dst) {
		return false
	}
	if ep.AcquireAssignedAddress(h.DestinationAddress(), false, gstack.NeverPrimaryEndpoint, true) != nil {
		return false
	}
	_, _, err := s.RouteSource(dst, 0)
	return err == nil
}
