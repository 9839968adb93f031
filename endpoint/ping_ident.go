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

	"netsandbox/stack"
)

// pingIdent is a ping socket's echo identifier as Linux keeps it
// (net/ipv4/ping.c): inet_num and the bind locks. The stack's identifier
// table (stack/ping_table.go) decides who may hold an identifier and which
// socket a reply is for; gVisor's ICMP endpoint only writes the identifier
// into the requests it sends. Guarded by pingSock.pingMu.
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
func (p *pingSock) PingFilter() (netip.Addr, int) {
	return p.localAddr(), p.optsSnapshot().bindIf
}

// PingReuse implements stack.PingSocket: sk_reuse.
func (p *pingSock) PingReuse() bool { return p.optsSnapshot().reuseAddr }

// PingDeliver implements stack.PingSocket: the reply joins the gVisor
// endpoint's receive queue.
func (p *pingSock) PingDeliver(id gstack.TransportEndpointID, pkt *gstack.PacketBuffer) {
	p.deliverMu.Lock()
	defer p.deliverMu.Unlock()
	if te, ok := p.endpoint().(gstack.TransportEndpoint); ok {
		te.HandlePacket(id, pkt)
	}
}

// pingBind is ping_bind after ping_check_bind_addr: a socket holding an
// identifier is EINVAL, then ping_get_port, then the bind locks. ap's
// address has passed the address checks.
func (p *pingSock) pingBind(ap netip.AddrPort) error {
	if ap.Addr().IsMulticast() || p.s.IsBroadcast(ap.Addr()) {
		return unix.EADDRNOTAVAIL // ping_check_bind_addr: RTN_MULTICAST, RTN_BROADCAST
	}
	p.pingMu.Lock()
	defer p.pingMu.Unlock()
	if p.isClosed() {
		return unix.EBADF // a close on another thread has begun
	}
	if p.ping.ident != 0 {
		return unix.EINVAL
	}
	ident, err := p.pingTakeIdent(ap)
	if err != nil {
		return err
	}
	p.ping.ident = ident
	p.ping.portLock = ap.Port() != 0
	p.ping.addrLock = netip.Addr{}
	if !ap.Addr().IsUnspecified() {
		p.ping.addrLock = ap.Addr()
	}
	return nil
}

// pingBindEndpoint binds the gVisor endpoint to ap (its identifier chosen)
// and takes back the demuxer registration gVisor makes; the table is locked.
func (p *pingSock) pingBindEndpoint(ep tcpip.Endpoint, ap netip.AddrPort) error {
	if e := ep.Bind(p.gvisorBindAddress(ap)); e != nil {
		return errOf(e)
	}
	p.s.PingUnregister(ep, ap.Port())
	return nil
}

// pingAutobind is inet_autobind for connect and sendmsg: a socket without
// an identifier gets the next free one, keeping a bound address; failure
// is EAGAIN. pingMu is held.
func (p *pingSock) pingAutobind() error {
	if p.isClosed() {
		return unix.EBADF // a close on another thread has begun
	}
	if p.ping.ident != 0 {
		return nil
	}
	addr := p.ping.addrLock
	if !addr.IsValid() {
		addr = netip.IPv4Unspecified()
	}
	ident, err := p.pingTakeIdent(netip.AddrPortFrom(addr, 0))
	if err != nil {
		return unix.EAGAIN
	}
	p.ping.ident = ident
	return nil
}

// pingSendPrepare is inet_send_prepare's autobind for a ping socket. It
// returns with pingMu read-locked (release with pingMu.RUnlock), so that
// no connect(AF_UNSPEC) swaps the endpoint under the send.
func (p *pingSock) pingSendPrepare() error {
	p.pingMu.RLock()
	if p.ping.ident != 0 {
		return nil
	}
	p.pingMu.RUnlock()
	p.pingMu.Lock()
	err := p.pingAutobind()
	p.pingMu.Unlock()
	p.pingMu.RLock()
	if err == nil && p.ping.ident == 0 {
		// A disconnect slipped in between: try again.
		p.pingMu.RUnlock()
		return p.pingSendPrepare()
	}
	if err != nil {
		p.pingMu.RUnlock()
	}
	return err
}

