package gateway

import (
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// icmpLimits are the host kernel's ICMP rate limits, read from its sysctls
// when the gateway starts, so the errors the gateway sends for the sandbox
// are limited as the host's own would be: per destination
// (icmp_ratelimit, a token per that many ms, a burst of six as Linux's
// XRLIM_BURST_FACTOR), overall (icmp_msgs_per_sec, icmp_msgs_burst), for
// the types of icmp_ratemask.
type icmpLimits struct {
	perPeer  time.Duration // 0: no per-destination limit
	perSec   int           // overall messages per second; <= 0: no limit
	burst    int
	ratemask uint32
}

// Linux's defaults, used when a sysctl cannot be read.
var defaultICMPLimits = icmpLimits{perPeer: time.Second, perSec: 1000, burst: 50, ratemask: 0x1818}

// peerBurst is how many intervals of icmp_ratelimit a destination may save
// up (XRLIM_BURST_FACTOR).
const peerBurst = 6

// maxPeers bounds the per-destination table; destinations idle long enough
// to have a full bucket are forgotten first (a new one starts full too).
const maxPeers = 4096

func hostICMPLimits() icmpLimits {
	l := defaultICMPLimits
	read := func(name string) (int, bool) {
		b, err := os.ReadFile("/proc/sys/net/ipv4/" + name)
		if err != nil {
			return 0, false
		}
		v, err := strconv.Atoi(strings.TrimSpace(string(b)))
		return v, err == nil
	}
	if v, ok := read("icmp_ratelimit"); ok && v >= 0 {
		l.perPeer = time.Duration(v) * time.Millisecond
	}
	if v, ok := read("icmp_msgs_per_sec"); ok {
		l.perSec = v
	}
	if v, ok := read("icmp_msgs_burst"); ok {
		l.burst = v
	}
	if v, ok := read("icmp_ratemask"); ok {
		l.ratemask = uint32(v)
	}
	return l
}

// icmpLimiter applies icmpLimits.
type icmpLimiter struct {
	lim icmpLimits

	mu     sync.Mutex
	credit float64 // overall bucket
	last   time.Time
	peers  map[netip.Addr]*peerBucket
}

type peerBucket struct {
	tokens time.Duration
	last   time.Time
}

func newICMPLimiter(l icmpLimits) *icmpLimiter {
	return &icmpLimiter{lim: l, credit: float64(l.burst), peers: map[netip.Addr]*peerBucket{}}
}

// allow reports whether an error of type/code may go to dst now.
func (r *icmpLimiter) allow(dst netip.Addr, typ, code uint8, now time.Time) bool {
	if typ > 31 || r.lim.ratemask&(1<<typ) == 0 || (typ == 3 && code == 4) {
		// Types outside the mask, and "fragmentation needed" (path MTU
		// discovery must not be starved), are never limited.
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lim.perSec > 0 {
		if !r.last.IsZero() {
			r.credit += now.Sub(r.last).Seconds() * float64(r.lim.perSec)
		}
		r.last = now
		if r.credit > float64(r.lim.burst) {
			r.credit = float64(r.lim.burst)
		}
		if r.credit < 1 {
			return false
		}
		r.credit--
	}
	// Errors to the host's own loopback are not limited per destination.
	if r.lim.perPeer <= 0 || dst.IsLoopback() {
		return true
	}
	full := peerBurst * r.lim.perPeer
	b := r.peers[dst]
	if b == nil {
		if len(r.peers) >= maxPeers {
			for a, o := range r.peers {
				if now.Sub(o.last)+o.tokens >= full {
					delete(r.peers, a)
				}
			}
			if len(r.peers) >= maxPeers {
				return false
			}
		}
		b = &peerBucket{tokens: full, last: now}
		r.peers[dst] = b
	}
	b.tokens += now.Sub(b.last)
	b.last = now
	if b.tokens > full {
		b.tokens = full
	}
	if b.tokens < r.lim.perPeer {
		return false
	}
	b.tokens -= r.lim.perPeer
	return true
}
