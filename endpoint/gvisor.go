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
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/options"
	"netsandbox/stack"
)

// gsock is a socket backed by a gVisor endpoint: TCP, raw or ping. Our layer
// keeps the option values Linux reports and validates arguments in Linux's
// order; gVisor moves the packets.
type gsock struct {
	base

	epMu sync.RWMutex
	ep   tcpip.Endpoint // replaced when a failed connect resets a TCP socket
	mk   func(*waiter.Queue) (tcpip.Endpoint, tcpip.Error)
	// bound is the address bind(2) gave, restored after such a reset.
	bound netip.AddrPort
	// pendingBind is the address of a TCP bind(2) whose port waits for
	// connect or listen (IP_BIND_ADDRESS_NO_PORT, tcp_bindport.go); guarded by mu.
	pendingBind netip.Addr
	// icmpFilter is ICMP_FILTER's mask (raw ICMP sockets, icmpfilter.go).
	icmpFilter atomic.Uint32
	// minTTL is the TCP socket's IP_MINTTL registration (tcp_minttl.go);
	// guarded by mu.
	minTTL minTTLReg
	// ipo is IP_OPTIONS on the wire for TCP and ping (tcp_ipopts.go).
	ipo ipOptsReg
	// ipid numbers a raw or ping socket's datagrams (stack.DatagramIPID);
	// nil for TCP, whose IDs the stack keeps by connection.
	ipid *stack.DatagramIPID

	mu     sync.Mutex
	remote netip.AddrPort // raw/ping: the connect(2) address, for getpeername
	conn   bool           // raw/ping: connected; TCP: connect(2) has reported success
	// errTaken: TCP's pending error was reported once (SO_ERROR reads and
	// clears sk_err in Linux; gVisor keeps answering it).
	errTaken bool
	// shut is sk_shutdown for raw and ping sockets, kept here because
	// Linux records it even on an unconnected socket and gVisor does not.
	shut int
	tcpc tcpConnState // TCP: connect(2) state, disconnect's error (tcp_connect.go)
	tcpx tcpSynTimer  // TCP: when a connect gives up (tcp_opts_syn.go)

	// pingMu orders a ping socket's bind, connect and disconnect (write)
	// before its sends (read); it guards ping (ping_ident.go).
	pingMu sync.RWMutex
	ping   pingIdent
	// deliverMu orders a ping socket's deliveries (PingDeliver) with the
	// swap of its gVisor endpoint (pingSwap), so that no reply lands on
	// the old endpoint after its queue moved, or ahead of the moved ones.
	deliverMu sync.Mutex
}

func newTCP(s *stack.Stack) (Socket, error) {
	return newGsock(s, unix.SOCK_STREAM, 0, func(q *waiter.Queue) (tcpip.Endpoint, tcpip.Error) {
		return s.Gvisor().NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, q)
	})
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
	g.init(s, typ, proto)
	ep, e := mk(g.q)
	if e != nil {
		return nil, errnoOf(e)
	}
	g.ep, g.mk = ep, mk
	if typ != unix.SOCK_STREAM {
		g.ipid = s.NewDatagramIPID(ep)
	}
	if err := g.pushOpts(); err != nil {
		ep.Close()
		return nil, err
	}
	return g, nil
}

func (g *gsock) endpoint() tcpip.Endpoint {
	g.epMu.RLock()
	defer g.epMu.RUnlock()
	return g.ep
}

// resetTCP gives a TCP socket whose blocking connect failed a fresh
// endpoint: Linux's inet_stream_connect disconnects it back to an
// unconnected socket that may connect again, keeping an explicit bind.
func (g *gsock) resetTCP() {
	ep, e := g.mk(g.q)
	if e != nil {
		return
	}
	g.epMu.Lock()
	old := g.ep
	g.ep = ep
	g.epMu.Unlock()
	old.Close()
	_ = g.pushOpts()
	g.mu.Lock()
	bound := g.bound
	g.errTaken = false
	g.conn, g.tcpc.connecting = false, false // a fresh endpoint is an unconnected socket
	g.mu.Unlock()
	if bound.IsValid() {
		_ = ep.Bind(g.gvisorBindAddress(bound))
	}
}

// localAddr is the bound local address (unspecified when none).
func (g *gsock) localAddr() netip.Addr {
	fa, e := g.endpoint().GetLocalAddress()
	if e != nil {
		return netip.Addr{}
	}
	return addrPortOf(fa).Addr()
}

