package options

import (
	"net/netip"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

var (
	grp = netip.MustParseAddr("239.1.2.3")
	src = netip.MustParseAddr("10.0.0.9")
)

// The C structs x/sys/unix has no type for, mirrored field by field from
// the Linux UAPI headers so that Go lays them out as the C compiler does.
type (
	// struct ip_mreq_source (<linux/in.h>).
	cIPMreqSource struct{ Multiaddr, Interface, Sourceaddr [4]byte }
	// struct group_req (<linux/in.h>).
	cGroupReq struct {
		Interface uint32
		Group     unix.SockaddrStorage
	}
	// struct group_source_req (<linux/in.h>).
	cGroupSourceReq struct {
		Interface     uint32
		Group, Source unix.SockaddrStorage
	}
	// struct ip_msfilter (<linux/in.h>) with one source.
	cIPMsfilter struct {
		Multiaddr, Interface [4]byte
		Fmode, Numsrc        uint32
		Slist                [1][4]byte
	}
	// struct group_filter (<linux/in.h>) with one source.
	cGroupFilter struct {
		Interface     uint32
		Group         unix.SockaddrStorage
		Fmode, Numsrc uint32
		Slist         [1]unix.SockaddrStorage
	}
	// struct ifconf (<linux/if.h>).
	cIfconf struct {
		Len int32
		Buf uintptr
	}
)

// TestStructSizesMatchXSys checks every hand-written struct size against
// x/sys/unix's type, or against the mirror above where it has none.
func TestStructSizesMatchXSys(t *testing.T) {
	for name, c := range map[string][2]uintptr{
		"sock_extended_err": {SizeofSockExtendedErr, unsafe.Sizeof(unix.SockExtendedErr{})},
		"sockaddr_storage":  {SizeofSockaddrStorage, unsafe.Sizeof(unix.SockaddrStorage{})},
		"in_addr":           {SizeofInAddr, unsafe.Sizeof(unix.RawSockaddrInet4{}.Addr)},
		"cmsghdr":           {SizeofCmsghdr, unsafe.Sizeof(unix.Cmsghdr{})},
		"ifreq":             {SizeofIfreq, unsafe.Sizeof(unix.Ifreq{})},
		"ip_mreq_source":    {SizeofIPMreqSource, unsafe.Sizeof(cIPMreqSource{})},
		"group_req":         {SizeofGroupReq, unsafe.Sizeof(cGroupReq{})},
		"group_source_req":  {SizeofGroupSourceReq, unsafe.Sizeof(cGroupSourceReq{})},
		"ifconf":            {SizeofIfconf, unsafe.Sizeof(cIfconf{})},
		// IP_MSFILTER_SIZE(0) and GROUP_FILTER_SIZE(0): the struct less
		// its one-element source list.
		"ip_msfilter":  {IPMsfilterSize0, unsafe.Sizeof(cIPMsfilter{}) - unsafe.Sizeof([4]byte{})},
		"group_filter": {GroupFilterSize0, unsafe.Sizeof(cGroupFilter{}) - unsafe.Sizeof(unix.SockaddrStorage{})},
	} {
		if c[0] != c[1] {
			t.Errorf("sizeof(struct %s) is %d here, %d in Go's layout of it", name, c[0], c[1])
		}
	}
}

func TestInPktinfo(t *testing.T) {
	p := InPktinfo{IfIndex: 3, SpecDst: src, Addr: grp}
	b := p.Encode()
	// Layout agrees with x/sys's struct.
	x := (*unix.Inet4Pktinfo)(unsafe.Pointer(&b[0]))
	if x.Ifindex != 3 || x.Spec_dst != src.As4() || x.Addr != grp.As4() {
		t.Fatalf("layout: %+v", x)
	}
	got, err := ParseInPktinfo(b[:])
	if err != nil || got != p {
		t.Errorf("round trip: %+v %v", got, err)
	}
	if _, err := ParseInPktinfo(b[:11]); err != unix.EINVAL {
		t.Errorf("short: %v", err)
	}
}

func TestMreqs(t *testing.T) {
	m := IPMreqn{Multiaddr: grp, Address: src, IfIndex: 7}
	full := m.Encode()
	short := m.EncodeMreq()
	x := (*unix.IPMreqn)(unsafe.Pointer(&full[0]))
	if x.Multiaddr != grp.As4() || x.Address != src.As4() || x.Ifindex != 7 {
		t.Fatalf("layout: %+v", x)
	}
	noIdx := IPMreqn{Multiaddr: grp, Address: src}
	for _, tc := range []struct {
		name      string
		in        []byte
		member    IPMreqn
		memberErr error
		mcif      IPMreqn
		mcifErr   error
	}{
		{"mreqn", full[:], m, nil, m, nil},
		{"mreqn+junk", append(full[:], 1, 2), m, nil, m, nil},
		{"mreq", short[:], noIdx, nil, noIdx, nil},
		{"11 bytes", full[:11], noIdx, nil, noIdx, nil},
		{"in_addr", src.AsSlice(), IPMreqn{}, unix.EINVAL, IPMreqn{Multiaddr: netip.IPv4Unspecified(), Address: src}, nil},
		{"3 bytes", full[:3], IPMreqn{}, unix.EINVAL, IPMreqn{}, unix.EINVAL},
	} {
		if got, err := ParseMembershipReq(tc.in); got != tc.member || err != tc.memberErr {
			t.Errorf("%s: membership %+v %v", tc.name, got, err)
		}
		if got, err := ParseMulticastIfReq(tc.in); got != tc.mcif || err != tc.mcifErr {
			t.Errorf("%s: multicast_if %+v %v", tc.name, got, err)
		}
	}
	s := IPMreqSource{Multiaddr: grp, Interface: src, Sourceaddr: lo}
	sb := s.Encode()
	if got, err := ParseIPMreqSource(sb[:]); got != s || err != nil {
		t.Errorf("mreq_source: %+v %v", got, err)
	}
	for _, n := range []int{0, 8, 11, 13} {
		b := make([]byte, n)
		if _, err := ParseIPMreqSource(b); err != unix.EINVAL {
			t.Errorf("mreq_source len %d: %v", n, err)
		}
	}
}

func TestSockExtendedErr(t *testing.T) {
	e := SockExtendedErr{Errno: uint32(unix.EMSGSIZE), Origin: unix.SO_EE_ORIGIN_ICMP, Type: 3, Code: 4, Info: 1400}
	e.SetRFC4884(128, unix.SO_EE_RFC4884_FLAG_INVALID)
	b := e.Encode()
	x := (*unix.SockExtendedErr)(unsafe.Pointer(&b[0]))
	if x.Errno != uint32(unix.EMSGSIZE) || x.Origin != 2 || x.Type != 3 || x.Code != 4 || x.Info != 1400 || x.Data != 128|1<<16 {
		t.Fatalf("layout: %+v", x)
	}
	got, err := ParseSockExtendedErr(b[:])
	if err != nil || got != e || got.RFC4884Len() != 128 || got.RFC4884Flags() != unix.SO_EE_RFC4884_FLAG_INVALID {
		t.Errorf("round trip: %+v %v", got, err)
	}
	if _, err := ParseSockExtendedErr(b[:15]); err != unix.EINVAL {
		t.Errorf("short: %v", err)
	}
	r := EncodeRecvErr(e, src, true)
	if ap, fam, _ := ParseSockaddrIn(r[16:]); fam != unix.AF_INET || ap.Addr() != src || ap.Port() != 0 {
		t.Errorf("offender: %v %d", ap, fam)
	}
	if r := EncodeRecvErr(e, src, false); r[16] != 0 || r[20] != 0 {
		t.Errorf("no offender should be zero: %v", r[16:])
	}
}

func TestGroupReqs(t *testing.T) {
	g := GroupReq{Interface: 2, Group: grp}
	b := g.Encode()
	if got, err := ParseGroupReq(b[:]); got != g || err != nil {
		t.Errorf("group_req: %+v %v", got, err)
	}
	if got, err := ParseGroupReq(append(b[:], 0)); got != g || err != nil {
		t.Errorf("group_req long: %+v %v", got, err)
	}
	if _, err := ParseGroupReq(b[:135]); err != unix.EINVAL {
		t.Errorf("group_req short: %v", err)
	}
	bad := b
	bad[8] = unix.AF_INET6
	if _, err := ParseGroupReq(bad[:]); err != unix.EINVAL {
		t.Errorf("group_req inet6: %v", err)
	}
	s := GroupSourceReq{Interface: 2, Group: grp, Source: src}
	sb := s.Encode()
	if got, err := ParseGroupSourceReq(sb[:]); got != s || err != nil {
		t.Errorf("group_source_req: %+v %v", got, err)
	}
	if _, err := ParseGroupSourceReq(append(sb[:], 0)); err != unix.EINVAL {
		t.Errorf("group_source_req long: %v", err)
	}
	sb[8+128] = 0
	if _, err := ParseGroupSourceReq(sb[:]); err != unix.EADDRNOTAVAIL {
		t.Errorf("group_source_req bad source family: %v", err)
	}
}

func TestMsfilters(t *testing.T) {
	lim := MsfilterLimits{OptmemMax: 131072, MaxMsf: 10}
	m := IPMsfilter{Multiaddr: grp, Interface: src, Fmode: unix.MCAST_INCLUDE, Sources: []netip.Addr{lo, src}}
	b := AppendIPMsfilter(nil, m, 2)
	if len(b) != IPMsfilterSize(2) {
		t.Fatalf("len %d", len(b))
	}
	got, err := ParseIPMsfilter(b, lim)
	if err != nil || got.Multiaddr != grp || got.Interface != src || got.Fmode != unix.MCAST_INCLUDE || len(got.Sources) != 2 || got.Sources[1] != src {
		t.Errorf("ip_msfilter: %+v %v", got, err)
	}
	hdr, n, err := ParseIPMsfilterHeader(b)
	if err != nil || n != 2 || hdr.Multiaddr != grp {
		t.Errorf("header: %+v %d %v", hdr, n, err)
	}
	for name, tc := range map[string]struct {
		in  []byte
		lim MsfilterLimits
		err error
	}{
		"short":          {b[:15], lim, unix.EINVAL},
		"optmem":         {b, MsfilterLimits{OptmemMax: 20, MaxMsf: 10}, unix.ENOBUFS},
		"max msf":        {b, MsfilterLimits{OptmemMax: 1000, MaxMsf: 1}, unix.ENOBUFS},
		"huge numsrc":    {AppendIPMsfilter(nil, IPMsfilter{}, 0x3ffffffc), MsfilterLimits{OptmemMax: 1000, MaxMsf: 1 << 31}, unix.ENOBUFS},
		"truncated list": {b[:20], lim, unix.EINVAL},
	} {
		if _, err := ParseIPMsfilter(tc.in, tc.lim); err != tc.err {
			t.Errorf("ip_msfilter %s: %v, want %v", name, err, tc.err)
		}
	}
	f := GroupFilter{Interface: 4, Group: grp, Fmode: unix.MCAST_EXCLUDE, Sources: []netip.Addr{src}}
	fb := AppendGroupFilter(nil, f, 1)
	if len(fb) != GroupFilterSize(1) {
		t.Fatalf("group_filter len %d", len(fb))
	}
	gf, err := ParseGroupFilter(fb, lim)
	if err != nil || gf.Interface != 4 || gf.Group != grp || gf.Fmode != unix.MCAST_EXCLUDE || len(gf.Sources) != 1 || gf.Sources[0] != src {
		t.Errorf("group_filter: %+v %v", gf, err)
	}
	badSrc := append([]byte(nil), fb...)
	badSrc[GroupFilterSize0] = 0
	for name, tc := range map[string]struct {
		in  []byte
		err error
	}{
		"short":             {fb[:143], unix.EINVAL},
		"truncated":         {fb[:200], unix.EINVAL},
		"bad source family": {badSrc, unix.EADDRNOTAVAIL},
	} {
		if _, err := ParseGroupFilter(tc.in, lim); err != tc.err {
			t.Errorf("group_filter %s: %v, want %v", name, err, tc.err)
		}
	}
}

func TestName(t *testing.T) {
	for _, tc := range []struct {
		level, opt int
		want       string
	}{
		{unix.SOL_IP, unix.IP_PKTINFO, "IP_PKTINFO"},
		{unix.SOL_IP, unix.IP_RECVORIGDSTADDR, "IP_RECVORIGDSTADDR"},
		{unix.SOL_IP, unix.IP_RETOPTS, "IP_RETOPTS"},
		{unix.SOL_IP, unix.MCAST_MSFILTER, "MCAST_MSFILTER"},
		{unix.SOL_IP, unix.IP_LOCAL_PORT_RANGE, "IP_LOCAL_PORT_RANGE"},
		{unix.SOL_SOCKET, unix.SO_RCVBUF, "SO_RCVBUF"},
		{unix.SOL_SOCKET, unix.SO_TIMESTAMP, "SO_TIMESTAMP"},
		{unix.SOL_IP, 999, "SOL_IP:999"},
		{6, 1, "6:1"},
	} {
		if got := Name(tc.level, tc.opt); got != tc.want {
			t.Errorf("Name(%d, %d) = %q, want %q", tc.level, tc.opt, got, tc.want)
		}
	}
}
