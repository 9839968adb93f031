// Package gateway makes a netsandbox stack the gateway of a sandbox: every
// TCP, UDP and ICMP echo flow the sandbox starts, to any destination, ends in
// the stack and is relayed over the host's kernel sockets, so the sandbox
// reaches what the host reaches and sees real answers only.
//
// The gateway's NIC runs promiscuous (packets to any address are delivered
// to the stack) with spoofing (the stack answers from any address). Flows
// are caught with gVisor's per-protocol default handlers, which run only
// for packets no endpoint of the stack wants; an ICMP echo request a
// handler takes gets no built-in reply, so the sandbox never sees a reply
// the destination did not send.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"netsandbox/stack"
)

// Config describes the gateway.
type Config struct {
	Stack *stack.Stack
	// NIC is the ifindex of the sandbox-facing interface; it must carry
	// Gateway (and DNS, if set) as addresses.
	NIC int
	// Link is what FilterLink returned for the NIC's link endpoint.
	Link    gstack.LinkEndpoint
	Gateway netip.Addr // the sandbox's default gateway, e.g. 10.0.2.2
	// Gateway6 is the sandbox's IPv6 default gateway (e.g. fd00::2), an
	// address of the NIC with its prefix; invalid: no IPv6, and the
	// sandbox's IPv6 packets are dropped at the link (gateway6.go).
	Gateway6 netip.Addr
	// DNS6 is an IPv6 address of the NIC where the sandbox also finds the
	// resolver (e.g. fd00::3); invalid: none.
	DNS6 netip.Addr
	// DNS is the address where the sandbox finds a resolver (e.g. 10.0.2.3);
	// port 53 there (UDP and TCP) goes to Resolver. Invalid: no DNS.
	DNS      netip.Addr
	Resolver netip.AddrPort
	// AllowHostLoopback lets connections to Gateway reach the host's
	// 127.0.0.1 on the same port; without it they are refused.
	AllowHostLoopback bool
	Policy            *Policy // nil: allow everything
	// Log, when set, gets one line per flow when it ends (and per refusal).
	Log io.Writer
	// UDPIdle ends a UDP or ICMP flow after this long without traffic
	// (0: 60 s).
	UDPIdle time.Duration
	// MaxFlows bounds the UDP and ICMP flows held at once, and apart the
	// TCP connections relayed at once (0: 4096 each); connections in
	// handshake are bounded by the forwarder.
	MaxFlows int
}

// Gateway relays the sandbox's flows. Close stops it.
type Gateway struct {
	cfg    Config
	g      *gstack.Stack
	nic    tcpip.NICID
	closed atomic.Bool
	done   chan struct{}
	ctx    context.Context // cancelled by Close: ends host connects in progress
	// sandboxNet is the gateway address's subnet: the sandbox's own link.
	sandboxNet netip.Prefix
	// sandboxNet6 is Gateway6's prefix (gateway6.go).
	sandboxNet6 netip.Prefix
	cancel      context.CancelFunc
	wg          sync.WaitGroup

	stats  Stats
	logMu  sync.Mutex
	relays atomic.Int64  // TCP relays running
	ipID   atomic.Uint32 // IPv4 IDs of the packets fastOut builds
	inline *inlineBuf    // echoInline's buffers
	// fastIns and fastOuts count packets of the short path each way
	// (fastpath.go), for tests.
	fastIns, fastOuts atomic.Int64

	udp  flowTable[udpKey, *udpFlow]
	icmp flowTable[icmpKey, *icmpFlow]
	syns synTable
	// out relays ICMP errors the sandbox sends about relayed UDP flows;
	// out6 ICMPv6 ones (icmp_out6.go).
	out  icmpOut
	out6 icmpOut
	// names holds what the sandbox resolved, for domain rules.
	names nameTable

	// lifeMu orders new work against Close: work registers with wg (and a
	// published port with listeners) only while the gateway is open.
	lifeMu    sync.Mutex
	listeners []io.Closer
	// pubUDP6 are the UDP ports published to the sandbox's IPv6 address,
	// under lifeMu: the ICMPv6 tap finds their sessions (publish_udp6.go).
	pubUDP6 []*pubUDP
}