func (g *gsock) isTCP() bool { return g.typ == unix.SOCK_STREAM }

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
	// inet_bind, ping_bind and raw_bind all judge the address before
	// whether the socket is already bound.
	if !bindableAddr(g.s, r.Addr.Addr()) && !g.optsSnapshot().freeBind() {
		return unix.EADDRNOTAVAIL
	}
	if g.isTCP() {
		if err := checkPrivilegedPort(g.s, r.Addr.Port()); err != nil {
			return err
		}
	}
	if g.isTCP() && r.Addr.Port() == 0 {
		if handled, err := g.tcpBindPortZero(r.Addr.Addr()); handled {
			return err
		}
	}
	if g.isPing() {
		return g.pingBind(r.Addr)
	}
	if err := errOf(g.endpoint().Bind(g.gvisorBindAddress(r.Addr))); err != nil {
		return err
	}
	if g.isTCP() {
		g.mu.Lock()
		g.bound = r.Addr
		g.mu.Unlock()
		g.syncMinTTL(netip.AddrPort{})
	}
	return nil
}

// gvisorBindAddress is the address handed to gVisor's Bind. Linux lets a
// TCP socket bind (and listen) on a multicast address, where no SYN ever
// arrives; gVisor's TCP accepts only local addresses unless a NIC is named,
// so lo is named: the socket keeps the address for getsockname and its port
// reservation. (A connect from such a socket, which Linux attempts with a
// multicast source, fails in gVisor with EADDRNOTAVAIL.)
func (g *gsock) gvisorBindAddress(ap netip.AddrPort) tcpip.FullAddress {
	fa := bindAddress(ap)
	if g.isTCP() && ap.Addr().IsMulticast() {
		fa.NIC = loopbackIfIndex
	}
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
	if g.isTCP() {
		if done, err := g.tcpConnectPre(sa); done {
			return err
		}
	}
	if err := g.tcpConnectState(sa); err != nil {
		return err
	}
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
	if err := g.checkConnectDst(r.Addr.Addr()); err != nil {
		return err
	}
	if err := checkDontRoute(g.s, r.Addr.Addr(), g.optsSnapshot(), 0); err != nil {
		return err
	}
	g.renewFailedTCP()
	if err := g.bindBeforeUse(); err != nil {
		return err
	}
	if err := g.minTTLBeforeConnect(r.Addr); err != nil {
		return err
	}
	if err := g.ipOptionsBeforeConnect(r.Addr); err != nil {
		return err
	}
	var e tcpip.Error
	if g.isPing() {
		e = g.pingConnect(addr)
	} else {
		e = g.endpoint().Connect(addr)
	}
	if !g.isTCP() {
		if e == nil {
			g.mu.Lock()
			g.remote, g.conn = r.Addr, true
			g.mu.Unlock()
			g.ipid.Connected()
			g.watchICMPErrors() // raw_err reports to connected sockets
		}
		return errOf(e)
	}
	if _, started := e.(*tcpip.ErrConnectStarted); !started {
		if e == nil {
			g.markConnected()
			return nil
		}
		err := g.takeErr(e)
		if _, refused := e.(*tcpip.ErrConnectionRefused); refused {
			g.resetTCP()
		}
		return err
	}
	g.tcpConnectStarted()
	if !g.mayBlock(0) {
		return unix.EINPROGRESS
	}
	deadline := deadlineAfter(g.optsSnapshot().sndTimeo)
	if _, err := g.waitReady(g.Readiness, unix.EPOLLOUT, deadline); err != nil {
		if err == unix.EAGAIN {
			// A connect that times out while in progress is EINPROGRESS.
			return unix.EINPROGRESS
		}
		return err
	}
	if err := g.takeErr(g.endpoint().LastError()); err != nil {
		g.resetTCP()
		return err
	}
	g.markConnected()
	return nil
}

// renewFailedTCP gives a TCP socket whose earlier connect failed (its error
// already reported, e.g. by a recv after a refused nonblocking connect) a
// fresh endpoint, as resetTCP does after a failed blocking connect: on Linux
// such a socket is closed and a new connect starts a new connection, where
// gVisor's endpoint would answer ECONNABORTED.
func (g *gsock) renewFailedTCP() {
	if !g.isTCP() {
		return
	}
	switch tcp.EndpointState(g.endpoint().State()) {
	case tcp.StateError, tcp.StateClose:
		g.resetTCP()
	}
}

// tcpConnectState is inet_stream_connect's state test, made after the
// AF_UNSPEC test and before tcp_v4_connect looks at the address: a
// connected socket, or one that is not closed (listening), is EISCONN.
func (g *gsock) tcpConnectState(sa []byte) error {
	if !g.isTCP() || len(sa) < 2 || binary.NativeEndian.Uint16(sa) == unix.AF_UNSPEC {
		return nil
	}
	g.mu.Lock()
	conn := g.conn
	g.mu.Unlock()
	if conn || g.endpoint().State() == uint32(tcp.StateListen) {
		return unix.EISCONN
	}
	return nil
}

