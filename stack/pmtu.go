package stack

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// maxIPMTU is IP_MAX_MTU: Linux reports no route MTU above it (lo's 65536
// reads as 65535).
const maxIPMTU = 0xffff

// pmtuCache is the per-destination path MTU that Linux keeps in its
// nexthop exceptions (fnhe): learnt from "fragmentation needed", keyed by
// the destination address only, forgotten after net.ipv4.route.mtu_expires.
type pmtuCache struct {
	mu sync.Mutex
	m  map[netip.Addr]pmtuEntry
	// size is len(m), read without mu: a datagram's send asks the cache
	// for its destination, and the cache is nearly always empty.
	size atomic.Int32
}

type pmtuEntry struct {
	mtu     int
	locked  bool // clamped to min_pmtu: Linux locks the route MTU (no DF with WANT)
	expires time.Time
}

// maxPMTUEntries bounds the cache; Linux bounds its exceptions per nexthop
// too (FNHE_RECLAIM_DEPTH), evicting the oldest.
const maxPMTUEntries = 4096

// lookup returns the cached path MTU of dst, dropping an expired entry.
func (c *pmtuCache) lookup(dst netip.Addr, now time.Time) (pmtuEntry, bool) {
	if c.size.Load() == 0 {
		return pmtuEntry{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[dst]
	if !ok {
		return pmtuEntry{}, false
	}
	if !now.Before(e.expires) {
		c.deleteLocked(dst)
		return pmtuEntry{}, false
	}
	return e, true
}

func (c *pmtuCache) deleteLocked(dst netip.Addr) {
	delete(c.m, dst)
	c.size.Store(int32(len(c.m)))
}

func (c *pmtuCache) store(dst netip.Addr, mtu int, locked bool, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[netip.Addr]pmtuEntry)
	}
	if _, ok := c.m[dst]; !ok && len(c.m) >= maxPMTUEntries {
		c.evictOldestLocked()
	}
	c.m[dst] = pmtuEntry{mtu: mtu, locked: locked, expires: expires}
	c.size.Store(int32(len(c.m)))
}

func (c *pmtuCache) evictOldestLocked() {
	var oldest netip.Addr
	var when time.Time
	for a, e := range c.m {
		if !oldest.IsValid() || e.expires.Before(when) {
			oldest, when = a, e.expires
		}
	}
	c.deleteLocked(oldest)
}

// LearnPMTU records a "fragmentation needed" for dst with the next-hop MTU
// the router reported, as __ip_rt_update_pmtu: the path MTU only goes down,
// never below net.ipv4.route.min_pmtu, and an entry lives
// net.ipv4.route.mtu_expires seconds (refreshed when it is lowered again or
// half its life is gone).
func (s *Stack) LearnPMTU(dst netip.Addr, mtu int) {
	if !dst.Is4() {
		return
	}
	now := time.Now()
	old := s.routeMTU(dst)
	if cached, ok := s.pmtu.lookup(dst, now); ok {
		if cached.locked {
			return // ip_mtu_locked: a clamped path MTU stays until it expires
		}
		old = min(old, cached.mtu)
	}
	if old < mtu {
		return
	}
	locked := false
	if minPMTU := s.sysctl.Int("net.ipv4.route.min_pmtu"); mtu < minPMTU {
		mtu, locked = min(old, minPMTU), true
	}
	life := time.Duration(s.sysctl.Int("net.ipv4.route.mtu_expires")) * time.Second
	s.pmtu.store(dst, mtu, locked, now.Add(life))
}

// routeMTU is the MTU of the interface the route to dst leaves through,
// capped at IP_MAX_MTU; 0 without a route.
func (s *Stack) routeMTU(dst netip.Addr) int {
	r, err := s.findRoute(netip.Addr{}, dst, 0, true)
	if err != nil {
		return 0
	}
	defer r.Release()
	return min(int(r.MTU())+header.IPv4MinimumSize, maxIPMTU)
}

// cachedPMTU is the learnt path MTU of dst, if any.
func (s *Stack) cachedPMTU(dst netip.Addr) (pmtuEntry, bool) {
	if s.pmtu.size.Load() == 0 {
		return pmtuEntry{}, false // before time.Now: the usual case
	}
	return s.pmtu.lookup(dst, time.Now())
}

// PathMTU is the MTU of the path from src (invalid or 0.0.0.0 = route
// decides) to dst: the route's interface MTU lowered by a learnt path MTU,
// what Linux's dst_mtu gives for IP_MTU and for ee_info of a local
// EMSGSIZE.
func (s *Stack) PathMTU(src, dst netip.Addr, ifindex int) (int, error) {
	if dst.Is6() && !dst.Is4In6() {
		return s.pathMTU6(src, dst, ifindex) // pmtu6.go
	}
	if !dst.Is4() {
		return 0, unix.EAFNOSUPPORT
	}
	if src.IsValid() && src.IsUnspecified() {
		src = netip.Addr{}
	}
	r, err := s.findRoute(src, dst, ifindex, true)
	if err == unix.ENETUNREACH && src.IsValid() && s.IsLocalAddr(src) {
		r, err = s.findRoute(netip.Addr{}, dst, ifindex, true)
	}
	if err != nil {
		if s.loopbackOnLink(err, ifindex, dst) {
			return maxIPMTU, nil
		}
		return 0, err
	}
	defer r.Release()
	mtu := min(int(r.MTU())+header.IPv4MinimumSize, maxIPMTU)
	if c, ok := s.cachedPMTU(dst); ok && c.mtu < mtu {
		mtu = c.mtu
	}
	return mtu, nil
}
