package endpoint

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/options"
	"netsandbox/stack"
)

// gsock is the shared core of the sockets backed by a gVisor endpoint
// (tcpSock, and raw and ping sockets): the endpoint, its option values
// pushed to gVisor, polling. Our layer keeps the option values Linux
// reports and validates arguments in Linux's order; gVisor moves the
// packets.
type gsock struct {
	base

	epMu sync.RWMutex
	ep   tcpip.Endpoint // replaced when a TCP socket resets or a ping socket swaps
	mk   func(*waiter.Queue) (tcpip.Endpoint, tcpip.Error)
	// icmpFilter is ICMP_FILTER's mask (raw ICMP sockets, icmpfilter.go).
	icmpFilter atomic.Uint32
	// ipid numbers a raw or ping socket's datagrams (stack.DatagramIPID);
	// nil for TCP, whose IDs the stack keeps by connection.
	ipid *stack.DatagramIPID

	mu     sync.Mutex
	remote netip.AddrPort // raw/ping: the connect(2) address, for getpeername
	conn   bool           // raw/ping: connected; TCP: connect(2) has reported success
	// shut is sk_shutdown, kept here because Linux records it even on an
	// unconnected raw or ping socket and gVisor does not.
	shut int

	// errSock is the raw or ping socket that registers with the stack's
	// ICMP tap (errqueue_gsock.go): the kind's own QuotedICMPError.
	errSock stack.ICMPErrorSocket
}

func newRaw(s *stack.Stack, proto int) (Socket, error) {
	return newGsock(s, unix.SOCK_RAW, proto, func(q *waiter.Queue) (tcpip.Endpoint, tcpip.Error) {
		// An IPPROTO_RAW socket is send-only with the header included; it
		// is not associated with a protocol for receiving.
		return s.Gvisor().NewRawEndpoint(tcpip.TransportProtocolNumber(proto), ipv4.ProtocolNumber, q, proto != unix.IPPROTO_RAW)
	})
}

func newGsock(s *stack.Stack, typ, proto int, mk func(*waiter.Queue) (tcpip.Endpoint, tcpip.Error)) (Socket, error) {
	g := &gsock{}
	if err := g.openDatagram(s, typ, proto, mk, g); err != nil {
		return nil, err
	}
	return g, nil
}

// openDatagram opens a raw or ping socket: its endpoint, IP ID counter and
// options; self is the socket the stack reports ICMP errors to.
func (g *gsock) openDatagram(s *stack.Stack, typ, proto int, mk func(*waiter.Queue) (tcpip.Endpoint, tcpip.Error), self stack.ICMPErrorSocket) error {
	if err := g.open(s, typ, proto, mk); err != nil {
		return err
	}
	g.ipid = s.NewDatagramIPID(g.ep)
	g.errSock = self
	if err := g.pushOpts(); err != nil {
		g.ep.Close()
		return err
	}
	return nil
}

// open makes the socket's gVisor endpoint with mk, which also makes the
// fresh ones that replace it.
func (g *gsock) open(s *stack.Stack, typ, proto int, mk func(*waiter.Queue) (tcpip.Endpoint, tcpip.Error)) error {
	g.init(s, typ, proto)
	ep, e := mk(g.q)
	if e != nil {
		return errnoOf(e)
	}
	g.ep, g.mk = ep, mk
	return nil
}

func (g *gsock) endpoint() tcpip.Endpoint {
	g.epMu.RLock()
	defer g.epMu.RUnlock()
	return g.ep
}

// localAddr is the bound local address (unspecified when none).
func (g *gsock) localAddr() netip.Addr {
	fa, e := g.endpoint().GetLocalAddress()
	if e != nil {
		return netip.Addr{}
	}
	return addrPortOf(fa).Addr()
}

func (g *gsock) isPing() bool { return g.typ == unix.SOCK_DGRAM }

func (g *gsock) Bind(sa []byte) error {
	r, err := options.ParseBindAddr(sa)
	if err != nil {
		return err
	}
	if g.typ == unix.SOCK_RAW {
		// raw_bind has no port; a raw socket stays bound to its protocol.
		r.Addr = netip.AddrPortFrom(r.Addr.Addr(), 0)
		g.mu.Lock()
		conn := g.conn
		g.mu.Unlock()
		if conn {
			return unix.EINVAL // raw_bind: sk_state != TCP_CLOSE
		}
	}
	// raw_bind judges the address before whether the socket is already
	// bound.
	if !bindableAddr(g.s, r.Addr.Addr()) && !g.optsSnapshot().freeBind() {
		return unix.EADDRNOTAVAIL
	}
	return errOf(g.endpoint().Bind(g.gvisorBindAddress(r.Addr)))
}

