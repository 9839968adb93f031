package options

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// Sizes of the IPv4 option structs on 64-bit Linux that x/sys/unix has no
// Sizeof constant for (use unix.SizeofInet4Pktinfo, unix.SizeofIPMreq,
// unix.SizeofIPMreqn and unix.SizeofSockaddrInet4 for the others), checked
// by TestStructSizesMatchXSys against x/sys/unix's types (or, for the
// structs it lacks, against field-by-field mirrors of <linux/in.h>).
const (
	SizeofIPMreqSource    = 12
	SizeofSockExtendedErr = 16
	SizeofSockaddrStorage = 128
	SizeofGroupReq        = 136 // u32 interface, 4 pad, sockaddr_storage
	SizeofGroupSourceReq  = 264 // u32 interface, 4 pad, 2 x sockaddr_storage
	SizeofInAddr          = 4
	// IPMsfilterSize0 is IP_MSFILTER_SIZE(0): the header before imsf_slist.
	IPMsfilterSize0 = 16
	// GroupFilterSize0 is GROUP_FILTER_SIZE(0): the header before gf_slist.
	GroupFilterSize0 = 144
)

// IPMsfilterSize is IP_MSFILTER_SIZE(n).
func IPMsfilterSize(n int) int { return IPMsfilterSize0 + n*SizeofInAddr }

// GroupFilterSize is GROUP_FILTER_SIZE(n).
func GroupFilterSize(n int) int { return GroupFilterSize0 + n*SizeofSockaddrStorage }

func addr4(b []byte) netip.Addr { return netip.AddrFrom4([4]byte(b[:4])) }

// putAddr4 writes an IPv4 (or IPv4-mapped) address; others become 0.0.0.0.
func putAddr4(b []byte, a netip.Addr) {
	var v [4]byte
	if a = a.Unmap(); a.Is4() {
		v = a.As4()
	}
	copy(b[:4], v[:])
}

// InPktinfo is struct in_pktinfo {int ipi_ifindex; in_addr ipi_spec_dst;
// in_addr ipi_addr}, decoded. Not unix.Inet4Pktinfo: it holds netip.Addr
// values, and ParseInPktinfo answers Linux's EINVAL for short bytes.
type InPktinfo struct {
	IfIndex int32
	SpecDst netip.Addr
	Addr    netip.Addr
}

// ParseInPktinfo decodes the first 12 bytes of b; shorter is EINVAL.
// (ip_cmsg_send wants cmsg_len == CMSG_LEN(12) exactly: check that first.)
func ParseInPktinfo(b []byte) (InPktinfo, error) {
	if len(b) < unix.SizeofInet4Pktinfo {
		return InPktinfo{}, unix.EINVAL
	}
	return InPktinfo{IfIndex: Int32(b[0:4]), SpecDst: addr4(b[4:8]), Addr: addr4(b[8:12])}, nil
}

// Encode returns the 12-byte struct.
func (p InPktinfo) Encode() [unix.SizeofInet4Pktinfo]byte {
	var b [unix.SizeofInet4Pktinfo]byte
	PutInt32(b[0:4], p.IfIndex)
	putAddr4(b[4:8], p.SpecDst)
	putAddr4(b[8:12], p.Addr)
	return b
}

// IPMreqn is struct ip_mreqn {imr_multiaddr; imr_address; int imr_ifindex};
// the shorter struct ip_mreq {imr_multiaddr; imr_interface} decodes into it
// with IfIndex 0, as the kernel does. Not unix.IPMreqn/unix.IPMreq: it
// holds netip.Addr values, and the parsers apply Linux's length rules.
type IPMreqn struct {
	Multiaddr netip.Addr
	Address   netip.Addr
	IfIndex   int32
}

// ParseIPMreq decodes a struct ip_mreq (8 bytes); shorter is EINVAL.
func ParseIPMreq(b []byte) (IPMreqn, error) {
	if len(b) < unix.SizeofIPMreq {
		return IPMreqn{}, unix.EINVAL
	}
	return IPMreqn{Multiaddr: addr4(b[0:4]), Address: addr4(b[4:8])}, nil
}

