package stack

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"netsandbox/options"
)

// A connection accepted from a SYN that carried IP options answers with
// those options reversed (tcp_v4_init_req saves ip_options_echo of the
// SYN; the SYN-ACK and, through tcp_v4_syn_recv_sock, every segment of
// the accepted socket carry them, and its IP_OPTIONS reads them back).
// The stack sees each inbound SYN before gVisor does (ipv4_hook.go),
// registers the echoed options under the connection's addresses so that
// gVisor's SYN-ACK (or RST) carries them, and hands them to the socket
// accept makes (TakeSYNIPOptions). Entries no socket took expire.

const (
	maxSYNEchoes = 256
	synEchoLife  = 3 * time.Minute
)

type synEcho struct {
	opts *options.IPOptions
	mss  int // the MSS option of the SYN
	at   time.Time
}

type synEchoes struct {
	n  atomic.Int32 // len(m), for the fast path
	mu sync.Mutex
	m  map[tcpIPOKey]synEcho
}

// observeSYN looks at an inbound IPv4 packet before gVisor parses it: a
// TCP SYN gives its MSS to a watching connection (tcp_ipopts.go) and, with
// IP options and no ACK, registers the options to answer with.
func (s *Stack) observeSYN(pkt *gstack.PacketBuffer) {
	if len(pkt.NetworkHeader().Slice()) != 0 {
		return // already parsed: not from a NIC
	}
	d := pkt.Data()
	b, ok := d.PullUp(header.IPv4MinimumSize)
	if !ok {
		return
	}
	ip := header.IPv4(b)
	ihl := int(ip.HeaderLength())
	if ip.Protocol() != uint8(header.TCPProtocolNumber) || ihl < header.IPv4MinimumSize || ip.FragmentOffset() != 0 || ip.Flags()&header.IPv4FlagMoreFragments != 0 {
		return
	}
	withOpts := ihl > header.IPv4MinimumSize
	if !withOpts && s.ipo.synMSS.n.Load() == 0 && s.ipo.syn.n.Load() == 0 {
		return
	}
	if b, ok = d.PullUp(ihl + header.TCPMinimumSize); !ok {
		return
	}
	flags := header.TCP(b[ihl:]).Flags()
	if flags&header.TCPFlagSyn == 0 {
		return
	}
	off := int(header.TCP(b[ihl:]).DataOffset())
	if off < header.TCPMinimumSize {
		return
	}
	if b, ok = d.PullUp(ihl + off); !ok {
		return
	}
	ip, t := header.IPv4(b), header.TCP(b[ihl:])
	src, dst := nAddr(ip.SourceAddress()), nAddr(ip.DestinationAddress())
	remote := netip.AddrPortFrom(src, t.SourcePort())
	local := netip.AddrPortFrom(dst, t.DestinationPort())
	// A SYN without the option means 536 (RFC 1122), as both stacks assume.
	mss := header.TCPDefaultMSS
	if v, ok := synMSSOption(t.Options()); ok {
		mss = v
	}
	if s.ipo.synMSS.n.Load() > 0 {
		s.ipo.synMSS.record(local, remote, mss)
	}
	if flags&header.TCPFlagAck != 0 {
		return
	}
	var echo *options.IPOptions
	if withOpts {
		echo, _ = options.EchoIPOptions(ip.Options(), src, dst, time.Now(), s.remoteUnicast)
	}
	if echo == nil {
		// A new connection without options must not inherit those of an
		// earlier SYN on the same addresses.
		s.dropSYNEcho(tcpIPOKey{local, remote})
		return
	}
	s.addSYNEcho(local, remote, echo, mss)
}

// dropSYNEcho forgets the SYN options registered for k, if any.
func (s *Stack) dropSYNEcho(k tcpIPOKey) {
	e := &s.ipo.syn
	if e.n.Load() == 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if v, ok := e.m[k]; ok {
		delete(e.m, k)
		e.n.Add(-1)
		s.ipo.tcp.removeIf(k, v.opts)
	}
}

// addSYNEcho registers the options a SYN's answers carry, unless a socket
// already registered its own for the connection.
func (s *Stack) addSYNEcho(local, remote netip.AddrPort, o *options.IPOptions, mss int) {
	e := &s.ipo.syn
	t := &s.ipo.tcp
	k := tcpIPOKey{local, remote}
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = make(map[tcpIPOKey]synEcho)
	}
	if len(e.m) >= maxSYNEchoes {
		for k2, v := range e.m {
			if now.Sub(v.at) > synEchoLife {
				delete(e.m, k2)
				e.n.Add(-1)
				t.removeIf(k2, v.opts)
			}
		}
		if len(e.m) >= maxSYNEchoes {
			return
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = make(map[tcpIPOKey]*options.IPOptions)
		t.tooBig = make(map[tcpIPOKey]func(int))
	}
	old, dup := t.m[k]
	if prev, ok := e.m[k]; dup && (!ok || prev.opts != old) {
		return // a socket's own registration
	}
	if !dup {
		t.n.Add(1)
	}
	t.m[k] = o
	if _, ok := e.m[k]; !ok {
		e.n.Add(1)
	}
	e.m[k] = synEcho{opts: o, mss: mss, at: now}
}

// removeIf drops the registration of k if it still holds o.
func (t *tcpIPOptions) removeIf(k tcpIPOKey, o *options.IPOptions) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if v, ok := t.m[k]; ok && v == o {
		delete(t.m, k)
		delete(t.tooBig, k)
		t.n.Add(-1)
	}
}

// TakeSYNIPOptions returns the options the SYN of the connection (local,
// remote) asked its answers to carry (nil = none) and the MSS it
// announced, for the socket accept made, which registers the options as
// its own (SetTCPIPOptions). The registration stays meanwhile, so no
// segment leaves without them.
func (s *Stack) TakeSYNIPOptions(local, remote netip.AddrPort) (*options.IPOptions, int) {
	e := &s.ipo.syn
	e.mu.Lock()
	defer e.mu.Unlock()
	k := tcpIPOKey{local, remote}
	v, ok := e.m[k]
	if !ok {
		return nil, 0
	}
	delete(e.m, k)
	e.n.Add(-1)
	return v.opts, v.mss
}

// remoteUnicast is inet_addr_type(a) == RTN_UNICAST: an address that is
// none of ours and no broadcast or multicast one.
func (s *Stack) remoteUnicast(a netip.Addr) bool {
	return a.Is4() && !a.IsUnspecified() && !a.IsMulticast() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255}) &&
		!s.IsLocalAddr(a) && !s.IsBroadcast(a)
}
