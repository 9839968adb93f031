package stack

import (
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// The IPv4 hook: the stack wraps gVisor's IPv4 protocol so that every
// IPv4 packet passes through code of ours, where Linux does things gVisor
// does not. Inbound, before gVisor sees a packet: the common UDP datagram
// to this NIC skips gVisor's IPv4 input (ipv4_fast.go); a packet to be forwarded
// that carries Router Alert goes to the IP_ROUTER_ALERT sockets instead
// (forward_ra.go), a SYN's IP options and MSS are noted for the connection
// it opens (tcp_ipopts_syn.go, tcp_ipopts.go), and an ICMP "fragmentation
// needed" about a TCP segment with options adjusts that connection
// (tcp_ipopts_pmtu.go); raw sockets see only packets delivered here
// (rawGate). Outbound: a TCP segment of a connection with IP_OPTIONS gets
// its header built with them (ipopts_out.go), and every packet gVisor
// builds gets Linux's IP ID (ipid.go).

// ipv4Protocol is what gVisor's stack asks of its IPv4 protocol.
type ipv4Protocol interface {
	gstack.NetworkProtocol
	gstack.MulticastForwardingNetworkProtocol
	gstack.RejectIPv4WithHandler
}

// ipv4Endpoint is the set of interfaces gVisor's NIC and route code look
// for on an IPv4 endpoint; the hook passes them all through.
type ipv4Endpoint interface {
	gstack.NetworkEndpoint
	gstack.AddressableEndpoint
	gstack.GroupAddressableEndpoint
	gstack.ForwardingNetworkEndpoint
	gstack.MulticastForwardingNetworkEndpoint
	gstack.LinkResolvableNetworkEndpoint
	ipv4.IGMPEndpoint
}

// ipv4Hook is gVisor's IPv4 with endpoints that pass every packet
// through the hooks.
type ipv4Hook struct {
	ipv4Protocol
	s *Stack
}

// ipv4HookEP is one NIC's IPv4 endpoint.
type ipv4HookEP struct {
	ipv4Endpoint
	s   *Stack
	nic tcpip.NICID
	// fast is the receive fast path (ipv4_fast.go), nil if unavailable.
	fast *ipv4Fast
}

// ipv4ProtocolFor wraps the IPv4 factory for New. A gateway stack keeps
// gVisor's own: it has no sockets that set options.
func (s *Stack) ipv4ProtocolFor(cfg Config, f gstack.NetworkProtocolFactory) gstack.NetworkProtocolFactory {
	if cfg.Gateway {
		return f
	}
	return func(g *gstack.Stack) gstack.NetworkProtocol {
		p := f(g)
		full, ok := p.(ipv4Protocol)
		if !ok {
			return p
		}
		s.ipo.out.Store(true)
		return &ipv4Hook{ipv4Protocol: full, s: s}
	}
}

func (p *ipv4Hook) NewEndpoint(nic gstack.NetworkInterface, d gstack.TransportDispatcher) gstack.NetworkEndpoint {
	gate := &rawGate{TransportDispatcher: d, s: p.s, loopback: nic.IsLoopback()}
	// gVisor's endpoint writes through ipidNIC, which gives each packet
	// Linux's IP ID (ipid.go).
	ep := p.ipv4Protocol.NewEndpoint(&ipidNIC{NetworkInterface: nic, s: p.s}, gate)
	full, ok := ep.(ipv4Endpoint)
	if !ok {
		// Cannot happen with gVisor's IPv4; if it did, TCP and ping
		// sockets would refuse IP_OPTIONS rather than drop them.
		p.s.ipo.out.Store(false)
		return ep
	}
	gate.ep.Store(&ipv4EndpointRef{full})
	h := &ipv4HookEP{ipv4Endpoint: full, s: p.s, nic: nic.ID()}
	if !p.s.ipv4FastOff {
		h.fast = newIPv4Fast(p.s.g, nic, gate, p.ipv4Protocol, full)
	}
	return h
}

// IPOptionsOutputSupported tells whether TCP and ping sockets can send IP
// options (false on a gateway stack, whose IPv4 is gVisor's own).
func (s *Stack) IPOptionsOutputSupported() bool { return s.ipo.out.Load() }

func (e *ipv4HookEP) WritePacket(r *gstack.Route, params gstack.NetworkHeaderParams, pkt *gstack.PacketBuffer) tcpip.Error {
	if o := e.s.flowIPOptions(r, pkt); o != nil {
		if pkt.GSOOptions.Type == gstack.GSONone {
			return e.s.writeWithFlowOptions(r, params, pkt, o, false)
		}
		return e.s.writeGSOWithFlowOptions(r, params, pkt, o)
	}
	return e.ipv4Endpoint.WritePacket(r, params, pkt)
}

func (e *ipv4HookEP) HandlePacket(pkt *gstack.PacketBuffer) {
	// A UDP datagram with no options needs none of the hooks below (Router
	// Alert is an option, the others are TCP's and ICMP's).
	if e.handleFast(pkt) {
		return
	}
	if e.s.routerAlertTake(e.ipv4Endpoint, e.nic, pkt) {
		return
	}
	e.s.observeSYN(pkt)
	after := e.s.tcpFragNeeded(pkt)
	e.ipv4Endpoint.HandlePacket(pkt)
	if after != nil {
		after()
	}
}

// rawGate is the transport dispatcher of a NIC's IPv4 endpoint. gVisor
// hands every valid IPv4 packet to raw sockets before it decides between
// local delivery and forwarding; Linux's raw sockets see only packets
// delivered locally, so the gate holds back the packets gVisor will not
// deliver here: unicast to an address this NIC does not have.
type rawGate struct {
	gstack.TransportDispatcher
	s        *Stack
	ep       atomic.Pointer[ipv4EndpointRef]
	loopback bool
}

// RawOpened notes an IPv4 raw endpoint of protocol proto about to be made,
// which gVisor may register for delivery; RawClosed undoes it once the
// endpoint is closed (or was never made). The count may run ahead of
// gVisor's registrations, never behind, so a zero is exact.
func (s *Stack) RawOpened(proto int) {
	if proto >= 0 && proto < len(s.raw4) {
		s.raw4[proto].Add(1)
	}
}

// RawClosed undoes RawOpened.
func (s *Stack) RawClosed(proto int) {
	if proto >= 0 && proto < len(s.raw4) {
		s.raw4[proto].Add(-1)
	}
}

// ipv4EndpointRef boxes the endpoint, which exists only after the gate.
type ipv4EndpointRef struct{ ep ipv4Endpoint }

func (g *rawGate) DeliverRawPacket(p tcpip.TransportProtocolNumber, pkt *gstack.PacketBuffer) {
	if p < tcpip.TransportProtocolNumber(len(g.s.raw4)) && g.s.raw4[p].Load() == 0 {
		// Nothing is registered for p, so gVisor would deliver to no
		// one; skip the address lookup (most UDP and TCP traffic).
		return
	}
	if !g.loopback {
		if ref := g.ep.Load(); ref != nil {
			h := header.IPv4(pkt.NetworkHeader().Slice())
			if len(h) >= header.IPv4MinimumSize {
				dst := h.DestinationAddress()
				if !header.IsV4MulticastAddress(dst) && dst != header.IPv4Broadcast &&
					ref.ep.AcquireAssignedAddress(dst, false, gstack.NeverPrimaryEndpoint, true) == nil {
					return
				}
			}
		}
	}
	g.TransportDispatcher.DeliverRawPacket(p, pkt)
}

// DeliverTransportPacketWithDefaultHandlerResult passes gVisor's optional
// interface through (ICMP uses it).
func (g *rawGate) DeliverTransportPacketWithDefaultHandlerResult(p tcpip.TransportProtocolNumber, pkt *gstack.PacketBuffer) (gstack.TransportPacketDisposition, bool) {
	if d, ok := g.TransportDispatcher.(gstack.TransportDispatcherWithDefaultHandlerResult); ok {
		return d.DeliverTransportPacketWithDefaultHandlerResult(p, pkt)
	}
	return g.TransportDispatcher.DeliverTransportPacket(p, pkt), false
}
