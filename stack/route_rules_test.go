package stack_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"netsandbox/stack"
)

// A limited broadcast or multicast from a bound source leaves through the
// source's interface without any route; without a source it needs one.
func TestBroadcastFromBoundSource(t *testing.T) {
	s := newStack(t, stack.Config{})
	ch, _ := attach(t, s, "10.0.0.1/24")
	for _, dst := range []string{"255.255.255.255:9", "239.1.2.3:9"} {
		if err := s.SendUDP(&stack.UDPSend{Src: ap("0.0.0.0:1234"), Dst: ap(dst), Payload: []byte("x")}); !errors.Is(err, unix.ENETUNREACH) {
			t.Errorf("%s unbound: %v, want ENETUNREACH", dst, err)
		}
		if err := s.SendUDP(&stack.UDPSend{Src: ap("10.0.0.1:1234"), Dst: ap(dst), Payload: []byte("x")}); err != nil {
			t.Fatalf("%s from 10.0.0.1: %v", dst, err)
		}
		ip := header.IPv4(readFrame(t, ch))
		if ip.SourceAddress().String() != "10.0.0.1" || ip.DestinationAddress().String() != ap(dst).Addr().String() {
			t.Errorf("%s: sent %s -> %s", dst, ip.SourceAddress(), ip.DestinationAddress())
		}
	}
}

// With lo as the output interface and no route through it, Linux routes
// on link through lo and the datagram comes back to this host's own
// sockets, from the first address of another interface (or the bound
// one); nothing leaves, no port unreachable answers it, and forwarding
// changes none of it (gVisor, forwarding, would lend eth0's route).
func TestLoopbackDeviceNoRoute(t *testing.T) {
	for _, fwd := range []string{"0", "1"} {
		t.Run("forwarding="+fwd, func(t *testing.T) {
			s := newStack(t, stack.Config{Sysctl: map[string]string{"net.ipv4.ip_forward": fwd}})
			ch, _ := attach(t, s, "10.0.0.1/24")
			must(t, s.Sysctl().Set("net.ipv4.ip_forward", fwd)) // reaches eth0 too
			r := newRecorder()
			bind(t, s, r, "0.0.0.0:5009", stack.UDPBindFlags{})
			for _, tc := range []struct{ src, dst, wantSrc string }{
				{"0.0.0.0:1234", "10.0.0.2:5009", "10.0.0.1:1234"},
				{"0.0.0.0:1234", "192.0.2.1:5009", "10.0.0.1:1234"},
				{"127.0.0.1:1235", "10.0.0.2:5009", "127.0.0.1:1235"},
			} {
				if err := s.SendUDP(&stack.UDPSend{Src: ap(tc.src), Dst: ap(tc.dst), IfIndex: 1, Payload: []byte("x")}); err != nil {
					t.Fatalf("send %s -> %s via lo: %v", tc.src, tc.dst, err)
				}
				d := r.next(t)
				if d.Src != ap(tc.wantSrc) || d.Dst != ap(tc.dst) || d.IfIndex != 1 {
					t.Errorf("via lo got %s -> %s on %d, want %s -> %s on 1", d.Src, d.Dst, d.IfIndex, tc.wantSrc, tc.dst)
				}
			}
			// Nobody listens on port 5010: no port unreachable comes back.
			if err := s.SendUDP(&stack.UDPSend{Src: ap("0.0.0.0:5009"), Dst: ap("10.0.0.2:5010"), IfIndex: 1, Payload: []byte("x")}); err != nil {
				t.Fatalf("send via lo to a closed port: %v", err)
			}
			select {
			case e := <-r.errs:
				t.Errorf("ICMP error for a looped datagram: %+v", e)
			case <-time.After(100 * time.Millisecond):
			}
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			if pkt := ch.ReadContext(ctx); pkt != nil {
				pkt.DecRef()
				t.Errorf("datagram bound to lo left through eth0")
			}
			src, idx, err := s.RouteSource(netip.MustParseAddr("192.0.2.1"), 1)
			if err != nil || src != netip.MustParseAddr("10.0.0.1") || idx != 1 {
				t.Errorf("RouteSource via lo = %s, %d, %v; want 10.0.0.1, 1", src, idx, err)
			}
			// Other interfaces keep the routing error.
			if err := s.SendUDP(&stack.UDPSend{Src: ap("0.0.0.0:1234"), Dst: ap("192.0.2.1:9"), IfIndex: 2, Payload: []byte("x")}); !errors.Is(err, unix.ENETUNREACH) {
				t.Errorf("send via eth0 without route: %v", err)
			}
		})
	}
}

