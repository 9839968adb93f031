package nsnet_test

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"netsandbox/nsnet"
)

// The source filter calls change what a membership delivers: any-source
// JoinGroup takes both senders, Exclude blocks one, Include lets it back,
// LeaveGroup stops both.
func TestSourceFilters(t *testing.T) {
	w := newWire(t)
	if err := w.a.AddAddress(w.ifA, netip.MustParsePrefix("10.0.0.3/24")); err != nil {
		t.Fatal(err)
	}
	group := netip.MustParseAddr("239.1.2.3")
	other := netip.MustParseAddr("10.0.0.3")
	rx, err := nsnet.ListenUDP(w.b, netip.AddrPortFrom(netip.IPv4Unspecified(), 5001))
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := nsnet.ListenUDP(w.a, netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	if err := tx.SetMulticastInterface(w.ifA); err != nil {
		t.Fatal(err)
	}
	// A marker socket on B: the cable delivers frames in order, so once the
	// marker sent after the group datagrams arrives, every group datagram
	// has been delivered or filtered.
	marker, err := nsnet.ListenUDP(w.b, netip.MustParseAddrPort("10.0.0.2:5002"))
	if err != nil {
		t.Fatal(err)
	}
	defer marker.Close()
	// sources sends one datagram from each address and returns the sources
	// that arrived.
	sources := func() []netip.Addr {
		for _, src := range []netip.Addr{addrA, other} {
			if _, err := tx.WriteMsg([]byte("m"), &nsnet.ControlMessage{Src: src}, netip.AddrPortFrom(group, 5001)); err != nil {
				t.Fatal(err)
			}
		}
		tx.WriteToUDPAddrPort([]byte("marker"), marker.LocalAddrPort())
		marker.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := marker.ReadFrom(make([]byte, 10)); err != nil {
			t.Fatal(err)
		}
		var got []netip.Addr
		rx.SetReadDeadline(time.Now().Add(20 * time.Millisecond)) // all queued by now
		for {
			_, from, err := rx.ReadFromUDPAddrPort(make([]byte, 10))
			if err != nil {
				slices.SortFunc(got, netip.Addr.Compare)
				return got
			}
			got = append(got, from.Addr())
		}
	}
	steps := []struct {
		name string
		do   func() error
		want []netip.Addr
	}{
		{"JoinGroup", func() error { return rx.JoinGroup(w.ifB, group) }, []netip.Addr{addrA, other}},
		{"ExcludeSourceSpecificGroup", func() error { return rx.ExcludeSourceSpecificGroup(w.ifB, group, other) }, []netip.Addr{addrA}},
		{"IncludeSourceSpecificGroup", func() error { return rx.IncludeSourceSpecificGroup(w.ifB, group, other) }, []netip.Addr{addrA, other}},
		{"LeaveGroup", func() error { return rx.LeaveGroup(w.ifB, group) }, nil},
		{"JoinSourceSpecificGroup", func() error { return rx.JoinSourceSpecificGroup(w.ifB, group, other) }, []netip.Addr{other}},
		{"LeaveSourceSpecificGroup", func() error { return rx.LeaveSourceSpecificGroup(w.ifB, group, other) }, nil},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := sources(); !slices.Equal(got, s.want) {
			t.Errorf("after %s: sources %v, want %v", s.name, got, s.want)
		}
	}
}