// ParseIPMreqn decodes a struct ip_mreqn (12 bytes); shorter is EINVAL.
func ParseIPMreqn(b []byte) (IPMreqn, error) {
	if len(b) < unix.SizeofIPMreqn {
		return IPMreqn{}, unix.EINVAL
	}
	return IPMreqn{Multiaddr: addr4(b[0:4]), Address: addr4(b[4:8]), IfIndex: Int32(b[8:12])}, nil
}

// ParseMembershipReq applies IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP's
// length rule: under 8 bytes EINVAL, 8..11 an ip_mreq, 12 or more an
// ip_mreqn (extra bytes ignored).
func ParseMembershipReq(b []byte) (IPMreqn, error) {
	if len(b) >= unix.SizeofIPMreqn {
		return ParseIPMreqn(b)
	}
	return ParseIPMreq(b)
}

// ParseMulticastIfReq applies IP_MULTICAST_IF's length rule: under 4 bytes
// EINVAL, 4..7 an in_addr (the interface address), 8..11 an ip_mreq laid
// over ip_mreqn (so its second word is the address), 12 or more an ip_mreqn.
func ParseMulticastIfReq(b []byte) (IPMreqn, error) {
	switch {
	case len(b) >= unix.SizeofIPMreq:
		return ParseMembershipReq(b)
	case len(b) >= SizeofInAddr:
		return IPMreqn{Multiaddr: netip.IPv4Unspecified(), Address: addr4(b[0:4])}, nil
	}
	return IPMreqn{}, unix.EINVAL
}

// Encode returns the 12-byte ip_mreqn.
func (m IPMreqn) Encode() [unix.SizeofIPMreqn]byte {
	var b [unix.SizeofIPMreqn]byte
	putAddr4(b[0:4], m.Multiaddr)
	putAddr4(b[4:8], m.Address)
	PutInt32(b[8:12], m.IfIndex)
	return b
}

// EncodeMreq returns the 8-byte ip_mreq (IfIndex is dropped).
func (m IPMreqn) EncodeMreq() [unix.SizeofIPMreq]byte {
	var b [unix.SizeofIPMreq]byte
	putAddr4(b[0:4], m.Multiaddr)
	putAddr4(b[4:8], m.Address)
	return b
}

// IPMreqSource is struct ip_mreq_source {imr_multiaddr; imr_interface;
// imr_sourceaddr}, which x/sys/unix lacks.
type IPMreqSource struct {
	Multiaddr, Interface, Sourceaddr netip.Addr
}

// ParseIPMreqSource decodes an ip_mreq_source. The kernel wants optlen to be
// exactly 12 for IP_{ADD,DROP}_SOURCE_MEMBERSHIP and IP_{UN,}BLOCK_SOURCE;
// any other length is EINVAL.
func ParseIPMreqSource(b []byte) (IPMreqSource, error) {
	if len(b) != SizeofIPMreqSource {
		return IPMreqSource{}, unix.EINVAL
	}
	return IPMreqSource{Multiaddr: addr4(b[0:4]), Interface: addr4(b[4:8]), Sourceaddr: addr4(b[8:12])}, nil
}

// Encode returns the 12-byte struct.
func (m IPMreqSource) Encode() [SizeofIPMreqSource]byte {
	var b [SizeofIPMreqSource]byte
	putAddr4(b[0:4], m.Multiaddr)
	putAddr4(b[4:8], m.Interface)
	putAddr4(b[8:12], m.Sourceaddr)
	return b
}

// SockExtendedErr is struct sock_extended_err: unix.SockExtendedErr's own
// fields (convert either way), as a type of ours only to carry Encode and
// the RFC 4884 accessors. For IP_RECVERR_RFC4884 the kernel reads Data as
// {u16 len; u8 flags; u8 reserved}; see RFC4884Len.
type SockExtendedErr unix.SockExtendedErr

// ParseSockExtendedErr decodes the first 16 bytes of b; shorter is EINVAL.
func ParseSockExtendedErr(b []byte) (SockExtendedErr, error) {
	if len(b) < SizeofSockExtendedErr {
		return SockExtendedErr{}, unix.EINVAL
	}
	return SockExtendedErr{
		Errno: nativeEndian.Uint32(b[0:4]), Origin: b[4], Type: b[5], Code: b[6], Pad: b[7],
		Info: nativeEndian.Uint32(b[8:12]), Data: nativeEndian.Uint32(b[12:16]),
	}, nil
}

