package stack

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/loopback"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/raw"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// Config configures a Stack.
type Config struct {
	Caps   Caps              // owner's capabilities; zero value = none
	Sysctl map[string]string // overrides of Linux defaults, by /proc/sys name
	GID    uint32            // owner's gid, for ping_group_range
	// Gateway makes a stack for package gateway, whose NIC runs promiscuous:
	// gVisor's HandleLocal is off, because with it a promiscuous NIC drops
	// every packet as sent from one of its own (temporary) addresses.
	Gateway bool
}

// Stack is a gVisor stack with netsandbox's protocol layer on top.
type Stack struct {
	g      *gstack.Stack
	caps   Caps
	gid    uint32
	sysctl *Sysctl
	udp    *udpProtocol
	stats  Stats
	// raw4 counts, per IPv4 protocol, what may be registered with gVisor
	// for raw delivery (raw sockets, our taps), so rawGate skips packets
	// no one can receive (ipv4_hook.go).
	raw4  [256]atomic.Int32
	ipID  atomic.Uint32                // IP IDs of the datagrams whose header we build
	bcast atomic.Pointer[[]netip.Addr] // directed broadcasts of local subnets (iface.go)

	// mu guards routes, which mirrors gVisor's route table in our order.
	mu      sync.Mutex
	routes  []route
	routes6 []tcpip.Route // IPv6 routes, after routes in gVisor's table (ipv6.go)

	mc mcastState // multicast memberships, IGMP and MLD (mcast.go)
	// mldOwn: this stack speaks MLD itself (mld_*.go); a gateway stack
	// speaks none.
	mldOwn bool
	// gateway is Config.Gateway: the stack's NIC spoofs (gateway.New).
	gateway bool

	pmtu       pmtuCache                     // learnt path MTUs (pmtu.go)
	icmpSocks  icmpSockets[ICMPErrorSocket]  // raw and ping sockets fed by the ICMP tap
	icmp6Socks icmpSockets[ICMP6ErrorSocket] // and the AF_INET6 ones, by the ICMPv6 tap
	pings      pingTable                     // ping sockets by echo identifier (ping_table.go)
	minTTL     tcpMinTTL                     // TCP sockets' IP_MINTTL (tcp_minttl.go)
	ipo        ipoState                      // TCP and ping sockets' IP_OPTIONS (ipopts_out.go)
	frags      fragTable                     // sizes of fragments of reassembled datagrams (fragsize.go)
	routeCache routeCache                    // recent UDP send routes (udp_route_cache.go)
	ra         raChain                       // IP_ROUTER_ALERT sockets (forward_ra.go)
	nonLocal   nonLocalBind                  // BindNonLocal6's window (nonlocal_bind.go)
	// ipv4FastOff, set by tests before NICs are added, keeps their IPv4
	// receive fast path (ipv4_fast.go) off.
	ipv4FastOff bool

	hooksMu sync.Mutex
	hooks   map[*func()]struct{} // OnClose callbacks; nil once closed
	closed  bool
}

// OnClose registers f to run when the stack closes (at once if it has), so
// a socket can end the calls blocked on it; remove unregisters it. It is
// plumbing for endpoint/: users close the stack, and its sockets close.
func (s *Stack) OnClose(f func()) (remove func()) {
	s.hooksMu.Lock()
	if s.closed {
		s.hooksMu.Unlock()
		f()
		return func() {}
	}
	if s.hooks == nil {
		s.hooks = make(map[*func()]struct{})
	}
	key := &f
	s.hooks[key] = struct{}{}
	s.hooksMu.Unlock()
	return func() {
		s.hooksMu.Lock()
		delete(s.hooks, key)
		s.hooksMu.Unlock()
	}
}

// loopbackMTU is Linux's MTU for lo.
const loopbackMTU = 65536