func (g *gsock) markConnected() {
	g.mu.Lock()
	g.conn, g.tcpc.connecting = true, false
	g.mu.Unlock()
}

// checkConnectDst applies the destination rules gVisor lacks:
// tcp_v4_connect refuses multicast and broadcast routes with ENETUNREACH;
// ip4_datagram_connect wants SO_BROADCAST for a broadcast peer.
func (g *gsock) checkConnectDst(dst netip.Addr) error {
	if !g.isTCP() {
		return checkBroadcastDst(g.s, g.localAddr(), dst, g.optsSnapshot())
	}
	if dst.IsMulticast() || g.s.IsBroadcast(dst) {
		if _, _, err := g.s.RouteSource(dst, g.optsSnapshot().bindIf); err != nil {
			return err
		}
		return unix.ENETUNREACH
	}
	return nil
}

// disconnect is connect(AF_UNSPEC).
func (g *gsock) disconnect() error {
	if g.isTCP() {
		// tcp_disconnect on a socket that never connected is a no-op;
		// for a live connection gVisor offers only an abort.
		if g.endpoint().State() != uint32(tcp.StateInitial) && g.endpoint().State() != uint32(tcp.StateBound) && g.endpoint().State() != uint32(tcp.StateClose) {
			g.endpoint().Abort()
		}
		return nil
	}
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

func (g *gsock) Listen(backlog int) error {
	if !g.isTCP() {
		return unix.EOPNOTSUPP
	}
	// __sys_listen caps the backlog at net.core.somaxconn, comparing it
	// as unsigned so a negative backlog means the maximum.
	if somax := g.s.Sysctl().Int("net.core.somaxconn"); uint32(int32(backlog)) > uint32(somax) {
		backlog = somax
	}
	if err := g.bindBeforeUse(); err != nil {
		return err
	}
	if err := errOf(g.endpoint().Listen(backlog)); err != nil {
		return err
	}
	g.noteListen(backlog)
	g.syncMinTTL(netip.AddrPort{})
	return nil
}

func (g *gsock) Accept(flags int) (Socket, []byte, error) {
	if flags&^(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) != 0 {
		return nil, nil, unix.EINVAL
	}
	if !g.isTCP() {
		return nil, nil, unix.EOPNOTSUPP
	}
	deadline := deadlineAfter(g.optsSnapshot().rcvTimeo)
	for {
		var peer tcpip.FullAddress
		nep, nq, e := g.endpoint().Accept(&peer)
		if e == nil {
			ns := &gsock{ep: nep, mk: g.mk, conn: true}
			ns.init(g.s, g.typ, g.proto)
			ns.q = nq
			// Linux clones the listener's socket options into the child.
			ns.opts = g.optsSnapshot()
			ns.acceptTCPOpts() // tcp_opts_vals.go
			ns.acceptIPOptions()
			ns.peekOff.set(g.peekOff.get())
			_ = ns.pushOpts()
			g.mu.Lock()
			ns.minTTL.ever = g.minTTL.ever
			g.mu.Unlock()
			ns.syncMinTTL(netip.AddrPort{})
			ns.SetNonblock(flags&unix.SOCK_NONBLOCK != 0)
			return ns, sockaddr(addrPortOf(peer)), nil
		}
		if _, wb := e.(*tcpip.ErrWouldBlock); !wb || !g.mayBlock(0) {
			return nil, nil, errnoOf(e)
		}
		if _, err := g.waitReady(g.Readiness, unix.EPOLLIN, deadline); err != nil {
			return nil, nil, err
		}
	}
}

func (g *gsock) GetSockName() ([]byte, error) {
	if ap, ok := g.sockNameDeferred(); ok {
		return sockaddr(ap), nil
	}
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

func (g *gsock) GetPeerName() ([]byte, error) {
	if !g.isTCP() {
		// inet_getname: no destination port means not connected, which
		// is how raw sockets connected without a port answer too.
		g.mu.Lock()
		defer g.mu.Unlock()
		if !g.conn || g.remote.Port() == 0 {
			return nil, unix.ENOTCONN
		}
		return sockaddr(g.remote), nil
	}
	fa, e := g.endpoint().GetRemoteAddress()
	if e != nil {
		return nil, errnoOf(e)
	}
	return sockaddr(addrPortOf(fa)), nil
}