// Encode returns the 16-byte struct.
func (e SockExtendedErr) Encode() [SizeofSockExtendedErr]byte {
	var b [SizeofSockExtendedErr]byte
	nativeEndian.PutUint32(b[0:4], e.Errno)
	b[4], b[5], b[6], b[7] = e.Origin, e.Type, e.Code, e.Pad
	nativeEndian.PutUint32(b[8:12], e.Info)
	nativeEndian.PutUint32(b[12:16], e.Data)
	return b
}

// SetRFC4884 stores the RFC 4884 view of ee_data: len (bytes of original
// datagram) and flags (SO_EE_RFC4884_FLAG_INVALID).
func (e *SockExtendedErr) SetRFC4884(length uint16, flags uint8) {
	e.Data = uint32(length) | uint32(flags)<<16
}

// RFC4884Len and RFC4884Flags read the RFC 4884 view of ee_data.
func (e SockExtendedErr) RFC4884Len() uint16  { return uint16(e.Data) }
func (e SockExtendedErr) RFC4884Flags() uint8 { return uint8(e.Data >> 16) }

// SizeofRecvErr is the IP_RECVERR cmsg payload: sock_extended_err followed
// by the offender's sockaddr_in (all zero when there is none).
const SizeofRecvErr = SizeofSockExtendedErr + unix.SizeofSockaddrInet4

// EncodeRecvErr builds the IP_RECVERR cmsg payload. With hasOffender false
// the sockaddr_in is all zero (family 0), as ip_recv_error leaves it for
// locally generated errors.
func EncodeRecvErr(e SockExtendedErr, offender netip.Addr, hasOffender bool) [SizeofRecvErr]byte {
	var b [SizeofRecvErr]byte
	ee := e.Encode()
	copy(b[:], ee[:])
	if hasOffender {
		PutSockaddrIn(b[SizeofSockExtendedErr:], netip.AddrPortFrom(offender, 0))
	}
	return b
}

// sockaddrStorageIn reads an AF_INET sockaddr held in a sockaddr_storage.
func sockaddrStorageIn(b []byte) (family uint16, a netip.Addr) {
	return nativeEndian.Uint16(b[0:2]), addr4(b[4:8])
}

func putSockaddrStorageIn(b []byte, a netip.Addr) {
	nativeEndian.PutUint16(b[0:2], unix.AF_INET)
	putAddr4(b[4:8], a)
}

// GroupReq is struct group_req with an AF_INET group (x/sys/unix lacks
// group_req).
type GroupReq struct {
	Interface uint32
	Group     netip.Addr
}

// ParseGroupReq applies MCAST_JOIN_GROUP / MCAST_LEAVE_GROUP's checks:
// fewer than 136 bytes is EINVAL (more are ignored), and a group whose
// family is not AF_INET is EINVAL.
func ParseGroupReq(b []byte) (GroupReq, error) {
	return parseGroupReq(b, inetStorage, unix.EINVAL)
}

// storageFamily is how one address family reads its sockaddr from a
// sockaddr_storage slot.
type storageFamily struct {
	family uint16
	read   func([]byte) (uint16, netip.Addr)
}

var (
	inetStorage  = storageFamily{unix.AF_INET, sockaddrStorageIn}
	inet6Storage = storageFamily{unix.AF_INET6, sockaddrStorageIn6}
)

// parseGroupReq reads a group_req of at least 136 bytes (EINVAL) whose
// group is of f's family (badFamily: the two levels answer differently).
func parseGroupReq(b []byte, f storageFamily, badFamily error) (GroupReq, error) {
	if len(b) < SizeofGroupReq {
		return GroupReq{}, unix.EINVAL
	}
	fam, g := f.read(b[8:])
	if fam != f.family {
		return GroupReq{}, badFamily
	}
	return GroupReq{Interface: nativeEndian.Uint32(b[0:4]), Group: g}, nil
}

// Encode returns the 136-byte struct with an AF_INET group.
func (g GroupReq) Encode() [SizeofGroupReq]byte {
	var b [SizeofGroupReq]byte
	nativeEndian.PutUint32(b[0:4], g.Interface)
	putSockaddrStorageIn(b[8:], g.Group)
	return b
}

