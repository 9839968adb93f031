package endpoint

import (
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// mcMember is one multicast membership of a socket (Linux's
// ip_mc_socklist): a group on an interface, its filter mode and source
// list. srcs nil is Linux's absent list, which differs from an empty one:
// only an absent list lets IP_ADD_SOURCE_MEMBERSHIP or IP_BLOCK_SOURCE
// switch the mode.
type mcMember struct {
	group   netip.Addr
	ifindex int
	addr    netip.Addr // imr_address as the join gave it (leave matches it)
	mode    stack.FilterMode
	srcs    []netip.Addr
	set     map[netip.Addr]struct{} // srcs as a set, for the delivery path
	slMax   int                     // room of Linux's source list (its allocation)
}

// Sizes Linux charges to a socket's option memory (sk_omem_alloc, bounded
// by net.core.optmem_max) for multicast state on x86_64: a membership
// (struct ip_mc_socklist) and a source list (struct ip_sf_socklist plus
// 4 bytes a source, grown IP_SFBLOCK sources at a time by ip_mc_source).
const (
	mcSocklistSize = 48
	mcSflistHeader = 24
	mcSfBlock      = 10
)

// sflistSize is the option memory of a source list with room for n
// sources: IPv4's ip_sf_socklist or IPv6's ip6_sf_socklist, which has
// the same header and 16 bytes a source.
func (e *mcMember) sflistSize(n int) int {
	if e.group.Is6() {
		return mcSflistHeader + 16*n
	}
	return mcSflistHeader + 4*n
}

type mcKey struct {
	group   netip.Addr
	ifindex int
}

// mcMembers is a socket's membership list. op serialises the option calls
// (Linux's RTNL) and is held while the stack is told; mu guards the list
// for the delivery path, which only reads and never waits for op.
type mcMembers struct {
	op    sync.Mutex
	mu    sync.RWMutex
	list  []*mcMember // newest first, as Linux links them
	byKey map[mcKey]*mcMember
	// byGroup is IPv6's index (mcast6_member.go): the newest membership of
	// each group, whatever its interface, as inet6_mc_check matches.
	byGroup map[netip.Addr]*mcMember
	// noAll is IP_MULTICAST_ALL 0: no datagrams of groups the socket has
	// not joined itself.
	noAll atomic.Bool
	omem  int // option memory the lists would take on Linux (guarded by op)
	// limits replace Linux's for a personality that has others
	// (SetMulticastLimits; guarded by op).
	limits mcLimits
}

// mcLimits: 0 keeps igmp_max_memberships and igmp_max_msf; noOptmem drops
// the optmem_max admission.
type mcLimits struct {
	memberships, sources int
	noOptmem             bool
}

// charge is sock_kmalloc's admission: size fits within optmem_max next to
// what the socket holds already.
func (b *base) charge(size int) error {
	limit := b.s.Sysctl().Int("net.core.optmem_max")
	if b.memb.limits.noOptmem {
		limit = int(^uint(0) >> 1)
	}
	if size > limit || b.memb.omem+size >= limit {
		return unix.ENOBUFS
	}
	b.memb.omem += size
	return nil
}

// AllowMulticast is ip_mc_sf_allow: the socket's own filter for a
// datagram from src to group that arrived on ifindex. O(1).
func (b *base) AllowMulticast(group, src netip.Addr, ifindex int) bool {
	m := &b.memb
	m.mu.RLock()
	defer m.mu.RUnlock()
	e := m.byKey[mcKey{group, ifindex}]
	if e == nil {
		return !m.noAll.Load()
	}
	return e.admits(src)
}

// admits is the membership's own filter for a datagram from src.
func (e *mcMember) admits(src netip.Addr) bool {
	_, listed := e.set[src]
	if e.mode == stack.McastInclude {
		return listed
	}
	return !listed
}

func (m *mcMembers) find(group netip.Addr, ifindex int) *mcMember {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.byKey[mcKey{group, ifindex}]
}

// update changes a membership under the delivery lock.
func (m *mcMembers) update(f func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f()
}

// listSize is the option memory of the source list (none when absent).
func (e *mcMember) listSize() int {
	if e.srcs == nil {
		return 0
	}
	return e.sflistSize(e.slMax)
}

func (e *mcMember) setSources(srcs []netip.Addr) {
	e.srcs = srcs
	e.set = nil
	if srcs != nil {
		e.set = make(map[netip.Addr]struct{}, len(srcs))
		for _, a := range srcs {
			e.set[a] = struct{}{}
		}
	}
}

// mcJoin is __ip_mc_join_group. Called with op held.
func (b *base) mcJoin(group, addr netip.Addr, ifindex int, mode stack.FilterMode) (resolved int, err error) {
	if !group.IsMulticast() {
		return 0, unix.EINVAL
	}
	ifx, ok := b.s.McastFindDev(group, addr, ifindex)
	if !ok {
		return 0, unix.ENODEV
	}
	m := &b.memb
	if m.find(group, ifx) != nil {
		return ifx, unix.EADDRINUSE
	}
	if max := m.limits.memberships; len(m.list) >= max && max > 0 || max == 0 && len(m.list) >= b.s.Sysctl().Int("net.ipv4.igmp_max_memberships") {
		return ifx, unix.ENOBUFS
	}
	if err := b.charge(mcSocklistSize); err != nil {
		return ifx, err
	}
	if err := b.s.McastIncGroup(ifx, group, mode); err != nil {
		m.omem -= mcSocklistSize
		return ifx, err
	}
	e := &mcMember{group: group, ifindex: ifx, addr: addr, mode: mode}
	m.update(func() {
		if m.byKey == nil {
			m.byKey = make(map[mcKey]*mcMember)
		}
		m.list = slices.Insert(m.list, 0, e)
		m.byKey[mcKey{group, ifx}] = e
	})
	return ifx, nil
}

// mcLeave is ip_mc_leave_group. Called with op held.
func (b *base) mcLeave(group, addr netip.Addr, ifindex int) error {
	ifx, found := b.s.McastFindDev(group, addr, ifindex)
	unspecAddr := !addr.IsValid() || addr.IsUnspecified()
	if ifindex == 0 && unspecAddr && !found {
		return unix.ENODEV
	}
	if ifindex != 0 {
		ifx = ifindex
	} else if !found {
		ifx = 0
	}
	m := &b.memb
	for _, e := range m.list {
		if e.group != group {
			continue
		}
		if ifx != 0 {
			if e.ifindex != ifx {
				continue
			}
		} else if !unspecAddr && addr != e.addr {
			continue
		}
		b.dropMember(e)
		return nil
	}
	return unix.EADDRNOTAVAIL
}

// dropMember takes a membership's sources and itself off the interface
// and off the list (ip_mc_leave_src + ip_mc_dec_group).
func (b *base) dropMember(e *mcMember) {
	m := &b.memb
	b.s.McastDelSources(e.ifindex, e.group, e.mode, e.srcs, false)
	b.s.McastDecGroup(e.ifindex, e.group)
	m.omem -= mcSocklistSize + e.listSize()
	m.update(func() {
		m.list = slices.DeleteFunc(m.list, func(x *mcMember) bool { return x == e })
		delete(m.byKey, mcKey{e.group, e.ifindex})
	})
}

// dropMemberships is ip_mc_drop_socket: every membership is left when the
// socket closes.
func (b *base) dropMemberships() {
	m := &b.memb
	m.op.Lock()
	defer m.op.Unlock()
	for len(m.list) > 0 {
		b.dropMember(m.list[0])
	}
}

// mcSource is ip_mc_source: add (or drop) one source of a membership in
// mode omode. Called with op held.
func (b *base) mcSource(add bool, omode stack.FilterMode, group, ifaddr, src netip.Addr, ifindex int) error {
	if !group.IsMulticast() {
		return unix.EINVAL
	}
	ifx, ok := b.s.McastFindDev(group, ifaddr, ifindex)
	if !ok {
		return unix.ENODEV
	}
	m := &b.memb
	e := m.find(group, ifx)
	if e == nil {
		return unix.EINVAL // must have a prior join
	}
	maxMsf := m.limits.sources
	if maxMsf == 0 {
		maxMsf = b.s.Sysctl().Int("net.ipv4.igmp_max_msf")
	}
	return b.changeSource(m, e, sourceChange{ifx: ifx, mode: omode, add: add, src: src, maxMsf: maxMsf},
		func() error { return b.mcLeave(group, ifaddr, ifx) })
}

// sourceChange is one source added to or dropped from a membership's
// list of the given mode, on interface ifx's filter.
type sourceChange struct {
	ifx    int
	mode   stack.FilterMode
	add    bool
	src    netip.Addr
	maxMsf int
}

// changeSource is the part of ip_mc_source and ip6_mc_source after the
// membership e is found: a list of the other mode is EINVAL, an empty one
// switches mode; dropping a source not listed is EADDRNOTAVAIL, and
// dropping the last one of an INCLUDE list leaves the group (leave).
func (b *base) changeSource(m *mcMembers, e *mcMember, c sourceChange, leave func() error) error {
	if e.srcs != nil {
		if e.mode != c.mode {
			return unix.EINVAL
		}
	} else if e.mode != c.mode {
		b.s.McastAddSources(c.ifx, e.group, c.mode, nil, false)
		b.s.McastDelSources(c.ifx, e.group, e.mode, nil, false)
		m.update(func() { e.mode = c.mode })
	}
	if !c.add {
		i := slices.Index(e.srcs, c.src)
		if i < 0 {
			return unix.EADDRNOTAVAIL
		}
		if len(e.srcs) == 1 && c.mode == stack.McastInclude {
			return leave() // (INCLUDE, empty) is leaving the group
		}
		b.s.McastDelSources(c.ifx, e.group, c.mode, []netip.Addr{c.src}, true)
		m.dropSource(e, i)
		return nil
	}
	if err := b.addSource(m, e, c.src, c.maxMsf); err != nil {
		return err
	}
	b.s.McastAddSources(c.ifx, e.group, c.mode, []netip.Addr{c.src}, true)
	return nil
}

// dropSource takes the source at index i off a membership's list.
func (m *mcMembers) dropSource(e *mcMember, i int) {
	m.update(func() { e.setSources(slices.Delete(slices.Clone(e.srcs), i, i+1)) })
}

// addSource is the insertion half of ip_mc_source and ip6_mc_source: a
// list holding maxMsf sources is ENOBUFS; a list that is absent or full
// grows by a block, charged to the socket's option memory (ENOBUFS when
// it does not fit; the old one is freed after); a source already listed
// is EADDRNOTAVAIL, after the growth. The caller tells the stack.
func (b *base) addSource(m *mcMembers, e *mcMember, src netip.Addr, maxMsf int) error {
	if e.srcs != nil && len(e.srcs) >= maxMsf {
		return unix.ENOBUFS
	}
	if e.srcs == nil || len(e.srcs) == e.slMax {
		grown := mcSfBlock + e.slMax
		if err := b.charge(e.sflistSize(grown)); err != nil {
			return err
		}
		b.memb.omem -= e.listSize()
		e.slMax = grown
	}
	if e.srcs == nil {
		m.update(func() { e.setSources([]netip.Addr{}) })
	}
	if _, dup := e.set[src]; dup {
		return unix.EADDRNOTAVAIL
	}
	m.update(func() {
		e.srcs = append(e.srcs, src)
		e.set[src] = struct{}{}
	})
	return nil
}

// newSourceList is ip_mc_msfilter's and ip6_mc_msfilter's new list: none
// for no sources, else a copy charged to the option memory (ENOBUFS).
func (b *base) newSourceList(e *mcMember, srcs []netip.Addr) ([]netip.Addr, error) {
	if len(srcs) == 0 {
		return nil, nil
	}
	if err := b.charge(e.sflistSize(len(srcs))); err != nil {
		return nil, err
	}
	return slices.Clone(srcs), nil
}

// replaceFilter gives a membership its new mode and list (from
// newSourceList), freeing the old list's option memory.
func (b *base) replaceFilter(m *mcMembers, e *mcMember, mode stack.FilterMode, next []netip.Addr) {
	b.memb.omem -= e.listSize()
	e.slMax = len(next)
	m.update(func() {
		e.setSources(next)
		e.mode = mode
	})
}

// mcMsfilter is ip_mc_msfilter: replace a membership's mode and source
// list. Called with op held.
func (b *base) mcMsfilter(group, ifaddr netip.Addr, ifindex int, fmode uint32, srcs []netip.Addr) error {
	if !group.IsMulticast() {
		return unix.EINVAL
	}
	if fmode != unix.MCAST_INCLUDE && fmode != unix.MCAST_EXCLUDE {
		return unix.EINVAL
	}
	ifx, ok := b.s.McastFindDev(group, ifaddr, ifindex)
	if !ok {
		return unix.ENODEV
	}
	mode := stack.FilterMode(fmode)
	if mode == stack.McastInclude && len(srcs) == 0 {
		return b.mcLeave(group, ifaddr, ifx)
	}
	m := &b.memb
	e := m.find(group, ifx)
	if e == nil {
		return unix.EINVAL
	}
	next, err := b.newSourceList(e, srcs)
	if err != nil {
		return err
	}
	b.s.McastAddSources(ifx, group, mode, next, false)
	b.s.McastDelSources(ifx, group, e.mode, e.srcs, false)
	b.replaceFilter(m, e, mode, next)
	return nil
}
