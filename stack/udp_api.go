package stack

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// UDPReceiver is implemented by the socket layer (endpoint/) to receive
// datagrams for a UDP binding.
type UDPReceiver interface {
	// DeliverUDP is called on gVisor's delivery path; it must not block. d is
	// valid only during the call except d.Payload, which the receiver owns
	// after the call.
	DeliverUDP(d *Datagram)
}

// Datagram is one received UDP datagram with the IP header facts the socket
// layer needs for its control messages.
type Datagram struct {
	Src, Dst  netip.AddrPort // Dst is the header destination (may be bcast/mcast)
	IfIndex   int            // receiving interface
	TTL, TOS  uint8
	IPOptions []byte // raw IP options as received (nil if none)
	Payload   []byte // UDP payload; the receiver owns it
}

// UDPBindFlags are the socket options that take part in the port conflict
// rules of bind(2).
type UDPBindFlags struct {
	ReuseAddr, ReusePort bool
	BindToDevice         int // ifindex; 0 = any
}

// UDPSend describes one outgoing datagram.
type UDPSend struct {
	Src     netip.AddrPort // Src.Addr() may be unspecified: the route picks it
	Dst     netip.AddrPort
	IfIndex int   // 0 = route decides
	TTL     uint8 // 0 = route default (ip_default_ttl)
	TOS     uint8
	DF      bool
	Payload []byte
}

// UDPBinding is a reserved local UDP port registered with the demuxer.
type UDPBinding struct {
	s     *Stack
	r     UDPReceiver
	local netip.AddrPort
	flags UDPBindFlags
}

// UDPBind reserves local (port 0 => ephemeral from ip_local_port_range) and
// registers r with the demuxer. It returns the binding, whose Local() is the
// bound address. Errors (EADDRINUSE, EADDRNOTAVAIL, EACCES) follow Linux.
func (s *Stack) UDPBind(r UDPReceiver, local netip.AddrPort, f UDPBindFlags) (*UDPBinding, error) {
	return nil, unix.ENOSYS
}

// Local returns the bound local address and port.
func (b *UDPBinding) Local() netip.AddrPort { return b.local }

// Connect re-registers the binding with the 4-tuple; an invalid remote
// disconnects.
func (b *UDPBinding) Connect(remote netip.AddrPort) error { return unix.ENOSYS }

// Release unregisters the binding and frees its port.
func (b *UDPBinding) Release() {}

// SendUDP sends one datagram. Errors are unix.Errno (ENETUNREACH, EMSGSIZE, ...).
func (s *Stack) SendUDP(m *UDPSend) error { return unix.ENOSYS }

// RouteSource returns the source address and ifindex the route to dst would
// choose (ifindex 0 = any interface).
func (s *Stack) RouteSource(dst netip.Addr, ifindex int) (netip.Addr, int, error) {
	return netip.Addr{}, 0, unix.ENOSYS
}
