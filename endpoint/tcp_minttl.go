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
func (t *tcpSock) syncMinTTL(remote netip.AddrPort) {
	ttl := t.optsSnapshot().ext.minTTL
	t.mu.Lock()
	old := t.minTTL.remove
	ever := t.minTTL.ever || ttl > 0
	t.minTTL.remove = nil
	t.minTTL.ever = ever
	t.mu.Unlock()
	if old != nil {
		old()
	}
	if !ever {
		return
	}
	fa, e := t.endpoint().GetLocalAddress()
	if e != nil {
		return
	}
	local, v4 := t.v4HookAddr(fa)
	if !v4 || local.Port() == 0 {
		return // IPv6 traffic, or not bound yet: bind, listen or connect registers it
	}
	if remote.IsValid() && remote.Addr().Is6() {
		if !remote.Addr().Is4In6() {
			return // an AF_INET6 socket's IPv6 peer
		}
		remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
	}
	if !remote.IsValid() {
		if ra, e := t.endpoint().GetRemoteAddress(); e == nil {
			if remote, v4 = t.v4HookAddr(ra); !v4 {
				return
			}
		}
	}
	remove := t.s.SetTCPMinTTL(local, remote, ttl)
	t.mu.Lock()
	t.minTTL.remove = remove
	t.mu.Unlock()
}

// minTTLBeforeConnect gives a socket with a minimum a port before its SYN
// leaves, so the SYN-ACK is already judged (Linux checks it on the
// connecting socket too).
func (t *tcpSock) minTTLBeforeConnect(remote netip.AddrPort) error {
	t.mu.Lock()
	ever := t.minTTL.ever
	t.mu.Unlock()
	if !ever && t.optsSnapshot().ext.minTTL == 0 {
		return nil
	}
	if t.endpoint().State() == uint32(tcp.StateInitial) {
		a, scope := t.pendingBindAddr()
		if err := t.bindEphemeral(a, scope, t.optsSnapshot().ext.portRange); err != nil {
			return err
		}
	}
	t.syncMinTTL(remote)
	return nil
}

// dropMinTTL removes the registration (close).
func (t *tcpSock) dropMinTTL() {
	t.mu.Lock()
	old := t.minTTL.remove
	t.minTTL.remove = nil
	t.mu.Unlock()
	if old != nil {
		old()
	}
}
