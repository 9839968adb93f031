package endpoint

import (
	"errors"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"netsandbox/options"
	"netsandbox/stack"
)

// FuzzMcastFilter6 drives the SOL_IPV6 MCAST_* options of an AF_INET6
// UDP socket with arbitrary option bytes, each value given to every
// option in turn: every answer is an errno, the filter read back agrees
// with the socket's list, and closing the socket leaves no group on the
// interface and gives back all the option memory.
func FuzzMcastFilter6(f *testing.F) {
	g := netip.MustParseAddr("ff0e::61:1")
	src := netip.MustParseAddr("2001:db8::1")
	gsr := options.GroupSourceReq{Interface: 1, Group: g, Source: src}.Encode6()
	gr := options.GroupReq{Interface: 1, Group: g}.Encode6()
	f.Add(gr[:], gsr[:], options.AppendGroupFilter6(nil, options.GroupFilter{Interface: 1, Group: g, Fmode: unix.MCAST_EXCLUDE, Sources: []netip.Addr{src}}, 1))
	f.Add(gsr[:], gsr[:], options.AppendGroupFilter6(nil, options.GroupFilter{Interface: 1, Group: g, Fmode: unix.MCAST_INCLUDE}, 0))
	s := newStack(f, stack.AllCaps, nil)
	names := []int{unix.MCAST_JOIN_GROUP, unix.MCAST_JOIN_SOURCE_GROUP, unix.MCAST_BLOCK_SOURCE, unix.MCAST_MSFILTER,
		unix.MCAST_UNBLOCK_SOURCE, unix.MCAST_LEAVE_SOURCE_GROUP, unix.IPV6_JOIN_GROUP, unix.MCAST_LEAVE_GROUP, unix.IPV6_LEAVE_GROUP}
	f.Fuzz(func(t *testing.T, a, b, c []byte) {
		sk, err := New(s, unix.AF_INET6, unix.SOCK_DGRAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		k := sk.(*udp6)
		for _, v := range [][]byte{a, b, c} {
			for _, name := range names {
				var en unix.Errno
				if err := k.SetSockOpt(unix.SOL_IPV6, name, v); err != nil && !errors.As(err, &en) {
					t.Fatalf("option %d: %v is not an errno", name, err)
				}
			}
			buf := append([]byte(nil), v...)
			if n, err := k.GetSockOpt(unix.SOL_IPV6, unix.MCAST_MSFILTER, buf); err == nil && n < options.GroupFilterSize0 {
				t.Fatalf("MCAST_MSFILTER length %d", n)
			}
		}
		for _, e := range k.memb6.list {
			if len(e.srcs) > 64 || e.mode == stack.McastInclude && e.srcs != nil && len(e.srcs) == 0 {
				t.Fatalf("membership %v: mode %d with %d sources", e.group, e.mode, len(e.srcs))
			}
		}
		if err := k.Close(); err != nil {
			t.Fatal(err)
		}
		if k.memb.omem != 0 {
			t.Fatalf("option memory %d after close", k.memb.omem)
		}
		if gs := s.McastGroups(1); len(gs) != 0 {
			t.Fatalf("groups left on lo: %v", gs)
		}
	})
}
