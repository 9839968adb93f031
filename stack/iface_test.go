package stack_test

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"

	"netsandbox/stack"
)

func TestInterfaceTable(t *testing.T) {
	s := newStack(t, stack.Config{})
	lo, ok := s.InterfaceByIndex(1)
	if !ok || lo.Name != "lo" || !lo.Loopback || lo.MTU != 65536 ||
		len(lo.Addrs) != 1 || lo.Addrs[0] != netip.MustParsePrefix("127.0.0.1/8") {
		t.Errorf("lo = %+v, %v", lo, ok)
	}
	mac := tcpip.LinkAddress("\x02\x00\x00\x00\x00\x01")
	idx, err := s.AddInterface("eth0", channel.New(4, 1500, mac))
	if err != nil || idx != 2 {
		t.Fatalf("AddInterface eth0 = %d, %v", idx, err)
	}
	if _, err := s.AddInterface("eth0", channel.New(4, 1500, "")); !errors.Is(err, unix.EEXIST) {
		t.Errorf("duplicate name: %v", err)
	}
	if _, err := s.AddInterface("sixteen-chars-xx", channel.New(4, 1500, "")); !errors.Is(err, unix.EINVAL) {
		t.Errorf("16-byte name: %v", err)
	}
	if _, err := s.AddInterface("", channel.New(4, 1500, "")); !errors.Is(err, unix.EINVAL) {
		t.Errorf("empty name: %v", err)
	}
	must(t, s.AddAddress(idx, netip.MustParsePrefix("192.168.7.9/24")))
	if err := s.AddAddress(9, netip.MustParsePrefix("192.168.8.1/24")); !errors.Is(err, unix.ENODEV) {
		t.Errorf("AddAddress on missing ifindex: %v", err)
	}
	if err := s.AddAddress(idx, netip.MustParsePrefix("::1/128")); !errors.Is(err, unix.EINVAL) {
		t.Errorf("AddAddress IPv6: %v", err)
	}

	eth, ok := s.InterfaceByName("eth0")
	if !ok || eth.Index != 2 || eth.MTU != 1500 || eth.Loopback || eth.MAC.String() != "02:00:00:00:00:01" ||
		len(eth.Addrs) != 1 || eth.Addrs[0] != netip.MustParsePrefix("192.168.7.9/24") {
		t.Errorf("eth0 = %+v, %v", eth, ok)
	}
	if _, ok := s.InterfaceByName("eth1"); ok {
		t.Error("InterfaceByName(eth1) found")
	}
	if _, ok := s.InterfaceByIndex(0); ok {
		t.Error("InterfaceByIndex(0) found")
	}
	all := s.Interfaces()
	if len(all) != 2 || all[0].Name != "lo" || all[1].Name != "eth0" {
		t.Errorf("Interfaces = %+v", all)
	}

	for a, want := range map[string]bool{
		"127.0.0.1": true, "127.9.9.9": true, "192.168.7.9": true,
		"192.168.7.8": false, "0.0.0.0": false, "10.0.0.1": false,
	} {
		if got := s.IsLocalAddr(netip.MustParseAddr(a)); got != want {
			t.Errorf("IsLocalAddr(%s) = %v", a, got)
		}
	}
	for a, want := range map[string]bool{
		"255.255.255.255": true, "192.168.7.255": true,
		"192.168.7.0": false, "192.168.7.9": false, "192.168.8.255": false, "127.255.255.255": true,
	} {
		if got := s.IsBroadcast(netip.MustParseAddr(a)); got != want {
			t.Errorf("IsBroadcast(%s) = %v", a, got)
		}
	}
}

func TestRoutesLongestPrefixFirst(t *testing.T) {
	s := newStack(t, stack.Config{})
	_, i1 := attach(t, s, "10.0.0.1/24")
	ch := channel.New(4, 1500, "")
	i2, err := s.AddInterface("eth1", ch)
	must(t, err)
	must(t, s.AddAddress(i2, netip.MustParsePrefix("172.16.0.1/16")))
	// Added broadest first; lookups must still pick the longest match.
	must(t, s.AddRoute(netip.MustParsePrefix("0.0.0.0/0"), netip.MustParseAddr("172.16.0.254"), i2))
	must(t, s.AddRoute(netip.MustParsePrefix("10.0.0.0/8"), netip.MustParseAddr("172.16.0.254"), i2))
	must(t, s.AddRoute(netip.MustParsePrefix("172.16.0.0/16"), netip.Addr{}, i2))
	if err := s.AddRoute(netip.MustParsePrefix("172.16.0.0/16"), netip.Addr{}, i2); !errors.Is(err, unix.EEXIST) {
		t.Errorf("duplicate route: %v", err)
	}
	if err := s.AddRoute(netip.MustParsePrefix("1.0.0.0/8"), netip.Addr{}, 77); !errors.Is(err, unix.ENODEV) {
		t.Errorf("route on missing ifindex: %v", err)
	}
	for dst, want := range map[string]int{
		"10.0.0.7":  i1, // 10.0.0.0/24 (from attach) beats 10.0.0.0/8
		"10.9.0.1":  i2,
		"8.8.8.8":   i2,
		"127.0.0.9": 1,
	} {
		_, idx, err := s.RouteSource(netip.MustParseAddr(dst), 0)
		if err != nil || idx != want {
			t.Errorf("RouteSource(%s) = ifindex %d, %v; want %d", dst, idx, err, want)
		}
	}
	// An explicit interface restricts the choice.
	if src, idx, err := s.RouteSource(netip.MustParseAddr("10.0.0.7"), i2); err != nil || idx != i2 || src.String() != "172.16.0.1" {
		t.Errorf("RouteSource(10.0.0.7, eth1) = %s, %d, %v", src, idx, err)
	}
}

func TestCaps(t *testing.T) {
	var none stack.Caps
	if none.Has(stack.CapNetRaw) || !stack.AllCaps.Has(stack.CapNetRaw|stack.CapNetAdmin|stack.CapNetBindService) {
		t.Error("Has")
	}
	c := stack.CapNetAdmin
	if !c.Has(stack.CapNetAdmin) || c.Has(stack.CapNetAdmin|stack.CapNetRaw) {
		t.Error("Has with a mix")
	}
	s := newStack(t, stack.Config{Caps: c, GID: 1234})
	if s.Caps() != c || s.GID() != 1234 {
		t.Errorf("Caps %v GID %d", s.Caps(), s.GID())
	}
}

// A transmit queue of no queues or no room is EINVAL, not a panic at the
// first packet (gVisor's FIFO takes the flow hash modulo the queue count).
func TestWithTxQueueBounds(t *testing.T) {
	s := newStack(t, stack.Config{})
	for i, q := range [][2]int{{0, 10}, {1, 0}, {-1, 10}} {
		if _, err := s.AddInterface(fmt.Sprintf("eth%d", i), channel.New(4, 1500, ""), stack.WithTxQueue(q[0], q[1])); !errors.Is(err, unix.EINVAL) {
			t.Errorf("WithTxQueue(%d, %d): %v, want EINVAL", q[0], q[1], err)
		}
	}
	if _, err := s.AddInterface("eth9", channel.New(4, 1500, ""), stack.WithTxQueue(2, 16)); err != nil {
		t.Errorf("WithTxQueue(2, 16): %v", err)
	}
}
