package stack_test

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/header"

	"netsandbox/stack"
)

var (
	tapLocal  = [4]byte{10, 0, 0, 1}
	tapRouter = [4]byte{10, 0, 0, 254}
	tapRemote = [4]byte{10, 0, 0, 9}
)

// tapSetup is a stack at 10.0.0.1 with a channel NIC and a binding on
// 10.0.0.1:4000, and the datagram such an error would quote.
func tapSetup(t *testing.T, cfg stack.Config) (*stack.Stack, func([]byte), *recorder, []byte) {
	s := newStack(t, cfg)
	ch, _ := attach(t, s, "10.0.0.1/24")
	r := newRecorder()
	bind(t, s, r, "10.0.0.1:4000", stack.UDPBindFlags{})
	orig := udpPacket(tapLocal, tapRemote, 4000, 53, []byte("quoted"))
	return s, func(b []byte) { inject(ch, b) }, r, orig
}

// noErr asserts that no error reaches the recorder for a short while.
func noErr(t *testing.T, r *recorder, what string) {
	t.Helper()
	select {
	case e := <-r.errs:
		t.Errorf("%s: delivered %+v", what, e)
	case <-time.After(100 * time.Millisecond):
	}
}

// Time exceeded and parameter problem, which gVisor never hands to
// transports, reach the binding with Linux's info (0, the pointer).
func TestICMPTapDeliversEveryErrorType(t *testing.T) {
	_, in, r, orig := tapSetup(t, stack.Config{})
	in(icmpError(tapRouter, tapLocal, 11, 0, 0, orig))
	e := r.nextErr(t)
	want := stack.ICMPError{Type: 11, Code: 0, Offender: netip.MustParseAddr("10.0.0.254"),
		Src: ap("10.0.0.1:4000"), Dst: ap("10.0.0.9:53"), IfIndex: 2, TTL: 64, PayloadOffset: 28}
	if string(e.Payload) != "quoted" {
		t.Errorf("payload %q", e.Payload)
	}
	e.Payload = nil
	if !reflect.DeepEqual(e, want) {
		t.Errorf("time exceeded: got %+v, want %+v", e, want)
	}

	pp := icmpError(tapRouter, tapLocal, 12, 0, 0, orig)
	pp[header.IPv4MinimumSize+4] = 0x17 // pointer
	fixICMPChecksum(pp)
	in(pp)
	if e := r.nextErr(t); e.Type != 12 || e.Info != 0x17 {
		t.Errorf("parameter problem: got type %d info %#x, want 12, 0x17", e.Type, e.Info)
	}
	for code := uint8(0); code <= 15; code++ {
		in(icmpError(tapRouter, tapLocal, 3, code, 0, orig))
		if e := r.nextErr(t); e.Type != 3 || e.Code != code {
			t.Errorf("unreachable code %d: got %d/%d", code, e.Type, e.Code)
		}
	}
	noErr(t, r, "after the last error (double delivery)")
}

// What icmp_rcv and icmp_unreach drop never reaches a binding.
func TestICMPTapDrops(t *testing.T) {
	_, in, r, orig := tapSetup(t, stack.Config{})
	bad := icmpError(tapRouter, tapLocal, 3, 3, 0, orig)
	bad[header.IPv4MinimumSize+2] ^= 0xff
	in(bad)
	noErr(t, r, "bad checksum")
	in(icmpError(tapRouter, tapLocal, 3, 16, 0, orig))
	noErr(t, r, "code 16")
	in(icmpError(tapRouter, tapLocal, 11, 1, 0, orig))
	noErr(t, r, "reassembly time exceeded")
	for _, typ := range []uint8{4, 5, 40} {
		in(icmpError(tapRouter, tapLocal, typ, 0, 0, orig))
		noErr(t, r, "type without a socket error")
	}
	in(icmpError(tapRouter, tapLocal, 3, 3, 0, orig[:header.IPv4MinimumSize+7]))
	noErr(t, r, "quote without 8 transport bytes")
	other := udpPacket(tapLocal, tapRemote, 4001, 53, []byte("x"))
	in(icmpError(tapRouter, tapLocal, 3, 3, 0, other))
	noErr(t, r, "quote of another port")
}

