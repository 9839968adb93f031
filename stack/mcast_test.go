package stack_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"

	"netsandbox/stack"
)

var (
	mcGroup = netip.MustParseAddr("239.1.2.3")
	mcSrc1  = netip.MustParseAddr("10.0.0.7")
	mcSrc2  = netip.MustParseAddr("10.0.0.8")
	mcSrc3  = netip.MustParseAddr("10.0.0.9")
)

// nextIGMP waits (bounded) for the next IGMP packet written to ch and
// returns its IP header and IGMP message; other frames are skipped.
func nextIGMP(t *testing.T, ch *channel.Endpoint, within time.Duration) (ip, igmp []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for i := 0; i < 64; i++ {
		pkt := ch.ReadContext(ctx)
		if pkt == nil {
			break
		}
		v := pkt.ToView()
		b := append([]byte(nil), v.AsSlice()...)
		v.Release()
		pkt.DecRef()
		if len(b) < 20 || b[9] != 2 {
			continue
		}
		ihl := int(b[0]&0xf) * 4
		return b[:ihl], b[ihl:]
	}
	t.Fatalf("no IGMP packet within %v", within)
	return nil, nil
}

// noIGMP asserts that no IGMP packet leaves for a while.
func noIGMP(t *testing.T, ch *channel.Endpoint, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		pkt := ch.ReadContext(ctx)
		if pkt == nil {
			return
		}
		v := pkt.ToView()
		proto := v.AsSlice()[9]
		v.Release()
		pkt.DecRef()
		if proto == 2 {
			t.Fatal("unexpected IGMP packet")
		}
	}
}

// v3Report builds the IGMPv3 report netsandbox must send for records
// given as hex strings of whole group records.
func wantReport(t *testing.T, records ...string) []byte {
	t.Helper()
	b := []byte{0x22, 0, 0, 0, 0, 0, 0, byte(len(records))}
	for _, r := range records {
		x, err := hex.DecodeString(r)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, x...)
	}
	binary.BigEndian.PutUint16(b[2:], ^checksum.Checksum(b, 0))
	return b
}

// wantIPHeader is the header of every report from 10.0.0.1: TOS 0xc0, DF,
// ID 0, TTL 1, IGMP, to 224.0.0.22 with Router Alert (checksum zeroed).
func checkReportHeader(t *testing.T, ip []byte, n int) {
	t.Helper()
	want, _ := hex.DecodeString("46c0000000004000010200000a000001e000001694040000")
	binary.BigEndian.PutUint16(want[2:], uint16(24+n))
	got := append([]byte(nil), ip...)
	if !header.IPv4(got).IsChecksumValid() {
		t.Errorf("bad IP checksum in %x", got)
	}
	got[10], got[11] = 0, 0
	if !bytes.Equal(got, want) {
		t.Errorf("IP header %x, want %x", got, want)
	}
}

func expectReport(t *testing.T, ch *channel.Endpoint, within time.Duration, records ...string) {
	t.Helper()
	ip, igmp := nextIGMP(t, ch, within)
	want := wantReport(t, records...)
	checkReportHeader(t, ip, len(want))
	if !bytes.Equal(igmp, want) {
		t.Errorf("report %x, want %x", igmp, want)
	}
}

func TestIGMPv3StateChangeReports(t *testing.T) {
	s := newStack(t, stack.Config{})
	ch, idx := attach(t, s, "10.0.0.1/24")

	// ASM join: TO_EX({}), sent at once and once more (robustness 2).
	if err := s.McastIncGroup(idx, mcGroup, stack.McastExclude); err != nil {
		t.Fatal(err)
	}
	expectReport(t, ch, 200*time.Millisecond, "04000000ef010203")
	expectReport(t, ch, 1500*time.Millisecond, "04000000ef010203")
	noIGMP(t, ch, 300*time.Millisecond)

	// Blocking a source in EXCLUDE mode: BLOCK(s).
	s.McastAddSources(idx, mcGroup, stack.McastExclude, []netip.Addr{mcSrc1}, true)
	expectReport(t, ch, 200*time.Millisecond, "06000001ef0102030a000007")
	expectReport(t, ch, 1500*time.Millisecond, "06000001ef0102030a000007")

	// Unblocking: ALLOW(s).
	s.McastDelSources(idx, mcGroup, stack.McastExclude, []netip.Addr{mcSrc1}, true)
	expectReport(t, ch, 200*time.Millisecond, "05000001ef0102030a000007")
	expectReport(t, ch, 1500*time.Millisecond, "05000001ef0102030a000007")

	// Leave: TO_IN({}).
	s.McastDelSources(idx, mcGroup, stack.McastExclude, nil, false)
	s.McastDecGroup(idx, mcGroup)
	expectReport(t, ch, 200*time.Millisecond, "03000000ef010203")
	expectReport(t, ch, 1500*time.Millisecond, "03000000ef010203")
	if g := s.McastGroups(idx); len(g) != 0 {
		t.Errorf("groups after leave: %v", g)
	}
}

