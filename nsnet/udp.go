package nsnet

import (
	"net"
	"net/netip"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// UDPConn is a UDP socket. It implements net.PacketConn, and net.Conn when
// it was made by DialUDP (connected). Its options, control messages and
// error queue are the methods it shares with IPConn and ICMPConn.
type UDPConn struct {
	dgram
}

var (
	_ net.Conn       = (*UDPConn)(nil)
	_ net.PacketConn = (*UDPConn)(nil)
)

var udpKind = dgramKind{typ: unix.SOCK_DGRAM, network: "udp", ports: true}

// ListenUDP binds laddr (the zero AddrPort is 0.0.0.0 and an ephemeral
// port).
func ListenUDP(st *stack.Stack, laddr netip.AddrPort) (*UDPConn, error) {
	c := new(UDPConn)
	if err := udpKind.open(&c.dgram, st, "listen", laddr, netip.AddrPort{}); err != nil {
		return nil, err
	}
	return c, nil
}

// DialUDP connects a UDP socket to raddr, from laddr if it is valid.
func DialUDP(st *stack.Stack, laddr, raddr netip.AddrPort) (*UDPConn, error) {
	c := new(UDPConn)
	if err := udpKind.open(&c.dgram, st, "dial", laddr, raddr); err != nil {
		return nil, err
	}
	return c, nil
}

// LocalAddrPort is read from the socket each time: an unbound socket gets
// its port on the first send.
func (c *UDPConn) LocalAddrPort() netip.AddrPort  { return c.localAddrPort() }
func (c *UDPConn) RemoteAddrPort() netip.AddrPort { return c.remote }

// ReadFromUDPAddrPort reads one datagram and its source.
func (c *UDPConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	n, _, from, err := c.recv(b, nil, 0)
	return n, from, err
}

// WriteToUDPAddrPort sends b to addr.
func (c *UDPConn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	if !addr.IsValid() {
		return 0, c.err("write", unix.EDESTADDRREQ, addr)
	}
	return c.send(b, nil, addr)
}

// ReadMsg reads one datagram with the control messages turned on by
// SetControlMessage, decoded into cm (which may be nil).
func (c *UDPConn) ReadMsg(b []byte, cm *ControlMessage) (n int, from netip.AddrPort, err error) {
	return c.readMsg(b, cm)
}

// WriteMsg sends b to `to` (or the connected peer when to is the zero
// AddrPort) with the per-datagram settings of cm (which may be nil).
func (c *UDPConn) WriteMsg(b []byte, cm *ControlMessage, to netip.AddrPort) (int, error) {
	return c.writeMsg(b, cm, to)
}
