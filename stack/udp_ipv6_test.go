package stack_test

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

func newLite() *liteRecorder { return &liteRecorder{recorder: newRecorder()} }

// TestUDPLite6Loopback: a UDP-Lite datagram over ::1 reaches an IPv6
// binding with its hop limit and traffic class; a dual-stack :: binding
// takes IPv4 UDP-Lite's port and IPv4 datagrams too, an IPV6_V6ONLY one
// neither; the receiver's minimum coverage applies over IPv6 as over
// IPv4.
func TestUDPLite6Loopback(t *testing.T) {
	s := newStack(t, stack.Config{})
	lr := &liteRecorder{recorder: newRecorder()}
	b, err := s.UDPBind(lr, ap("[::1]:5000"), stack.UDPBindFlags{Lite: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	if _, err := s.UDPBind(newLite(), ap("[2001:db8::1]:5000"), stack.UDPBindFlags{Lite: true}); err != unix.EADDRNOTAVAIL {
		t.Fatalf("bind to an address no interface has: %v", err)
	}
	send := func(dst string, cov uint16, p string) {
		t.Helper()
		m := &stack.UDPSend{Src: ap("[::1]:4000"), Dst: ap(dst), TTL: 7, TOS: 0x20, Lite: true, CsCovSet: cov != 0, CsCov: cov, Payload: []byte(p)}
		if err := s.SendUDP(m); err != nil {
			t.Fatal(err)
		}
	}
	send("[::1]:5000", 0, "full")
	d := lr.next(t)
	if string(d.Payload) != "full" || d.TTL != 7 || d.TOS != 0x20 || d.Src != ap("[::1]:4000") || d.Dst != ap("[::1]:5000") {
		t.Fatalf("got %+v", d)
	}
	lr.min.Store(20)
	send("[::1]:5000", 12, "refused: covers twelve bytes")
	send("[::1]:5000", 24, "kept: covers twenty-four bytes")
	if d := lr.next(t); string(d.Payload) != "kept: covers twenty-four bytes" {
		t.Fatalf("got %q", d.Payload)
	}
	if lr.refused.Load() != 1 {
		t.Fatalf("refused %d", lr.refused.Load())
	}

	dual := &liteRecorder{recorder: newRecorder()}
	bd, err := s.UDPBind(dual, ap("[::]:5001"), stack.UDPBindFlags{Lite: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bd.Release()
	if _, err := s.UDPBind(newLite(), ap("127.0.0.1:5001"), stack.UDPBindFlags{Lite: true}); err != unix.EADDRINUSE {
		t.Fatalf("IPv4 UDP-Lite bind beside a dual-stack ::: %v", err)
	}
	bu, err := s.UDPBind(newRecorder(), ap("127.0.0.1:5001"), stack.UDPBindFlags{})
	if err != nil {
		t.Fatalf("UDP bind beside UDP-Lite: %v", err)
	}
	bu.Release()
	if err := s.SendUDP(&stack.UDPSend{Src: ap("127.0.0.1:4000"), Dst: ap("127.0.0.1:5001"), Lite: true, Payload: []byte("v4")}); err != nil {
		t.Fatal(err)
	}
	if d := dual.next(t); string(d.Payload) != "v4" || !d.Src.Addr().Is4() {
		t.Fatalf("got %+v", d)
	}

	only, err := s.UDPBind(newLite(), ap("[::]:5002"), stack.UDPBindFlags{Lite: true, V6Only: true})
	if err != nil {
		t.Fatal(err)
	}
	defer only.Release()
	b4, err := s.UDPBind(newLite(), ap("127.0.0.1:5002"), stack.UDPBindFlags{Lite: true})
	if err != nil {
		t.Fatalf("IPv4 UDP-Lite bind beside an IPV6_V6ONLY ::: %v", err)
	}
	b4.Release()

	// Connecting fixes the route's source and takes only the peer's
	// datagrams; disconnecting goes back to ::.
	if err := bd.Connect(ap("[::1]:4000")); err != nil {
		t.Fatal(err)
	}
	if got := bd.Local(); got != ap("[::1]:5001") {
		t.Fatalf("local after connect %v", got)
	}
	if err := bd.Connect(netip.AddrPort{}); err != nil {
		t.Fatal(err)
	}
	if got := bd.Local(); got != ap("[::]:5001") {
		t.Fatalf("local after disconnect %v", got)
	}
	if err := s.SendUDP(&stack.UDPSend{Src: ap("[::1]:4000"), Dst: ap("[::1]:5001"), Lite: true, Payload: make([]byte, stack.MaxUDP6Payload+1)}); err == nil {
		t.Fatal("a datagram over 65527 bytes was sent")
	}
}

// TestPathMTU6: a packet too big lowers the IPv6 path MTU, never below
// IPV6_MIN_MTU and never up; a send under IPV6_PMTUDISC_DO is held to
// it, one under WANT (fragmented) or PROBE (the device MTU) is not.
func TestPathMTU6(t *testing.T) {
	s := newStack(t, stack.Config{})
	lo := netip.IPv6Loopback()
	mtu := func() int {
		t.Helper()
		m, err := s.PathMTU(netip.Addr{}, lo, 0)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	dev := mtu()
	if dev != 65536 {
		t.Fatalf("lo's path MTU %d, want the device's 65536", dev)
	}
	s.LearnPMTU6(lo, 70000)
	if got := mtu(); got != dev {
		t.Fatalf("raised to %d", got)
	}
	s.LearnPMTU6(lo, 1400)
	if got := mtu(); got != 1400 {
		t.Fatalf("after 1400: %d", got)
	}
	s.LearnPMTU6(lo, 1000)
	if got := mtu(); got != 1280 {
		t.Fatalf("after 1000: %d, want IPV6_MIN_MTU", got)
	}
	big := make([]byte, 1300)
	for _, c := range []struct {
		mode stack.PMTUMode
		want error
	}{{stack.PMTUDo, unix.EMSGSIZE}, {stack.PMTUWant, nil}, {stack.PMTUProbe, nil}} {
		m := &stack.UDPSend{Src: ap("[::1]:4000"), Dst: ap("[::1]:4001"), PMTU: c.mode, Payload: big}
		if err := s.SendUDP(m); err != c.want {
			t.Errorf("mode %d: %v, want %v", c.mode, err, c.want)
		}
	}
}
