package endpoint

import (
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// A raw socket with IP_ROUTER_ALERT joins the stack's router-alert chain
// (stack/forward_ra.go), which hands it the Router Alert packets the
// stack would otherwise forward.

// syncRouterAlert joins or leaves the chain after IP_ROUTER_ALERT was set.
func (g *rawSock) syncRouterAlert() {
	g.optMu.Lock()
	on := g.opts.ext.routerAlert
	g.optMu.Unlock()
	if on {
		g.s.JoinRouterAlert(g)
	} else {
		g.s.LeaveRouterAlert(g)
	}
}

// leaveRouterAlert takes a closing raw socket off the chain (ip_ra_control
// from raw_close).
func (g *rawSock) leaveRouterAlert() {
	g.s.LeaveRouterAlert(g)
}

// RouterAlertProtocol implements stack.RouterAlertSocket.
func (g *rawSock) RouterAlertProtocol() uint8 { return uint8(g.proto) }

// BoundDevice implements stack.RouterAlertSocket: SO_BINDTODEVICE.
func (g *rawSock) BoundDevice() int {
	g.optMu.Lock()
	defer g.optMu.Unlock()
	return g.opts.bindIf
}

// DeliverRouterAlert implements stack.RouterAlertSocket: the packet is
// queued through gVisor's raw endpoint, as raw_rcv queues it in Linux.
func (g *rawSock) DeliverRouterAlert(pkt *gstack.PacketBuffer) {
	if ep, ok := g.endpoint().(interface{ HandlePacket(*gstack.PacketBuffer) }); ok {
		ep.HandlePacket(pkt)
	}
}
