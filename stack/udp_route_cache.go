package stack

import (
	"net/netip"
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

// routeCacheEntry is one kept route. Its refs count the cache's own
// reference and each send that holds the route; the last one gives the
// route's reference back to gVisor. A send thus costs two atomic updates
// here instead of the cache's mutex plus gVisor's Route.Acquire and
// Release (a read lock and a write lock of the route, with an atomic each).
// Entries are immutable once published except refs and uses, so lookups
// take no lock.
type routeCacheEntry struct {
	key  routeCacheKey
	r    *gstack.Route // holds one gVisor reference, given back at refs 0
	gen  uint64
	room int // linkHeaderRoom(r), which costs gVisor a map lookup
	refs atomic.Int64
	uses atomic.Int64
}

// tryRef takes a reference unless the entry has already been let go.
func (e *routeCacheEntry) tryRef() bool {
	for {
		n := e.refs.Load()
		if n == 0 {
			return false
		}
		if e.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

func (e *routeCacheEntry) unref() {
	if e.refs.Add(-1) == 0 {
		e.r.Release()
	}
}

type routeCache struct {
	gen   atomic.Uint64
	slots [routeCacheSlots]atomic.Pointer[routeCacheEntry]
	next  atomic.Uint32
}

// routeRef is a route a send holds: from the cache (e set) or a lookup of
// its own (e nil, r held directly). The zero value holds nothing.
type routeRef struct {
	r *gstack.Route
	e *routeCacheEntry
}

// release gives the send's reference back.
func (h routeRef) release() {
	switch {
	case h.e != nil:
		h.e.unref()
	case h.r != nil:
		h.r.Release()
	}
}

// linkRoom is linkHeaderRoom of the route held.
func (h routeRef) linkRoom() int {
	if h.e != nil {
		return h.e.room
	}
	return linkHeaderRoom(h.r)
}

// invalidateRoutes drops every cached route; called on any change that
// can change a lookup's result. A send still holding one finishes with
// it, as a Linux send does with a dst that was just obsoleted.
func (s *Stack) invalidateRoutes() {
	c := &s.routeCache
	c.gen.Add(1)
	for i := range c.slots {
		if e := c.slots[i].Swap(nil); e != nil {
			e.unref()
		}
	}
}

// cachedRoute is findRoute through the cache. The caller releases the
// route it gets with routeRef.release. Errors are not cached.
func (s *Stack) cachedRoute(src, dst netip.Addr, ifindex int, loop bool) (routeRef, error) {
	c := &s.routeCache
	k := routeCacheKey{src, dst, ifindex, loop}
	gen := c.gen.Load()
	for i := range c.slots {
		e := c.slots[i].Load()
		if e != nil && e.key == k && e.gen == gen && e.uses.Add(1) <= routeCacheUses && e.tryRef() {
			return routeRef{r: e.r, e: e}, nil
		}
	}
	r, err := s.findRoute(src, dst, ifindex, loop)
	if err != nil || r.Loop() != gstack.PacketOut || r.OutgoingNIC() == loopbackIfIndex {
		// Only routes that leave through a link are kept: a local or
		// looped route may hold a temporary address on the promiscuous
		// lo, which a kept reference would keep alive (and make lo look
		// like the owner of the address).
		return routeRef{r: r}, err
	}
	if c.gen.Load() != gen {
		return routeRef{r: r}, nil // changed meanwhile: do not keep it
	}
	e := &routeCacheEntry{key: k, r: r, gen: gen, room: linkHeaderRoom(r)}
	e.refs.Store(2) // the cache's and this send's
	slot := -1
	for i := range c.slots {
		if o := c.slots[i].Load(); o != nil && o.key == k {
			slot = i // an expired or stale entry for the same key
			break
		}
	}
	if slot < 0 {
		slot = int(c.next.Add(1) % routeCacheSlots)
	}
	if old := c.slots[slot].Swap(e); old != nil {
		old.unref()
	}
	if c.gen.Load() != gen && c.slots[slot].CompareAndSwap(e, nil) {
		// An invalidation ran between the check above and the store and
		// may have missed the entry: take it out again.
		e.unref()
	}
	return routeRef{r: r, e: e}, nil
}