// A frag-needed lowers the destination's path MTU (only down, floor
// min_pmtu), only when a socket matches, and ip_no_pmtu_disc=1 reports
// it with info 0.
func TestICMPTapLearnsPathMTU(t *testing.T) {
	s, in, r, orig := tapSetup(t, stack.Config{})
	dst := netip.AddrFrom4(tapRemote)
	mtu := func() int {
		m, err := s.PathMTU(netip.Addr{}, dst, 0)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := mtu(); m != 1500 {
		t.Fatalf("initial path MTU %d", m)
	}
	unmatched := udpPacket(tapLocal, tapRemote, 4999, 53, nil)
	in(icmpError(tapRouter, tapLocal, 3, 4, 700, unmatched))
	time.Sleep(50 * time.Millisecond)
	if m := mtu(); m != 1500 {
		t.Errorf("learnt %d without a matching socket", m)
	}
	in(icmpError(tapRouter, tapLocal, 3, 4, 1200, orig))
	if e := r.nextErr(t); e.Info != 1200 {
		t.Errorf("info %d", e.Info)
	}
	if m := mtu(); m != 1200 {
		t.Errorf("path MTU %d, want 1200", m)
	}
	in(icmpError(tapRouter, tapLocal, 3, 4, 1400, orig))
	r.nextErr(t)
	if m := mtu(); m != 1200 {
		t.Errorf("raised to %d", m)
	}
	in(icmpError(tapRouter, tapLocal, 3, 4, 100, orig))
	r.nextErr(t)
	if m := mtu(); m != 552 {
		t.Errorf("below min_pmtu: %d, want 552", m)
	}
	if err := s.Sysctl().Set("net.ipv4.ip_no_pmtu_disc", "1"); err != nil {
		t.Fatal(err)
	}
	in(icmpError(tapRouter, tapLocal, 3, 4, 1000, orig))
	if e := r.nextErr(t); e.Info != 0 {
		t.Errorf("ip_no_pmtu_disc=1: info %d, want 0", e.Info)
	}
	if err := s.Sysctl().Set("net.ipv4.ip_no_pmtu_disc", "2"); err != nil {
		t.Fatal(err)
	}
	in(icmpError(tapRouter, tapLocal, 3, 4, 1000, orig))
	noErr(t, r, "ip_no_pmtu_disc=2")
}

// A learnt path MTU is forgotten after mtu_expires seconds.
func TestPathMTUExpires(t *testing.T) {
	s, _, _, _ := tapSetup(t, stack.Config{Sysctl: map[string]string{"net.ipv4.route.mtu_expires": "1"}})
	dst := netip.AddrFrom4(tapRemote)
	s.LearnPMTU(dst, 1100)
	if m, _ := s.PathMTU(netip.Addr{}, dst, 0); m != 1100 {
		t.Fatalf("path MTU %d, want 1100", m)
	}
	time.Sleep(1100 * time.Millisecond)
	if m, _ := s.PathMTU(netip.Addr{}, dst, 0); m != 1500 {
		t.Errorf("after expiry %d, want 1500", m)
	}
	if m, _ := s.PathMTU(netip.Addr{}, netip.MustParseAddr("127.0.0.1"), 0); m != 65535 {
		t.Errorf("lo path MTU %d, want 65535", m)
	}
}

// After learning 1000, a WANT datagram of 1400 bytes leaves as fragments of
// at most 1000 bytes without DF; DO refuses it; PROBE sends it whole with DF.
func TestPathMTUSendModes(t *testing.T) {
	s := newStack(t, stack.Config{})
	ch, _ := attach(t, s, "10.0.0.1/24")
	dst := netip.AddrFrom4(tapRemote)
	s.LearnPMTU(dst, 1000)
	m := &stack.UDPSend{Src: ap("10.0.0.1:4000"), Dst: netip.AddrPortFrom(dst, 53), PMTU: stack.PMTUWant, Payload: make([]byte, 1400)}
	if err := s.SendUDP(m); err != nil {
		t.Fatal(err)
	}
	f1, f2 := header.IPv4(readFrame(t, ch)), header.IPv4(readFrame(t, ch))
	if len(f1) != 996 || !f1.More() || f1.FragmentOffset() != 0 || f1.Flags()&header.IPv4FlagDontFragment != 0 {
		t.Errorf("first fragment: len %d more %v off %d flags %#x", len(f1), f1.More(), f1.FragmentOffset(), f1.Flags())
	}
	if len(f2) != 452 || f2.More() || f2.FragmentOffset() != 976 || f1.ID() != f2.ID() || f1.ID() == 0 {
		t.Errorf("second fragment: len %d more %v off %d ids %d/%d", len(f2), f2.More(), f2.FragmentOffset(), f1.ID(), f2.ID())
	}
	m.PMTU = stack.PMTUDo
	if err := s.SendUDP(m); err == nil {
		t.Error("DO above the path MTU sent")
	}
	m.PMTU = stack.PMTUProbe
	if err := s.SendUDP(m); err != nil {
		t.Fatal(err)
	}
	if f := header.IPv4(readFrame(t, ch)); len(f) != 1428 || f.Flags()&header.IPv4FlagDontFragment == 0 {
		t.Errorf("PROBE: len %d flags %#x, want 1428 with DF", len(f), f.Flags())
	}
}

// fixICMPChecksum recomputes the ICMP checksum of an IPv4+ICMP packet.
func fixICMPChecksum(b []byte) {
	ic := header.ICMPv4(b[header.IPv4MinimumSize:])
	ic.SetChecksum(0)
	ic.SetChecksum(header.ICMPv4Checksum(ic, 0))
}