func TestIGMPv3SourceSpecificReports(t *testing.T) {
	s := newStack(t, stack.Config{})
	ch, idx := attach(t, s, "10.0.0.1/24")
	// SSM join of two sources: ALLOW(s2, s1) in the order they came, no
	// mode change record.
	if err := s.McastIncGroup(idx, mcGroup, stack.McastInclude); err != nil {
		t.Fatal(err)
	}
	s.McastAddSources(idx, mcGroup, stack.McastInclude, []netip.Addr{mcSrc2, mcSrc1}, true)
	expectReport(t, ch, 200*time.Millisecond, "05000002ef0102030a0000080a000007")
	expectReport(t, ch, 1500*time.Millisecond, "05000002ef0102030a0000080a000007")

	// A second socket joins EXCLUDE{s3}: the interface switches to
	// EXCLUDE mode; the record lists the sources excluded by every
	// excluding socket and included by none: s3.
	if err := s.McastIncGroup(idx, mcGroup, stack.McastExclude); err != nil {
		t.Fatal(err)
	}
	s.McastAddSources(idx, mcGroup, stack.McastExclude, []netip.Addr{mcSrc3}, true)
	st := s.McastGroups(idx)[mcGroup]
	if st.Mode != stack.McastExclude || len(st.Sources) != 1 || st.Sources[0] != mcSrc3 {
		t.Errorf("merged state %+v, want EXCLUDE{%v}", st, mcSrc3)
	}
	expectReport(t, ch, 200*time.Millisecond, "04000001ef0102030a000009")
	expectReport(t, ch, 1500*time.Millisecond, "04000001ef0102030a000009")
}

func TestMergedFilterRFC3376(t *testing.T) {
	s := newStack(t, stack.Config{})
	_, idx := attach(t, s, "10.0.0.1/24")
	join := func(mode stack.FilterMode, srcs ...netip.Addr) {
		if err := s.McastIncGroup(idx, mcGroup, mode); err != nil {
			t.Fatal(err)
		}
		s.McastAddSources(idx, mcGroup, mode, srcs, true)
	}
	join(stack.McastExclude, mcSrc1, mcSrc2)
	join(stack.McastExclude, mcSrc2, mcSrc3)
	st := s.McastGroups(idx)[mcGroup]
	if st.Mode != stack.McastExclude || len(st.Sources) != 1 || st.Sources[0] != mcSrc2 {
		t.Fatalf("EX{1,2}+EX{2,3} = %+v, want EXCLUDE{%v}", st, mcSrc2)
	}
	join(stack.McastInclude, mcSrc2)
	st = s.McastGroups(idx)[mcGroup]
	if st.Mode != stack.McastExclude || len(st.Sources) != 0 {
		t.Fatalf("... + IN{2} = %+v, want EXCLUDE{}", st)
	}
}

// udpToGroup is a UDP datagram from src to mcGroup:5000.
func udpToGroup(src netip.Addr, payload string) []byte {
	n := header.IPv4MinimumSize + header.UDPMinimumSize + len(payload)
	b := make([]byte, n)
	ip := header.IPv4(b)
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(n), TTL: 1, Protocol: uint8(header.UDPProtocolNumber),
		SrcAddr: tcpip.AddrFrom4(src.As4()), DstAddr: tcpip.AddrFrom4(mcGroup.As4()),
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	u := header.UDP(b[header.IPv4MinimumSize:])
	u.Encode(&header.UDPFields{SrcPort: 4000, DstPort: 5000, Length: uint16(header.UDPMinimumSize + len(payload))})
	copy(b[header.IPv4MinimumSize+header.UDPMinimumSize:], payload)
	return b
}

