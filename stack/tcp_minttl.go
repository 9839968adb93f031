package stack

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// IP_MINTTL for TCP: Linux's tcp_v4_rcv drops a segment whose TTL is below
// the min_ttl of the socket it belongs to (counted as TCPMinTTLDrop), before
// the socket sees it; tcp_v6_rcv does the same with an IPv6 segment's hop
// limit and IPV6_MINHOPCOUNT, which registers here under IPv6 addresses
// (:: for a wildcard bind). gVisor's TCP has no such check, so the stack wraps its
// TCP protocol: Parse, which runs for every inbound TCP segment before the
// demuxer, refuses the segments the registry says to drop, and gVisor then
// discards them as unparsable. With no socket registered the cost is one
// atomic load; otherwise at most four map lookups.

// minTTLKey names the sockets a segment may belong to: a connection
// (remote set) or a bound/listening socket (remote zero); the local
// address may be the wildcard.
type minTTLKey struct{ local, remote netip.AddrPort }

type tcpMinTTL struct {
	active atomic.Bool // the wrapper is TCP's protocol (not on a gateway stack)
	n      atomic.Int32
	mu     sync.RWMutex
	m      map[minTTLKey]uint8
}

// SetTCPMinTTL registers a TCP socket's IP_MINTTL under its local address
// (0.0.0.0 for a wildcard bind), or its IPV6_MINHOPCOUNT under an IPv6
// one (::), and, for a connection, its peer (zero for a
// listening socket). A segment is judged by the most specific registration
// that matches it; a registered 0 lets everything through. The returned
// func removes the registration.
func (s *Stack) SetTCPMinTTL(local, remote netip.AddrPort, ttl uint8) (remove func()) {
	k := minTTLKey{local, remote}
	t := &s.minTTL
	t.mu.Lock()
	if t.m == nil {
		t.m = make(map[minTTLKey]uint8)
	}
	if _, dup := t.m[k]; !dup {
		t.n.Add(1)
	}
	t.m[k] = ttl
	t.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			if v, ok := t.m[k]; ok && v == ttl {
				delete(t.m, k)
				t.n.Add(-1)
			}
			t.mu.Unlock()
		})
	}
}

// TCPMinTTLSupported tells whether the stack filters TCP by IP_MINTTL (a
// gateway stack runs gVisor's TCP unwrapped and does not).
func (s *Stack) TCPMinTTLSupported() bool { return s.minTTL.active.Load() }

// dropForMinTTL tells whether an inbound TCP segment falls below the
// min_ttl of the socket it belongs to.
func (t *tcpMinTTL) dropForMinTTL(pkt *gstack.PacketBuffer) bool {
	if t.n.Load() == 0 {
		return false
	}
	var local, remote, anyLocal netip.AddrPort
	var hops uint8
	ports, ok := pkt.Data().PullUp(4)
	if !ok {
		return false
	}
	h := header.TCP(ports)
	switch pkt.NetworkProtocolNumber {
	case header.IPv4ProtocolNumber:
		ip := header.IPv4(pkt.NetworkHeader().Slice())
		if len(ip) < header.IPv4MinimumSize {
			return false
		}
		local = netip.AddrPortFrom(nAddr(ip.DestinationAddress()), h.DestinationPort())
		remote = netip.AddrPortFrom(nAddr(ip.SourceAddress()), h.SourcePort())
		anyLocal = netip.AddrPortFrom(netip.IPv4Unspecified(), local.Port())
		hops = ip.TTL()
	case header.IPv6ProtocolNumber:
		// IPV6_MINHOPCOUNT (tcp_v6_rcv), registered under IPv6
		// addresses: the segment's hop limit.
		ip := header.IPv6(pkt.NetworkHeader().Slice())
		if len(ip) < header.IPv6MinimumSize {
			return false
		}
		local = netip.AddrPortFrom(nAddr(ip.DestinationAddress()), h.DestinationPort())
		remote = netip.AddrPortFrom(nAddr(ip.SourceAddress()), h.SourcePort())
		anyLocal = netip.AddrPortFrom(netip.IPv6Unspecified(), local.Port())
		hops = ip.HopLimit()
	default:
		return false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, k := range [...]minTTLKey{{local, remote}, {anyLocal, remote}, {local, netip.AddrPort{}}, {anyLocal, netip.AddrPort{}}} {
		if min, ok := t.m[k]; ok {
			return hops < min
		}
	}
	return false
}

// minTTLTCP is gVisor's TCP with the IP_MINTTL check in Parse.
type minTTLTCP struct {
	gstack.TransportProtocol
	t  *tcpMinTTL
	st *Stats // TCPMinTTLDrop; reset counters (accounting_tcp.go)
}

func (p *minTTLTCP) Parse(pkt *gstack.PacketBuffer) bool {
	if p.t.dropForMinTTL(pkt) {
		p.st.TCPMinTTLDrop.Add(1)
		return false // the transport header stays unparsed: gVisor drops it
	}
	return p.TransportProtocol.Parse(pkt)
}

// The optional interfaces gVisor's stack looks for on its TCP protocol are
// passed through: the send-buffer limits, and QueuePacket, which hands
// segments to TCP's processor goroutines.

func (p *minTTLTCP) SendBufferSize() tcpip.TCPSendBufferSizeRangeOption {
	return p.TransportProtocol.(gstack.SendBufSizeProto).SendBufferSize()
}

func (p *minTTLTCP) QueuePacket(ep gstack.TransportEndpoint, id gstack.TransportEndpointID, pkt *gstack.PacketBuffer) {
	p.TransportProtocol.(interface {
		QueuePacket(gstack.TransportEndpoint, gstack.TransportEndpointID, *gstack.PacketBuffer)
	}).QueuePacket(ep, id, pkt)
}

func (s *Stack) newTCPProtocol(g *gstack.Stack) gstack.TransportProtocol {
	s.minTTL.active.Store(true)
	return &minTTLTCP{TransportProtocol: tcp.NewProtocol(g), t: &s.minTTL, st: &s.stats}
}
