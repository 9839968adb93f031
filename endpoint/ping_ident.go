package endpoint

import (
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport"
)

// pingIdent is a ping socket's echo identifier as Linux keeps it
// (net/ipv4/ping.c): inet_num and the bind locks. The stack's identifier
// table (stack/ping_table.go) decides who may hold an identifier and which
// socket a reply is for; gVisor's ICMP endpoint only writes the identifier
// into the requests it sends. Guarded by gsock.pingMu.
type pingIdent struct {
	// ident is inet_num: 0 while the socket is not in the table.
	ident uint16
	// portLock is SOCK_BINDPORT_LOCK: bind(2) named the identifier, so
	// connect(AF_UNSPEC) keeps it.
	portLock bool
	// addrLock is SOCK_BINDADDR_LOCK's address: the one bind(2) named
	// (invalid when none), which connect(AF_UNSPEC) keeps.
	addrLock netip.Addr
}

// PingFilter implements stack.PingSocket: inet_rcv_saddr (the bound or
// connected source) and the bound device.
func (g *gsock) PingFilter() (netip.Addr, int) {
	return g.localAddr(), g.optsSnapshot().bindIf
}

// PingReuse implements stack.PingSocket: sk_reuse.
func (g *gsock) PingReuse() bool { return g.optsSnapshot().reuseAddr }

// PingDeliver implements stack.PingSocket: the reply joins the gVisor
// endpoint's receive queue.
func (g *gsock) PingDeliver(id gstack.TransportEndpointID, pkt *gstack.PacketBuffer) {
	if te, ok := g.endpoint().(gstack.TransportEndpoint); ok {
		te.HandlePacket(id, pkt)
	}
}

// pingBind is ping_bind after ping_check_bind_addr: a socket holding an
// identifier is EINVAL, then ping_get_port, then the bind locks. ap's
// address has passed the address checks.
func (g *gsock) pingBind(ap netip.AddrPort) error {
	if ap.Addr().IsMulticast() || g.s.IsBroadcast(ap.Addr()) {
		return unix.EADDRNOTAVAIL // ping_check_bind_addr: RTN_MULTICAST, RTN_BROADCAST
	}
	g.pingMu.Lock()
	defer g.pingMu.Unlock()
	if g.ping.ident != 0 {
		return unix.EINVAL
	}
	ident, err := g.s.PingGetPort(g, ap.Port(), func(id uint16) error {
		return g.pingBindEndpoint(g.endpoint(), netip.AddrPortFrom(ap.Addr(), id))
	})
	if err != nil {
		return err
	}
	g.ping.ident = ident
	g.ping.portLock = ap.Port() != 0
	g.ping.addrLock = netip.Addr{}
	if !ap.Addr().IsUnspecified() {
		g.ping.addrLock = ap.Addr()
	}
	return nil
}

// pingBindEndpoint binds the gVisor endpoint to ap (its identifier chosen)
// and takes back the demuxer registration gVisor makes; the table is locked.
func (g *gsock) pingBindEndpoint(ep tcpip.Endpoint, ap netip.AddrPort) error {
	if e := ep.Bind(g.gvisorBindAddress(ap)); e != nil {
		return errOf(e)
	}
	g.s.PingUnregister(ep, ap.Port())
	return nil
}

// pingAutobind is inet_autobind for connect and sendmsg: a socket without
// an identifier gets the next free one, keeping a bound address; failure
// is EAGAIN. pingMu is held.
func (g *gsock) pingAutobind() error {
	if g.ping.ident != 0 {
		return nil
	}
	addr := g.ping.addrLock
	if !addr.IsValid() {
		addr = netip.IPv4Unspecified()
	}
	ident, err := g.s.PingGetPort(g, 0, func(id uint16) error {
		return g.pingBindEndpoint(g.endpoint(), netip.AddrPortFrom(addr, id))
	})
	if err != nil {
		return unix.EAGAIN
	}
	g.ping.ident = ident
	return nil
}

// pingSendPrepare is inet_send_prepare's autobind for a ping socket. It
// returns with pingMu read-locked (release with pingMu.RUnlock), so that
// no connect(AF_UNSPEC) swaps the endpoint under the send.
func (g *gsock) pingSendPrepare() error {
	g.pingMu.RLock()
	if g.ping.ident != 0 {
		return nil
	}
	g.pingMu.RUnlock()
	g.pingMu.Lock()
	err := g.pingAutobind()
	g.pingMu.Unlock()
	g.pingMu.RLock()
	if err == nil && g.ping.ident == 0 {
		// A disconnect slipped in between: try again.
		g.pingMu.RUnlock()
		return g.pingSendPrepare()
	}
	if err != nil {
		g.pingMu.RUnlock()
	}
	return err
}

// pingConnect is connect(2) of the gVisor endpoint for a ping socket,
// which holds an identifier (pingAutobind ran); pingMu is held.
func (g *gsock) pingConnect(addr tcpip.FullAddress) tcpip.Error {
	var e tcpip.Error
	g.s.PingLocked(func() {
		ep := g.endpoint()
		if e = ep.Connect(addr); e == nil {
			g.s.PingUnregister(ep, g.ping.ident)
		}
	})
	return e
}

// pingDisconnect is __udp_disconnect for a ping socket: the source address
// is forgotten unless bind(2) named it, the identifier given up unless
// bind(2) named it (ping_unhash). gVisor's ICMP endpoint cannot disconnect
// or give up its identifier, so the socket gets a fresh one, bound again
// when the identifier stays. pingMu is held.
func (g *gsock) pingDisconnect() error {
	st := g.ping
	ep := g.endpoint()
	state := transport.DatagramEndpointState(ep.State())
	if st.ident == 0 && state == transport.DatagramEndpointStateInitial {
		return nil
	}
	keepAddr := st.addrLock
	if !keepAddr.IsValid() {
		keepAddr = netip.IPv4Unspecified()
	}
	if st.portLock && state == transport.DatagramEndpointStateBound && g.localAddr() == keepAddr {
		return nil // already what a disconnect leaves
	}
	nep, e := g.mk(g.q)
	if e != nil {
		return errnoOf(e)
	}
	if st.portLock {
		var err error
		g.s.PingLocked(func() {
			err = g.pingBindEndpoint(nep, netip.AddrPortFrom(keepAddr, st.ident))
		})
		if err != nil {
			nep.Close()
			return err
		}
	}
	g.epMu.Lock()
	g.ep = nep
	g.epMu.Unlock()
	nep.SetOwner(g.ipid)
	_ = g.pushOpts()
	if !st.portLock {
		g.s.PingUnhash(g, st.ident)
		g.ping.ident = 0
	}
	ep.Close()
	return nil
}

// pingSockName is getsockname of a ping socket without an identifier
// whose address bind(2) named: that address and identifier 0.
func (g *gsock) pingSockName() (netip.AddrPort, bool) {
	g.pingMu.RLock()
	defer g.pingMu.RUnlock()
	if g.ping.ident != 0 || !g.ping.addrLock.IsValid() {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(g.ping.addrLock, 0), true
}

// pingClose is ping_unhash at close.
func (g *gsock) pingClose() {
	g.pingMu.Lock()
	defer g.pingMu.Unlock()
	if g.ping.ident != 0 {
		g.s.PingUnhash(g, g.ping.ident)
		g.ping.ident = 0
	}
}