// SO_DONTROUTE: a gateway route does not qualify; on-link and local
// destinations do.
func TestDontRoute(t *testing.T) {
	s := newStack(t, stack.Config{})
	ch, _ := attach(t, s, "10.0.0.1/24")
	must(t, s.AddRoute(netip.MustParsePrefix("192.0.2.0/24"), netip.MustParseAddr("10.0.0.254"), 2))
	if err := s.SendUDP(&stack.UDPSend{Src: ap("0.0.0.0:1234"), Dst: ap("192.0.2.1:9"), DontRoute: true, Payload: []byte("x")}); !errors.Is(err, unix.ENETUNREACH) {
		t.Errorf("DontRoute via gateway: %v, want ENETUNREACH", err)
	}
	if err := s.CheckOnLink(netip.MustParseAddr("192.0.2.1"), 0); !errors.Is(err, unix.ENETUNREACH) {
		t.Errorf("CheckOnLink via gateway: %v", err)
	}
	for _, dst := range []string{"10.0.0.7", "127.0.0.1", "10.0.0.1"} {
		if err := s.CheckOnLink(netip.MustParseAddr(dst), 0); err != nil {
			t.Errorf("CheckOnLink %s: %v", dst, err)
		}
	}
	if err := s.SendUDP(&stack.UDPSend{Src: ap("0.0.0.0:1234"), Dst: ap("10.0.0.7:9"), DontRoute: true, NoChecksum: true, Payload: []byte("x")}); err != nil {
		t.Fatalf("DontRoute on link: %v", err)
	}
	ip := header.IPv4(readFrame(t, ch))
	if c := header.UDP(ip.Payload()).Checksum(); c != 0 {
		t.Errorf("NoChecksum: checksum %#x, want 0", c)
	}
}

// A datagram to any 127/8 address from an unbound socket comes from
// 127.0.0.1, the preferred source of Linux's local 127.0.0.0/8 route.
func TestLoopbackPreferredSource(t *testing.T) {
	s := newStack(t, stack.Config{})
	r := newRecorder()
	bind(t, s, r, "0.0.0.0:5000", stack.UDPBindFlags{})
	if err := s.SendUDP(&stack.UDPSend{Src: ap("0.0.0.0:1234"), Dst: ap("127.0.0.9:5000"), Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if d := r.next(t); d.Src.Addr() != netip.MustParseAddr("127.0.0.1") || d.Dst.Addr() != netip.MustParseAddr("127.0.0.9") {
		t.Errorf("got %s -> %s, want 127.0.0.1 -> 127.0.0.9", d.Src, d.Dst)
	}
	if src, _, err := s.RouteSource(netip.MustParseAddr("127.0.0.9"), 0); err != nil || src != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("RouteSource(127.0.0.9) = %s, %v", src, err)
	}
}

// RouteFrom takes the bound source into the lookup: a limited broadcast
// from a bound address is routable without any route; a local source of
// another interface does not stop a unicast route (weak host).
func TestRouteFrom(t *testing.T) {
	s := newStack(t, stack.Config{})
	attach(t, s, "10.0.0.1/24")
	i2, err := s.AddInterface("eth1", channelEP())
	must(t, err)
	must(t, s.AddAddress(i2, netip.MustParsePrefix("172.16.0.1/16")))
	bc := netip.MustParseAddr("255.255.255.255")
	if _, _, err := s.RouteFrom(netip.IPv4Unspecified(), bc, 0); !errors.Is(err, unix.ENETUNREACH) {
		t.Errorf("limited broadcast unbound: %v", err)
	}
	if src, idx, err := s.RouteFrom(netip.MustParseAddr("10.0.0.1"), bc, 0); err != nil || idx != 2 || src != netip.MustParseAddr("10.0.0.1") {
		t.Errorf("limited broadcast from 10.0.0.1: %s %d %v", src, idx, err)
	}
	if _, idx, err := s.RouteFrom(netip.MustParseAddr("172.16.0.1"), netip.MustParseAddr("10.0.0.9"), 0); err != nil || idx != 2 {
		t.Errorf("weak host: %d %v", idx, err)
	}
}
