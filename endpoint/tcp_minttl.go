package endpoint

import (
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// IP_MINTTL on TCP: the socket keeps a registration in the stack
// (Stack.SetTCPMinTTL) under its current local address and peer, which the
// stack consults for every inbound segment. It is refreshed when the option
// changes and when bind, listen, connect or accept give the socket new
// addresses, and dropped on close. Once a socket has had a minimum it stays
// registered (with 0 after clearing it) so that it does not fall back to a
// listener's minimum.

type minTTLReg struct {
	remove func()
	ever   bool
}

// syncMinTTL re-registers the socket's IP_MINTTL under its addresses;
// remote is the peer of a connect in progress (zero = ask gVisor).
func (g *gsock) syncMinTTL(remote netip.AddrPort) {
	if !g.isTCP() {
		return
	}
	ttl := g.optsSnapshot().ext.minTTL
	g.mu.Lock()
	old := g.minTTL.remove
	ever := g.minTTL.ever || ttl > 0
	g.minTTL.remove = nil
	g.minTTL.ever = ever
	g.mu.Unlock()
	if old != nil {
		old()
	}
	if !ever {
		return
	}
	fa, e := g.endpoint().GetLocalAddress()
	if e != nil {
		return
	}
	local := addrPortOf(fa)
	if local.Port() == 0 {
		return // not bound yet: bind, listen or connect registers it
	}
	if !remote.IsValid() {
		if ra, e := g.endpoint().GetRemoteAddress(); e == nil {
			remote = addrPortOf(ra)
		}
	}
	remove := g.s.SetTCPMinTTL(local, remote, ttl)
	g.mu.Lock()
	g.minTTL.remove = remove
	g.mu.Unlock()
}

// minTTLBeforeConnect gives a socket with a minimum a port before its SYN
// leaves, so the SYN-ACK is already judged (Linux checks it on the
// connecting socket too).
func (g *gsock) minTTLBeforeConnect(remote netip.AddrPort) error {
	if !g.isTCP() {
		return nil
	}
	g.mu.Lock()
	ever := g.minTTL.ever
	g.mu.Unlock()
	if !ever && g.optsSnapshot().ext.minTTL == 0 {
		return nil
	}
	if g.endpoint().State() == uint32(tcp.StateInitial) {
		a := g.pendingBindAddr()
		if !a.IsValid() {
			a = netip.IPv4Unspecified()
		}
		if err := g.bindEphemeral(a, g.optsSnapshot().ext.portRange); err != nil {
			return err
		}
	}
	g.syncMinTTL(remote)
	return nil
}

// dropMinTTL removes the registration (close).
func (g *gsock) dropMinTTL() {
	g.mu.Lock()
	old := g.minTTL.remove
	g.minTTL.remove = nil
	g.mu.Unlock()
	if old != nil {
		old()
	}
}
