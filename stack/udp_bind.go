package stack

import (
	"net/netip"
	"sync"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/ports"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

var (
	ipv4Only  = []tcpip.NetworkProtocolNumber{header.IPv4ProtocolNumber}
	ipv6Only  = []tcpip.NetworkProtocolNumber{header.IPv6ProtocolNumber}
	dualStack = []tcpip.NetworkProtocolNumber{header.IPv4ProtocolNumber, header.IPv6ProtocolNumber}
)

// UDPBinding is a reserved local UDP port registered with gVisor's demuxer.
type UDPBinding struct {
	s  *Stack
	ep *udpEndpoint // what the demuxer holds; delivers to the receiver

	mu        sync.Mutex
	requested netip.AddrPort // as passed to UDPBind (port 0 = not locked)
	flags     UDPBindFlags
	resAddr   tcpip.Address // address of the port reservation
	local     netip.AddrPort
	id        gstack.TransportEndpointID // current demuxer registration
	released  bool
	proto     tcpip.TransportProtocolNumber // UDP or UDP-Lite (flags.Lite)
	// wildNets are the network protocols of a wildcard registration:
	// IPv4 for 0.0.0.0, IPv4 and IPv6 for a dual-stack ::, IPv6 for ::
	// under IPV6_V6ONLY (udp_ipv6.go).
	wildNets []tcpip.NetworkProtocolNumber
}

// UDPBind reserves local (port 0 => ephemeral from ip_local_port_range) and
// registers r with the demuxer. The checks run in the order of Linux's
// __inet_bind: address (EADDRNOTAVAIL), privileged port (EACCES), port
// conflict (EADDRINUSE).
func (s *Stack) UDPBind(r UDPReceiver, local netip.AddrPort, f UDPBindFlags) (*UDPBinding, error) {
	if r == nil || !local.Addr().IsValid() || local.Addr().Is4In6() {
		return nil, unix.EINVAL
	}
	a := local.Addr()
	if a.Is6() && !s.hasIPv6() {
		return nil, unix.EAFNOSUPPORT
	}
	// Linux accepts any address whose route type is local, broadcast or
	// multicast, and the wildcard; others need ip_nonlocal_bind or
	// IP_FREEBIND/IP_TRANSPARENT.
	if a.Is6() {
		if !a.IsUnspecified() && !a.IsMulticast() && !s.IsLocalAddr6(a) && !f.FreeBind {
			return nil, unix.EADDRNOTAVAIL
		}
	} else if !a.IsUnspecified() && !a.IsMulticast() && !s.IsLocalAddr(a) && !s.IsBroadcast(a) &&
		!f.FreeBind && s.sysctl.Int("net.ipv4.ip_nonlocal_bind") == 0 {
		return nil, unix.EADDRNOTAVAIL
	}
	if p := int(local.Port()); p != 0 && p < s.sysctl.Int("net.ipv4.ip_unprivileged_port_start") &&
		!s.caps.Has(CapNetBindService) {
		return nil, unix.EACCES
	}
	if f.BindToDevice != 0 && !s.g.HasNIC(tcpip.NICID(f.BindToDevice)) {
		return nil, unix.ENODEV
	}
	b := &UDPBinding{s: s, requested: local, flags: f, proto: header.UDPProtocolNumber, wildNets: wildNets(a, f.V6Only)}
	b.ep = &udpEndpoint{s: s, r: r}
	if f.Lite {
		lr, ok := r.(UDPLiteReceiver)
		if !ok {
			return nil, unix.EINVAL
		}
		b.ep.lite, b.proto = lr, UDPLiteProtocolNumber
	}
	b.resAddr = gAddr(a)
	port, err := b.reserve(b.resAddr, local.Port())
	if err != nil {
		return nil, err
	}
	b.local = netip.AddrPortFrom(a, port)
	b.id = gstack.TransportEndpointID{LocalPort: port, LocalAddress: b.resAddr}
	if e := s.g.RegisterTransportEndpoint(b.netsFor(b.id.LocalAddress), b.proto, b.id, b.ep, b.portFlags(), b.device()); e != nil {
		b.unreserve(b.resAddr, port)
		return nil, unix.EADDRINUSE
	}
	b.noteLite(true)
	return b, nil
}

// gAddr converts an address to gVisor's form; the wildcard is gVisor's
// empty address, which its port manager and demuxer treat as "any".
func gAddr(a netip.Addr) tcpip.Address {
	if !a.IsValid() || a.IsUnspecified() {
		return tcpip.Address{}
	}
	if a.Is6() {
		return tcpip.AddrFrom16(a.As16())
	}
	return tcpip.AddrFrom4(a.As4())
}

// nAddr converts a gVisor address to netip (empty = 0.0.0.0).
func nAddr(a tcpip.Address) netip.Addr {
	switch a.Len() {
	case 4:
		return netip.AddrFrom4(a.As4())
	case 16:
		return netip.AddrFrom16(a.As16())
	}
	return netip.IPv4Unspecified()
}

// portFlags maps the socket options to gVisor's sharing rules: SO_REUSEADDR
// shares with other SO_REUSEADDR sockets and the most recent one gets
// unicast, SO_REUSEPORT shares and load-balances, as Linux's UDP does.
func (b *UDPBinding) portFlags() ports.Flags {
	return ports.Flags{MostRecent: b.flags.ReuseAddr, LoadBalanced: b.flags.ReusePort}
}

func (b *UDPBinding) device() tcpip.NICID { return tcpip.NICID(b.flags.BindToDevice) }

func (b *UDPBinding) reservation(addr tcpip.Address, port uint16) ports.Reservation {
	return ports.Reservation{
		Networks:     b.netsFor(addr),
		Transport:    b.proto,
		Addr:         addr,
		Port:         port,
		Flags:        b.portFlags(),
		BindToDevice: b.device(),
	}
}

// reserve takes port (0 = an ephemeral one) at addr in the port manager.
func (b *UDPBinding) reserve(addr tcpip.Address, port uint16) (uint16, error) {
	if port == 0 && b.flags.PortRange != 0 {
		if got, ok := b.reserveInRange(addr); ok {
			return got, nil
		}
		return 0, unix.EADDRINUSE
	}
	got, e := b.s.g.ReservePort(b.s.g.SecureRNG(), b.reservation(addr, port), nil)
	if e != nil {
		// Linux's bind reports an exhausted ephemeral range as EADDRINUSE.
		return 0, unix.EADDRINUSE
	}
	return got, nil
}

func (b *UDPBinding) unreserve(addr tcpip.Address, port uint16) {
	b.s.g.ReleasePort(b.reservation(addr, port))
}

// Local returns the bound local address and port. After Connect on a
// wildcard binding the address is the source the route chose, as
// getsockname shows on Linux; after a disconnect that released the binding
// it is the zero AddrPort.
func (b *UDPBinding) Local() netip.AddrPort {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.local
}

// Connect re-registers the binding with the 4-tuple so that only datagrams
// from remote reach it; an invalid remote disconnects. Like Linux's
// ip4_datagram_connect, connecting a wildcard binding fixes its local
// address to the route's source. Like __udp_disconnect, disconnecting
// resets an address that bind did not set, and a binding whose port bind did
// not set (UDPBind with port 0) is released entirely: Local() is then zero
// and the caller must bind again before sending.
func (b *UDPBinding) Connect(remote netip.AddrPort) error {
	return b.ConnectVia(remote, b.flags.BindToDevice)
}

// ConnectVia is Connect with the route looked up through ifindex (0 = any):
// ip4_datagram_connect's oif, which IP_UNICAST_IF sets for a socket not
// bound to a device.
func (b *UDPBinding) ConnectVia(remote netip.AddrPort, ifindex int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.released {
		return unix.EINVAL
	}
	if !remote.IsValid() {
		return b.disconnectLocked()
	}
	if remote.Addr().Is6() || b.local.Addr().Is6() && !b.local.Addr().IsUnspecified() {
		return b.connect6Locked(remote, ifindex) // udp_ipv6.go
	}
	if !remote.Addr().Is4() {
		return unix.EAFNOSUPPORT
	}
	// Like ip4_datagram_connect, connecting needs a route, and a loopback
	// source can only reach this host: through lo (__mkroute_output
	// refuses it on any other device), which a socket bound to lo takes
	// to any destination (Stack.loopbackOnLink).
	src := b.local.Addr()
	if src.Is6() {
		src = netip.IPv4Unspecified() // a dual-stack wildcard
	}
	routeSrc, routeIf, err := b.s.RouteFrom(src, remote.Addr(), ifindex)
	if err != nil {
		return err
	}
	if src.IsLoopback() && routeIf != loopbackIfIndex && !b.s.IsLocalAddr(remote.Addr()) {
		return unix.EINVAL
	}
	if src.IsUnspecified() {
		src = routeSrc
	}
	return b.connectLocked(src, remote)
}

// disconnectLocked undoes Connect as __udp_disconnect does.
func (b *UDPBinding) disconnectLocked() error {
	if b.requested.Port() == 0 {
		b.releaseLocked()
		return nil
	}
	addr := gAddr(b.requested.Addr())
	next := gstack.TransportEndpointID{LocalPort: b.local.Port(), LocalAddress: addr}
	if err := b.moveLocked(addr, next); err != nil {
		return err
	}
	b.local = netip.AddrPortFrom(b.requested.Addr(), b.local.Port())
	return nil
}

// moveLocked re-registers the endpoint under next, moving the port
// reservation to resAddr first when it changes. The new registration is made
// before the old one is dropped so no datagram finds the port closed in
// between. On failure the old state is kept.
func (b *UDPBinding) moveLocked(resAddr tcpip.Address, next gstack.TransportEndpointID) error {
	if next == b.id {
		return nil
	}
	g := b.s.g
	port := b.local.Port()
	oldRes := b.resAddr
	if resAddr != oldRes {
		// Our own reservation would conflict with the new one, so it goes
		// first; it is taken back if the new one fails.
		b.unreserve(oldRes, port)
		if _, err := b.reserve(resAddr, port); err != nil {
			b.retakeLocked(oldRes)
			return err
		}
	}
	if e := g.RegisterTransportEndpoint(b.netsFor(next.LocalAddress), b.proto, next, b.ep, b.portFlags(), b.device()); e != nil {
		if resAddr != oldRes {
			b.unreserve(resAddr, port)
			b.retakeLocked(oldRes)
		}
		return unix.EADDRINUSE
	}
	g.UnregisterTransportEndpoint(b.netsFor(b.id.LocalAddress), b.proto, b.id, b.ep, b.portFlags(), b.device())
	b.id = next
	b.resAddr = resAddr
	b.noteLite(true)
	return nil
}

// retakeLocked takes back the reservation at addr after a failed move. It
// was ours a moment ago, so failure means a concurrent bind took the port;
// the binding is then dead, as if released.
func (b *UDPBinding) retakeLocked(addr tcpip.Address) {
	if _, err := b.reserve(addr, b.local.Port()); err != nil {
		b.s.g.UnregisterTransportEndpoint(b.netsFor(b.id.LocalAddress), b.proto, b.id, b.ep, b.portFlags(), b.device())
		b.released = true
		b.noteLite(false)
		b.local = netip.AddrPort{}
	}
}

// Release unregisters the binding and frees its port. It is idempotent.
func (b *UDPBinding) Release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.releaseLocked()
}

func (b *UDPBinding) releaseLocked() {
	if b.released {
		return
	}
	b.released = true
	b.noteLite(false)
	b.s.g.UnregisterTransportEndpoint(b.netsFor(b.id.LocalAddress), b.proto, b.id, b.ep, b.portFlags(), b.device())
	b.unreserve(b.resAddr, b.local.Port())
	b.local = netip.AddrPort{}
}

// connectLocked moves the binding's demuxer registration to the connected
// 4-tuple from src (the chosen local address) to remote.
func (b *UDPBinding) connectLocked(src netip.Addr, remote netip.AddrPort) error {
	next := gstack.TransportEndpointID{
		LocalPort:     b.local.Port(),
		LocalAddress:  gAddr(src),
		RemotePort:    remote.Port(),
		RemoteAddress: gAddr(remote.Addr()),
	}
	if err := b.moveLocked(gAddr(src), next); err != nil {
		return err
	}
	b.local = netip.AddrPortFrom(src, b.local.Port())
	return nil
}
