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
func (t *tcpSock) tcpBindPortZero(addr netip.Addr) (handled bool, err error) {
	o := t.optsSnapshot()
	if !o.ext.bindNoPort && o.ext.portRange == 0 {
		return false, nil
	}
	if t.endpoint().State() != uint32(tcp.StateInitial) {
		return true, unix.EINVAL // already has a port (inet_num)
	}
	if o.ext.bindNoPort {
		t.mu.Lock()
		t.pendingBind = addr
		t.mu.Unlock()
		return true, nil
	}
	return true, t.bindEphemeral(addr, o.ext.portRange)
}

func (t *tcpSock) pendingBindAddr() netip.Addr {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pendingBind
}

// bindEphemeral binds the endpoint to addr and a port from the socket's
// range (gVisor's choice from ip_local_port_range when none is set).
func (t *tcpSock) bindEphemeral(addr netip.Addr, portRange uint32) error {
	var err error
	if portRange == 0 {
		err = errOf(t.endpoint().Bind(t.gvisorBindAddress(netip.AddrPortFrom(addr, 0))))
	} else {
		lo, hi := t.s.EphemeralRange(portRange)
		err = unix.EADDRINUSE
		t.s.PickPort(lo, hi, func(p uint16) bool {
			if t.endpoint().Bind(t.gvisorBindAddress(netip.AddrPortFrom(addr, p))) != nil {
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
	t.bound = addrPortOf(fa)
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
	pending := t.pendingBindAddr()
	rng := t.optsSnapshot().ext.portRange
	if !pending.IsValid() && rng == 0 {
		return nil
	}
	if !pending.IsValid() {
		pending = netip.IPv4Unspecified()
	}
	return t.bindEphemeral(pending, rng)
}

// sockNameDeferred is getsockname of a socket whose port is deferred: the
// address with port 0.
func (t *tcpSock) sockNameDeferred() (netip.AddrPort, bool) {
	a := t.pendingBindAddr()
	if !a.IsValid() || t.endpoint().State() != uint32(tcp.StateInitial) {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a, 0), true
}