// New builds a stack: IPv4, ARP, ICMP, TCP and raw sockets from gVisor, UDP
// from netsandbox, and lo as ifindex 1 with 127.0.0.1/8.
func New(cfg Config) (*Stack, error) {
	sc, err := newSysctl(cfg.Sysctl)
	if err != nil {
		return nil, err
	}
	s := &Stack{caps: cfg.Caps, gid: cfg.GID, sysctl: sc, mldOwn: !cfg.Gateway, gateway: cfg.Gateway}
	netProtos := []gstack.NetworkProtocolFactory{
		// gVisor's IGMP stays off: netsandbox speaks IGMPv3 with source
		// lists itself (igmp_*.go); JoinGroup still drives the NIC.
		s.ipv4ProtocolFor(cfg, ipv4.NewProtocolWithOptions(ipv4.Options{IGMP: ipv4.IGMPOptions{Enabled: false}})),
		arp.NewProtocol,
		ipv6Factory(), // ipv6.go
	}
	s.g = gstack.New(gstack.Options{
		NetworkProtocols: netProtos,
		TransportProtocols: withICMPv6([]gstack.TransportProtocolFactory{
			s.tcpProtocolFor(cfg),
			s.newICMPProtocol, // gVisor's, counting unwanted echo replies (accounting_icmp.go)
			func(g *gstack.Stack) gstack.TransportProtocol {
				s.udp = &udpProtocol{s: s, g: g}
				return s.udp
			},
			s.newUDPLiteProtocol, // the same transport as protocol 136 (udplite.go)
			func(g *gstack.Stack) gstack.TransportProtocol { return &igmpProtocol{g: g} },
		}), // icmpv6.go
		RawFactory: raw.EndpointFactory{},
		// Deliver datagrams to our own non-loopback addresses locally, as
		// Linux routes them through lo.
		HandleLocal: !cfg.Gateway,
	})
	sc.attach(s)
	if err := s.startICMPTap(!cfg.Gateway); err != nil {
		s.g.Destroy()
		return nil, err
	}
	if err := s.initMcast(); err != nil {
		s.g.Destroy()
		return nil, err
	}
	rng := s.g.SecureRNG()
	s.ipID.Store(rng.Uint32())

	// Linux enables SACK by default (net.ipv4.tcp_sack = 1); gVisor does not.
	sack := tcpip.TCPSACKEnabled(true)
	if e := s.g.SetTransportProtocolOption(tcp.ProtocolNumber, &sack); e != nil {
		s.g.Destroy()
		return nil, configErrno(e)
	}
	// Linux's TCP sockets start with Nagle on (TCP_NODELAY 0); gVisor's
	// start with it off.
	delay := tcpip.TCPDelayEnabled(true)
	if e := s.g.SetTransportProtocolOption(tcp.ProtocolNumber, &delay); e != nil {
		s.g.Destroy()
		return nil, configErrno(e)
	}
	// Linux grows a TCP receive buffer with the connection
	// (tcp_moderate_rcvbuf = 1); gVisor does so only when asked.
	moderate := tcpip.TCPModerateReceiveBufferOption(true)
	if e := s.g.SetTransportProtocolOption(tcp.ProtocolNumber, &moderate); e != nil {
		s.g.Destroy()
		return nil, configErrno(e)
	}
	// A TCP socket's buffers start, and grow up to, where Linux's do
	// (net.ipv4.tcp_rmem and tcp_wmem); gVisor's start at 1 MiB.
	for _, o := range []tcpip.SettableTransportProtocolOption{
		&tcpip.TCPReceiveBufferSizeRangeOption{Min: 4096, Default: 131072, Max: 6291456},
		&tcpip.TCPSendBufferSizeRangeOption{Min: 4096, Default: 16384, Max: 4194304},
	} {
		if e := s.g.SetTransportProtocolOption(tcp.ProtocolNumber, o); e != nil {
			s.g.Destroy()
			return nil, configErrno(e)
		}
	}
	if err := sc.apply(); err != nil {
		s.g.Destroy()
		return nil, err
	}

	lo := loopback.New()
	lo.SetMTU(loopbackMTU)
	if _, err := s.AddInterface("lo", lo); err != nil {
		s.g.Destroy()
		return nil, err
	}
	// Everything lo carries was sent by this stack to one of its own
	// addresses (Linux routes all local traffic through lo). gVisor's lo
	// accepts only its own addresses, which would drop 127.0.0.1 ->
	// 10.0.0.1; promiscuous mode makes it accept them all. Spoofing stays
	// off: on a NIC it makes ARP answer for every address and
	// CheckLocalAddress call every address local, which only a gateway
	// wants (gateway.New turns it on for the sandbox's NIC).
	if e := s.g.SetPromiscuousMode(1, true); e != nil {
		s.g.Destroy()
		return nil, configErrno(e)
	}
	if err := s.AddAddress(1, netip.MustParsePrefix("127.0.0.1/8")); err != nil {
		s.g.Destroy()
		return nil, err
	}
	if err := s.AddRoute(netip.MustParsePrefix("127.0.0.0/8"), netip.Addr{}, 1); err != nil {
		s.g.Destroy()
		return nil, err
	}
	if err := s.initIPv6(); err != nil {
		s.g.Destroy()
		return nil, err
	}
	return s, nil
}

// Close tears the stack down: every NIC is removed and every endpoint closed.
func (s *Stack) Close() {
	s.hooksMu.Lock()
	hooks := s.hooks
	s.hooks, s.closed = nil, true
	s.hooksMu.Unlock()
	for f := range hooks {
		(*f)()
	}
	s.closeMcast()
	s.invalidateRoutes()
	// Stop every link's receivers first, without the stack's lock: gVisor's
	// Destroy removes each NIC under that lock and waits for its receivers,
	// while a receiver halfway through a packet may need the lock (a TCP
	// reset's route lookup), and the two waited on each other forever.
	for _, info := range s.g.NICInfo() {
		if ep := s.g.GetLinkEndpointByName(info.Name); ep != nil {
			ep.Attach(nil)
		}
	}
	s.g.Destroy()
}

// Gvisor returns the underlying gVisor stack, for endpoint/ to wrap gVisor's
// TCP, raw and ICMP endpoints. An IPv4 raw endpoint made through it must be
// bracketed by RawOpened and RawClosed, or it receives nothing.
func (s *Stack) Gvisor() *gstack.Stack { return s.g }

// Caps returns the owner's capabilities.
func (s *Stack) Caps() Caps { return s.caps }

// GID returns the owner's gid.
func (s *Stack) GID() uint32 { return s.gid }

// Sysctl returns the stack's sysctl table.
func (s *Stack) Sysctl() *Sysctl { return s.sysctl }

// Stats returns the stack's UDP counters.
func (s *Stack) Stats() *Stats { return &s.stats }
