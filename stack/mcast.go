package stack

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// FilterMode is a multicast source filter mode with Linux's values
// (MCAST_EXCLUDE = 0, MCAST_INCLUDE = 1).
type FilterMode uint8

const (
	McastExclude FilterMode = 0
	McastInclude FilterMode = 1
)

// MulticastFilter is implemented by a UDPReceiver that keeps per-socket
// multicast memberships (Linux's ip_mc_sf_allow): a datagram to a group is
// handed to the receiver only if AllowMulticast says so. It runs on the
// delivery path, before anything is charged to the socket.
type MulticastFilter interface {
	AllowMulticast(group, src netip.Addr, ifindex int) bool
}

// mcKey names one group on one interface.
type mcKey struct {
	ifindex int
	group   netip.Addr
}

// ifGroup is an interface's membership of a group merged from every
// socket, kept as Linux keeps it: sfcount[mode] counts the socket
// memberships in each mode, and each source counts the sockets of each mode
// that list it. The merged filter (RFC 3376 3.2) follows from the counts.
type ifGroup struct {
	users   int
	sfcount [2]int
	sources map[netip.Addr]*srcCount
	nextSeq uint64 // numbers sources in the order they appeared
	tombSeq int64  // numbers sources in the order they were lost
	// order is when the group was joined, or left once users is 0: Linux
	// reports its groups newest first, left ones first.
	order uint64

	// State-change report bookkeeping (igmp_report.go).
	modeChange int                    // TO_IN/TO_EX retransmissions left
	allow      map[netip.Addr]pending // ALLOW sources and retransmissions left
	block      map[netip.Addr]pending // BLOCK sources and retransmissions left
	// The sources a pending group-and-source-specific query asked about
	// (nil: the whole group; Linux's gsquery and sf_gsresp).
	queriedSrc map[netip.Addr]struct{}

	// The group's report timer (igmp_timer.go): tOn while it runs, to
	// run out at tAt; tGen tells a stale expiry from the current one.
	// unsolicit counts the IGMPv1/v2 unsolicited reports left; reporter
	// is set once this host has reported the group (a v2 leave is sent
	// only then).
	t         *time.Timer
	tOn       bool
	tAt       time.Time
	tGen      uint64
	unsolicit int
	reporter  bool
}

// srcCount counts the socket memberships of each mode that list a source;
// seq orders sources as Linux's list does (by first appearance).
type srcCount struct {
	n   [2]int
	seq uint64
}

// srcSet is a set of sources with their order keys.
type srcSet map[netip.Addr]uint64

// mode is the merged filter mode: EXCLUDE as soon as one socket excludes.
func (g *ifGroup) mode() FilterMode {
	if g.sfcount[McastExclude] > 0 {
		return McastExclude
	}
	return McastInclude
}

// listed tells whether src is in the merged source list: for EXCLUDE,
// excluded by every excluding socket and included by none; for INCLUDE,
// included by some socket.
func (g *ifGroup) listed(src netip.Addr) bool {
	c := g.sources[src]
	if c == nil {
		return false
	}
	if g.sfcount[McastExclude] > 0 {
		return c.n[McastExclude] == g.sfcount[McastExclude] && c.n[McastInclude] == 0
	}
	return c.n[McastInclude] > 0
}

// allows is ip_check_mc_rcu: whether the interface accepts src's datagrams.
func (g *ifGroup) allows(src netip.Addr) bool {
	if g.mode() == McastExclude {
		return !g.listed(src)
	}
	return g.listed(src)
}

// state returns the merged filter: mode and source list.
func (g *ifGroup) state() (FilterMode, srcSet) {
	set := make(srcSet)
	for a, c := range g.sources {
		if g.listed(a) {
			set[a] = c.seq
		}
	}
	return g.mode(), set
}

// mcastState is the stack's interface-side multicast state.
type mcastState struct {
	// ctl serialises membership changes and report building; mu guards
	// groups for the delivery path, which only reads.
	ctl    sync.Mutex
	mu     sync.RWMutex
	groups map[mcKey]*ifGroup
	ifs    map[ifFamily]*igmpIf // per-interface report state of each family (igmp_report.go)
	events uint64               // numbers joins and leaves for ifGroup.order
	closed bool
}