// pingConnect is connect(2) of the gVisor endpoint for a ping socket,
// which holds an identifier (pingAutobind ran); pingMu is held.
func (p *pingSock) pingConnect(addr tcpip.FullAddress) tcpip.Error {
	var e tcpip.Error
	p.s.PingLocked(func() {
		ep := p.endpoint()
		if e = ep.Connect(addr); e == nil {
			p.s.PingUnregister(ep, p.ping.ident)
		}
	})
	return e
}

// pingTakeIdent is ping_get_port for the socket at ap (port 0: pick one)
// and binds its gVisor endpoint there. An endpoint that still holds the
// identifier a disconnect gave up cannot bind again: a fresh one does and
// takes over its queued replies.
func (p *pingSock) pingTakeIdent(ap netip.AddrPort) (uint16, error) {
	ep := p.endpoint()
	target := ep
	stale := transport.DatagramEndpointState(ep.State()) != transport.DatagramEndpointStateInitial
	if stale {
		nep, e := p.mk(p.q)
		if e != nil {
			return 0, stack.Errno(e)
		}
		target = nep
	}
	ident, err := p.s.PingGetPort(p, ap.Port(), func(id uint16) error {
		return p.pingBindEndpoint(target, netip.AddrPortFrom(ap.Addr(), id))
	})
	if err != nil {
		if stale {
			target.Close()
		}
		return 0, err
	}
	if stale {
		p.pingSwap(ep, target)
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
func (p *pingSock) pingSwap(old, nep tcpip.Endpoint) {
	nep.SetOwner(p.ipid)
	p.deliverMu.Lock()
	p.epMu.Lock()
	p.ep = nep
	p.epMu.Unlock()
	pingMoveQueue(old, nep)
	p.deliverMu.Unlock()
	_ = p.pushOpts()
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
func (p *pingSock) pingDisconnect() error {
	st := p.ping
	if st.ident == 0 {
		return nil
	}
	if !st.portLock {
		p.s.PingUnhash(p, st.ident)
		p.ping.ident = 0
		return nil
	}
	keepAddr := st.addrLock
	if !keepAddr.IsValid() {
		keepAddr = netip.IPv4Unspecified()
	}
	ep := p.endpoint()
	if transport.DatagramEndpointState(ep.State()) == transport.DatagramEndpointStateBound && p.localAddr() == keepAddr {
		return nil // already what a disconnect leaves
	}
	nep, e := p.mk(p.q)
	if e != nil {
		return stack.Errno(e)
	}
	var err error
	p.s.PingLocked(func() {
		err = p.pingBindEndpoint(nep, netip.AddrPortFrom(keepAddr, st.ident))
	})
	if err != nil {
		nep.Close()
		return err
	}
	p.pingSwap(ep, nep)
	return nil
}

// pingSockName is getsockname of a ping socket without an identifier:
// the address bind(2) named, or any, and identifier 0.
func (p *pingSock) pingSockName() (netip.AddrPort, bool) {
	p.pingMu.RLock()
	defer p.pingMu.RUnlock()
	if p.ping.ident != 0 {
		return netip.AddrPort{}, false
	}
	a := p.ping.addrLock
	if !a.IsValid() {
		a = netip.IPv4Unspecified()
	}
	return netip.AddrPortFrom(a, 0), true
}

// pingClose is ping_unhash at close, and closes the gVisor endpoint: both
// under pingMu, so a bind, connect or send that began before close marked
// the socket closed has finished its swap, and none starts after.
func (p *pingSock) pingClose() {
	p.pingMu.Lock()
	defer p.pingMu.Unlock()
	if p.ping.ident != 0 {
		p.s.PingUnhash(p, p.ping.ident)
		p.ping.ident = 0
	}
	p.endpoint().Close()
}
