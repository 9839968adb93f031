package endpoint

import (
	"golang.org/x/sys/unix"

	"netsandbox/options"
	"netsandbox/stack"
)

// The MCAST_* source-filter options of an AF_INET6 socket at level
// SOL_IPV6 (do_ipv6_setsockopt, do_ipv6_getsockopt), on the memberships
// of mcast6_member.go.

// setMcastSource6 is setsockopt(SOL_IPV6, MCAST_*): the struct's checks
// (options/mcast6.go), then ipv6_mcast_join_leave,
// do_ipv6_mcast_group_source or ip6_mc_msfilter.
func (k *base) setMcastSource6(name int, val []byte) error {
	switch name {
	case unix.MCAST_JOIN_GROUP, unix.MCAST_LEAVE_GROUP:
		r, err := options.ParseGroupReq6(val)
		if err != nil {
			return err
		}
		ifindex := int(int32(r.Interface))
		return k.mcast6Op(func() error {
			if name == unix.MCAST_JOIN_GROUP {
				return k.mc6Join(r.Group, ifindex, stack.McastExclude)
			}
			return k.mc6Drop(r.Group, ifindex)
		})
	case unix.MCAST_MSFILTER:
		sys := k.s.Sysctl()
		lim := options.MsfilterLimits{OptmemMax: sys.Int("net.core.optmem_max"), MaxMsf: mldMaxMsf}
		if k.memb.limits.noOptmem {
			lim.OptmemMax = int(^uint(0) >> 1)
		}
		f, err := options.ParseGroupFilter6(val, lim)
		if err != nil {
			return err
		}
		return k.mcast6Op(func() error {
			return k.mc6Msfilter(f.Group, int(int32(f.Interface)), f.Fmode, f.Sources)
		})
	}
	r, err := options.ParseGroupSourceReq6(val)
	if err != nil {
		return err
	}
	ifindex := int(int32(r.Interface))
	return k.mcast6Op(func() error {
		op := sourceOpFor(name)
		if op.join {
			// A prior join, with other sources, is fine.
			if err := k.mc6Join(r.Group, ifindex, stack.McastInclude); err != nil && err != unix.EADDRINUSE {
				return err
			}
		}
		return k.mc6Source(op.add, op.mode, r.Group, r.Source, ifindex)
	})
}

// getMsfilter6 is getsockopt(SOL_IPV6, MCAST_MSFILTER), ipv6_get_msfilter
// and ip6_mc_msfget: the caller's group_filter comes back with the mode
// and the full source count, and as many sources as its gf_numsrc asked
// for; the membership must be on gf_interface exactly (EADDRNOTAVAIL).
func (k *base) getMsfilter6(buf []byte) (int, error) {
	h, room, err := options.GroupFilterHeader6(buf)
	if err != nil {
		return 0, err
	}
	if !h.Group.IsMulticast() {
		return 0, unix.EINVAL
	}
	k.memb.op.Lock()
	defer k.memb.op.Unlock()
	e := k.mc6Find(h.Group, int(int32(h.Interface)), true)
	if e == nil {
		return 0, unix.EADDRNOTAVAIL
	}
	return options.PutGroupFilterResult6(buf, uint32(e.mode), e.srcs, room), nil
}

// setMulticastAll6 is IPV6_MULTICAST_ALL (np->mc_all): an int of at least
// 4 bytes (EINVAL), any non-zero value on. Off, a group datagram reaches
// the socket only for a group it joined itself.
func (k *base) setMulticastAll6(val []byte) error {
	v, err := intVal(val)
	if err != nil {
		return err
	}
	k.memb6.noAll.Store(v == 0)
	return nil
}

// multicastAll6 is getsockopt(IPV6_MULTICAST_ALL): 1 by default.
func (k *base) multicastAll6() int { return boolInt(!k.memb6.noAll.Load()) }
