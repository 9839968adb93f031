package endpoint

import (
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
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

// resetMinReg drops the registration r (IP_MINTTL's or
// IPV6_MINHOPCOUNT's) for a fresh one and says whether the socket must
// register again: once it has had a minimum (v now, or before), it does.
func (t *tcpSock) resetMinReg(r *minTTLReg, v int) bool {
	t.mu.Lock()
	old := r.remove
	r.remove = nil
	r.ever = r.ever || v > 0
	ever := r.ever
	t.mu.Unlock()
	if old != nil {
		old()
	}
	return ever
}

// syncMinTTL re-registers the socket's IP_MINTTL under its addresses,
// and an AF_INET6 socket's IPV6_MINHOPCOUNT (syncMinHops); remote is the
// peer of a connect in progress (zero = ask gVisor).
func (t *tcpSock) syncMinTTL(remote netip.AddrPort) {
	if t.is6() {
		t.syncMinHops(remote)
	}
	ttl := t.optsSnapshot().ext.minTTL
	if !t.resetMinReg(&t.minTTL, int(ttl)) {
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
	ever := t.minTTL.ever || t.minHops.ever
	t.mu.Unlock()
	if !ever && t.optsSnapshot().ext.minTTL == 0 && t.minHopCount() == 0 {
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

// dropMinTTL removes the registrations (close).
func (t *tcpSock) dropMinTTL() {
	t.mu.Lock()
	old, old6 := t.minTTL.remove, t.minHops.remove
	t.minTTL.remove, t.minHops.remove = nil, nil
	t.mu.Unlock()
	if old != nil {
		old()
	}
	if old6 != nil {
		old6()
	}
}

// minHopCount is IPV6_MINHOPCOUNT.
func (t *tcpSock) minHopCount() int {
	t.optMu.Lock()
	defer t.optMu.Unlock()
	return t.v6.minHopCount
}

// syncMinHops is syncMinTTL for IPV6_MINHOPCOUNT, which judges the
// socket's IPv6 traffic (tcp_v6_rcv): it registers under the socket's
// IPv6 addresses (:: for a wildcard bind, dual-stack or not), while its
// IPv4 (v4-mapped) traffic is IP_MINTTL's (v4HookAddr).
func (t *tcpSock) syncMinHops(remote netip.AddrPort) {
	hops := t.minHopCount()
	if !t.resetMinReg(&t.minHops, hops) {
		return
	}
	fa, e := t.endpoint().GetLocalAddress()
	if e != nil || fa.Port == 0 {
		return // not bound yet: bind, listen or connect registers it
	}
	local, ok := v6HookAddr(fa)
	if !ok {
		return // IPv4 traffic: IP_MINTTL's
	}
	if remote.IsValid() && (!remote.Addr().Is6() || remote.Addr().Is4In6()) {
		return // an IPv4 peer
	}
	if !remote.IsValid() {
		if ra, e := t.endpoint().GetRemoteAddress(); e == nil && ra.Addr.Len() != 0 {
			if remote, ok = v6HookAddr(ra); !ok || remote.Addr().IsUnspecified() {
				return
			}
		}
	}
	remove := t.s.SetTCPMinTTL(local, remote, uint8(hops))
	t.mu.Lock()
	t.minHops.remove = remove
	t.mu.Unlock()
}

// v6HookAddr is the IPv6 form of a gVisor address of an AF_INET6 socket,
// for the stack's TCP hook: ok is false for an IPv4 or v4-mapped one; an
// unbound address is ::.
func v6HookAddr(fa tcpip.FullAddress) (netip.AddrPort, bool) {
	switch fa.Addr.Len() {
	case 0:
		return netip.AddrPortFrom(netip.IPv6Unspecified(), fa.Port), true
	case 16:
		a := netip.AddrFrom16(fa.Addr.As16())
		return netip.AddrPortFrom(a, fa.Port), !a.Is4In6()
	}
	return netip.AddrPort{}, false
}
