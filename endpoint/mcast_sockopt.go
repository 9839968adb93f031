package endpoint

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"

	"netsandbox/options"
	"netsandbox/stack"
)

// isUDP tells whether the socket is one of ours that receives multicast.
func (b *base) isUDP() bool {
	return b.typ == unix.SOCK_DGRAM && (b.proto == 0 || b.proto == unix.IPPROTO_UDP)
}

// setMembershipOpt handles the SOL_IP multicast membership options,
// IP_MULTICAST_IF and IP_MULTICAST_ALL with do_ip_setsockopt's checks in
// its order. handled is false for other options. Every socket kind keeps
// memberships as on Linux (only IP_ADD/DROP_MEMBERSHIP refuse TCP); UDP
// and raw sockets also filter what they receive by them (raw:
// mcast_raw.go), TCP and ping sockets only make the interface join.
func (b *base) setMembershipOpt(name int, val []byte) (handled bool, err error) {
	switch name {
	case unix.IP_MULTICAST_ALL:
		v, _ := options.ParseIPInt(val)
		if len(val) < 1 || v != 0 && v != 1 {
			return true, unix.EINVAL
		}
		b.memb.noAll.Store(v == 0)
		return true, nil
	case unix.IP_MULTICAST_IF:
		// Raw and ping sockets get the choice pushed to gVisor
		// (pushMcastOpts).
		if b.typ == unix.SOCK_STREAM {
			return true, unix.EINVAL
		}
		return true, b.setMulticastIf(val)
	case unix.IP_ADD_MEMBERSHIP, unix.IP_DROP_MEMBERSHIP:
		if b.typ == unix.SOCK_STREAM {
			return true, unix.EPROTO
		}
	case unix.IP_ADD_SOURCE_MEMBERSHIP, unix.IP_DROP_SOURCE_MEMBERSHIP,
		unix.IP_BLOCK_SOURCE, unix.IP_UNBLOCK_SOURCE, unix.IP_MSFILTER,
		unix.MCAST_JOIN_GROUP, unix.MCAST_LEAVE_GROUP,
		unix.MCAST_JOIN_SOURCE_GROUP, unix.MCAST_LEAVE_SOURCE_GROUP,
		unix.MCAST_BLOCK_SOURCE, unix.MCAST_UNBLOCK_SOURCE, unix.MCAST_MSFILTER:
	default:
		return false, nil
	}
	m := &b.memb
	m.op.Lock()
	defer m.op.Unlock()
	if b.isClosed() {
		// Close has left every group; a join now would never be left.
		return true, unix.EBADF
	}
	return true, b.setMembershipLocked(name, val)
}

func (b *base) msfLimits() options.MsfilterLimits {
	sys := b.s.Sysctl()
	l := options.MsfilterLimits{OptmemMax: sys.Int("net.core.optmem_max"), MaxMsf: sys.Int("net.ipv4.igmp_max_msf")}
	// A personality's own limits (SetMulticastLimits); op is held by
	// every caller of msfLimits.
	if o := b.memb.limits; o.sources > 0 {
		l.MaxMsf = o.sources
	}
	if b.memb.limits.noOptmem {
		l.OptmemMax = int(^uint(0) >> 1)
	}
	return l
}

