package freebsd

import (
	"encoding/binary"
	"net/netip"
	"slices"

	"golang.org/x/sys/unix"
)

// ipMaxMemberships is IP_MAX_MEMBERSHIPS: imo_grow doubles the membership
// vector from IP_MIN_MEMBERSHIPS (31) up to it, and the next join is
// ETOOMANYREFS. maxSourcesPerMembership bounds the wrapped socket's lists
// (FreeBSD bounds them by net.inet.ip.mcast.maxgrpsrc, checked here).
const (
	ipMaxMemberships        = 4095
	maxSourcesPerMembership = 1 << 16
)

// FreeBSD 8's in_mcast.c, the ip(4) page's era, kept as the socket's own
// ip_moptions so that its rules and errors are FreeBSD's; every change is
// then made on the wrapped socket with Linux's structures.

// moptions is struct ip_moptions: nil until a multicast option is first set
// (inp_findmoptions).
type moptions struct {
	ifindex int // imo_multicast_ifp; 0 = none
	ttl     uint8
	loop    bool
	members []*membership
}

type membership struct {
	ifindex int
	group   netip.Addr
	include bool // MCAST_INCLUDE; else MCAST_EXCLUDE
	sources []netip.Addr
	// left: the wrapped Linux socket has left the group (an include-mode
	// membership emptied, which FreeBSD keeps and Linux leaves).
	left bool
}

func (m *membership) has(a netip.Addr) int {
	for i, s := range m.sources {
		if s == a {
			return i
		}
	}
	return -1
}

func isMcastOpt(name int) bool {
	switch name {
	case IP_MULTICAST_IF, IP_MULTICAST_TTL, IP_MULTICAST_LOOP, IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP,
		IP_ADD_SOURCE_MEMBERSHIP, IP_DROP_SOURCE_MEMBERSHIP, IP_BLOCK_SOURCE, IP_UNBLOCK_SOURCE,
		MCAST_JOIN_GROUP, MCAST_LEAVE_GROUP, MCAST_JOIN_SOURCE_GROUP, MCAST_LEAVE_SOURCE_GROUP,
		MCAST_BLOCK_SOURCE, MCAST_UNBLOCK_SOURCE, IP_MSFILTER:
		return true
	}
	return false
}

// findmoptions is inp_findmoptions: the options, made with their defaults
// (TTL IP_DEFAULT_MULTICAST_TTL, loop net.inet.ip.mcast.loop) the first
// time (s.mu held).
func (s *Socket) findmoptions() (*moptions, error) {
	if s.o.imo != nil {
		return s.o.imo, nil
	}
	imo := &moptions{ttl: 1, loop: Sysctl(s.st).int("net.inet.ip.mcast.loop") != 0}
	if err := s.in.SetSockOpt(unix.SOL_IP, unix.IP_MULTICAST_LOOP, le32(int(b2i(imo.loop)))); err != nil {
		return nil, err
	}
	s.o.imo = imo
	return imo, nil
}

// charOrInt is the TTL and loop options' value: one u_char, or sooptcopyin
// of a u_int (anything but 1 byte, at least 4).
func charOrInt(val []byte) (uint32, error) {
	if len(val) == 1 {
		return uint32(val[0]), nil
	}
	if len(val) < 4 {
		return 0, unix.EINVAL
	}
	return binary.LittleEndian.Uint32(val), nil
}

// ifpByAddr is INADDR_TO_IFP: the interface that has address a, 0 if none.
func (s *Socket) ifpByAddr(a netip.Addr) int {
	for _, ifc := range s.st.Interfaces() {
		for _, p := range ifc.Addrs {
			if p.Addr() == a {
				return ifc.Index
			}
		}
	}
	return 0
}

// ifAddr is IFP_TO_IA: the interface's first IPv4 address.
func (s *Socket) ifAddr(ifindex int) netip.Addr {
	if ifc, ok := s.st.InterfaceByIndex(ifindex); ok {
		for _, p := range ifc.Addrs {
			if p.Addr().Is4() {
				return p.Addr()
			}
		}
	}
	return netip.IPv4Unspecified()
}

