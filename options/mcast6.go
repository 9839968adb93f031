package options

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// The MCAST_* structs at level SOL_IPV6 (ipv6_sockglue.c): the same
// group_req, group_source_req and group_filter as SOL_IP's, with
// sockaddr_in6 in their sockaddr_storage slots. The address of a
// sockaddr_in6 sits at offset 8 of the slot; its port, flow label and
// scope id are ignored. GroupReq, GroupSourceReq and GroupFilter carry
// the IPv6 addresses.

// sockaddrStorageIn6 reads an AF_INET6 sockaddr held in a sockaddr_storage.
func sockaddrStorageIn6(b []byte) (family uint16, a netip.Addr) {
	return nativeEndian.Uint16(b[0:2]), netip.AddrFrom16([16]byte(b[8:24]))
}

func putSockaddrStorageIn6(b []byte, a netip.Addr) {
	nativeEndian.PutUint16(b[0:2], unix.AF_INET6)
	v := a.As16()
	copy(b[8:24], v[:])
}

// ParseGroupReq6 applies ipv6_mcast_join_leave's checks: fewer than 136
// bytes is EINVAL (more are ignored), a group whose family is not
// AF_INET6 EADDRNOTAVAIL.
func ParseGroupReq6(b []byte) (GroupReq, error) {
	return parseGroupReq(b, inet6Storage, unix.EADDRNOTAVAIL)
}

// Encode6 returns the 136-byte struct with an AF_INET6 group.
func (g GroupReq) Encode6() [SizeofGroupReq]byte {
	var b [SizeofGroupReq]byte
	nativeEndian.PutUint32(b[0:4], g.Interface)
	putSockaddrStorageIn6(b[8:], g.Group)
	return b
}

// ParseGroupSourceReq6 applies do_ipv6_mcast_group_source's checks:
// fewer than 264 bytes is EINVAL (more are ignored, unlike SOL_IP's,
// which wants exactly 264); a group or source whose family is not
// AF_INET6 EADDRNOTAVAIL.
func ParseGroupSourceReq6(b []byte) (GroupSourceReq, error) {
	return parseGroupSourceReq(b, inet6Storage)
}

// Encode6 returns the 264-byte struct with AF_INET6 addresses.
func (g GroupSourceReq) Encode6() [SizeofGroupSourceReq]byte {
	var b [SizeofGroupSourceReq]byte
	nativeEndian.PutUint32(b[0:4], g.Interface)
	putSockaddrStorageIn6(b[8:], g.Group)
	putSockaddrStorageIn6(b[8+SizeofSockaddrStorage:], g.Source)
	return b
}

// ParseGroupFilter6 applies ipv6_set_mcast_msfilter's checks, in order:
// fewer than GROUP_FILTER_SIZE(0) bytes EINVAL; more than optmem_max
// ENOBUFS; gf_numsrc >= 0x1ffffff or above mld_max_msf (lim.MaxMsf)
// ENOBUFS; GROUP_FILTER_SIZE(numsrc) beyond the bytes given EINVAL. Unlike
// SOL_IP's, no family is checked: the addresses are read as sockaddr_in6
// whatever their family says.
func ParseGroupFilter6(b []byte, lim MsfilterLimits) (GroupFilter, error) {
	return parseGroupFilter(b, lim, inet6Storage, false)
}

// GroupFilterHeader6 decodes the header of a group_filter as
// getsockopt(SOL_IPV6, MCAST_MSFILTER) reads it (ipv6_get_msfilter):
// fewer than GROUP_FILTER_SIZE(0) bytes EINVAL, a group whose family is
// not AF_INET6 EADDRNOTAVAIL. numsrc is the room the caller offers.
func GroupFilterHeader6(b []byte) (f GroupFilter, numsrc uint32, err error) {
	if len(b) < GroupFilterSize0 {
		return GroupFilter{}, 0, unix.EINVAL
	}
	fam, g := sockaddrStorageIn6(b[8:])
	if fam != unix.AF_INET6 {
		return GroupFilter{}, 0, unix.EADDRNOTAVAIL
	}
	f = GroupFilter{Interface: nativeEndian.Uint32(b[0:4]), Group: g, Fmode: nativeEndian.Uint32(b[136:140])}
	return f, nativeEndian.Uint32(b[140:144]), nil
}

// PutGroupFilterResult6 writes what ip6_mc_msfget answers into the
// caller's group_filter b (at least GROUP_FILTER_SIZE(0) bytes): the mode,
// the full source count, and as many sources as room asked for and b
// holds, each a zeroed sockaddr_storage with an AF_INET6 sockaddr_in6. It
// returns the length reported, GROUP_FILTER_SIZE(min(count, room)).
func PutGroupFilterResult6(b []byte, fmode uint32, srcs []netip.Addr, room uint32) int {
	nativeEndian.PutUint32(b[136:140], fmode)
	nativeEndian.PutUint32(b[140:144], uint32(len(srcs)))
	copied := min(len(srcs), int(min(room, 1<<20)))
	for i := range copied {
		off := GroupFilterSize(i)
		if off+SizeofSockaddrStorage > len(b) {
			break
		}
		ss := b[off : off+SizeofSockaddrStorage]
		clear(ss)
		putSockaddrStorageIn6(ss, srcs[i])
	}
	return GroupFilterSize(copied)
}

// AppendGroupFilter6 appends a group_filter with gf_numsrc = numsrc and
// the given sources, every address an AF_INET6 sockaddr_in6.
func AppendGroupFilter6(dst []byte, f GroupFilter, numsrc uint32) []byte {
	var h [GroupFilterSize0]byte
	nativeEndian.PutUint32(h[0:4], f.Interface)
	putSockaddrStorageIn6(h[8:], f.Group)
	nativeEndian.PutUint32(h[136:140], f.Fmode)
	nativeEndian.PutUint32(h[140:144], numsrc)
	dst = append(dst, h[:]...)
	for _, s := range f.Sources {
		var ss [SizeofSockaddrStorage]byte
		putSockaddrStorageIn6(ss[:], s)
		dst = append(dst, ss[:]...)
	}
	return dst
}
