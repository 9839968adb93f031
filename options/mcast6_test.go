package options

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

var (
	testGroup6 = netip.MustParseAddr("ff0e::1:7")
	testSrc6   = netip.MustParseAddr("2001:db8::9")
	lim6       = MsfilterLimits{OptmemMax: 131072, MaxMsf: 64}
)

func TestGroupStructs6(t *testing.T) {
	gr := GroupReq{Interface: 2, Group: testGroup6}.Encode6()
	if g, err := ParseGroupReq6(gr[:]); err != nil || g.Group != testGroup6 || g.Interface != 2 {
		t.Fatalf("group_req: %+v %v", g, err)
	}
	if _, err := ParseGroupReq6(gr[:135]); err != unix.EINVAL {
		t.Fatalf("short group_req: %v", err)
	}
	v4 := GroupReq{Interface: 2, Group: netip.MustParseAddr("239.1.1.1")}.Encode()
	if _, err := ParseGroupReq6(v4[:]); err != unix.EADDRNOTAVAIL {
		t.Fatalf("AF_INET group: %v", err)
	}
	gsr := GroupSourceReq{Interface: 1, Group: testGroup6, Source: testSrc6}.Encode6()
	if g, err := ParseGroupSourceReq6(append(gsr[:], 0, 0)); err != nil || g.Source != testSrc6 || g.Group != testGroup6 {
		t.Fatalf("group_source_req: %+v %v", g, err)
	}
	if _, err := ParseGroupSourceReq6(gsr[:263]); err != unix.EINVAL {
		t.Fatalf("short group_source_req: %v", err)
	}
	f := GroupFilter{Interface: 1, Group: testGroup6, Fmode: unix.MCAST_INCLUDE, Sources: []netip.Addr{testSrc6}}
	b := AppendGroupFilter6(nil, f, 1)
	if g, err := ParseGroupFilter6(b, lim6); err != nil || len(g.Sources) != 1 || g.Sources[0] != testSrc6 || g.Fmode != unix.MCAST_INCLUDE {
		t.Fatalf("group_filter: %+v %v", g, err)
	}
	if _, err := ParseGroupFilter6(b[:len(b)-1], lim6); err != unix.EINVAL {
		t.Fatalf("short group_filter: %v", err)
	}
	over := AppendGroupFilter6(nil, GroupFilter{Group: testGroup6}, 65)
	if _, err := ParseGroupFilter6(over, lim6); err != unix.ENOBUFS {
		t.Fatalf("65 sources: %v", err)
	}
	out := make([]byte, GroupFilterSize(2))
	copy(out, b[:GroupFilterSize0])
	if n := PutGroupFilterResult6(out, unix.MCAST_EXCLUDE, []netip.Addr{testSrc6, testGroup6}, 1); n != GroupFilterSize(1) {
		t.Fatalf("result length %d", n)
	}
	if h, room, err := GroupFilterHeader6(out); err != nil || room != 2 || h.Fmode != unix.MCAST_EXCLUDE {
		t.Fatalf("header: %+v %d %v", h, room, err)
	}
}

func FuzzGroupStructs6(f *testing.F) {
	gsr := GroupSourceReq{Interface: 1, Group: testGroup6, Source: testSrc6}.Encode6()
	f.Add(gsr[:])
	f.Add(AppendGroupFilter6(nil, GroupFilter{Group: testGroup6, Sources: []netip.Addr{testSrc6}}, 1))
	f.Add(make([]byte, GroupFilterSize0))
	f.Fuzz(func(t *testing.T, b []byte) {
		if g, err := ParseGroupReq6(b); err == nil {
			if x := g.Encode6(); !bytes.Equal(x[0:4], b[0:4]) || !bytes.Equal(x[16:32], b[16:32]) {
				t.Fatal("group_req round trip")
			}
		} else if len(b) >= SizeofGroupReq && !errors.Is(err, unix.EADDRNOTAVAIL) {
			t.Fatalf("group_req: %v", err)
		}
		if g, err := ParseGroupSourceReq6(b); err == nil && (!bytes.Equal(g.Group.AsSlice(), b[16:32]) || !bytes.Equal(g.Source.AsSlice(), b[144:160])) {
			t.Fatal("group_source_req addresses")
		}
		if g, err := ParseGroupFilter6(b, lim6); err == nil {
			if GroupFilterSize(len(g.Sources)) > len(b) || len(g.Sources) > lim6.MaxMsf {
				t.Fatal("group_filter sources beyond optlen or limit")
			}
		}
		if h, room, err := GroupFilterHeader6(b); err == nil {
			buf := bytes.Clone(b)
			n := PutGroupFilterResult6(buf, h.Fmode, []netip.Addr{testSrc6, testSrc6, testSrc6}, room)
			if n < GroupFilterSize0 || !bytes.Equal(buf[:136], b[:136]) {
				t.Fatal("msfget result")
			}
		}
	})
}