func (b *base) setMembershipLocked(name int, val []byte) error {
	switch name {
	case unix.IP_ADD_MEMBERSHIP, unix.IP_DROP_MEMBERSHIP:
		r, err := options.ParseMembershipReq(val)
		if err != nil {
			return err
		}
		if name == unix.IP_ADD_MEMBERSHIP {
			_, err = b.mcJoin(r.Multiaddr, r.Address, int(r.IfIndex), stack.McastExclude)
			return err
		}
		return b.mcLeave(r.Multiaddr, r.Address, int(r.IfIndex))
	case unix.IP_ADD_SOURCE_MEMBERSHIP, unix.IP_DROP_SOURCE_MEMBERSHIP, unix.IP_BLOCK_SOURCE, unix.IP_UNBLOCK_SOURCE:
		r, err := options.ParseIPMreqSource(val)
		if err != nil {
			return err
		}
		op := sourceOpFor(name)
		if op.join {
			if _, err := b.mcJoin(r.Multiaddr, r.Interface, 0, stack.McastInclude); err != nil && err != unix.EADDRINUSE {
				return err
			}
		}
		return b.mcSource(op.add, op.mode, r.Multiaddr, r.Interface, r.Sourceaddr, 0)
	case unix.IP_MSFILTER:
		f, err := options.ParseIPMsfilter(val, b.msfLimits())
		if err != nil {
			return err
		}
		return b.mcMsfilter(f.Multiaddr, f.Interface, 0, f.Fmode, f.Sources)
	case unix.MCAST_JOIN_GROUP, unix.MCAST_LEAVE_GROUP:
		r, err := options.ParseGroupReq(val)
		if err != nil {
			return err
		}
		ifindex := int(int32(r.Interface))
		if name == unix.MCAST_JOIN_GROUP {
			_, err = b.mcJoin(r.Group, netip.IPv4Unspecified(), ifindex, stack.McastExclude)
			return err
		}
		return b.mcLeave(r.Group, netip.IPv4Unspecified(), ifindex)
	case unix.MCAST_JOIN_SOURCE_GROUP, unix.MCAST_LEAVE_SOURCE_GROUP, unix.MCAST_BLOCK_SOURCE, unix.MCAST_UNBLOCK_SOURCE:
		r, err := options.ParseGroupSourceReq(val)
		if err != nil {
			return err
		}
		ifindex := int(int32(r.Interface))
		op := sourceOpFor(name)
		if op.join {
			resolved, err := b.mcJoin(r.Group, netip.IPv4Unspecified(), ifindex, stack.McastInclude)
			if err != nil && err != unix.EADDRINUSE {
				return err
			}
			ifindex = resolved
		}
		return b.mcSource(op.add, op.mode, r.Group, netip.IPv4Unspecified(), r.Source, ifindex)
	case unix.MCAST_MSFILTER:
		f, err := options.ParseGroupFilter(val, b.msfLimits())
		if err != nil {
			return err
		}
		return b.mcMsfilter(f.Group, netip.IPv4Unspecified(), int(int32(f.Interface)), f.Fmode, f.Sources)
	}
	return unix.ENOPROTOOPT
}

// setMulticastIf is IP_MULTICAST_IF: in_addr, ip_mreq or ip_mreqn. An
// address names its interface; 0.0.0.0 with no ifindex resets the choice.
func (b *base) setMulticastIf(val []byte) error {
	r, err := options.ParseMulticastIfReq(val)
	if err != nil {
		return err
	}
	ifindex := int(r.IfIndex)
	if ifindex == 0 {
		if r.Address.IsUnspecified() {
			b.optMu.Lock()
			b.mcast.ifIndex, b.mcast.ifAddr = 0, netip.Addr{}
			b.optMu.Unlock()
			return nil
		}
		ifindex = b.s.McastDevByAddr(r.Address)
		if ifindex == 0 {
			return unix.EADDRNOTAVAIL
		}
	} else if _, ok := b.s.InterfaceByIndex(ifindex); !ok {
		return unix.EADDRNOTAVAIL
	}
	b.optMu.Lock()
	defer b.optMu.Unlock()
	if b.opts.bindIf != 0 && ifindex != b.opts.bindIf {
		return unix.EINVAL
	}
	b.mcast.ifIndex, b.mcast.ifAddr = ifindex, r.Address
	return nil
}