// initMcast sets up the multicast state and the IGMP tap (igmp_query.go)
// that hears queries and other hosts' reports.
func (s *Stack) initMcast() error {
	s.mc.groups = make(map[mcKey]*ifGroup)
	s.mc.ifs = make(map[ifFamily]*igmpIf)
	s.RawOpened(int(header.IGMPProtocolNumber)) // the tap stays registered
	if e := s.g.RegisterRawTransportEndpoint(header.IPv4ProtocolNumber, header.IGMPProtocolNumber, igmpTap{s}); e != nil {
		return configErrno(e)
	}
	return nil
}

// closeMcast stops every report timer (igmp_report.go, igmp_timer.go).
func (s *Stack) closeMcast() {
	m := &s.mc
	m.ctl.Lock()
	defer m.ctl.Unlock()
	m.closed = true
	for _, st := range m.ifs {
		for _, t := range []*time.Timer{st.changeT, st.generalT} {
			if t != nil {
				t.Stop()
			}
		}
	}
	for _, g := range m.groups {
		g.stopGroupTimer()
	}
}

// McastFindDev is ip_mc_find_dev: the interface a membership request
// names, by ifindex, else by the interface address, else by the route to
// the group. ok is false when there is none (ENODEV for the callers).
func (s *Stack) McastFindDev(group, ifaddr netip.Addr, ifindex int) (int, bool) {
	if ifindex != 0 {
		return ifindex, ifindex > 0 && s.g.HasNIC(tcpip.NICID(ifindex))
	}
	if ifaddr.IsValid() && !ifaddr.IsUnspecified() {
		i := s.ifindexOfAddr(ifaddr)
		return i, i != 0
	}
	r, err := s.findRoute(netip.Addr{}, group, 0, true)
	if err != nil {
		return 0, false
	}
	defer r.Release()
	return int(r.OutgoingNIC()), true
}

// McastDevByAddr is ip_dev_find: the interface owning a local address, 0
// if none.
func (s *Stack) McastDevByAddr(a netip.Addr) int { return s.ifindexOfAddr(a) }

func (s *Stack) ifindexOfAddr(a netip.Addr) int {
	if !a.Is4() {
		return 0
	}
	if a.IsLoopback() {
		return loopbackIfIndex
	}
	for _, ifc := range s.Interfaces() {
		for _, p := range ifc.Addrs {
			if p.Addr() == a {
				return ifc.Index
			}
		}
	}
	return 0
}

// McastIncGroup is ip_mc_inc_group (__ipv6_dev_mc_inc for an IPv6
// group): one more socket membership of group on the interface, in mode
// with no sources yet. The first one joins the group on the NIC (its
// link-layer filter) and reports the change (IGMP or MLD, igmp_report.go).
func (s *Stack) McastIncGroup(ifindex int, group netip.Addr, mode FilterMode) error {
	if !group.IsMulticast() || group.Is4In6() {
		return unix.EINVAL
	}
	m := &s.mc
	m.ctl.Lock()
	defer m.ctl.Unlock()
	k := mcKey{ifindex, group}
	m.mu.Lock()
	g := m.groups[k]
	fresh := g == nil || g.users == 0
	if g == nil {
		g = &ifGroup{sources: make(map[netip.Addr]*srcCount)}
		m.groups[k] = g
	}
	oldMode, oldSet := g.state()
	if fresh {
		m.events++
		g.order = m.events
	}
	g.users++
	g.sfcount[mode]++
	m.mu.Unlock()
	if fresh {
		_ = s.g.JoinGroup(mcastNet(group), tcpip.NICID(ifindex), gAddr(group))
	}
	s.stateChanged(k, g, oldMode, oldSet)
	return nil
}

// mcastNet is the network protocol of a group.
func mcastNet(group netip.Addr) tcpip.NetworkProtocolNumber {
	if group.Is6() {
		return header.IPv6ProtocolNumber
	}
	return header.IPv4ProtocolNumber
}

