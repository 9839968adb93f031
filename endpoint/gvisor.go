package endpoint

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
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

	// pingMu orders a ping socket's bind, connect and disconnect (write)
	// before its sends (read); it guards ping (ping_ident.go).
	pingMu sync.RWMutex
	ping   pingIdent
	// deliverMu orders a ping socket's deliveries (PingDeliver) with the
	// swap of its gVisor endpoint (pingSwap), so that no reply lands on
	// the old endpoint after its queue moved, or ahead of the moved ones.
	deliverMu sync.Mutex
}

func newRaw(s *stack.Stack, proto int) (Socket, error) {
	return newGsock(s, unix.SOCK_RAW, proto, func(q *waiter.Queue) (tcpip.Endpoint, tcpip.Error) {
		// An IPPROTO_RAW socket is send-only with the header included; it
		// is not associated with a protocol for receiving.
		return s.Gvisor().NewRawEndpoint(tcpip.TransportProtocolNumber(proto), ipv4.ProtocolNumber, q, proto != unix.IPPROTO_RAW)
	})
}

// newPing creates an ICMP datagram socket; ping_init_sock allows it only to
// a gid inside net.ipv4.ping_group_range.
func newPing(s *stack.Stack) (Socket, error) {
	lo, hi := s.Sysctl().Pair("net.ipv4.ping_group_range")
	if gid := int64(s.GID()); gid < int64(lo) || gid > int64(hi) {
		return nil, unix.EACCES
	}
	return newGsock(s, unix.SOCK_DGRAM, unix.IPPROTO_ICMP, func(q *waiter.Queue) (tcpip.Endpoint, tcpip.Error) {
		return s.Gvisor().NewEndpoint(icmp.ProtocolNumber4, ipv4.ProtocolNumber, q)
	})
}

func newGsock(s *stack.Stack, typ, proto int, mk func(*waiter.Queue) (tcpip.Endpoint, tcpip.Error)) (Socket, error) {
	g := &gsock{}
	if err := g.open(s, typ, proto, mk); err != nil {
		return nil, err
	}
	g.ipid = s.NewDatagramIPID(g.ep)
	if err := g.pushOpts(); err != nil {
		g.ep.Close()
		return nil, err
	}
	return g, nil
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
	// ping_bind and raw_bind judge the address before whether the socket
	// is already bound.
	if !bindableAddr(g.s, r.Addr.Addr()) && !g.optsSnapshot().freeBind() {
		return unix.EADDRNOTAVAIL
	}
	if g.isPing() {
		return g.pingBind(r.Addr)
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
	if g.isPing() {
		g.pingMu.Lock()
		defer g.pingMu.Unlock()
		// inet_dgram_connect: an AF_UNSPEC address disconnects; any other
		// first gives the socket an identifier (inet_autobind), before
		// ip4_datagram_connect reads the address.
		if len(sa) >= 2 && binary.NativeEndian.Uint16(sa) != unix.AF_UNSPEC {
			if err := g.pingAutobind(); err != nil {
				return err
			}
		}
	}
	r, err := options.ParseConnectAddr(sa)
	if err != nil {
		return err
	}
	if r.Unspec {
		return g.disconnect()
	}
	r.Addr = routeDst(r.Addr, g.localAddr())
	addr := fullAddress(r.Addr)
	if g.typ == unix.SOCK_RAW {
		addr.Port = 0
	}
	// ip4_datagram_connect wants SO_BROADCAST for a broadcast peer.
	if err := checkBroadcastDst(g.s, g.localAddr(), r.Addr.Addr(), g.optsSnapshot()); err != nil {
		return err
	}
	if err := checkDontRoute(g.s, r.Addr.Addr(), g.optsSnapshot(), 0); err != nil {
		return err
	}
	var e tcpip.Error
	if g.isPing() {
		e = g.pingConnect(addr)
	} else {
		e = g.endpoint().Connect(addr)
	}
	if e == nil {
		g.mu.Lock()
		g.remote, g.conn = r.Addr, true
		g.mu.Unlock()
		g.ipid.Connected()
		g.watchICMPErrors() // raw_err reports to connected sockets
	}
	return errOf(e)
}

// disconnect is connect(AF_UNSPEC).
func (g *gsock) disconnect() error {
	g.mu.Lock()
	g.remote, g.conn = netip.AddrPort{}, false
	g.mu.Unlock()
	g.ipid.Disconnected()
	if g.isPing() {
		return g.pingDisconnect() // pingMu is held (Connect)
	}
	e := g.endpoint().Disconnect()
	if _, ok := e.(*tcpip.ErrNotSupported); ok {
		return nil
	}
	return errOf(e)
}

func (g *gsock) Listen(int) error { return unix.EOPNOTSUPP }

func (g *gsock) Accept(flags int) (Socket, []byte, error) {
	if flags&^(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) != 0 {
		return nil, nil, unix.EINVAL
	}
	return nil, nil, unix.EOPNOTSUPP
}

func (g *gsock) GetSockName() ([]byte, error) {
	if g.isPing() {
		if ap, ok := g.pingSockName(); ok {
			return sockaddr(ap), nil
		}
	}
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