// Stats counts flows and bytes, for --stats.
type Stats struct {
	TCPFlows, UDPFlows, ICMPFlows atomic.Int64
	Denied, Failed                atomic.Int64
	BytesOut, BytesIn             atomic.Int64 // sandbox to world, world to sandbox (payload)
	// ICMP errors the sandbox sent about relayed UDP datagrams (icmp_out.go):
	// relayed to the world, held back by the rate limit, dropped (quoting
	// no flow the gateway relays, or malformed), and flows ended instead
	// because the host gave no raw socket.
	ICMPErrRelayed, ICMPErrLimited, ICMPErrDropped, ICMPErrClosed atomic.Int64
	// DNS messages over TCP from the sandbox dropped under a domain policy:
	// too short for a header, or cut short by the client's FIN or silence
	// (dns_tcp.go).
	DNSDropped atomic.Int64
	// Packets of the sandbox dropped at the link (filter.go): of an IP
	// protocol the gateway does not relay (not TCP, UDP or ICMP; denied
	// ones count in Denied), source-routed, and with a malformed IP option
	// (answered with parameter problem from the gateway). None gets an
	// ICMP error claiming to come from a destination the gateway never
	// heard from.
	Unrelayed, SourceRouted, BadOptions atomic.Int64
}

// New installs the gateway on cfg.Stack.
func New(cfg Config) (*Gateway, error) {
	if cfg.Stack == nil || cfg.NIC == 0 || !cfg.Gateway.Is4() {
		return nil, errors.New("gateway: Config needs Stack, NIC and an IPv4 Gateway")
	}
	if cfg.Gateway6.IsValid() && (!cfg.Gateway6.Is6() || cfg.Gateway6.Is4In6()) {
		return nil, errors.New("gateway: Config.Gateway6 must be an IPv6 address")
	}
	if cfg.DNS6.IsValid() && (!cfg.Gateway6.IsValid() || !cfg.DNS6.Is6() || cfg.DNS6.Is4In6()) {
		return nil, errors.New("gateway: Config.DNS6 must be an IPv6 address, with Gateway6")
	}
	link, ok := cfg.Link.(*arpFilter)
	if !ok {
		return nil, errors.New("gateway: Config.Link must be the NIC's endpoint as FilterLink returned it")
	}
	if cfg.UDPIdle == 0 {
		cfg.UDPIdle = 60 * time.Second
	}
	if cfg.MaxFlows == 0 {
		cfg.MaxFlows = 4096
	}
	gw := &Gateway{cfg: cfg, g: cfg.Stack.Gvisor(), nic: tcpip.NICID(cfg.NIC), done: make(chan struct{}), inline: new(inlineBuf)}
	gw.ctx, gw.cancel = context.WithCancel(context.Background())
	gw.ipID.Store(rand.Uint32()) // fastOut's IDs start unpredictable, as gVisor's
	gw.sandboxNet = netip.PrefixFrom(cfg.Gateway, 32)
	if ifc, ok := cfg.Stack.InterfaceByIndex(cfg.NIC); ok {
		for _, p := range ifc.Addrs {
			if p.Addr() == cfg.Gateway {
				gw.sandboxNet = p.Masked()
			}
		}
	}
	gw.sandboxNet6 = gw.prefix6()
	if e := gw.g.SetPromiscuousMode(gw.nic, true); e != nil {
		return nil, fmt.Errorf("gateway: promiscuous mode on NIC %d: %s", cfg.NIC, e)
	}
	if e := gw.g.SetSpoofing(gw.nic, true); e != nil {
		return nil, fmt.Errorf("gateway: spoofing on NIC %d: %s", cfg.NIC, e)
	}
	gw.udp = newFlowTable[udpKey, *udpFlow]()
	gw.icmp = newFlowTable[icmpKey, *icmpFlow]()
	gw.startTCP()
	gw.startUDP()
	gw.startICMP()
	gw.startICMP6()
	if err := gw.startICMPOut(); err != nil {
		return nil, err
	}
	if err := gw.startICMPOut6(); err != nil {
		gw.stopICMPOut()
		return nil, err
	}
	link.gw.Store(gw)
	return gw, nil
}

// Stats returns the live counters.
func (gw *Gateway) Stats() *Stats { return &gw.stats }

// Close stops accepting flows, closes every host socket and waits for the
// relays to end.
func (gw *Gateway) Close() {
	gw.lifeMu.Lock()
	if gw.closed.Swap(true) {
		gw.lifeMu.Unlock()
		return
	}
	for _, l := range gw.listeners {
		l.Close()
	}
	gw.lifeMu.Unlock()
	close(gw.done)
	gw.cancel()
	gw.udp.closeAll()
	gw.icmp.closeAll()
	gw.wg.Wait()
	gw.stopICMPOut()
	gw.stopICMPOut6()
}