// McastDecGroup is ip_mc_dec_group: one socket membership fewer. The last
// one leaves the group on the NIC and reports the leave.
func (s *Stack) McastDecGroup(ifindex int, group netip.Addr) {
	m := &s.mc
	m.ctl.Lock()
	defer m.ctl.Unlock()
	k := mcKey{ifindex, group}
	m.mu.Lock()
	g := m.groups[k]
	if g == nil || g.users == 0 {
		m.mu.Unlock()
		return
	}
	oldMode, oldSet := g.state()
	g.users--
	gone := g.users == 0
	if gone {
		g.sfcount = [2]int{}
		clear(g.sources)
		m.events++
		g.order = m.events
	}
	m.mu.Unlock()
	if gone {
		_ = s.g.LeaveGroup(mcastNet(group), tcpip.NICID(ifindex), gAddr(group))
	}
	s.stateChanged(k, g, oldMode, oldSet)
}

// McastAddSources is ip_mc_add_src: srcs gain one socket of mode; unless
// delta, the socket's membership also moves into mode (sfcount).
func (s *Stack) McastAddSources(ifindex int, group netip.Addr, mode FilterMode, srcs []netip.Addr, delta bool) {
	s.changeSources(ifindex, group, mode, srcs, delta, 1)
}

// McastDelSources is ip_mc_del_src, the inverse of McastAddSources.
func (s *Stack) McastDelSources(ifindex int, group netip.Addr, mode FilterMode, srcs []netip.Addr, delta bool) {
	s.changeSources(ifindex, group, mode, srcs, delta, -1)
}

func (s *Stack) changeSources(ifindex int, group netip.Addr, mode FilterMode, srcs []netip.Addr, delta bool, by int) {
	m := &s.mc
	m.ctl.Lock()
	defer m.ctl.Unlock()
	k := mcKey{ifindex, group}
	m.mu.Lock()
	g := m.groups[k]
	if g == nil || g.users == 0 {
		m.mu.Unlock()
		return
	}
	oldMode, oldSet := g.state()
	if !delta {
		g.sfcount[mode] = max(g.sfcount[mode]+by, 0)
	}
	for _, a := range srcs {
		c := g.sources[a]
		if c == nil {
			if by < 0 {
				continue
			}
			c = &srcCount{seq: g.nextSeq}
			g.nextSeq++
			g.sources[a] = c
		}
		c.n[mode] = max(c.n[mode]+by, 0)
		if c.n[0] == 0 && c.n[1] == 0 {
			delete(g.sources, a)
		}
	}
	m.mu.Unlock()
	s.stateChanged(k, g, oldMode, oldSet)
}

// mcastHostAllows tells whether the interface's merged filter accepts a
// datagram from src to group. Groups netsandbox did not join (224.0.0.1,
// which gVisor joins itself) are left to gVisor.
func (s *Stack) mcastHostAllows(ifindex int, group, src netip.Addr) bool {
	m := &s.mc
	m.mu.RLock()
	defer m.mu.RUnlock()
	g := m.groups[mcKey{ifindex, group}]
	if g == nil || group == allHosts {
		// 224.0.0.1 also carries the host's own EXCLUDE{} membership,
		// so its merged filter lets everything through.
		return true
	}
	return g.users > 0 && g.allows(src)
}

// McastGroups lists the interface's joined groups with their merged filter
// mode and sources (for diagnostics and tests).
func (s *Stack) McastGroups(ifindex int) map[netip.Addr]McastGroupState {
	m := &s.mc
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make(map[netip.Addr]McastGroupState)
	for k, g := range m.groups {
		if k.ifindex != ifindex || g.users == 0 {
			continue
		}
		mode, set := g.state()
		st := McastGroupState{Mode: mode}
		for a := range set {
			st.Sources = append(st.Sources, a)
		}
		sortAddrs(st.Sources)
		out[k.group] = st
	}
	return out
}

// McastGroupState is an interface's merged filter for one group.
type McastGroupState struct {
	Mode    FilterMode
	Sources []netip.Addr // sorted
}
