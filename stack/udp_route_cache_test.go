package stack_test

import (
	"net/netip"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip/link/channel"

	"netsandbox/stack"
)

// TestUDPRouteCacheFollowsRouteChanges: sends reuse a cached route, and a
// route added later takes over at once.
func TestUDPRouteCacheFollowsRouteChanges(t *testing.T) {
	s := newStack(t, stack.Config{})
	ch0, idx0 := attach(t, s, "10.0.0.1/24")
	ch1 := channel.New(256, 1500, "")
	idx1, err := s.AddInterface("eth1", ch1)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddAddress(idx1, netip.MustParsePrefix("10.1.0.1/24")); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRoute(netip.MustParsePrefix("0.0.0.0/0"), netip.MustParseAddr("10.0.0.254"), idx0); err != nil {
		t.Fatal(err)
	}
	send := func() {
		t.Helper()
		if err := s.SendUDP(&stack.UDPSend{Src: ap("0.0.0.0:5000"), Dst: ap("192.0.2.7:9"), Payload: []byte("x")}); err != nil {
			t.Fatalf("SendUDP: %v", err)
		}
	}
	for i := 0; i < 3; i++ {
		send()
		if f := readFrame(t, ch0); f[12] != 10 || f[13] != 0 {
			t.Fatalf("send %d: source %v, want 10.0.0.1", i, f[12:16])
		}
	}
	if err := s.AddRoute(netip.MustParsePrefix("192.0.2.0/24"), netip.Addr{}, idx1); err != nil {
		t.Fatal(err)
	}
	send()
	if f := readFrame(t, ch1); f[13] != 1 {
		t.Fatalf("after the new route: source %v, want 10.1.0.1", f[12:16])
	}
	noFrame(t, ch0)
}

// TestUDPRouteCacheFollowsForwarding: gVisor's route lookup lets a source
// address of another interface leave through a forwarding interface only;
// a route cached while forwarding was on must not outlive its switch-off.
func TestUDPRouteCacheFollowsForwarding(t *testing.T) {
	s := newStack(t, stack.Config{})
	ch0, idx0 := attach(t, s, "10.0.0.1/24")
	ch1 := channel.New(256, 1500, "")
	idx1, err := s.AddInterface("eth1", ch1)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddAddress(idx1, netip.MustParsePrefix("10.1.0.1/24")); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRoute(netip.MustParsePrefix("0.0.0.0/0"), netip.MustParseAddr("10.0.0.254"), idx0); err != nil {
		t.Fatal(err)
	}
	send := func() error {
		return s.SendUDP(&stack.UDPSend{Src: ap("10.1.0.1:5000"), Dst: ap("192.0.2.7:9"), Payload: []byte("x")})
	}
	before := send() // forwarding off: gVisor's answer, uncached
	if before == nil {
		readFrame(t, ch0)
	}
	if err := s.Sysctl().Set("net.ipv4.ip_forward", "1"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := send(); err != nil {
			t.Fatalf("forwarding on, send %d: %v", i, err)
		}
		readFrame(t, ch0)
	}
	if err := s.Sysctl().Set("net.ipv4.ip_forward", "0"); err != nil {
		t.Fatal(err)
	}
	after := send()
	if after == nil {
		readFrame(t, ch0)
	}
	if (before == nil) != (after == nil) {
		t.Fatalf("forwarding off: send %v, before it was switched on %v", after, before)
	}
}