// begin registers one piece of work Close waits for, with the listener l
// (nil: none) that Close must close; false once the gateway is closing.
func (gw *Gateway) begin(l io.Closer) bool {
	gw.lifeMu.Lock()
	defer gw.lifeMu.Unlock()
	if gw.closed.Load() {
		return false
	}
	if l != nil {
		gw.listeners = append(gw.listeners, l)
	}
	gw.wg.Add(1)
	return true
}

// errClosed is what publishing on a closed gateway returns.
var errClosed = errors.New("gateway: closed")

// Drain gives flows in progress up to max to finish after the sandbox's
// program ended: frames it sent last (a server's final answer, a FIN) are
// still queued on the link. It returns when no TCP relay runs, after at
// least one short pass for queued datagrams.
func (gw *Gateway) Drain(max time.Duration) {
	const pass = 50 * time.Millisecond
	deadline := time.Now().Add(max)
	time.Sleep(min(pass, max))
	for gw.relays.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// Summary is the one-line --stats report.
func (gw *Gateway) Summary() string {
	s := &gw.stats
	sum := fmt.Sprintf("netsandbox: flows tcp %d udp %d icmp %d, denied %d, failed %d; bytes out %d in %d",
		s.TCPFlows.Load(), s.UDPFlows.Load(), s.ICMPFlows.Load(), s.Denied.Load(), s.Failed.Load(),
		s.BytesOut.Load(), s.BytesIn.Load())
	if r, l, d, c := s.ICMPErrRelayed.Load(), s.ICMPErrLimited.Load(), s.ICMPErrDropped.Load(), s.ICMPErrClosed.Load(); r+l+d+c > 0 {
		sum += fmt.Sprintf("; sandbox icmp errors relayed %d, rate-limited %d, dropped %d, flows closed %d", r, l, d, c)
	}
	if u, r, o := s.Unrelayed.Load(), s.SourceRouted.Load(), s.BadOptions.Load(); u+r+o > 0 {
		sum += fmt.Sprintf("; packets dropped: protocol not relayed %d, source-routed %d, bad ip options %d", u, r, o)
	}
	if d := s.DNSDropped.Load(); d > 0 {
		sum += fmt.Sprintf("; dns over tcp messages dropped %d", d)
	}
	return sum
}

func (gw *Gateway) logf(format string, args ...any) {
	if gw.cfg.Log == nil {
		return
	}
	gw.logMu.Lock()
	defer gw.logMu.Unlock()
	fmt.Fprintf(gw.cfg.Log, "netsandbox: "+format+"\n", args...)
}

// target maps the destination the sandbox used to the host address to dial,
// applying the gateway's own addresses and the egress policy. ok false means
// refuse; why says why.
func (gw *Gateway) target(proto Proto, dst netip.AddrPort) (to netip.AddrPort, ok bool, why string) {
	a := dst.Addr()
	if a.Is6() {
		return gw.target6(proto, dst) // gateway6.go
	}
	switch {
	case gw.cfg.DNS.IsValid() && a == gw.cfg.DNS:
		if dst.Port() == 53 && gw.cfg.Resolver.IsValid() && proto != ProtoICMP {
			return gw.cfg.Resolver, true, ""
		}
		return to, false, "no service on the DNS address"
	case a == gw.cfg.Gateway:
		if !gw.cfg.AllowHostLoopback {
			return to, false, "host loopback not allowed (--allow-host-loopback)"
		}
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), dst.Port()), true, ""
	case a.IsLoopback() || a.IsMulticast() || a.IsUnspecified() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return to, false, "not a unicast destination"
	case gw.sandboxNet.Contains(a):
		// The sandbox's own link: nothing there is the world's.
		return to, false, "on the sandbox's own link"
	}
	if ok, why := gw.policyVerdict(proto, dst); !ok {
		return to, false, why
	}
	return dst, true, ""
}

func addrOf(a tcpip.Address) netip.Addr {
	switch a.Len() {
	case 4:
		return netip.AddrFrom4(a.As4())
	case 16:
		return netip.AddrFrom16(a.As16())
	}
	return netip.Addr{}
}

func gAddr(a netip.Addr) tcpip.Address {
	if a.Is6() {
		return tcpip.AddrFrom16(a.As16())
	}
	return tcpip.AddrFrom4(a.As4())
}
