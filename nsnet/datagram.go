package nsnet

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/endpoint"
	"netsandbox/stack"
)

// dgram is the datagram socket that UDPConn, IPConn and ICMPConn share:
// reads and writes with deadlines, control messages, the error queue and
// the IP-level options (SetTTL, multicast, ...). The three differ only in
// the socket they open and in how an address looks to package net: a
// *net.UDPAddr for UDP, a *net.IPAddr (no port) for raw and ping sockets.
type dgram struct {
	fd      *fd
	network string // the OpError Net: "udp", "ip4:N" or "ping4"
	ports   bool   // addresses carry a port (UDP)
	remote  netip.AddrPort

	mu    sync.Mutex
	flags ControlFlags // control messages turned on (SetControlMessage)
}

// dgramKind is one kind of datagram conn: the socket it opens and the
// look of its addresses.
type dgramKind struct {
	typ, proto int
	network    string
	ports      bool
}

// open makes d's socket, binds it to laddr and, for a dial, connects it
// to raddr. A listen ("listen") always binds, the zero laddr meaning
// 0.0.0.0 and an ephemeral port or identifier; a dial binds only a valid
// laddr and needs a valid raddr. Errors are OpErrors of op.
func (k dgramKind) open(d *dgram, st *stack.Stack, op string, laddr, raddr netip.AddrPort) error {
	d.network, d.ports = k.network, k.ports
	dial := op == "dial"
	fail := func(err error) error {
		if !dial { // package net's listen errors name laddr as Addr
			return opError(op, k.network, nil, d.addr(laddr), err)
		}
		return opError(op, k.network, d.addr(laddr), d.addr(raddr), err)
	}
	if err := checkAddr4(laddr); err != nil {
		return fail(err)
	}
	if err := checkAddr4(raddr); err != nil {
		return fail(err)
	}
	if dial && !raddr.IsValid() {
		return fail(unix.EDESTADDRREQ)
	}
	s, err := newSocket(st, k.typ, k.proto)
	if err != nil {
		return fail(err)
	}
	if !dial || laddr.IsValid() {
		if err := s.Bind(sockaddr(laddr)); err != nil {
			s.Close()
			return fail(err)
		}
	}
	if dial {
		if err := s.Connect(sockaddr(raddr)); err != nil {
			s.Close()
			return fail(err)
		}
	}
	d.fd, d.remote = newFD(s), peerOf(s)
	if dial && !d.remote.IsValid() {
		// A connected raw or ping socket has destination port 0, so
		// getpeername answers ENOTCONN, as on Linux (inet_getname).
		d.remote = raddr
	}
	return nil
}

// addr is ap as package net shows it, nil for the zero AddrPort so that an
// OpError prints no address rather than "<nil>".
func (c *dgram) addr(ap netip.AddrPort) net.Addr {
	switch {
	case !ap.IsValid():
		return nil
	case c.ports:
		return net.UDPAddrFromAddrPort(ap)
	default:
		return &net.IPAddr{IP: ap.Addr().AsSlice()}
	}
}

// addrPort is the inverse of addr for WriteTo: a *net.UDPAddr on a UDP
// conn, a *net.IPAddr on the others.
func (c *dgram) addrPort(a net.Addr) (netip.AddrPort, bool) {
	switch a := a.(type) {
	case *net.UDPAddr:
		if c.ports && a != nil {
			return unmap(a.AddrPort()), true
		}
	case *net.IPAddr:
		if !c.ports && a != nil {
			ip, ok := netip.AddrFromSlice(a.IP)
			return netip.AddrPortFrom(ip.Unmap(), 0), ok
		}
	}
	return netip.AddrPort{}, false
}

func (c *dgram) localAddrPort() netip.AddrPort { return localOf(c.fd.s) }

// LocalAddr is read from the socket each time: an unbound socket gets its
// address (and a UDP port or ping identifier) on the first send.
func (c *dgram) LocalAddr() net.Addr { return c.addr(c.localAddrPort()) }

// RemoteAddr is nil for an unconnected conn, as in package net.
func (c *dgram) RemoteAddr() net.Addr { return c.addr(c.remote) }

func (c *dgram) SetDeadline(t time.Time) error      { c.fd.setDeadline(t); return nil }
func (c *dgram) SetReadDeadline(t time.Time) error  { c.fd.rd.set(t); return nil }
func (c *dgram) SetWriteDeadline(t time.Time) error { c.fd.wd.set(t); return nil }

