package nsnet

import (
	"net"
	"net/netip"
	"strconv"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// ipDgram is what IPConn and ICMPConn add to dgram: their addresses have
// no port, so ReadMsg and WriteMsg take a netip.Addr.
type ipDgram struct {
	dgram
}

// ReadMsg reads one datagram with the control messages turned on by
// SetControlMessage, decoded into cm (which may be nil), and its source.
func (c *ipDgram) ReadMsg(b []byte, cm *ControlMessage) (n int, from netip.Addr, err error) {
	n, ap, err := c.readMsg(b, cm)
	return n, ap.Addr(), err
}

// WriteMsg sends b to `to` (or the connected peer when to is the zero
// Addr) with the per-datagram settings of cm (which may be nil).
func (c *ipDgram) WriteMsg(b []byte, cm *ControlMessage, to netip.Addr) (int, error) {
	var ap netip.AddrPort
	if to.IsValid() {
		ap = netip.AddrPortFrom(to, 0)
	}
	return c.writeMsg(b, cm, ap)
}

// addrPort0 is a as a sockaddr with port 0; the zero Addr stays invalid.
func addrPort0(a netip.Addr) netip.AddrPort {
	if !a.IsValid() {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(a, 0)
}

// IPConn is a raw IPv4 socket (SOCK_RAW) of one IP protocol, as on Linux:
// a read returns the whole IP datagram, header included, and a write sends
// b as the payload of an IP header the stack builds (unless IP_HDRINCL is
// on, which protocol unix.IPPROTO_RAW implies). It receives a copy of every
// datagram of its protocol addressed to the stack, beside the socket the
// datagram is for (an ICMP raw conn sees the echo replies of ping conns).
// It implements net.PacketConn, and net.Conn when made by DialIP.
// Addresses are *net.IPAddr.
type IPConn struct {
	ipDgram
}

var (
	_ net.Conn       = (*IPConn)(nil)
	_ net.PacketConn = (*IPConn)(nil)
)

func rawKind(proto int) dgramKind {
	return rawKindNamed(proto, "ip4:"+strconv.Itoa(proto))
}

// rawKindNamed is rawKind with the network name its OpErrors carry: the
// caller's ("ip4:icmp") when it came through Dial or ListenPacket.
func rawKindNamed(proto int, network string) dgramKind {
	return dgramKind{typ: unix.SOCK_RAW, proto: proto, network: network}
}

// ListenIP opens a raw socket of IP protocol proto (unix.IPPROTO_ICMP,
// IPPROTO_IGMP, ...) bound to laddr (the zero Addr is any address). The
// stack's owner needs stack.CapNetRaw, else EPERM.
func ListenIP(st *stack.Stack, proto int, laddr netip.Addr) (*IPConn, error) {
	c := new(IPConn)
	if err := rawKind(proto).open(&c.dgram, st, "listen", addrPort0(laddr), netip.AddrPort{}); err != nil {
		return nil, err
	}
	return c, nil
}

// DialIP opens a raw socket of IP protocol proto connected to raddr: it
// receives only what raddr sends, and Write sends to raddr. laddr, if
// valid, is bound first.
func DialIP(st *stack.Stack, proto int, laddr, raddr netip.Addr) (*IPConn, error) {
	c := new(IPConn)
	if err := rawKind(proto).open(&c.dgram, st, "dial", addrPort0(laddr), addrPort0(raddr)); err != nil {
		return nil, err
	}
	return c, nil
}

// ICMPConn is an ICMP datagram ("ping") socket, SOCK_DGRAM with
// IPPROTO_ICMP, as Linux has for unprivileged ping: a write is an ICMP
// echo request (type 8, code 0: header and data, no IP header) whose
// checksum and identifier the stack fills in, and a read returns the
// echo replies carrying the conn's identifier (ICMP header and data). The
// identifier is the conn's "port" (Ident). A stack lets only a gid inside
// net.ipv4.ping_group_range make one; that range is "1 0", nobody, by
// default as on Linux, so set it to cover stack.Config.GID, else EACCES.
// It implements net.PacketConn, and net.Conn when made by DialICMP.
// Addresses are *net.IPAddr.
type ICMPConn struct {
	ipDgram
}

var (
	_ net.Conn       = (*ICMPConn)(nil)
	_ net.PacketConn = (*ICMPConn)(nil)
)

var pingKind = dgramKind{typ: unix.SOCK_DGRAM, proto: unix.IPPROTO_ICMP, network: "ping4"}

// ListenICMP opens a ping socket bound to laddr, whose port is the echo
// identifier: 0 lets the stack pick a free one, as bind(2) with port 0
// does. The zero AddrPort is any address and a picked identifier.
func ListenICMP(st *stack.Stack, laddr netip.AddrPort) (*ICMPConn, error) {
	c := new(ICMPConn)
	if err := pingKind.open(&c.dgram, st, "listen", laddr, netip.AddrPort{}); err != nil {
		return nil, err
	}
	return c, nil
}

// DialICMP opens a ping socket connected to raddr, bound first to laddr
// (address and identifier, as for ListenICMP) if it is valid; otherwise
// the connect picks the identifier.
func DialICMP(st *stack.Stack, laddr netip.AddrPort, raddr netip.Addr) (*ICMPConn, error) {
	c := new(ICMPConn)
	if err := pingKind.open(&c.dgram, st, "dial", laddr, addrPort0(raddr)); err != nil {
		return nil, err
	}
	return c, nil
}

// Ident is the echo identifier the stack writes into this conn's requests
// and by which it finds the conn's replies and ICMP errors: the bound
// identifier, else the one picked at bind, connect or the first write.
func (c *ICMPConn) Ident() uint16 { return c.localAddrPort().Port() }
