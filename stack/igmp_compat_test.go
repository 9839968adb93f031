package stack_test

import (
	"context"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"

	"netsandbox/stack"
)

var otherHost = netip.MustParseAddr("10.0.0.9")

// igmpFrom is an IGMP message from src to dst with Router Alert.
func igmpFrom(src, dst netip.Addr, msg []byte) []byte {
	binary.BigEndian.PutUint16(msg[2:], 0)
	binary.BigEndian.PutUint16(msg[2:], ^checksum.Checksum(msg, 0))
	n := 24 + len(msg)
	b := make([]byte, n)
	ip := header.IPv4(b)
	ip.Encode(&header.IPv4Fields{
		TOS: 0xc0, TotalLength: uint16(n), TTL: 1, Protocol: uint8(header.IGMPProtocolNumber),
		SrcAddr: tcpip.AddrFrom4(src.As4()), DstAddr: tcpip.AddrFrom4(dst.As4()),
		Options: header.IPv4OptionsSerializer{&header.IPv4SerializableRouterAlertOption{}},
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	copy(b[24:], msg)
	return b
}

// v12Msg is an IGMPv1/v2 message: type, max response code, group.
func v12Msg(typ, code byte, group netip.Addr) []byte {
	g := group.As4()
	return []byte{typ, code, 0, 0, g[0], g[1], g[2], g[3]}
}

// v12Query is an IGMPv1 (code 0) or v2 query from the querier 10.0.0.254.
func v12Query(code byte, group netip.Addr) []byte {
	dst := group
	if group.IsUnspecified() {
		dst = netip.MustParseAddr("224.0.0.1")
	}
	return igmpFrom(netip.MustParseAddr("10.0.0.254"), dst, v12Msg(0x11, code, group))
}

// olderMode puts the interface in IGMPv1 (code 0) or v2 mode with a
// general query of max response time 0.1 s (10 s for v1) while nothing is
// joined, then joins mcGroup and waits for its first report.
func olderMode(t *testing.T, code byte) (*stack.Stack, *channel.Endpoint, int) {
	t.Helper()
	s := newStack(t, stack.Config{})
	ch, idx := attach(t, s, "10.0.0.1/24")
	inject(ch, v12Query(code, netip.IPv4Unspecified()))
	noIGMP(t, ch, 100*time.Millisecond)
	if err := s.McastIncGroup(idx, mcGroup, stack.McastExclude); err != nil {
		t.Fatal(err)
	}
	want := byte(0x16)
	if code == 0 {
		want = 0x12
	}
	if _, igmp := nextIGMP(t, ch, 400*time.Millisecond); igmp[0] != want {
		t.Fatalf("first report type %#x, want %#x", igmp[0], want)
	}
	return s, ch, idx
}

// countIGMP counts the IGMP messages written to ch during d.
func countIGMP(ch *channel.Endpoint, d time.Duration) (n int, types []byte) {
	deadline := time.Now().Add(d)
	for i := 0; i < 64 && time.Now().Before(deadline); i++ {
		pkt := readUntil(ch, deadline)
		if pkt == nil {
			break
		}
		if len(pkt) >= 28 && pkt[9] == 2 {
			n++
			types = append(types, pkt[int(pkt[0]&0xf)*4])
		}
	}
	return n, types
}

// TestIGMPv2HeardReportNoLeave: once another host has reported the group
// (igmp_heard_report clears im->reporter), leaving it sends no leave.
func TestIGMPv2HeardReportNoLeave(t *testing.T) {
	s, ch, idx := olderMode(t, 1)
	inject(ch, igmpFrom(otherHost, mcGroup, v12Msg(0x16, 0, mcGroup)))
	s.McastDecGroup(idx, mcGroup)
	noIGMP(t, ch, 300*time.Millisecond)
}

// TestIGMPv2UnicastReportNotHeard: a report sent to this host's unicast
// address is not heard (Linux hears reports to link-layer multicast
// only), so the leave still goes out.
func TestIGMPv2UnicastReportNotHeard(t *testing.T) {
	s, ch, idx := olderMode(t, 1)
	inject(ch, igmpFrom(otherHost, netip.MustParseAddr("10.0.0.1"), v12Msg(0x16, 0, mcGroup)))
	s.McastDecGroup(idx, mcGroup)
	if _, igmp := nextIGMP(t, ch, 300*time.Millisecond); igmp[0] != 0x17 {
		t.Fatalf("after the leave: type %#x, want a leave (0x17)", igmp[0])
	}
}

// TestIGMPv2HeardReportCancelsAnswer: a report heard for the group
// cancels this host's pending answer to a query (and its repetition).
func TestIGMPv2HeardReportCancelsAnswer(t *testing.T) {
	t.Parallel()
	s, ch, idx := olderMode(t, 1)
	inject(ch, v12Query(10, mcGroup)) // answer within 1 s
	inject(ch, igmpFrom(otherHost, mcGroup, v12Msg(0x16, 0, mcGroup)))
	if n, types := countIGMP(ch, 1500*time.Millisecond); n != 0 {
		t.Fatalf("%d IGMP messages (%x) after another host's report, want none", n, types)
	}
	s.McastDecGroup(idx, mcGroup)
	noIGMP(t, ch, 200*time.Millisecond)
}

// TestIGMPv1HeardReportCancelsRepeat: in IGMPv1 mode a v1 report heard for
// the group cancels the pending repetition of this host's report (due
// within 10 s).
func TestIGMPv1HeardReportCancelsRepeat(t *testing.T) {
	t.Parallel()
	_, ch, _ := olderMode(t, 0)
	inject(ch, igmpFrom(otherHost, mcGroup, v12Msg(0x12, 0, mcGroup)))
	if n, types := countIGMP(ch, 10500*time.Millisecond); n != 0 {
		t.Fatalf("%d IGMP messages (%x) after another host's report, want none", n, types)
	}
}

// TestIGMPv2QueryAbsorbsRepeat: a query arriving while the join's
// repetition is pending is answered on the same timer (igmp_mod_timer),
// and the repetition is not sent as well: one report in all.
func TestIGMPv2QueryAbsorbsRepeat(t *testing.T) {
	t.Parallel()
	_, ch, _ := olderMode(t, 1)
	inject(ch, v12Query(1, netip.IPv4Unspecified())) // answer within 0.1 s
	if n, types := countIGMP(ch, 10500*time.Millisecond); n != 1 || types[0] != 0x16 {
		t.Fatalf("%d IGMP messages (%x) after the query, want one v2 report", n, types)
	}
}

// TestIGMPv3ReportsNotHeard: in IGMPv3 mode another host's v3 report does
// not cancel a pending answer to a group query, a v1/v2 report does
// (Linux hears only those).
func TestIGMPv3ReportsNotHeard(t *testing.T) {
	s := newStack(t, stack.Config{})
	ch, idx := attach(t, s, "10.0.0.1/24")
	if err := s.McastIncGroup(idx, mcGroup, stack.McastExclude); err != nil {
		t.Fatal(err)
	}
	countIGMP(ch, 1500*time.Millisecond) // the join's TO_EX and its repetition
	g := mcGroup.As4()
	v3 := []byte{0x22, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, g[0], g[1], g[2], g[3]}
	query := igmpQueryPacket(mcGroup, true)
	inject(ch, query)
	inject(ch, igmpFrom(otherHost, netip.MustParseAddr("224.0.0.22"), v3))
	if n, _ := countIGMP(ch, 400*time.Millisecond); n != 1 {
		t.Fatalf("%d answers to a group query after a v3 report, want 1", n)
	}
	inject(ch, query)
	inject(ch, igmpFrom(otherHost, mcGroup, v12Msg(0x16, 0, mcGroup)))
	if n, _ := countIGMP(ch, 400*time.Millisecond); n != 0 {
		t.Fatalf("%d answers to a group query after a v2 report, want none", n)
	}
}

// readUntil returns the next frame written to ch before deadline, or nil.
func readUntil(ch *channel.Endpoint, deadline time.Time) []byte {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	pkt := ch.ReadContext(ctx)
	if pkt == nil {
		return nil
	}
	defer pkt.DecRef()
	v := pkt.ToView()
	defer v.Release()
	return append([]byte(nil), v.AsSlice()...)
}