// filterRecorder is a recorder with a socket-level filter that lets
// through only src.
type filterRecorder struct {
	*recorder
	only netip.Addr
}

func (f filterRecorder) AllowMulticast(_, src netip.Addr, _ int) bool { return src == f.only }

func TestMulticastDeliveryFilters(t *testing.T) {
	s := newStack(t, stack.Config{})
	ch, idx := attach(t, s, "10.0.0.1/24")
	plain := newRecorder()
	bind(t, s, plain, "0.0.0.0:5000", stack.UDPBindFlags{ReuseAddr: true})
	picky := filterRecorder{newRecorder(), mcSrc2}
	bind(t, s, picky, "0.0.0.0:5000", stack.UDPBindFlags{ReuseAddr: true})

	// Not joined: the NIC drops the group.
	inject(ch, udpToGroup(mcSrc1, "early"))
	plain.none(t)

	// Joined EXCLUDE{s1}: s1 is filtered at the interface for everyone,
	// s2 reaches both, s3 only the socket without its own filter.
	if err := s.McastIncGroup(idx, mcGroup, stack.McastExclude); err != nil {
		t.Fatal(err)
	}
	s.McastAddSources(idx, mcGroup, stack.McastExclude, []netip.Addr{mcSrc1}, true)
	inject(ch, udpToGroup(mcSrc1, "blocked"))
	plain.none(t)
	picky.none(t)
	inject(ch, udpToGroup(mcSrc2, "two"))
	if d := plain.next(t); string(d.Payload) != "two" || d.IfIndex != idx || d.Src.Addr() != mcSrc2 {
		t.Errorf("plain got %+v", d)
	}
	if d := picky.next(t); string(d.Payload) != "two" {
		t.Errorf("picky got %+v", d)
	}
	inject(ch, udpToGroup(mcSrc3, "three"))
	if d := plain.next(t); string(d.Payload) != "three" {
		t.Errorf("plain got %+v", d)
	}
	picky.none(t)
}

