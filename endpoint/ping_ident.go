package endpoint

import (
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport"
	"gvisor.dev/gvisor/pkg/waiter"
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
	g.deliverMu.Lock()
	defer g.deliverMu.Unlock()
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
	if g.isClosed() {
		return unix.EBADF // a close on another thread has begun
	}
	if g.ping.ident != 0 {
		return unix.EINVAL
	}
	ident, err := g.pingTakeIdent(ap)
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
	if g.isClosed() {
		return unix.EBADF // a close on another thread has begun
	}
	if g.ping.ident != 0 {
		return nil
	}
	addr := g.ping.addrLock
	if !addr.IsValid() {
		addr = netip.IPv4Unspecified()
	}
	ident, err := g.pingTakeIdent(netip.AddrPortFrom(addr, 0))
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

// pingTakeIdent is ping_get_port for the socket at ap (port 0: pick one)
// and binds its gVisor endpoint there. An endpoint that still holds the
// identifier a disconnect gave up cannot bind again: a fresh one does and
// takes over its queued replies.
func (g *gsock) pingTakeIdent(ap netip.AddrPort) (uint16, error) {
	ep := g.endpoint()
	target := ep
	stale := transport.DatagramEndpointState(ep.State()) != transport.DatagramEndpointStateInitial
	if stale {
		nep, e := g.mk(g.q)
		if e != nil {
			return 0, errnoOf(e)
		}
		target = nep
	}
	ident, err := g.s.PingGetPort(g, ap.Port(), func(id uint16) error {
		return g.pingBindEndpoint(target, netip.AddrPortFrom(ap.Addr(), id))
	})
	if err != nil {
		if stale {
			target.Close()
		}
		return 0, err
	}
	if stale {
		g.pingSwap(ep, target)
	}
	return ident, nil
}

// pingSwap makes nep the socket's gVisor endpoint in place of old, with
// the socket's options and old's queued replies. pingMu is held, so no
// send runs meanwhile; deliveries wait until the queue has moved, so they
// neither land on old nor overtake what it held. A reader that was
// blocked on old is woken by the moved replies, which it finds on nep.
// Options are pushed after deliverMu is released: pushing them takes
// stack locks a delivering goroutine may hold while it waits for it.
func (g *gsock) pingSwap(old, nep tcpip.Endpoint) {
	nep.SetOwner(g.ipid)
	g.deliverMu.Lock()
	g.epMu.Lock()
	g.ep = nep
	g.epMu.Unlock()
	pingMoveQueue(old, nep)
	g.deliverMu.Unlock()
	_ = g.pushOpts()
	old.Close()
}

// pingMoveQueue hands the echo replies queued on from to to, in order:
// __udp_disconnect leaves the receive queue alone. gVisor keeps of each
// what recvmsg reports (sender, destination, interface, TTL, TOS), from
// which the IPv4 header is made again; the receive time becomes now.
func pingMoveQueue(from, to tcpip.Endpoint) {
	te, ok := to.(gstack.TransportEndpoint)
	if !ok || from.Readiness(waiter.ReadableEvents) == 0 {
		return
	}
	buf := make([]byte, header.IPv4MinimumSize+maxIPPayload)
	for {
		w := tcpip.SliceWriter(buf[header.IPv4MinimumSize:])
		res, e := from.Read(&tcpip.LimitedWriter{W: &w, N: maxIPPayload}, tcpip.ReadOptions{NeedRemoteAddr: true})
		if e != nil {
			return
		}
		if res.Count < header.ICMPv4MinimumSize {
			continue
		}
		cm := res.ControlMessages
		pkt := buf[:header.IPv4MinimumSize+res.Count]
		ip := header.IPv4(pkt)
		ip.Encode(&header.IPv4Fields{
			TOS:         cm.TOS,
			TotalLength: uint16(len(pkt)),
			TTL:         cm.TTL,
			Protocol:    uint8(header.ICMPv4ProtocolNumber),
			SrcAddr:     res.RemoteAddr.Addr,
			DstAddr:     cm.PacketInfo.DestinationAddr,
		})
		ip.SetChecksum(^ip.CalculateChecksum())
		pb := gstack.NewPacketBuffer(gstack.PacketBufferOptions{Payload: buffer.MakeWithData(pkt)})
		pb.NetworkProtocolNumber = header.IPv4ProtocolNumber
		pb.TransportProtocolNumber = header.ICMPv4ProtocolNumber
		pb.NICID = cm.PacketInfo.NIC
		if _, ok := pb.NetworkHeader().Consume(header.IPv4MinimumSize); ok {
			if _, ok := pb.TransportHeader().Consume(header.ICMPv4MinimumSize); ok {
				te.HandlePacket(gstack.TransportEndpointID{
					LocalAddress:  cm.PacketInfo.DestinationAddr,
					LocalPort:     header.ICMPv4(pkt[header.IPv4MinimumSize:]).Ident(),
					RemoteAddress: res.RemoteAddr.Addr,
				}, pb)
			}
		}
		pb.DecRef()
	}
}

// pingDisconnect is __udp_disconnect for a ping socket: the source address
// is forgotten unless bind(2) named it, the identifier given up unless
// bind(2) named it (ping_unhash). A socket that gives its identifier up
// leaves the table at once, so nothing more reaches it, and keeps its
// gVisor endpoint (and queued replies) until it takes a new identifier
// (pingTakeIdent). One that keeps its identifier gets a fresh endpoint
// bound to it: gVisor's ICMP endpoint cannot disconnect. pingMu is held.
func (g *gsock) pingDisconnect() error {
	st := g.ping
	if st.ident == 0 {
		return nil
	}
	if !st.portLock {
		g.s.PingUnhash(g, st.ident)
		g.ping.ident = 0
		return nil
	}
	keepAddr := st.addrLock
	if !keepAddr.IsValid() {
		keepAddr = netip.IPv4Unspecified()
	}
	ep := g.endpoint()
	if transport.DatagramEndpointState(ep.State()) == transport.DatagramEndpointStateBound && g.localAddr() == keepAddr {
		return nil // already what a disconnect leaves
	}
	nep, e := g.mk(g.q)
	if e != nil {
		return errnoOf(e)
	}
	var err error
	g.s.PingLocked(func() {
		err = g.pingBindEndpoint(nep, netip.AddrPortFrom(keepAddr, st.ident))
	})
	if err != nil {
		nep.Close()
		return err
	}
	g.pingSwap(ep, nep)
	return nil
}

// pingSockName is getsockname of a ping socket without an identifier:
// the address bind(2) named, or any, and identifier 0.
func (g *gsock) pingSockName() (netip.AddrPort, bool) {
	g.pingMu.RLock()
	defer g.pingMu.RUnlock()
	if g.ping.ident != 0 {
		return netip.AddrPort{}, false
	}
	a := g.ping.addrLock
	if !a.IsValid() {
		a = netip.IPv4Unspecified()
	}
	return netip.AddrPortFrom(a, 0), true
}

// pingClose is ping_unhash at close, and closes the gVisor endpoint: both
// under pingMu, so a bind, connect or send that began before close marked
// the socket closed has finished its swap, and none starts after.
func (g *gsock) pingClose() {
	g.pingMu.Lock()
	defer g.pingMu.Unlock()
	if g.ping.ident != 0 {
		g.s.PingUnhash(g, g.ping.ident)
		g.ping.ident = 0
	}
	g.endpoint().Close()
}