// getMembershipOpt reads IP_MULTICAST_IF, IP_MULTICAST_ALL, IP_MSFILTER
// and MCAST_MSFILTER.
func (b *base) getMembershipOpt(name int, buf []byte) (handled bool, n int, err error) {
	switch name {
	case unix.IP_MULTICAST_ALL:
		return true, options.PutIPInt(buf, int32(boolInt(!b.memb.noAll.Load()))), nil
	case unix.IP_MULTICAST_IF:
		b.optMu.Lock()
		a := b.mcast.ifAddr
		b.optMu.Unlock()
		var v [4]byte
		if a.Is4() {
			v = a.As4()
		}
		return true, copy(buf, v[:]), nil
	case unix.IP_MSFILTER, unix.MCAST_MSFILTER:
	default:
		return false, 0, nil
	}
	m := &b.memb
	m.op.Lock()
	defer m.op.Unlock()
	if name == unix.IP_MSFILTER {
		n, err = b.getIPMsfilter(buf)
	} else {
		n, err = b.getGroupFilter(buf)
	}
	return true, n, err
}

// getIPMsfilter is ip_mc_msfget: the header the caller passed comes back
// with the mode and the full source count; as many sources as its
// imsf_numsrc asked for follow.
func (b *base) getIPMsfilter(buf []byte) (int, error) {
	h, room, err := options.ParseIPMsfilterHeader(buf)
	if err != nil {
		return 0, err
	}
	if !h.Multiaddr.IsMulticast() {
		return 0, unix.EINVAL
	}
	ifx, ok := b.s.McastFindDev(h.Multiaddr, h.Interface, 0)
	if !ok {
		return 0, unix.ENODEV
	}
	e := b.memb.find(h.Multiaddr, ifx)
	if e == nil {
		return 0, unix.EADDRNOTAVAIL
	}
	count := len(e.srcs)
	copied := min(count, int(min(room, 1<<20)))
	binary.NativeEndian.PutUint32(buf[8:12], uint32(e.mode))
	binary.NativeEndian.PutUint32(buf[12:16], uint32(count))
	for i := range copied {
		off := options.IPMsfilterSize(i)
		if off+4 > len(buf) {
			break
		}
		v := e.srcs[i].As4()
		copy(buf[off:], v[:])
	}
	return options.IPMsfilterSize(copied), nil
}

// getGroupFilter is ip_get_mcast_msfilter + ip_mc_gsfget for
// MCAST_MSFILTER.
func (b *base) getGroupFilter(buf []byte) (int, error) {
	if len(buf) < options.GroupFilterSize0 {
		return 0, unix.EINVAL
	}
	if binary.NativeEndian.Uint16(buf[8:10]) != unix.AF_INET {
		return 0, unix.EINVAL
	}
	group := netip.AddrFrom4([4]byte(buf[12:16]))
	if !group.IsMulticast() {
		return 0, unix.EINVAL
	}
	ifindex := int(int32(binary.NativeEndian.Uint32(buf[0:4])))
	e := b.memb.find(group, ifindex)
	if e == nil {
		return 0, unix.EADDRNOTAVAIL
	}
	room := binary.NativeEndian.Uint32(buf[140:144])
	count := len(e.srcs)
	copied := min(count, int(min(room, 1<<20)))
	binary.NativeEndian.PutUint32(buf[136:140], uint32(e.mode))
	binary.NativeEndian.PutUint32(buf[140:144], uint32(count))
	for i := range copied {
		off := options.GroupFilterSize(i)
		if off+options.SizeofSockaddrStorage > len(buf) {
			break
		}
		ss := buf[off : off+options.SizeofSockaddrStorage]
		clear(ss)
		binary.NativeEndian.PutUint16(ss[0:2], unix.AF_INET)
		v := e.srcs[i].As4()
		copy(ss[4:8], v[:])
	}
	return options.GroupFilterSize(copied), nil
}

// applyMulticastIf gives a datagram to a group the IP_MULTICAST_IF choice:
// its interface unless the socket is bound to one, its address unless a
// source is set (udp_sendmsg).
func (b *base) applyMulticastIf(m *stack.UDPSend, mc mcastOpts) {
	if m.IfIndex == 0 {
		m.IfIndex = mc.ifIndex
	}
	if a := m.Src.Addr(); (!a.IsValid() || a.IsUnspecified()) && mc.ifAddr.IsValid() && !mc.ifAddr.IsUnspecified() {
		m.Src = netip.AddrPortFrom(mc.ifAddr, m.Src.Port())
	}
}
