package stack

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip/header"

	"netsandbox/options"
)

// TCP connections with IP_OPTIONS: a connection registers its options
// under its local address and peer, and the IPv4 hook (ipv4_hook.go)
// puts them on every segment the connection sends. The local address may
// be the wildcard until connect has picked one.

type tcpIPOKey struct{ local, remote netip.AddrPort }

type tcpIPOptions struct {
	n  atomic.Int32
	mu sync.RWMutex
	m  map[tcpIPOKey]*options.IPOptions
	// tooBig tells a connection the path MTU of a "fragmentation needed"
	// that quotes one of its segments (tcp_ipopts_pmtu.go).
	tooBig map[tcpIPOKey]func(pmtu int)
}

// SetTCPIPOptions registers a TCP connection's IP options (o non-nil) under
// local (0.0.0.0 before connect picks the source) and remote; tooBig (may
// be nil) is called with the MTU of each "fragmentation needed" quoting
// the connection, after gVisor's TCP took it, to leave room for the
// options again. The returned func removes the registration.
func (s *Stack) SetTCPIPOptions(local, remote netip.AddrPort, o *options.IPOptions, tooBig func(pmtu int)) (remove func()) {
	t := &s.ipo.tcp
	k := tcpIPOKey{local, remote}
	t.mu.Lock()
	if t.m == nil {
		t.m = make(map[tcpIPOKey]*options.IPOptions)
		t.tooBig = make(map[tcpIPOKey]func(int))
	}
	if _, dup := t.m[k]; !dup {
		t.n.Add(1)
	}
	t.m[k] = o
	t.tooBig[k] = tooBig
	t.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() { t.removeIf(k, o) })
	}
}

func (t *tcpIPOptions) lookup(local, remote netip.AddrPort) *options.IPOptions {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if o, ok := t.m[tcpIPOKey{local, remote}]; ok {
		return o
	}
	return t.m[tcpIPOKey{netip.AddrPortFrom(netip.IPv4Unspecified(), local.Port()), remote}]
}

// TCPOptionsMTU is the path MTU gVisor's TCP is to be told (as a "packet
// too big") so that its segments leave room for optLen bytes of IP
// options, as Linux's __tcp_mtu_to_mss subtracts icsk_ext_hdr_len after
// clamping to the peer's MSS: the payload becomes min(path MTU - 40, peer
// MSS) - optLen (at least tcp_min_snd_mss), less TCP options as before.
// The path is the one to the first hop of a source route (firstHop, or
// invalid), its MTU pmtu (0 = the route's, lowered by a learnt one);
// peerMSS is the peer's MSS when the caller knows it (0 = the one a
// WatchPeerMSS saw, if any). clamp, when not 0, bounds the MSS before
// the options as the socket's TCP_MAXSEG does (Linux's rx_opt.mss_clamp),
// in the same units as the path's MSS. The advertised MSS of the SYN is
// not affected, as in Linux.
func (s *Stack) TCPOptionsMTU(local, remote netip.AddrPort, firstHop netip.Addr, optLen, peerMSS, pmtu, clamp int) (int, error) {
	dst := remote.Addr()
	if firstHop.IsValid() {
		dst = firstHop
	}
	if pmtu == 0 {
		var err error
		if pmtu, err = s.PathMTU(local.Addr(), dst, 0); err != nil {
			return 0, err
		}
	}
	mss := pmtu - header.IPv4MinimumSize - header.TCPMinimumSize
	if peerMSS == 0 {
		peerMSS, _ = s.ipo.synMSS.peerMSS(local, remote)
	}
	if peerMSS > 0 && peerMSS < mss {
		mss = peerMSS
	}
	if clamp > 0 && clamp < mss {
		mss = clamp
	}
	mss -= optLen
	// net.ipv4.tcp_min_snd_mss, which the stack does not let change.
	const minSndMSS = 48
	mss = max(mss, minSndMSS)
	// gVisor takes the TCP header off the MTU it is told.
	return mss + header.TCPMinimumSize, nil
}

// synMSSWatch records the MSS option of the SYNs that peers being
// connected to with IP options send, which gVisor keeps to itself and
// TCPOptionsMTU needs. Only watched peers are recorded, at most
// maxSYNMSS of them.
type synMSSWatch struct {
	n       atomic.Int32 // watched peers
	mu      sync.Mutex
	watched map[netip.AddrPort]int // peer -> watchers
	seen    map[tcpIPOKey]int
}

const maxSYNMSS = 1024

// WatchPeerMSS starts recording the MSS that remote announces in its SYN
// to any local port; the returned func stops it.
func (s *Stack) WatchPeerMSS(remote netip.AddrPort) (stop func()) {
	w := &s.ipo.synMSS
	w.mu.Lock()
	if w.watched == nil {
		w.watched = make(map[netip.AddrPort]int)
		w.seen = make(map[tcpIPOKey]int)
	}
	if w.watched[remote] == 0 {
		w.n.Add(1)
	}
	w.watched[remote]++
	w.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			if w.watched[remote]--; w.watched[remote] > 0 {
				return
			}
			delete(w.watched, remote)
			w.n.Add(-1)
			for k := range w.seen {
				if k.remote == remote {
					delete(w.seen, k)
				}
			}
		})
	}
}

func (w *synMSSWatch) peerMSS(local, remote netip.AddrPort) (int, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	mss, ok := w.seen[tcpIPOKey{local, remote}]
	return mss, ok
}

// record notes the MSS a watched peer announced in its SYN.
func (w *synMSSWatch) record(local, remote netip.AddrPort, mss int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.watched[remote] == 0 || len(w.seen) >= maxSYNMSS {
		return
	}
	w.seen[tcpIPOKey{local, remote}] = mss
}

// synMSSOption finds the MSS option in a SYN's TCP options, which have
// the layout of IPv4 options.
func synMSSOption(opts []byte) (int, bool) {
	it := options.NewIPOptionIter(opts)
	for opt, _, ok := it.Next(); ok; opt, _, ok = it.Next() {
		if opt[0] == header.TCPOptionMSS && len(opt) == header.TCPOptionMSSLength {
			return int(opt[2])<<8 | int(opt[3]), true
		}
	}
	return 0, false
}