// lookupMcastIfp is inp_lookup_mcast_ifp: the interface of the given
// address; for INADDR_ANY the interface of the route to the group, and
// with no route the first non-loopback interface with an address.
func (s *Socket) lookupMcastIfp(group, ifaddr netip.Addr) int {
	if !ifaddr.IsUnspecified() {
		return s.ifpByAddr(ifaddr)
	}
	if _, ifindex, err := s.st.RouteSource(group, 0); err == nil && ifindex != 0 {
		return ifindex
	}
	for _, ifc := range s.st.Interfaces() {
		if !ifc.Loopback && len(ifc.Addrs) > 0 {
			return ifc.Index
		}
	}
	return 0
}

func (s *Socket) setMcast(name int, val []byte) error {
	if s.typ != unix.SOCK_DGRAM && s.typ != unix.SOCK_RAW {
		return unix.EOPNOTSUPP // inp_setmoptions
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch name {
	case IP_MULTICAST_TTL:
		v, err := charOrInt(val)
		if err != nil {
			return err
		}
		if v > 255 {
			return unix.EINVAL
		}
		imo, err := s.findmoptions()
		if err != nil {
			return err
		}
		if err := s.in.SetSockOpt(unix.SOL_IP, unix.IP_MULTICAST_TTL, le32(int(v))); err != nil {
			return err
		}
		imo.ttl = uint8(v)
	case IP_MULTICAST_LOOP:
		v, err := charOrInt(val)
		if err != nil {
			return err
		}
		imo, err := s.findmoptions()
		if err != nil {
			return err
		}
		on := uint8(v) != 0 // loop = (u_char)iloop; !!loop
		if err := s.in.SetSockOpt(unix.SOL_IP, unix.IP_MULTICAST_LOOP, le32(int(b2i(on)))); err != nil {
			return err
		}
		imo.loop = on
	case IP_MULTICAST_IF:
		return s.setMulticastIf(val)
	case IP_ADD_MEMBERSHIP, IP_ADD_SOURCE_MEMBERSHIP:
		return s.joinGroup(name, val)
	case IP_DROP_MEMBERSHIP, IP_DROP_SOURCE_MEMBERSHIP:
		return s.leaveGroup(name, val)
	case IP_BLOCK_SOURCE, IP_UNBLOCK_SOURCE:
		return s.blockUnblock(name == IP_BLOCK_SOURCE, val)
	case IP_MSFILTER:
		return s.setMsfilter(val)
	default:
		return s.groupReq(name, val)
	}
	return nil
}

// FreeBSD/amd64 struct group_req {uint32_t gr_interface; struct
// sockaddr_storage gr_group} and struct group_source_req (a second
// sockaddr_storage): the storage is 8-aligned, 128 bytes.
const (
	SizeofGroupReq       = 8 + 128
	SizeofGroupSourceReq = 8 + 128 + 128
)

// groupSockaddr reads a sockaddr_storage holding a sockaddr_in: family
// AF_INET and ss_len 16, else EINVAL (inp_join_group and the others).
func groupSockaddr(b []byte) (netip.Addr, error) {
	if b[0] != SizeofSockaddrIn || b[1] != AF_INET {
		return netip.Addr{}, unix.EINVAL
	}
	return netip.AddrFrom4([4]byte(b[4:8])), nil
}

// groupReq is the protocol-independent API (RFC 3678) of FreeBSD 8's
// in_mcast.c: the structures are copied whole (EINVAL when shorter), the
// sockaddrs checked, then the interface index (0 or past the last
// interface: EADDRNOTAVAIL) before the group's class for a leave, block
// or unblock, after it for a join.
func (s *Socket) groupReq(name int, val []byte) error {
	withSource := name != MCAST_JOIN_GROUP && name != MCAST_LEAVE_GROUP
	size := SizeofGroupReq
	if withSource {
		size = SizeofGroupSourceReq
	}
	if len(val) < size {
		return unix.EINVAL
	}
	ifindex := int(binary.LittleEndian.Uint32(val[0:4]))
	group, err := groupSockaddr(val[8:])
	if err != nil {
		return err
	}
	var source netip.Addr
	if withSource {
		if source, err = groupSockaddr(val[8+128:]); err != nil {
			return err
		}
	}
	ifOK := func() error {
		if ifindex == 0 || ifindex > s.maxIfindex() {
			return unix.EADDRNOTAVAIL
		}
		if _, ok := s.st.InterfaceByIndex(ifindex); !ok {
			return unix.EADDRNOTAVAIL
		}
		return nil
	}
	switch name {
	case MCAST_JOIN_GROUP, MCAST_JOIN_SOURCE_GROUP:
		if !group.IsMulticast() {
			return unix.EINVAL
		}
		if err := ifOK(); err != nil {
			return err
		}
		return s.joinAt(ifindex, group, source, withSource)
	case MCAST_LEAVE_GROUP, MCAST_LEAVE_SOURCE_GROUP:
		if err := ifOK(); err != nil {
			return err
		}
		if !group.IsMulticast() {
			return unix.EINVAL
		}
		return s.leaveAt(ifindex, group, source, withSource)
	default: // MCAST_BLOCK_SOURCE, MCAST_UNBLOCK_SOURCE
		if err := ifOK(); err != nil {
			return err
		}
		if !group.IsMulticast() {
			return unix.EINVAL
		}
		return s.blockAt(name == MCAST_BLOCK_SOURCE, ifindex, group, source)
	}
}

// setMulticastIf is inp_set_multicast_if: a struct ip_mreqn (by its size)
// or an in_addr.
func (s *Socket) setMulticastIf(val []byte) error {
	var ifindex int
	if len(val) == 12 {
		idx := int32(binary.LittleEndian.Uint32(val[8:12]))
		if idx < 0 || int(idx) > s.maxIfindex() {
			return unix.EINVAL
		}
		if idx != 0 {
			if _, ok := s.st.InterfaceByIndex(int(idx)); !ok {
				return unix.EADDRNOTAVAIL
			}
		}
		ifindex = int(idx)
	} else {
		if len(val) < 4 {
			return unix.EINVAL
		}
		a := netip.AddrFrom4([4]byte(val[:4]))
		if !a.IsUnspecified() {
			if ifindex = s.ifpByAddr(a); ifindex == 0 {
				return unix.EADDRNOTAVAIL
			}
		}
	}
	imo, err := s.findmoptions()
	if err != nil {
		return err
	}
	var mreqn [12]byte
	binary.NativeEndian.PutUint32(mreqn[8:], uint32(ifindex))
	if err := s.in.SetSockOpt(unix.SOL_IP, unix.IP_MULTICAST_IF, mreqn[:]); err != nil {
		return err
	}
	imo.ifindex = ifindex
	return nil
}

func (s *Socket) maxIfindex() int {
	n := 0
	for _, ifc := range s.st.Interfaces() {
		n = max(n, ifc.Index)
	}
	return n
}

// mreqSource reads FreeBSD's struct ip_mreq_source: imr_multiaddr,
// imr_sourceaddr, imr_interface (Linux puts the interface second).
func mreqSource(val []byte) (group, source, ifaddr netip.Addr) {
	return netip.AddrFrom4([4]byte(val[0:4])), netip.AddrFrom4([4]byte(val[4:8])), netip.AddrFrom4([4]byte(val[8:12]))
}

// readMreq is the sooptcopyin of inp_join_group/inp_leave_group: ip_mreq
// (8 bytes) or ip_mreq_source (12), no fewer.
func readMreq(name int, val []byte) (group, source, ifaddr netip.Addr, withSource bool, err error) {
	switch name {
	case IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP:
		if len(val) < 8 {
			return group, source, ifaddr, false, unix.EINVAL
		}
		return netip.AddrFrom4([4]byte(val[0:4])), netip.Addr{}, netip.AddrFrom4([4]byte(val[4:8])), false, nil
	}
	if len(val) < 12 {
		return group, source, ifaddr, false, unix.EINVAL
	}
	group, source, ifaddr = mreqSource(val)
	return group, source, ifaddr, true, nil
}

// match is imo_match_group: ifindex 0 matches any interface.
func (imo *moptions) match(ifindex int, group netip.Addr) (int, *membership) {
	if imo == nil {
		return -1, nil
	}
	for i, m := range imo.members {
		if (ifindex == 0 || m.ifindex == ifindex) && m.group == group {
			return i, m
		}
	}
	return -1, nil
}

// linuxMreqSource is Linux's struct ip_mreq_source.
func linuxMreqSource(group, ifaddr, source netip.Addr) []byte {
	b := make([]byte, 12)
	copy(b[0:4], group.AsSlice())
	copy(b[4:8], ifaddr.AsSlice())
	copy(b[8:12], source.AsSlice())
	return b
}

// joinGroup is inp_join_group for IP_ADD_MEMBERSHIP and
// IP_ADD_SOURCE_MEMBERSHIP (s.mu held).
func (s *Socket) joinGroup(name int, val []byte) error {
	group, source, ifaddr, withSource, err := readMreq(name, val)
	if err != nil {
		return err
	}
	if !group.IsMulticast() {
		return unix.EINVAL
	}
	ifindex := s.lookupMcastIfp(group, ifaddr)
	if ifindex == 0 {
		return unix.EADDRNOTAVAIL
	}
	return s.joinAt(ifindex, group, source, withSource)
}

// joinAt is inp_join_group once the interface is known.
func (s *Socket) joinAt(ifindex int, group, source netip.Addr, withSource bool) error {
	imo, err := s.findmoptions()
	if err != nil {
		return err
	}
	_, m := imo.match(ifindex, group)
	if m != nil {
		if !withSource {
			if !m.include {
				return unix.EADDRINUSE
			}
			return unix.EINVAL
		}
		if !m.include {
			return unix.EINVAL
		}
		if m.has(source) >= 0 {
			return unix.EADDRNOTAVAIL
		}
	}
	if m == nil && len(imo.members) >= ipMaxMemberships {
		return unix.ETOOMANYREFS // imo_grow
	}
	addr := s.ifAddr(ifindex)
	if withSource {
		k := Sysctl(s.st)
		if err := k.holdGroupSource(ifindex, group, source); err != nil {
			return err
		}
		if err := s.in.SetSockOpt(unix.SOL_IP, unix.IP_ADD_SOURCE_MEMBERSHIP, linuxMreqSource(group, addr, source)); err != nil {
			k.releaseGroupSource(ifindex, group, source)
			return err
		}
		if m == nil {
			m = &membership{ifindex: ifindex, group: group, include: true}
			imo.members = append(imo.members, m)
		}
		m.sources = append(m.sources, source)
		m.left = false
		return nil
	}
	var mreqn [12]byte
	copy(mreqn[0:4], group.AsSlice())
	binary.NativeEndian.PutUint32(mreqn[8:], uint32(ifindex))
	if err := s.in.SetSockOpt(unix.SOL_IP, unix.IP_ADD_MEMBERSHIP, mreqn[:]); err != nil {
		return err
	}
	imo.members = append(imo.members, &membership{ifindex: ifindex, group: group})
	return nil
}

// leaveGroup is inp_leave_group: an unknown interface address matches the
// group on any interface; dropping an include-mode membership's last
// source leaves the membership in place (FreeBSD 8; the wrapped Linux
// socket has left the group: a later IP_DROP_MEMBERSHIP finds nothing
// there, which is not an error here).
func (s *Socket) leaveGroup(name int, val []byte) error {
	group, source, ifaddr, withSource, err := readMreq(name, val)
	if err != nil {
		return err
	}
	ifindex := 0
	if !ifaddr.IsUnspecified() {
		ifindex = s.ifpByAddr(ifaddr)
	}
	if !group.IsMulticast() {
		return unix.EINVAL
	}
	return s.leaveAt(ifindex, group, source, withSource)
}

// leaveAt is inp_leave_group once the interface (0: any) is known.
func (s *Socket) leaveAt(ifindex int, group, source netip.Addr, withSource bool) error {
	imo, err := s.findmoptions()
	if err != nil {
		return err
	}
	i, m := imo.match(ifindex, group)
	if m == nil {
		return unix.EADDRNOTAVAIL
	}
	addr := s.ifAddr(m.ifindex)
	if withSource {
		if !m.include {
			return unix.EADDRNOTAVAIL
		}
		j := m.has(source)
		if j < 0 {
			return unix.EADDRNOTAVAIL
		}
		if err := s.in.SetSockOpt(unix.SOL_IP, unix.IP_DROP_SOURCE_MEMBERSHIP, linuxMreqSource(group, addr, source)); err != nil && err != unix.EADDRNOTAVAIL {
			return err
		}
		m.sources = append(m.sources[:j], m.sources[j+1:]...)
		m.left = len(m.sources) == 0
		Sysctl(s.st).releaseGroupSource(m.ifindex, group, source)
		return nil
	}
	var mreqn [12]byte
	copy(mreqn[0:4], group.AsSlice())
	binary.NativeEndian.PutUint32(mreqn[8:], uint32(m.ifindex))
	if err := s.in.SetSockOpt(unix.SOL_IP, unix.IP_DROP_MEMBERSHIP, mreqn[:]); err != nil && err != unix.EADDRNOTAVAIL {
		return err
	}
	for _, src := range m.sources {
		Sysctl(s.st).releaseGroupSource(m.ifindex, group, src)
	}
	imo.members = append(imo.members[:i], imo.members[i+1:]...)
	return nil
}

// blockUnblock is inp_block_unblock_source for the delta-based API: only
// on an exclude-mode membership (EINVAL otherwise), blocking a blocked
// source or unblocking one that is not is EADDRNOTAVAIL.
func (s *Socket) blockUnblock(block bool, val []byte) error {
	if len(val) < 12 {
		return unix.EINVAL
	}
	group, source, ifaddr := mreqSource(val)
	ifindex := 0
	if !ifaddr.IsUnspecified() {
		ifindex = s.ifpByAddr(ifaddr)
	}
	if !group.IsMulticast() {
		return unix.EINVAL
	}
	return s.blockAt(block, ifindex, group, source)
}

// blockAt is inp_block_unblock_source once the interface (0: any) is known.
func (s *Socket) blockAt(block bool, ifindex int, group, source netip.Addr) error {
	imo, err := s.findmoptions()
	if err != nil {
		return err
	}
	_, m := imo.match(ifindex, group)
	if m == nil {
		return unix.EADDRNOTAVAIL
	}
	if m.include {
		return unix.EINVAL
	}
	j := m.has(source)
	if (j >= 0) == block {
		return unix.EADDRNOTAVAIL
	}
	k := Sysctl(s.st)
	opt := unix.IP_UNBLOCK_SOURCE
	if block {
		opt = unix.IP_BLOCK_SOURCE
		if err := k.holdGroupSource(m.ifindex, group, source); err != nil {
			return err
		}
	}
	if err := s.in.SetSockOpt(unix.SOL_IP, opt, linuxMreqSource(group, s.ifAddr(m.ifindex), source)); err != nil {
		if block {
			k.releaseGroupSource(m.ifindex, group, source)
		}
		return err
	}
	if block {
		m.sources = append(m.sources, source)
	} else {
		m.sources = append(m.sources[:j], m.sources[j+1:]...)
		k.releaseGroupSource(m.ifindex, group, source)
	}
	return nil
}

// getMcast is inp_getmoptions for IP_MULTICAST_IF, _TTL and _LOOP: the
// TTL and loop flag as one u_char for a 1-byte buffer, else an int; the
// interface as struct ip_mreqn for a 12-byte buffer, else its address.
// Without options yet, the defaults (TTL 1, loop 1) whatever
// net.inet.ip.mcast.loop says.
func (s *Socket) getMcast(name int, buf []byte) (int, error) {
	if s.typ != unix.SOCK_DGRAM && s.typ != unix.SOCK_RAW {
		return 0, unix.EOPNOTSUPP
	}
	s.mu.Lock()
	imo := s.o.imo
	s.mu.Unlock()
	switch name {
	case IP_MULTICAST_TTL, IP_MULTICAST_LOOP:
		v := uint8(1)
		if imo != nil {
			if name == IP_MULTICAST_TTL {
				v = imo.ttl
			} else {
				v = uint8(b2i(imo.loop))
			}
		}
		if len(buf) == 1 {
			buf[0] = v
			return 1, nil
		}
		return copyOutInt(buf, int32(v)), nil
	case IP_MULTICAST_IF:
		var mreqn [12]byte
		if imo != nil && imo.ifindex != 0 {
			copy(mreqn[4:8], s.ifAddr(imo.ifindex).AsSlice())
			binary.LittleEndian.PutUint32(mreqn[8:], uint32(imo.ifindex))
		}
		if len(buf) == 12 {
			return copy(buf, mreqn[:]), nil
		}
		return copyOut(buf, mreqn[4:8]), nil
	}
	// IP_MSFILTER and the others of inp_getmoptions are not kept here.
	return 0, unix.ENOPROTOOPT
}

// FreeBSD/amd64 struct __msfilterreq: msfr_ifindex, msfr_fmode,
// msfr_nsrcs, 4 bytes of padding, msfr_group (sockaddr_storage) and the
// msfr_srcs pointer. The bytes-in API has no user memory to point into, so
// a non-zero msfr_srcs stands for the sockaddr_storage array that follows
// the structure in the option buffer (as endpoint's SIOCGIFCONF does).
const SizeofMsfilterreq = 16 + 128 + 8

// FreeBSD's filter modes (netinet/in.h).
const (
	MCAST_UNDEFINED = 0
	MCAST_INCLUDE   = 1
	MCAST_EXCLUDE   = 2
)

// setMsfilter is inp_set_source_filters (s.mu held): the structure copied
// whole (EINVAL), more sources than net.inet.ip.mcast.maxsocksrc ENOBUFS,
// a mode other than INCLUDE/EXCLUDE EINVAL, the group's sockaddr EINVAL,
// not multicast EINVAL, msfr_ifindex 0 or past the last interface
// EADDRNOTAVAIL, not a member EADDRNOTAVAIL; each source must be AF_INET
// (EAFNOSUPPORT) with ss_len 16 (EINVAL); the group's source count
// (maxgrpsrc) gives ENOSPC.
func (s *Socket) setMsfilter(val []byte) error {
	if len(val) < SizeofMsfilterreq {
		return unix.EINVAL
	}
	ifindex := int(binary.LittleEndian.Uint32(val[0:4]))
	fmode := binary.LittleEndian.Uint32(val[4:8])
	nsrcs := binary.LittleEndian.Uint32(val[8:12])
	k := Sysctl(s.st)
	if int64(nsrcs) > int64(k.int("net.inet.ip.mcast.maxsocksrc")) {
		return unix.ENOBUFS
	}
	if fmode != MCAST_EXCLUDE && fmode != MCAST_INCLUDE {
		return unix.EINVAL
	}
	group, err := groupSockaddr(val[16:])
	if err != nil {
		return err
	}
	if !group.IsMulticast() {
		return unix.EINVAL
	}
	if ifindex == 0 || ifindex > s.maxIfindex() {
		return unix.EADDRNOTAVAIL
	}
	if _, ok := s.st.InterfaceByIndex(ifindex); !ok {
		return unix.EADDRNOTAVAIL
	}
	imo, err := s.findmoptions()
	if err != nil {
		return err
	}
	_, m := imo.match(ifindex, group)
	if m == nil {
		return unix.EADDRNOTAVAIL
	}
	var srcs []netip.Addr
	if nsrcs > 0 {
		if binary.LittleEndian.Uint64(val[144:152]) == 0 || len(val) < SizeofMsfilterreq+int(nsrcs)*128 {
			return unix.EFAULT // copyin from msfr_srcs
		}
		for i := 0; i < int(nsrcs); i++ {
			b := val[SizeofMsfilterreq+i*128:]
			if b[1] != AF_INET {
				return unix.EAFNOSUPPORT
			}
			if b[0] != SizeofSockaddrIn {
				return unix.EINVAL
			}
			a := netip.AddrFrom4([4]byte(b[4:8]))
			if !slices.Contains(srcs, a) {
				srcs = append(srcs, a)
			}
		}
	}
	// The group's source count moves from the old list to the new one.
	for _, a := range m.sources {
		k.releaseGroupSource(ifindex, group, a)
	}
	for i, a := range srcs {
		if err := k.holdGroupSource(ifindex, group, a); err != nil {
			for _, b := range srcs[:i] {
				k.releaseGroupSource(ifindex, group, b)
			}
			for _, b := range m.sources {
				_ = k.holdGroupSource(ifindex, group, b)
			}
			return err
		}
	}
	addr := s.ifAddr(ifindex)
	if m.left {
		var mreqn [12]byte
		copy(mreqn[0:4], group.AsSlice())
		binary.NativeEndian.PutUint32(mreqn[8:], uint32(ifindex))
		if err := s.in.SetSockOpt(unix.SOL_IP, unix.IP_ADD_MEMBERSHIP, mreqn[:]); err != nil {
			return err
		}
		m.left = false
	}
	// Linux's struct ip_msfilter; its modes are EXCLUDE 0, INCLUDE 1.
	lmode := uint32(0)
	if fmode == MCAST_INCLUDE {
		lmode = 1
	}
	lin := make([]byte, 16+4*len(srcs))
	copy(lin[0:4], group.AsSlice())
	copy(lin[4:8], addr.AsSlice())
	binary.NativeEndian.PutUint32(lin[8:], lmode)
	binary.NativeEndian.PutUint32(lin[12:], uint32(len(srcs)))
	for i, a := range srcs {
		copy(lin[16+4*i:], a.AsSlice())
	}
	if err := s.in.SetSockOpt(unix.SOL_IP, unix.IP_MSFILTER, lin); err != nil {
		for _, a := range srcs {
			k.releaseGroupSource(ifindex, group, a)
		}
		for _, b := range m.sources {
			_ = k.holdGroupSource(ifindex, group, b)
		}
		return err
	}
	m.include, m.sources = fmode == MCAST_INCLUDE, srcs
	m.left = m.include && len(srcs) == 0 // Linux leaves an empty include filter
	return nil
}

// getMsfilter is inp_get_source_filters: msfr_ifindex 0, past the last
// interface or missing EINVAL, not a member EADDRNOTAVAIL; the mode, the
// sources that fit in msfr_nsrcs written after the structure when
// msfr_srcs is set, and msfr_nsrcs set to how many there are. Without
// ip_moptions, EADDRNOTAVAIL (inp_getmoptions).
func (s *Socket) getMsfilter(buf []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.o.imo == nil {
		return 0, unix.EADDRNOTAVAIL
	}
	if len(buf) < SizeofMsfilterreq {
		return 0, unix.EINVAL
	}
	ifindex := int(binary.LittleEndian.Uint32(buf[0:4]))
	if ifindex == 0 || ifindex > s.maxIfindex() {
		return 0, unix.EINVAL
	}
	if _, ok := s.st.InterfaceByIndex(ifindex); !ok {
		return 0, unix.EINVAL
	}
	group := netip.AddrFrom4([4]byte(buf[20:24]))
	_, m := s.o.imo.match(ifindex, group)
	if m == nil {
		return 0, unix.EADDRNOTAVAIL
	}
	fmode := uint32(MCAST_EXCLUDE)
	if m.include {
		fmode = MCAST_INCLUDE
	}
	room := int(binary.LittleEndian.Uint32(buf[8:12]))
	if binary.LittleEndian.Uint64(buf[144:152]) != 0 && room > 0 {
		for i, a := range m.sources {
			if i >= room {
				break
			}
			off := SizeofMsfilterreq + i*128
			if off+128 > len(buf) {
				return 0, unix.EFAULT
			}
			clear(buf[off : off+128])
			buf[off], buf[off+1] = SizeofSockaddrIn, AF_INET
			copy(buf[off+4:off+8], a.AsSlice())
		}
	}
	binary.LittleEndian.PutUint32(buf[4:8], fmode)
	binary.LittleEndian.PutUint32(buf[8:12], uint32(len(m.sources)))
	return SizeofMsfilterreq, nil
}
