package options

import (
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func procInt(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestStructRulesMatchKernel feeds malformed multicast option values to a
// real UDP socket and checks each error the parsers report is the kernel's.
// Only inputs the parsers reject are sent, so no group is ever joined.
func TestStructRulesMatchKernel(t *testing.T) {
	lim := MsfilterLimits{
		OptmemMax: procInt(t, "/proc/sys/net/core/optmem_max"),
		MaxMsf:    procInt(t, "/proc/sys/net/ipv4/igmp_max_msf"),
	}
	fd := kernelUDP(t)
	mreqn := IPMreqn{Multiaddr: grp, IfIndex: 1}.Encode()
	msrc := IPMreqSource{Multiaddr: grp, Interface: lo, Sourceaddr: src}.Encode()
	greq := GroupReq{Interface: 1, Group: grp}.Encode()
	greqBad := greq
	nativeEndian.PutUint16(greqBad[8:], unix.AF_INET6)
	gsr := GroupSourceReq{Interface: 1, Group: grp, Source: src}.Encode()
	gsrBad := gsr
	nativeEndian.PutUint16(gsrBad[8+128:], unix.AF_UNSPEC)
	many := make([]netip.Addr, lim.MaxMsf+1)
	for i := range many {
		many[i] = src
	}
	msf := AppendIPMsfilter(nil, IPMsfilter{Multiaddr: grp, Interface: lo, Fmode: unix.MCAST_INCLUDE, Sources: []netip.Addr{src}}, 1)
	gf := AppendGroupFilter(nil, GroupFilter{Interface: 1, Group: grp, Fmode: unix.MCAST_INCLUDE, Sources: []netip.Addr{src}}, 1)
	gfBadGroup := append([]byte(nil), gf...)
	nativeEndian.PutUint16(gfBadGroup[8:], unix.AF_INET6)
	type parse func([]byte) error
	member := func(b []byte) error { _, err := ParseMembershipReq(b); return err }
	mcif := func(b []byte) error { _, err := ParseMulticastIfReq(b); return err }
	source := func(b []byte) error { _, err := ParseIPMreqSource(b); return err }
	group := func(b []byte) error { _, err := ParseGroupReq(b); return err }
	gsource := func(b []byte) error { _, err := ParseGroupSourceReq(b); return err }
	ipmsf := func(b []byte) error { _, err := ParseIPMsfilter(b, lim); return err }
	mcmsf := func(b []byte) error { _, err := ParseGroupFilter(b, lim); return err }
	for _, tc := range []struct {
		name string
		opt  int
		in   []byte
		p    parse
	}{
		{"add_membership 7", unix.IP_ADD_MEMBERSHIP, mreqn[:7], member},
		{"drop_membership 0", unix.IP_DROP_MEMBERSHIP, nil, member},
		{"multicast_if 3", unix.IP_MULTICAST_IF, mreqn[:3], mcif},
		{"add_source 11", unix.IP_ADD_SOURCE_MEMBERSHIP, msrc[:11], source},
		{"add_source 13", unix.IP_ADD_SOURCE_MEMBERSHIP, append(msrc[:], 0), source},
		{"block_source 8", unix.IP_BLOCK_SOURCE, msrc[:8], source},
		{"mcast_join 135", unix.MCAST_JOIN_GROUP, greq[:135], group},
		{"mcast_join inet6", unix.MCAST_JOIN_GROUP, greqBad[:], group},
		{"mcast_leave inet6", unix.MCAST_LEAVE_GROUP, greqBad[:], group},
		{"mcast_join_source 263", unix.MCAST_JOIN_SOURCE_GROUP, gsr[:263], gsource},
		{"mcast_join_source 265", unix.MCAST_JOIN_SOURCE_GROUP, append(gsr[:], 0), gsource},
		{"mcast_block bad source", unix.MCAST_BLOCK_SOURCE, gsrBad[:], gsource},
		{"ip_msfilter 15", unix.IP_MSFILTER, msf[:15], ipmsf},
		{"ip_msfilter truncated", unix.IP_MSFILTER, msf[:19], ipmsf},
		{"ip_msfilter too many", unix.IP_MSFILTER, AppendIPMsfilter(nil, IPMsfilter{Multiaddr: grp, Sources: many}, uint32(len(many))), ipmsf},
		{"ip_msfilter huge numsrc", unix.IP_MSFILTER, AppendIPMsfilter(nil, IPMsfilter{Multiaddr: grp}, 0x3ffffffc), ipmsf},
		{"ip_msfilter over optmem", unix.IP_MSFILTER, append(append([]byte(nil), msf...), make([]byte, lim.OptmemMax)...), ipmsf},
		{"mcast_msfilter 143", unix.MCAST_MSFILTER, gf[:143], mcmsf},
		{"mcast_msfilter truncated", unix.MCAST_MSFILTER, gf[:200], mcmsf},
		{"mcast_msfilter bad group", unix.MCAST_MSFILTER, gfBadGroup, mcmsf},
		{"mcast_msfilter too many", unix.MCAST_MSFILTER, AppendGroupFilter(nil, GroupFilter{Group: grp, Sources: many}, uint32(len(many))), mcmsf},
	} {
		perr := tc.p(tc.in)
		if perr == nil {
			t.Errorf("%s: parser accepted a malformed value", tc.name)
			continue
		}
		if kerr := rawSetsockopt(fd, unix.SOL_IP, tc.opt, tc.in); asErrno(kerr) != asErrno(perr) {
			t.Errorf("%s: kernel %v, parser %v", tc.name, kerr, perr)
		}
	}
}