// GroupSourceReq is struct group_source_req with AF_INET addresses (x/sys/unix
// lacks group_source_req).
type GroupSourceReq struct {
	Interface     uint32
	Group, Source netip.Addr
}

// ParseGroupSourceReq applies the checks of MCAST_{JOIN,LEAVE}_SOURCE_GROUP
// and MCAST_{UN,}BLOCK_SOURCE: a length other than 264 is EINVAL; a group
// or source whose family is not AF_INET is EADDRNOTAVAIL.
func ParseGroupSourceReq(b []byte) (GroupSourceReq, error) {
	if len(b) != SizeofGroupSourceReq {
		return GroupSourceReq{}, unix.EINVAL
	}
	return parseGroupSourceReq(b, inetStorage)
}

// parseGroupSourceReq reads a group_source_req of at least 264 bytes
// whose group and source are of f's family (EADDRNOTAVAIL).
func parseGroupSourceReq(b []byte, f storageFamily) (GroupSourceReq, error) {
	if len(b) < SizeofGroupSourceReq {
		return GroupSourceReq{}, unix.EINVAL
	}
	gf, g := f.read(b[8:])
	sf, s := f.read(b[8+SizeofSockaddrStorage:])
	if gf != f.family || sf != f.family {
		return GroupSourceReq{}, unix.EADDRNOTAVAIL
	}
	return GroupSourceReq{Interface: nativeEndian.Uint32(b[0:4]), Group: g, Source: s}, nil
}

// Encode returns the 264-byte struct with AF_INET addresses.
func (g GroupSourceReq) Encode() [SizeofGroupSourceReq]byte {
	var b [SizeofGroupSourceReq]byte
	nativeEndian.PutUint32(b[0:4], g.Interface)
	putSockaddrStorageIn(b[8:], g.Group)
	putSockaddrStorageIn(b[8+SizeofSockaddrStorage:], g.Source)
	return b
}

// IPMsfilter is struct ip_msfilter: a group, the interface address, the
// filter mode (MCAST_INCLUDE/MCAST_EXCLUDE) and the source list (x/sys/unix
// lacks ip_msfilter).
type IPMsfilter struct {
	Multiaddr, Interface netip.Addr
	Fmode                uint32
	Sources              []netip.Addr
}

// MsfilterLimits are the sysctls that bound a source-filter setsockopt.
type MsfilterLimits struct {
	OptmemMax int // net.core.optmem_max
	MaxMsf    int // net.ipv4.igmp_max_msf
}

// ParseIPMsfilter applies IP_MSFILTER's setsockopt checks, in order:
// fewer than IP_MSFILTER_SIZE(0) bytes EINVAL; more than optmem_max
// ENOBUFS; imsf_numsrc >= 0x3ffffffc or above igmp_max_msf ENOBUFS;
// IP_MSFILTER_SIZE(numsrc) beyond the bytes given EINVAL.
func ParseIPMsfilter(b []byte, lim MsfilterLimits) (IPMsfilter, error) {
	if len(b) < IPMsfilterSize0 {
		return IPMsfilter{}, unix.EINVAL
	}
	if len(b) > lim.OptmemMax {
		return IPMsfilter{}, unix.ENOBUFS
	}
	n := nativeEndian.Uint32(b[12:16])
	if n >= 0x3ffffffc || int64(n) > int64(lim.MaxMsf) {
		return IPMsfilter{}, unix.ENOBUFS
	}
	if IPMsfilterSize(int(n)) > len(b) {
		return IPMsfilter{}, unix.EINVAL
	}
	m := IPMsfilter{Multiaddr: addr4(b[0:4]), Interface: addr4(b[4:8]), Fmode: nativeEndian.Uint32(b[8:12])}
	m.Sources = make([]netip.Addr, n)
	for i := range m.Sources {
		m.Sources[i] = addr4(b[IPMsfilterSize(i):])
	}
	return m, nil
}

// ParseIPMsfilterHeader decodes the 16-byte header of an ip_msfilter as
// getsockopt(IP_MSFILTER) reads it (optlen below 16 is EINVAL); Sources is
// nil and numsrc (the room the caller offers) is returned separately.
func ParseIPMsfilterHeader(b []byte) (m IPMsfilter, numsrc uint32, err error) {
	if len(b) < IPMsfilterSize0 {
		return IPMsfilter{}, 0, unix.EINVAL
	}
	m = IPMsfilter{Multiaddr: addr4(b[0:4]), Interface: addr4(b[4:8]), Fmode: nativeEndian.Uint32(b[8:12])}
	return m, nativeEndian.Uint32(b[12:16]), nil
}

