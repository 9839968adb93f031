package endpoint

import (
	"encoding/binary"
	"net/netip"
	"slices"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// IPv6 multicast memberships of an AF_INET6 socket of any kind
// (net/ipv6/mcast.c's ipv6_mc_socklist; UDP's also filter what it
// receives, AllowMulticast): k.memb6, a list of mcMember like IPv4's, newest
// first. Changes are serialised by the socket's k.memb.op (Linux's RTNL,
// one for both families) and charged to the same option memory
// (sk_omem_alloc); memb6.mu guards the list for the delivery path. The
// interface's side is the stack's per-interface state, IPv4's too
// (McastIncGroup, McastAddSources...: ip6_mc_add_src and friends), whose
// merged filter gates delivery before the socket's own and which MLD
// reports.

// mc6SocklistSize is sizeof(struct ipv6_mc_socklist) on x86_64, what a
// membership charges to the option memory.
const mc6SocklistSize = 56

// mldMaxMsf is sysctl_mld_max_msf at its default: the most sources one
// IPv6 filter holds. Linux keeps the knob once for the machine, in the
// initial namespace's /proc only, so a sandbox (a namespace) can neither
// see nor change it, and netsandbox models no knob for it.
const mldMaxMsf = 64

// mc6Find is the list walk of ipv6_sock_mc_join/_drop and ip6_mc_source:
// the newest membership of group on ifindex, or on any interface when
// ifindex is 0 and not exact. ip6_mc_msfilter and ip6_mc_msfget match
// the ifindex exactly (so 0 finds nothing).
func (k *base) mc6Find(group netip.Addr, ifindex int, exact bool) *mcMember {
	for _, e := range k.memb6.list {
		if e.group == group && (e.ifindex == ifindex || ifindex == 0 && !exact) {
			return e
		}
	}
	return nil
}

// reindex6 rebuilds the delivery index; memb6.mu is held.
func (k *base) reindex6() {
	m := &k.memb6
	clear(m.byGroup)
	if m.byGroup == nil {
		m.byGroup = make(map[netip.Addr]*mcMember)
	}
	for i := len(m.list) - 1; i >= 0; i-- {
		m.byGroup[m.list[i].group] = m.list[i]
	}
}

// mc6Join is __ipv6_sock_mc_join: a group that is not multicast is
// EINVAL; a membership of the group on ifindex (any, for 0) EADDRINUSE;
// no option memory left ENOMEM; no interface ENODEV.
func (k *base) mc6Join(group netip.Addr, ifindex int, mode stack.FilterMode) error {
	if !group.IsMulticast() {
		return unix.EINVAL
	}
	if k.mc6Find(group, ifindex, false) != nil {
		return unix.EADDRINUSE
	}
	if err := k.charge(mc6SocklistSize); err != nil {
		return unix.ENOMEM
	}
	nic, ok := k.s.McastFindDev6(group, ifindex)
	if !ok {
		k.memb.omem -= mc6SocklistSize
		return unix.ENODEV
	}
	if err := k.s.McastIncGroup(nic, group, mode); err != nil {
		k.memb.omem -= mc6SocklistSize
		return err
	}
	e := &mcMember{group: group, ifindex: nic, mode: mode}
	k.memb6.update(func() {
		k.memb6.list = slices.Insert(k.memb6.list, 0, e)
		k.reindex6()
	})
	return nil
}

// mc6Drop is ipv6_sock_mc_drop: EINVAL for a group that is not
// multicast, EADDRNOTAVAIL when the socket has no such membership.
func (k *base) mc6Drop(group netip.Addr, ifindex int) error {
	if !group.IsMulticast() {
		return unix.EINVAL
	}
	e := k.mc6Find(group, ifindex, false)
	if e == nil {
		return unix.EADDRNOTAVAIL
	}
	k.mc6Remove(e)
	return nil
}

func (k *base) mc6Remove(e *mcMember) {
	k.s.McastDelSources(e.ifindex, e.group, e.mode, e.srcs, false)
	k.s.McastDecGroup(e.ifindex, e.group)
	k.memb.omem -= mc6SocklistSize + e.listSize()
	k.memb6.update(func() {
		k.memb6.list = slices.DeleteFunc(k.memb6.list, func(x *mcMember) bool { return x == e })
		k.reindex6()
	})
}

// mc6Source is ip6_mc_source: add (or drop) one source of a membership
// in mode omode.
func (k *base) mc6Source(add bool, omode stack.FilterMode, group, src netip.Addr, ifindex int) error {
	if !group.IsMulticast() {
		return unix.EINVAL
	}
	// Linux changes the filter of the interface ip6_mc_find_dev names,
	// which for ifindex 0 is the route's, not necessarily the
	// membership's.
	ifx, ok := k.s.McastFindDev6(group, ifindex)
	if !ok {
		return unix.ENODEV
	}
	e := k.mc6Find(group, ifindex, false)
	if e == nil {
		return unix.EINVAL // must have a prior join
	}
	return k.changeSource(&k.memb6, e, sourceChange{ifx: ifx, mode: omode, add: add, src: src, maxMsf: mldMaxMsf},
		func() error { return k.mc6Drop(group, ifindex) })
}

// mc6Msfilter is ip6_mc_msfilter: replace a membership's mode and list.
// (INCLUDE, empty) leaves the group; otherwise the membership must be on
// ifindex exactly (EINVAL).
func (k *base) mc6Msfilter(group netip.Addr, ifindex int, fmode uint32, srcs []netip.Addr) error {
	if !group.IsMulticast() {
		return unix.EINVAL
	}
	if fmode != unix.MCAST_INCLUDE && fmode != unix.MCAST_EXCLUDE {
		return unix.EINVAL
	}
	ifx, ok := k.s.McastFindDev6(group, ifindex)
	if !ok {
		return unix.ENODEV
	}
	mode := stack.FilterMode(fmode)
	if mode == stack.McastInclude && len(srcs) == 0 {
		return k.mc6Drop(group, ifindex)
	}
	e := k.mc6Find(group, ifindex, true)
	if e == nil {
		return unix.EINVAL
	}
	next, err := k.newSourceList(e, srcs)
	if err != nil {
		return err
	}
	k.s.McastAddSources(ifx, group, mode, next, false)
	k.s.McastDelSources(ifx, group, e.mode, e.srcs, false)
	k.replaceFilter(&k.memb6, e, mode, next)
	return nil
}

// AllowMulticast is the socket's own filter: inet6_mc_check for an IPv6
// group (the newest membership of the group on any interface decides; a
// group not joined passes unless IPV6_MULTICAST_ALL is 0), ip_mc_sf_allow
// for an IPv4 one reaching a dual-stack socket. O(1).
func (k *udp6) AllowMulticast(group, src netip.Addr, ifindex int) bool {
	if !group.Is6() {
		return k.udpSock.AllowMulticast(group, src, ifindex)
	}
	m := &k.memb6
	m.mu.RLock()
	defer m.mu.RUnlock()
	if e := m.byGroup[group]; e != nil {
		return e.admits(src)
	}
	return !m.noAll.Load()
}

// setMembership6 is IPV6_ADD_MEMBERSHIP/IPV6_DROP_MEMBERSHIP: a short
// struct ipv6_mreq is EINVAL, a TCP socket EPROTO, then
// ipv6_sock_mc_join (any-source, mode EXCLUDE) or ipv6_sock_mc_drop.
func (k *base) setMembership6(join bool, val []byte) error {
	if len(val) < sizeofIPv6Mreq {
		return unix.EINVAL
	}
	if k.typ == unix.SOCK_STREAM {
		return unix.EPROTO
	}
	group := netip.AddrFrom16([16]byte(val[:16]))
	ifindex := int(int32(binary.NativeEndian.Uint32(val[16:20])))
	return k.mcast6Op(func() error {
		if join {
			return k.mc6Join(group, ifindex, stack.McastExclude)
		}
		return k.mc6Drop(group, ifindex)
	})
}

// mcast6Op runs a membership change under the socket's membership lock,
// EBADF once the socket is closing (Close has left every group).
func (k *base) mcast6Op(f func() error) error {
	k.memb.op.Lock()
	defer k.memb.op.Unlock()
	if k.isClosed() {
		return unix.EBADF
	}
	return f()
}

// Close closes the socket as udpSock does, then leaves its IPv6 groups.
func (k *udp6) Close() error {
	if err := k.udpSock.Close(); err != nil {
		return err
	}
	k.dropMemberships6()
	return nil
}

// dropMemberships6 is ipv6_sock_mc_close: every IPv6 group is left.
func (k *base) dropMemberships6() {
	k.memb.op.Lock()
	defer k.memb.op.Unlock()
	for len(k.memb6.list) > 0 {
		k.mc6Remove(k.memb6.list[0])
	}
}
