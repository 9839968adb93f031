package stack_test

import (
	"net/netip"
	"testing"
	"time"

	"netsandbox/stack"
)

// TestIGMPv2JoinLeaveUnreported: a group joined and left within the
// initial report delay (Linux: up to 200 ms) was never reported, so neither
// a report nor a leave goes out. netsandbox used to report at once, send a
// leave, and then still send the pending repetition, which made a snooping
// bridge learn the left group again (test/mdb TestBridgeMDBIGMPv2).
func TestIGMPv2JoinLeaveUnreported(t *testing.T) {
	s := newStack(t, stack.Config{})
	ch, idx := attach(t, s, "10.0.0.1/24")
	inject(ch, igmpQueryPacket(netip.IPv4Unspecified(), false))
	noIGMP(t, ch, 200*time.Millisecond) // the answer to the query: nothing joined
	if err := s.McastIncGroup(idx, mcGroup, stack.McastExclude); err != nil {
		t.Fatal(err)
	}
	s.McastDecGroup(idx, mcGroup)
	noIGMP(t, ch, 500*time.Millisecond)
}

// TestIGMPv2ReportThenLeave: a reported group's leave is announced, and
// nothing follows it.
func TestIGMPv2ReportThenLeave(t *testing.T) {
	s := newStack(t, stack.Config{})
	ch, idx := attach(t, s, "10.0.0.1/24")
	inject(ch, igmpQueryPacket(netip.IPv4Unspecified(), false))
	noIGMP(t, ch, 200*time.Millisecond)
	if err := s.McastIncGroup(idx, mcGroup, stack.McastExclude); err != nil {
		t.Fatal(err)
	}
	_, igmp := nextIGMP(t, ch, 400*time.Millisecond)
	if igmp[0] != 0x16 {
		t.Fatalf("first message type %#x, want a v2 report (0x16)", igmp[0])
	}
	s.McastDecGroup(idx, mcGroup)
	ip, igmp := nextIGMP(t, ch, 200*time.Millisecond)
	if igmp[0] != 0x17 || netip.AddrFrom4([4]byte(ip[16:20])) != netip.MustParseAddr("224.0.0.2") {
		t.Fatalf("after the leave: type %#x to %v, want a leave (0x17) to 224.0.0.2", igmp[0], ip[16:20])
	}
	noIGMP(t, ch, time.Second)
}