// igmpQueryPacket is an IGMP query from 10.0.0.254 with Router Alert: a
// v3 query when v3 is true, else a v2 one.
func igmpQueryPacket(group netip.Addr, v3 bool, sources ...netip.Addr) []byte {
	q := []byte{0x11, 1, 0, 0}
	g := group.As4()
	q = append(q, g[:]...)
	if v3 {
		q = append(q, 2, 125, 0, byte(len(sources)))
		for _, s := range sources {
			a := s.As4()
			q = append(q, a[:]...)
		}
	}
	binary.BigEndian.PutUint16(q[2:], ^checksum.Checksum(q, 0))
	dst := group
	if !group.IsValid() || group.IsUnspecified() {
		dst = netip.MustParseAddr("224.0.0.1")
	}
	n := 24 + len(q)
	b := make([]byte, n)
	ip := header.IPv4(b)
	ip.Encode(&header.IPv4Fields{
		TOS: 0xc0, TotalLength: uint16(n), TTL: 1, Protocol: uint8(header.IGMPProtocolNumber),
		SrcAddr: tcpip.AddrFrom4([4]byte{10, 0, 0, 254}), DstAddr: tcpip.AddrFrom4(dst.As4()),
		Options: header.IPv4OptionsSerializer{&header.IPv4SerializableRouterAlertOption{}},
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	copy(b[24:], q)
	return b
}

func TestIGMPv3QueryAnswers(t *testing.T) {
	s := newStack(t, stack.Config{})
	ch, idx := attach(t, s, "10.0.0.1/24")
	if err := s.McastIncGroup(idx, mcGroup, stack.McastInclude); err != nil {
		t.Fatal(err)
	}
	s.McastAddSources(idx, mcGroup, stack.McastInclude, []netip.Addr{mcSrc1, mcSrc2}, true)
	expectReport(t, ch, 200*time.Millisecond, "05000002ef0102030a0000070a000008")
	expectReport(t, ch, 1500*time.Millisecond, "05000002ef0102030a0000070a000008")

	// General query (max resp 0.1 s): IS_IN(s1, s2).
	inject(ch, igmpQueryPacket(netip.IPv4Unspecified(), true))
	expectReport(t, ch, 500*time.Millisecond, "01000002ef0102030a0000070a000008")
	// Group query: the same record.
	inject(ch, igmpQueryPacket(mcGroup, true))
	expectReport(t, ch, 500*time.Millisecond, "01000002ef0102030a0000070a000008")
	// Group-and-source query for s2 and s3: IS_IN(s2).
	inject(ch, igmpQueryPacket(mcGroup, true, mcSrc2, mcSrc3))
	expectReport(t, ch, 500*time.Millisecond, "01000001ef0102030a000008")
	// A query for a group not joined gets no answer.
	inject(ch, igmpQueryPacket(netip.MustParseAddr("239.9.9.9"), true))
	noIGMP(t, ch, 300*time.Millisecond)
}

func TestIGMPv2Compatibility(t *testing.T) {
	s := newStack(t, stack.Config{})
	ch, idx := attach(t, s, "10.0.0.1/24")
	inject(ch, igmpQueryPacket(netip.IPv4Unspecified(), false))
	if err := s.McastIncGroup(idx, mcGroup, stack.McastExclude); err != nil {
		t.Fatal(err)
	}
	ip, igmp := nextIGMP(t, ch, 500*time.Millisecond)
	want := []byte{0x16, 0, 0, 0, 239, 1, 2, 3}
	binary.BigEndian.PutUint16(want[2:], ^checksum.Checksum(want, 0))
	if !bytes.Equal(igmp, want) {
		t.Errorf("v2 report %x, want %x", igmp, want)
	}
	if dst := netip.AddrFrom4([4]byte(ip[16:20])); dst != mcGroup || ip[8] != 1 {
		t.Errorf("v2 report to %v TTL %d, want %v TTL 1", dst, ip[8], mcGroup)
	}
	s.McastDelSources(idx, mcGroup, stack.McastExclude, nil, false)
	s.McastDecGroup(idx, mcGroup)
	for i := 0; i < 4; i++ {
		ip, igmp = nextIGMP(t, ch, 11*time.Second)
		if igmp[0] == 0x17 {
			break
		}
	}
	if igmp[0] != 0x17 || netip.AddrFrom4([4]byte(ip[16:20])) != netip.MustParseAddr("224.0.0.2") {
		t.Errorf("leave %x to %x, want type 0x17 to 224.0.0.2", igmp, ip[16:20])
	}
}

// TestMulticastConcurrentChanges runs membership changes, queries and
// deliveries at once (for the race detector) and checks that everything is
// left when every membership is gone.
func TestMulticastConcurrentChanges(t *testing.T) {
	s := newStack(t, stack.Config{})
	ch, idx := attach(t, s, "10.0.0.1/24")
	r := newRecorder()
	bind(t, s, r, "0.0.0.0:5000", stack.UDPBindFlags{})
	done := make(chan struct{})
	go func() { // drain the wire
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for i := 0; i < 100000; i++ {
			pkt := ch.ReadContext(ctx)
			if pkt == nil {
				return
			}
			pkt.DecRef()
		}
	}()
	srcs := []netip.Addr{mcSrc1, mcSrc2, mcSrc3}
	finished := make(chan struct{}, 4)
	for w := 0; w < 3; w++ {
		go func() {
			defer func() { finished <- struct{}{} }()
			for i := 0; i < 200; i++ {
				mode := stack.FilterMode(i % 2)
				if err := s.McastIncGroup(idx, mcGroup, mode); err != nil {
					t.Error(err)
					return
				}
				s.McastAddSources(idx, mcGroup, mode, srcs[:1+i%3], true)
				s.McastDelSources(idx, mcGroup, mode, srcs[:1+i%3], false)
				s.McastDecGroup(idx, mcGroup)
			}
		}()
	}
	go func() {
		defer func() { finished <- struct{}{} }()
		for i := 0; i < 300; i++ {
			inject(ch, udpToGroup(srcs[i%3], "x"))
			if i%50 == 0 {
				inject(ch, igmpQueryPacket(netip.IPv4Unspecified(), true))
				inject(ch, igmpQueryPacket(mcGroup, true, mcSrc1))
			}
		}
	}()
	for i := 0; i < 4; i++ {
		<-finished
	}
	if g := s.McastGroups(idx); len(g) != 0 {
		t.Errorf("groups left: %v", g)
	}
	// With the group left, the NIC drops its datagrams again.
	for len(r.ch) > 0 {
		<-r.ch
	}
	inject(ch, udpToGroup(mcSrc1, "late"))
	r.none(t)
	s.Close()
	<-done
}