// gvisorBindAddress is the address handed to gVisor's Bind.
func (g *gsock) gvisorBindAddress(ap netip.AddrPort) tcpip.FullAddress {
	fa := bindAddress(ap)
	if fa.NIC == 0 {
		// gVisor keeps the NIC it finds the address on as the socket's
		// route limit; its own search may find lo's temporary copy of
		// the address (stack.AddrIfIndex), so the NIC is named here.
		fa.NIC = tcpip.NICID(g.s.AddrIfIndex(ap.Addr()))
	}
	if !ap.Addr().IsUnspecified() && !ap.Addr().IsMulticast() && !g.s.IsLocalAddr(ap.Addr()) && !g.s.IsBroadcast(ap.Addr()) && fa.NIC == 0 {
		// A non-local address (IP_FREEBIND, IP_TRANSPARENT,
		// ip_nonlocal_bind): named with the interface its route leaves
		// through, where it would be assigned.
		fa.NIC = nonLocalBindNIC(g.s, ap.Addr())
	}
	return fa
}

// bindableAddr is inet_addr_valid_or_nonlocal: any, a local, multicast or
// broadcast address, or anything under net.ipv4.ip_nonlocal_bind.
func bindableAddr(s *stack.Stack, a netip.Addr) bool {
	return a.IsUnspecified() || a.IsMulticast() || s.IsLocalAddr(a) || s.IsBroadcast(a) ||
		s.Sysctl().Int("net.ipv4.ip_nonlocal_bind") != 0
}

// checkPrivilegedPort is inet_bind's rule for ports below
// net.ipv4.ip_unprivileged_port_start.
func checkPrivilegedPort(s *stack.Stack, port uint16) error {
	if port != 0 && int(port) < s.Sysctl().Int("net.ipv4.ip_unprivileged_port_start") && !s.Caps().Has(stack.CapNetBindService) {
		return unix.EACCES
	}
	return nil
}

func (g *gsock) Connect(sa []byte) error {
	r, err := options.ParseConnectAddr(sa)
	if err != nil {
		return err
	}
	if r.Unspec {
		g.disconnected()
		e := g.endpoint().Disconnect()
		if _, ok := e.(*tcpip.ErrNotSupported); ok {
			return nil
		}
		return errOf(e)
	}
	r.Addr = routeDst(r.Addr, g.localAddr())
	if err := g.checkDatagramDst(r.Addr.Addr()); err != nil {
		return err
	}
	addr := fullAddress(r.Addr)
	addr.Port = 0
	if err := errOf(g.endpoint().Connect(addr)); err != nil {
		return err
	}
	g.connected(r.Addr)
	return nil
}

// checkDatagramDst is ip4_datagram_connect's judgement of the peer:
// SO_BROADCAST for a broadcast address, then SO_DONTROUTE's on-link rule.
func (g *gsock) checkDatagramDst(dst netip.Addr) error {
	if err := checkBroadcastDst(g.s, g.localAddr(), dst, g.optsSnapshot()); err != nil {
		return err
	}
	return checkDontRoute(g.s, dst, g.optsSnapshot(), 0)
}

// connected records the peer of a raw or ping connect(2).
func (g *gsock) connected(remote netip.AddrPort) {
	g.mu.Lock()
	g.remote, g.conn = remote, true
	g.mu.Unlock()
	g.ipid.Connected()
	g.watchICMPErrors() // raw_err and ping_err report to connected sockets
}

// disconnected forgets the peer (connect(AF_UNSPEC)).
func (g *gsock) disconnected() {
	g.mu.Lock()
	g.remote, g.conn = netip.AddrPort{}, false
	g.mu.Unlock()
	g.ipid.Disconnected()
}

func (g *gsock) Listen(int) error { return unix.EOPNOTSUPP }

func (g *gsock) Accept(flags int) (Socket, []byte, error) {
	if flags&^(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) != 0 {
		return nil, nil, unix.EINVAL
	}
	return nil, nil, unix.EOPNOTSUPP
}

func (g *gsock) GetSockName() ([]byte, error) {
	fa, e := g.endpoint().GetLocalAddress()
	if e != nil {
		return nil, errnoOf(e)
	}
	ap := addrPortOf(fa)
	if g.typ == unix.SOCK_RAW {
		// A raw socket's "port" is its protocol number (inet_create sets
		// inet_sport from it).
		ap = netip.AddrPortFrom(ap.Addr(), uint16(g.proto))
	}
	return sockaddr(ap), nil
}

// GetPeerName is inet_getname: no destination port means not connected,
// which is how raw sockets connected without a port answer too.
func (g *gsock) GetPeerName() ([]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.conn || g.remote.Port() == 0 {
		return nil, unix.ENOTCONN
	}
	return sockaddr(g.remote), nil
}
