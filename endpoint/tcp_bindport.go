package endpoint

import (
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"netsandbox/options"
)

// TCP port choices that Linux makes per socket and gVisor only per stack:
// IP_BIND_ADDRESS_NO_PORT (bind(addr, 0) keeps the address and leaves the
// port to connect or listen, __inet_bind) and IP_LOCAL_PORT_RANGE (the
// ephemeral port comes from the socket's range). The socket then picks the
// port itself and binds gVisor's endpoint to it explicitly.

// tcpBindPortZero handles bind(addr, 0) on a TCP socket when one of those
// options is set; handled is false when gVisor's own choice applies.
// scope is an AF_INET6 address's scope id.
func (t *tcpSock) tcpBindPortZero(addr netip.Addr, scope uint32) (handled bool, err error) {
	o := t.optsSnapshot()
	if !o.ext.bindNoPort && o.ext.portRange == 0 {
		return false, nil
	}
	if t.endpoint().State() != uint32(tcp.StateInitial) {
		return true, unix.EINVAL // already has a port (inet_num)
	}
	if o.ext.bindNoPort {
		t.mu.Lock()
		t.pendingBind, t.pendingScope = addr, scope
		t.mu.Unlock()
		return true, nil
	}
	return true, t.bindEphemeral(addr, scope, o.ext.portRange)
}

// pendingBindAddr is the deferred address, else the unspecified one of the
// socket's family.
func (t *tcpSock) pendingBindAddr() (netip.Addr, uint32) {
	t.mu.Lock()
	a, scope := t.pendingBind, t.pendingScope
	t.mu.Unlock()
	switch {
	case a.IsValid():
	case t.is6():
		a = netip.IPv6Unspecified()
	default:
		a = netip.IPv4Unspecified()
	}
	return a, scope
}

// bindAddressFor is what gVisor's Bind is given for addr and port.
func (t *tcpSock) bindAddressFor(addr netip.Addr, scope uint32, port uint16) tcpip.FullAddress {
	if t.is6() {
		return addr6(options.SockaddrIn6{Addr: addr, Port: port, Scope: scope})
	}
	return t.gvisorBindAddress(netip.AddrPortFrom(addr, port))
}

// bindAt is gVisor's Bind of the endpoint to addr and port.
func (t *tcpSock) bindAt(addr netip.Addr, scope uint32, port uint16) tcpip.Error {
	fa := t.bindAddressFor(addr, scope, port)
	if t.is6() {
		return t.bindEndpoint6(fa) // a non-local address too (nonlocal6.go)
	}
	return t.endpoint().Bind(fa)
}

// bindEphemeral binds the endpoint to addr and a port from the socket's
// range (gVisor's choice from ip_local_port_range when none is set).
func (t *tcpSock) bindEphemeral(addr netip.Addr, scope, portRange uint32) error {
	var err error
	if portRange == 0 {
		err = errOf(t.bindAt(addr, scope, 0))
	} else {
		lo, hi := t.s.EphemeralRange(portRange)
		err = unix.EADDRINUSE
		t.s.PickPort(lo, hi, func(p uint16) bool {
			if t.bindAt(addr, scope, p) != nil {
				return false
			}
			err = nil
			return true
		})
	}
	if err != nil {
		return err
	}
	fa, _ := t.endpoint().GetLocalAddress()
	t.mu.Lock()
	t.pendingBind = netip.Addr{}
	if t.is6() {
		t.bound = netip.AddrPortFrom(addr, fa.Port)
		t.bound6 = t.bindAddressFor(addr, scope, fa.Port)
	} else {
		t.bound = addrPortOf(fa)
	}
	t.mu.Unlock()
	return nil
}

// bindBeforeUse is inet_autobind for connect and listen: a socket with a
// deferred address or its own port range binds now; others are left to
// gVisor.
func (t *tcpSock) bindBeforeUse() error {
	if t.endpoint().State() != uint32(tcp.StateInitial) {
		return nil
	}
	t.mu.Lock()
	deferred := t.pendingBind.IsValid()
	t.mu.Unlock()
	rng := t.optsSnapshot().ext.portRange
	if !deferred && rng == 0 {
		return nil
	}
	a, scope := t.pendingBindAddr()
	return t.bindEphemeral(a, scope, rng)
}

// sockNameDeferred is getsockname of a socket whose port is deferred: the
// address with port 0.
func (t *tcpSock) sockNameDeferred() ([]byte, bool) {
	t.mu.Lock()
	a, scope := t.pendingBind, t.pendingScope
	t.mu.Unlock()
	if !a.IsValid() || t.endpoint().State() != uint32(tcp.StateInitial) {
		return nil, false
	}
	if t.is6() {
		return sockaddr6(t.bindAddressFor(a, scope, 0)), true
	}
	return sockaddr(netip.AddrPortFrom(a, 0)), true
}
