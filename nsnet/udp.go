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

// UDPConn is a UDP socket. It implements net.PacketConn, and net.Conn when
// it was made by DialUDP (connected).
type UDPConn struct {
	fd     *fd
	remote netip.AddrPort

	mu    sync.Mutex
	flags ControlFlags // control messages turned on (SetControlMessage)
}

var (
	_ net.Conn       = (*UDPConn)(nil)
	_ net.PacketConn = (*UDPConn)(nil)
)

// ListenUDP binds laddr (the zero AddrPort is 0.0.0.0 and an ephemeral
// port).
func ListenUDP(st *stack.Stack, laddr netip.AddrPort) (*UDPConn, error) {
	fail := func(err error) (*UDPConn, error) {
		return nil, opError("listen", "udp", nil, udpAddr(laddr), err)
	}
	if err := checkAddr4(laddr); err != nil {
		return fail(err)
	}
	s, err := newSocket(st, unix.SOCK_DGRAM)
	if err != nil {
		return fail(err)
	}
	if err := s.Bind(sockaddr(laddr)); err != nil {
		s.Close()
		return fail(err)
	}
	return &UDPConn{fd: newFD(s)}, nil
}

// DialUDP connects a UDP socket to raddr, from laddr if it is valid.
func DialUDP(st *stack.Stack, laddr, raddr netip.AddrPort) (*UDPConn, error) {
	fail := func(err error) (*UDPConn, error) {
		return nil, opError("dial", "udp", udpAddr(laddr), udpAddr(raddr), err)
	}
	if err := checkAddr4(raddr); err != nil || !raddr.IsValid() {
		if err == nil {
			err = unix.EDESTADDRREQ
		}
		return fail(err)
	}
	if err := checkAddr4(laddr); err != nil {
		return fail(err)
	}
	s, err := newSocket(st, unix.SOCK_DGRAM)
	if err != nil {
		return fail(err)
	}
	if laddr.IsValid() {
		if err := s.Bind(sockaddr(laddr)); err != nil {
			s.Close()
			return fail(err)
		}
	}
	if err := s.Connect(sockaddr(raddr)); err != nil {
		s.Close()
		return fail(err)
	}
	return &UDPConn{fd: newFD(s), remote: peerOf(s)}, nil
}

// LocalAddrPort is read from the socket each time: an unbound socket gets
// its port on the first send.
func (c *UDPConn) LocalAddrPort() netip.AddrPort  { return localOf(c.fd.s) }
func (c *UDPConn) RemoteAddrPort() netip.AddrPort { return c.remote }
func (c *UDPConn) LocalAddr() net.Addr            { return net.UDPAddrFromAddrPort(c.LocalAddrPort()) }

// RemoteAddr is nil for an unconnected conn, as in package net.
func (c *UDPConn) RemoteAddr() net.Addr { return udpAddr(c.remote) }

func (c *UDPConn) SetDeadline(t time.Time) error      { c.fd.setDeadline(t); return nil }
func (c *UDPConn) SetReadDeadline(t time.Time) error  { c.fd.rd.set(t); return nil }
func (c *UDPConn) SetWriteDeadline(t time.Time) error { c.fd.wd.set(t); return nil }

// Socket returns the underlying socket for options this type does not
// wrap. It is in nonblocking mode; do not change that.
func (c *UDPConn) Socket() endpoint.Socket { return c.fd.s }

// Close closes the socket and wakes every call blocked on it.
func (c *UDPConn) Close() error {
	if err := c.fd.close(); err != nil {
		return c.err("close", err, netip.AddrPort{})
	}
	return nil
}

func (c *UDPConn) err(op string, err error, peer netip.AddrPort) error {
	if !peer.IsValid() {
		peer = c.remote
	}
	return opError(op, "udp", udpAddr(c.LocalAddrPort()), udpAddr(peer), err)
}

// recv is one recvmsg with the read deadline; oob may be nil.
func (c *UDPConn) recv(b, oob []byte, flags int) (n, oobn int, from netip.AddrPort, err error) {
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
func (c *UDPConn) send(b, oob []byte, to netip.AddrPort) (int, error) {
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

// Read reads one datagram from the connected peer (a longer datagram is
// truncated to len(b), as recv(2) does).
func (c *UDPConn) Read(b []byte) (int, error) {
	n, _, _, err := c.recv(b, nil, 0)
	return n, err
}

// Write sends b to the connected peer.
func (c *UDPConn) Write(b []byte) (int, error) { return c.send(b, nil, netip.AddrPort{}) }

// ReadFromUDPAddrPort reads one datagram and its source.
func (c *UDPConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	n, _, from, err := c.recv(b, nil, 0)
	return n, from, err
}

// ReadFrom implements net.PacketConn; the address is a *net.UDPAddr.
func (c *UDPConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := c.ReadFromUDPAddrPort(b)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// WriteToUDPAddrPort sends b to addr.
func (c *UDPConn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	if !addr.IsValid() {
		return 0, c.err("write", unix.EDESTADDRREQ, addr)
	}
	return c.send(b, nil, addr)
}

// WriteTo implements net.PacketConn; addr must be a *net.UDPAddr.
func (c *UDPConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok || ua == nil {
		return 0, c.err("write", unix.EINVAL, netip.AddrPort{})
	}
	return c.WriteToUDPAddrPort(b, unmap(ua.AddrPort()))
}

// oobSize holds every control message ReadMsg may be handed: in_pktinfo,
// TTL, TOS and the original destination, with room to spare.
const oobSize = 256

// ReadMsg reads one datagram with the control messages turned on by
// SetControlMessage, decoded into cm (which may be nil).
func (c *UDPConn) ReadMsg(b []byte, cm *ControlMessage) (n int, from netip.AddrPort, err error) {
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

// WriteMsg sends b to `to` (or the connected peer when to is the zero
// AddrPort) with the per-datagram settings of cm (which may be nil).
func (c *UDPConn) WriteMsg(b []byte, cm *ControlMessage, to netip.AddrPort) (int, error) {
	return c.send(b, cm.Marshal(), to)
}