// Socket returns the underlying socket for options this type does not
// wrap. It is in nonblocking mode; do not change that.
func (c *dgram) Socket() endpoint.Socket { return c.fd.s }

// Close closes the socket and wakes every call blocked on it.
func (c *dgram) Close() error {
	if err := c.fd.close(); err != nil {
		return c.err("close", err, netip.AddrPort{})
	}
	return nil
}

func (c *dgram) err(op string, err error, peer netip.AddrPort) error {
	if !peer.IsValid() {
		peer = c.remote
	}
	return opError(op, c.network, c.addr(c.localAddrPort()), c.addr(peer), err)
}

// recv is one recvmsg with the read deadline; oob may be nil.
func (c *dgram) recv(b, oob []byte, flags int) (n, oobn int, from netip.AddrPort, err error) {
	var sa []byte
	mask := waiter.ReadableEvents
	if flags&unix.MSG_ERRQUEUE != 0 {
		mask = waiter.EventErr
	}
	err = c.fd.do(&c.fd.rd, mask, nil, func() (err error) {
		n, oobn, _, sa, err = c.fd.s.RecvMsg(b, oob, flags)
		return err
	})
	if err != nil {
		return 0, 0, netip.AddrPort{}, c.err("read", err, netip.AddrPort{})
	}
	return n, oobn, parseSockaddr(sa), nil
}

// send is one sendmsg with the write deadline; an invalid to sends to the
// connected peer.
func (c *dgram) send(b, oob []byte, to netip.AddrPort) (int, error) {
	var sa []byte
	if to.IsValid() {
		if err := checkAddr4(to); err != nil {
			return 0, c.err("write", err, to)
		}
		sa = sockaddr(to)
	}
	var n int
	err := c.fd.do(&c.fd.wd, waiter.WritableEvents, nil, func() (err error) {
		n, err = c.fd.s.SendMsg(b, oob, sa, 0)
		return err
	})
	if err != nil {
		return n, c.err("write", err, to)
	}
	return n, nil
}

// Read reads one datagram (a longer one is truncated to len(b), as recv(2)
// does); on an unconnected conn, from any source.
func (c *dgram) Read(b []byte) (int, error) {
	n, _, _, err := c.recv(b, nil, 0)
	return n, err
}

// Write sends b to the connected peer.
func (c *dgram) Write(b []byte) (int, error) { return c.send(b, nil, netip.AddrPort{}) }

// ReadFrom implements net.PacketConn: one datagram and its source, a
// *net.UDPAddr on a UDPConn and a *net.IPAddr on an IPConn or ICMPConn.
func (c *dgram) ReadFrom(b []byte) (int, net.Addr, error) {
	n, _, from, err := c.recv(b, nil, 0)
	if err != nil {
		return n, nil, err
	}
	return n, c.addr(from), nil
}

// WriteTo implements net.PacketConn: addr must be a *net.UDPAddr on a
// UDPConn and a *net.IPAddr on an IPConn or ICMPConn.
func (c *dgram) WriteTo(b []byte, addr net.Addr) (int, error) {
	ap, ok := c.addrPort(addr)
	if !ok {
		return 0, c.err("write", unix.EINVAL, netip.AddrPort{})
	}
	if !ap.Addr().IsValid() {
		return 0, c.err("write", unix.EDESTADDRREQ, netip.AddrPort{})
	}
	return c.send(b, nil, ap)
}

// oobSize holds every control message a read may be handed: in_pktinfo,
// TTL, TOS, the original destination or an extended error with its
// offender, with room to spare.
const oobSize = 256

// readMsg reads one datagram with the control messages turned on by
// SetControlMessage, decoded into cm (which may be nil).
func (c *dgram) readMsg(b []byte, cm *ControlMessage) (int, netip.AddrPort, error) {
	var oob [oobSize]byte
	n, oobn, from, err := c.recv(b, oob[:], 0)
	if err != nil {
		return n, from, err
	}
	if cm != nil {
		*cm = ControlMessage{}
		if err := cm.Parse(oob[:oobn]); err != nil {
			return n, from, c.err("read", err, from)
		}
	}
	return n, from, nil
}

// writeMsg sends b to `to` (or the connected peer when to is the zero
// AddrPort) with the per-datagram settings of cm (which may be nil).
func (c *dgram) writeMsg(b []byte, cm *ControlMessage, to netip.AddrPort) (int, error) {
	return c.send(b, cm.Marshal(), to)
}
