package stack

import (
	"net/netip"
	"sync"
	"sync/atomic"

	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// UDP sends look their route up per datagram, as udp_sendmsg does for an
// unconnected socket. gVisor's FindRoute, with HandleLocal on, first walks
// every NIC's addresses for a local route and then the route table: a
// fifth of a datagram's cost. Linux caches output routes (the socket's
// dst and the FIB nexthop cache); the stack keeps a few recent lookups,
// keyed by everything findRoute reads from its arguments. The stack's
// own interface, address and route changes (iface.go) and forwarding
// switches (forward.go: gVisor's lookup reads them) clear it; an entry
// is also looked up afresh after routeCacheUses sends, so that a gVisor
// route's resolved neighbour is not kept forever. Routes that deliver
// locally are not cached (see cachedRoute).

const (
	routeCacheSlots = 8
	routeCacheUses  = 4096
)

type routeCacheKey struct {
	src, dst netip.Addr
	ifindex  int
	loop     bool
}

type routeCacheEntry struct {
	key  routeCacheKey
	r    *gstack.Route // holds one reference of its own
	gen  uint64
	uses int
}

type routeCache struct {
	gen   atomic.Uint64
	mu    sync.Mutex
	slots [routeCacheSlots]routeCacheEntry
	next  int
}

// invalidateRoutes drops every cached route; called on any change that
// can change a lookup's result.
func (s *Stack) invalidateRoutes() {
	c := &s.routeCache
	c.gen.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.slots {
		if c.slots[i].r != nil {
			c.slots[i].r.Release()
		}
		c.slots[i] = routeCacheEntry{}
	}
}

// cachedRoute is findRoute through the cache. The caller releases the
// route as it would findRoute's. Errors are not cached.
func (s *Stack) cachedRoute(src, dst netip.Addr, ifindex int, loop bool) (*gstack.Route, error) {
	c := &s.routeCache
	k := routeCacheKey{src, dst, ifindex, loop}
	gen := c.gen.Load()
	c.mu.Lock()
	for i := range c.slots {
		e := &c.slots[i]
		if e.r != nil && e.key == k && e.gen == gen && e.uses < routeCacheUses {
			e.uses++
			e.r.Acquire()
			r := e.r
			c.mu.Unlock()
			return r, nil
		}
	}
	c.mu.Unlock()
	r, err := s.findRoute(src, dst, ifindex, loop)
	if err != nil || r.Loop() != gstack.PacketOut || r.OutgoingNIC() == loopbackIfIndex {
		// Only routes that leave through a link are kept: a local or
		// looped route may hold a temporary address on the promiscuous
		// lo, which a kept reference would keep alive (and make lo look
		// like the owner of the address).
		return r, err
	}
	r.Acquire() // the cache's own reference
	c.mu.Lock()
	if c.gen.Load() != gen {
		c.mu.Unlock()
		r.Release() // changed meanwhile: do not keep it
		return r, nil
	}
	slot := -1
	for i := range c.slots {
		if c.slots[i].r != nil && c.slots[i].key == k {
			slot = i // an expired or stale entry for the same key
			break
		}
	}
	if slot < 0 {
		slot = c.next
		c.next = (c.next + 1) % routeCacheSlots
	}
	old := c.slots[slot].r
	c.slots[slot] = routeCacheEntry{key: k, r: r, gen: gen}
	c.mu.Unlock()
	if old != nil {
		old.Release()
	}
	return r, nil
}
