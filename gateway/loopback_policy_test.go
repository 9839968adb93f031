package gateway

import (
	"net/netip"
	"testing"
)

// --allow-host-loopback is decided before the egress policy: the operator
// named the host's loopback explicitly, so --deny-all does not take it
// back, while every other destination stays denied.
func TestHostLoopbackBeforePolicy(t *testing.T) {
	gwAddr := netip.MustParseAddr("10.0.2.2")
	world := netip.MustParseAddrPort("198.18.5.10:80")
	for _, tc := range []struct {
		allowLoopback bool
		dst           netip.AddrPort
		wantOK        bool
		wantTo        netip.AddrPort
	}{
		{true, netip.AddrPortFrom(gwAddr, 8080), true, netip.MustParseAddrPort("127.0.0.1:8080")},
		{false, netip.AddrPortFrom(gwAddr, 8080), false, netip.AddrPort{}},
		{true, world, false, netip.AddrPort{}},
	} {
		gw := &Gateway{cfg: Config{Gateway: gwAddr, AllowHostLoopback: tc.allowLoopback, Policy: &Policy{DenyAll: true}}}
		to, ok, why := gw.target(ProtoTCP, tc.dst)
		if ok != tc.wantOK || to != tc.wantTo {
			t.Errorf("--deny-all, allow-host-loopback=%v, %v: got %v %v (%s), want %v %v", tc.allowLoopback, tc.dst, to, ok, why, tc.wantTo, tc.wantOK)
		}
	}
}