// AppendIPMsfilter appends the ip_msfilter header with imsf_numsrc =
// numsrc followed by the given sources (getsockopt reports the full count
// in numsrc but copies only as many sources as fit).
func AppendIPMsfilter(dst []byte, m IPMsfilter, numsrc uint32) []byte {
	var h [IPMsfilterSize0]byte
	putAddr4(h[0:4], m.Multiaddr)
	putAddr4(h[4:8], m.Interface)
	nativeEndian.PutUint32(h[8:12], m.Fmode)
	nativeEndian.PutUint32(h[12:16], numsrc)
	dst = append(dst, h[:]...)
	for _, s := range m.Sources {
		var a [4]byte
		putAddr4(a[:], s)
		dst = append(dst, a[:]...)
	}
	return dst
}

// GroupFilter is struct group_filter (MCAST_MSFILTER) with AF_INET
// addresses (x/sys/unix lacks group_filter).
type GroupFilter struct {
	Interface uint32
	Group     netip.Addr
	Fmode     uint32
	Sources   []netip.Addr
}

// ParseGroupFilter applies MCAST_MSFILTER's setsockopt checks, in order:
// fewer than GROUP_FILTER_SIZE(0) bytes EINVAL; more than optmem_max
// ENOBUFS; gf_numsrc >= 0x1ffffff or above igmp_max_msf ENOBUFS;
// GROUP_FILTER_SIZE(numsrc) beyond the bytes given EINVAL; a group or
// source whose family is not AF_INET EADDRNOTAVAIL.
func ParseGroupFilter(b []byte, lim MsfilterLimits) (GroupFilter, error) {
	return parseGroupFilter(b, lim, inetStorage, true)
}

// parseGroupFilter applies the size checks both levels share, then reads
// the group and sources as f's family; checkFamily refuses another
// family (EADDRNOTAVAIL), as SOL_IP does and SOL_IPV6 does not.
func parseGroupFilter(b []byte, lim MsfilterLimits, f storageFamily, checkFamily bool) (GroupFilter, error) {
	if len(b) < GroupFilterSize0 {
		return GroupFilter{}, unix.EINVAL
	}
	if len(b) > lim.OptmemMax {
		return GroupFilter{}, unix.ENOBUFS
	}
	n := nativeEndian.Uint32(b[140:144])
	if n >= 0x1ffffff || int64(n) > int64(lim.MaxMsf) {
		return GroupFilter{}, unix.ENOBUFS
	}
	if GroupFilterSize(int(n)) > len(b) {
		return GroupFilter{}, unix.EINVAL
	}
	fam, g := f.read(b[8:])
	if checkFamily && fam != f.family {
		return GroupFilter{}, unix.EADDRNOTAVAIL
	}
	gf := GroupFilter{Interface: nativeEndian.Uint32(b[0:4]), Group: g, Fmode: nativeEndian.Uint32(b[136:140])}
	gf.Sources = make([]netip.Addr, n)
	for i := range gf.Sources {
		sf, s := f.read(b[GroupFilterSize(i):])
		if checkFamily && sf != f.family {
			return GroupFilter{}, unix.EADDRNOTAVAIL
		}
		gf.Sources[i] = s
	}
	return gf, nil
}

// AppendGroupFilter appends a group_filter with gf_numsrc = numsrc and the
// given sources.
func AppendGroupFilter(dst []byte, f GroupFilter, numsrc uint32) []byte {
	var h [GroupFilterSize0]byte
	nativeEndian.PutUint32(h[0:4], f.Interface)
	putSockaddrStorageIn(h[8:], f.Group)
	nativeEndian.PutUint32(h[136:140], f.Fmode)
	nativeEndian.PutUint32(h[140:144], numsrc)
	dst = append(dst, h[:]...)
	for _, s := range f.Sources {
		var ss [SizeofSockaddrStorage]byte
		putSockaddrStorageIn(ss[:], s)
		dst = append(dst, ss[:]...)
	}
	return dst
}
