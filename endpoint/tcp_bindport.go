package endpoint

import (
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// TCP port choices that Linux makes per socket and gVisor only per stack:
// IP_BIND_ADDRESS_NO_PORT (bind(addr, 0) keeps the address and leaves the
// port to connect or listen, __inet_bind) and IP_LOCAL_PORT_RANGE (the
// ephemeral port comes from the socket's range). The socket then picks the
// port itself and binds gVisor's endpoint to it explicitly.

// tcpBindPortZero handles bind(addr, 0) on a TCP socket when one of those
// options is set; handled is false when gVisor's own choice applies.
func (g *gsock) tcpBindPortZero(addr netip.Addr) (handled bool, err error) {
	o := g.optsSnapshot()
	if !o.ext.bindNoPort && o.ext.portRange == 0 {
		return false, nil
	}
	if g.endpoint().State() != uint32(tcp.StateInitial) {
		return true, unix.EINVAL // already has a port (inet_num)
	}
	if o.ext.bindNoPort {
		g.mu.Lock()
		g.pendingBind = addr
		g.mu.Unlock()
		return true, nil
	}
	return true, g.bindEphemeral(addr, o.ext.portRange)
}

func (g *gsock) pendingBindAddr() netip.Addr {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.pendingBind
}

// bindEphemeral binds the endpoint to addr and a port from the socket's
// range (gVisor's choice from ip_local_port_range when none is set).
func (g *gsock) bindEphemeral(addr netip.Addr, portRange uint32) error {
	var err error
	if portRange == 0 {
		err = errOf(g.endpoint().Bind(g.gvisorBindAddress(netip.AddrPortFrom(addr, 0))))
	} else {
		lo, hi := g.s.EphemeralRange(portRange)
		err = unix.EADDRINUSE
		g.s.PickPort(lo, hi, func(p uint16) bool {
			if g.endpoint().Bind(g.gvisorBindAddress(netip.AddrPortFrom(addr, p))) != nil {
				return false
			}
			err = nil
			return true
		})
	}
	if err != nil {
		return err
	}
	fa, _ := g.endpoint().GetLocalAddress()
	g.mu.Lock()
	g.pendingBind = netip.Addr{}
	g.bound = addrPortOf(fa)
	g.mu.Unlock()
	return nil
}

// bindBeforeUse is inet_autobind for connect and listen: a TCP socket with
// a deferred address or its own port range binds now; others are left to
// gVisor.
func (g *gsock) bindBeforeUse() error {
	if !g.isTCP() || g.endpoint().State() != uint32(tcp.StateInitial) {
		return nil
	}
	pending := g.pendingBindAddr()
	rng := g.optsSnapshot().ext.portRange
	if !pending.IsValid() && rng == 0 {
		return nil
	}
	if !pending.IsValid() {
		pending = netip.IPv4Unspecified()
	}
	return g.bindEphemeral(pending, rng)
}

// sockNameDeferred is getsockname of a socket whose port is deferred: the
// address with port 0.
func (g *gsock) sockNameDeferred() (netip.AddrPort, bool) {
	a := g.pendingBindAddr()
	if !a.IsValid() || g.endpoint().State() != uint32(tcp.StateInitial) {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a, 0), true
}
