package stack

import (
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// IP IDs of TCP segments (ipid.go). Every TCP connection numbers its
// segments from its own counter: an active open starts it at a random
// value when its SYN leaves (tcp_v4_connect), an accepted connection when
// it sends its first segment after the handshake (tcp_v4_syn_recv_sock);
// each segment takes the counter's value and advances it by the number
// of segments it stands for (one, or the count of a GSO packet). The
// table below holds the counters by the connection's addresses with the
// gVisor endpoint they belong to, whose state tells a live connection
// from one in TIME_WAIT or gone; a segment with no live connection
// behind it is the control socket's (DF, ID 0).

// tcpIDKey is a connection's addresses as its segments carry them.
type tcpIDKey struct {
	local, remote [4]byte
	lport, rport  uint16
}

// tcpIDFlow is one connection's counter.
type tcpIDFlow struct {
	next atomic.Uint32
	ep   interface{ State() uint32 } // the gVisor TCP endpoint
}

type tcpIDTable struct {
	mu sync.RWMutex
	m  map[tcpIDKey]*tcpIDFlow
	// sweepAt is the size at which the next insert drops the counters of
	// connections that are gone (twice the live count after a sweep).
	sweepAt int
}

const tcpIDMinSweep = 64

// stampTCP numbers the TCP segment pkt, with TCP header t and IPv4 header
// ip, sent on r (whose addresses are the connection's: a source-routed
// segment's header names its first hop).
func (s *Stack) stampTCP(r *gstack.Route, ip header.IPv4, t header.TCP, pkt *gstack.PacketBuffer) {
	k := tcpIDKey{local: r.LocalAddress().As4(), remote: r.RemoteAddress().As4(), lport: t.SourcePort(), rport: t.DestinationPort()}
	nic := r.NICID()
	segs := uint32(1)
	if g := pkt.GSOOptions; g.Type != gstack.GSONone && g.MSS > 0 {
		segs = max(1, (uint32(pkt.Data().Size())+uint32(g.MSS)-1)/uint32(g.MSS))
	}
	tab := &s.ipo.ipid.tcp
	flags := t.Flags()
	if flags&(header.TCPFlagSyn|header.TCPFlagAck) == header.TCPFlagSyn {
		// connect: a fresh counter, also for a connection that reuses
		// the addresses of an earlier one; a retransmitted SYN counts on.
		if f := tab.open(s, k, nic); f != nil {
			setIPID(ip, uint16(f.next.Add(segs)-segs))
		} else {
			setIPID(ip, uint16(randomIPID()))
		}
		return
	}
	tab.mu.RLock()
	f := tab.m[k]
	tab.mu.RUnlock()
	if f != nil && liveTCP(f.ep.State()) {
		setIPID(ip, uint16(f.next.Add(segs)-segs))
		return
	}
	// No live counter: an accepted connection's first segment, one that
	// took over the addresses of a connection in TIME_WAIT, or a segment
	// of no full socket.
	if f = tab.adopt(s, k, nic, f); f != nil {
		setIPID(ip, uint16(f.next.Add(segs)-segs))
		return
	}
	if flags&header.TCPFlagSyn != 0 && ip.Flags()&header.IPv4FlagDontFragment == 0 && int(ip.TotalLength()) > header.IPv4MinimumMTU {
		// ip_build_and_send_pkt: a SYN-ACK without DF longer than
		// IPV4_MIN_MTU (68 bytes, so one with IP options) keeps the
		// random ID gVisor gave it; a shorter one gets DF and ID 0.
		return
	}
	setDFNoID(ip)
}

// liveTCP tells whether a gVisor TCP endpoint in state st sends from a
// full socket: not in TIME_WAIT (Linux's timewait sock answers through the
// control socket), not closed.
func liveTCP(st uint32) bool {
	switch tcp.EndpointState(st) {
	case tcp.StateSynSent, tcp.StateSynRecv, tcp.StateEstablished, tcp.StateFinWait1, tcp.StateFinWait2,
		tcp.StateCloseWait, tcp.StateLastAck, tcp.StateClosing:
		return true
	}
	return false
}

// tcpEndpointFor finds the gVisor TCP endpoint that owns the connection k.
func (s *Stack) tcpEndpointFor(k tcpIDKey, nic tcpip.NICID) interface{ State() uint32 } {
	ep := s.g.FindTransportEndpoint(header.IPv4ProtocolNumber, header.TCPProtocolNumber, gstack.TransportEndpointID{
		LocalPort: k.lport, LocalAddress: tcpip.AddrFrom4(k.local),
		RemotePort: k.rport, RemoteAddress: tcpip.AddrFrom4(k.remote),
	}, nic)
	st, ok := ep.(interface{ State() uint32 })
	if !ok {
		return nil
	}
	return st
}

// open starts a connection's counter at a random value, unless the SYN
// is a retransmission, which goes on counting (nil when gVisor has no
// endpoint for it).
func (t *tcpIDTable) open(s *Stack, k tcpIDKey, nic tcpip.NICID) *tcpIDFlow {
	ep := s.tcpEndpointFor(k, nic)
	if ep == nil {
		return nil
	}
	t.mu.RLock()
	f := t.m[k]
	t.mu.RUnlock()
	if f != nil && f.ep == ep {
		return f
	}
	f = &tcpIDFlow{ep: ep}
	f.next.Store(randomIPID())
	t.put(k, f)
	return f
}

// adopt starts the counter of an established connection that has none
// (old is the counter of an earlier connection on the same addresses):
// nil when no endpoint other than old's is in a state that sends from a
// full socket.
func (t *tcpIDTable) adopt(s *Stack, k tcpIDKey, nic tcpip.NICID, old *tcpIDFlow) *tcpIDFlow {
	ep := s.tcpEndpointFor(k, nic)
	if ep == nil || (old != nil && ep == old.ep) {
		return nil
	}
	switch tcp.EndpointState(ep.State()) {
	case tcp.StateEstablished, tcp.StateFinWait1, tcp.StateFinWait2, tcp.StateCloseWait, tcp.StateLastAck, tcp.StateClosing:
	default:
		// SYN-RECV is a request sock in Linux, which answers through
		// the control socket; a listener has no connection.
		return nil
	}
	f := &tcpIDFlow{ep: ep}
	f.next.Store(randomIPID())
	t.put(k, f)
	return f
}

// put stores f under k, first dropping the counters of connections that
// are gone when the table has grown enough since the last sweep.
func (t *tcpIDTable) put(k tcpIDKey, f *tcpIDFlow) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = make(map[tcpIDKey]*tcpIDFlow)
	}
	if len(t.m) >= max(t.sweepAt, tcpIDMinSweep) {
		for k2, f2 := range t.m {
			switch tcp.EndpointState(f2.ep.State()) {
			case tcp.StateClose, tcp.StateError, tcp.StateInitial:
				delete(t.m, k2)
			}
		}
		t.sweepAt = 2 * len(t.m)
	}
	t.m[k] = f
}
