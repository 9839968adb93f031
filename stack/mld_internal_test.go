package stack

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

var (
	mldTestQuerier = netip.MustParseAddr("fe80::9")
	mldTestGroup   = netip.MustParseAddr("ff0e::61:1")
	mldTestSrc     = netip.MustParseAddr("2001:db8::51")
)

// mldPacket is an IPv6 packet from src to dst carrying msg behind a
// Hop-by-Hop header with Router Alert value ra (no Hop-by-Hop header
// when ra < 0), hop limit hl, with msg's checksum set.
func mldPacket(src, dst netip.Addr, hl uint8, ra int, msg []byte) []byte {
	msg = append([]byte(nil), msg...)
	sum := header.PseudoHeaderChecksum(header.ICMPv6ProtocolNumber, gAddr(src), gAddr(dst), uint16(len(msg)))
	binary.BigEndian.PutUint16(msg[2:], 0)
	binary.BigEndian.PutUint16(msg[2:], ^checksum.Checksum(msg, sum))
	var ext []byte
	nh := uint8(header.ICMPv6ProtocolNumber)
	if ra >= 0 {
		ext = []byte{nh, 0, 5, 2, byte(ra >> 8), byte(ra), 1, 0}
		nh = 0
	}
	b := make([]byte, header.IPv6MinimumSize)
	header.IPv6(b).Encode(&header.IPv6Fields{
		PayloadLength:     uint16(len(ext) + len(msg)),
		TransportProtocol: tcpip.TransportProtocolNumber(nh),
		HopLimit:          hl,
		SrcAddr:           gAddr(src),
		DstAddr:           gAddr(dst),
	})
	return append(append(b, ext...), msg...)
}

// mldQueryMsg is an MLDv2 query (or, v1, a 24-byte MLDv1 one).
func mldQueryMsg(v1 bool, group netip.Addr, code uint16, sources ...netip.Addr) []byte {
	n := 28
	if v1 {
		n = 24
	}
	b := make([]byte, n)
	b[0] = mldQueryType
	binary.BigEndian.PutUint16(b[4:], code)
	copy(b[8:], group.AsSlice())
	if !v1 {
		b[24], b[25] = 2, 125
		binary.BigEndian.PutUint16(b[26:], uint16(len(sources)))
		for _, s := range sources {
			b = append(b, s.AsSlice()...)
		}
	}
	return b
}

func newMLDTestStack(t testing.TB) (*Stack, *channel.Endpoint, int) {
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ch := channel.New(256, 1500, "")
	idx, err := s.AddInterface("eth0", ch)
	if err != nil {
		t.Fatal(err)
	}
	return s, ch, idx
}

// nextReport returns the next MLDv2 report the NIC sends within d, after
// checking its headers as Linux builds them.
func nextReport(t *testing.T, ch *channel.Endpoint, d time.Duration) (src netip.Addr, records []byte) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); {
		pkt := ch.Read()
		if pkt == nil {
			time.Sleep(2 * time.Millisecond)
			continue
		}
		v := pkt.ToView()
		b := append([]byte(nil), v.AsSlice()...)
		v.Release()
		pkt.DecRef()
		if len(b) < mldHdrSize+8 || b[0]>>4 != 6 {
			continue
		}
		m, ok := parseMLD(b)
		if !ok || m.typ != mldV2ReportType {
			// parseMLD knows only the input types; read the report
			// by hand.
			ip := header.IPv6(b)
			if ip.NextHeader() != 0 || ip.HopLimit() != 1 || nAddr(ip.DestinationAddress()) != mldv2Routers {
				t.Fatalf("not an MLD report: % x", b[:48])
			}
			if string(b[40:48]) != string([]byte{58, 0, 5, 2, 0, 0, 1, 0}) {
				t.Fatalf("hop-by-hop header % x", b[40:48])
			}
			icmp := b[48:]
			sum := header.PseudoHeaderChecksum(header.ICMPv6ProtocolNumber, ip.SourceAddress(), ip.DestinationAddress(), uint16(len(icmp)))
			if icmp[0] != mldV2ReportType || checksum.Checksum(icmp, sum) != 0xffff {
				t.Fatalf("report type %d, checksum bad: % x", icmp[0], icmp)
			}
			return nAddr(ip.SourceAddress()), icmp[8:]
		}
	}
	t.Fatalf("no MLDv2 report within %v", d)
	return
}

// firstRecord renders a report's first record as type, group and
// source count.
func firstRecord(r []byte) (byte, netip.Addr, int) {
	return r[0], netip.AddrFrom16([16]byte(r[4:20])), int(binary.BigEndian.Uint16(r[2:4]))
}

// TestMLDReports: an address's solicited-node group is reported from
// the link-local address once there is one, a join as TO_EX {}, and a
// general query is answered with the current state of both.
func TestMLDReports(t *testing.T) {
	s, ch, idx := newMLDTestStack(t)
	ll := netip.MustParsePrefix("fe80::1/64")
	if err := s.AddAddress6(idx, ll); err != nil {
		t.Fatal(err)
	}
	sn := netip.MustParseAddr("ff02::1:ff00:1")
	src, r := nextReport(t, ch, time.Second)
	if typ, g, n := firstRecord(r); src != ll.Addr() || typ != igmpToEx || g != sn || n != 0 {
		t.Fatalf("address added: from %v, record %d %v with %d sources", src, typ, g, n)
	}
	nextReport(t, ch, 2*time.Second) // its retransmission
	if err := s.McastIncGroup(idx, mldTestGroup, McastExclude); err != nil {
		t.Fatal(err)
	}
	if _, r = nextReport(t, ch, time.Second); r[0] != igmpToEx {
		t.Fatalf("join: record type %d", r[0])
	}
	nextReport(t, ch, 2*time.Second)
	q := mldPacket(mldTestQuerier, allNodes, 1, 0, mldQueryMsg(false, netip.IPv6Unspecified(), 20))
	ch.InjectInbound(header.IPv6ProtocolNumber, gstack.NewPacketBuffer(gstack.PacketBufferOptions{Payload: buffer.MakeWithData(q)}))
	_, r = nextReport(t, ch, time.Second)
	typ, g, _ := firstRecord(r)
	typ2, g2, _ := firstRecord(r[20:])
	if typ != igmpIsEx || typ2 != igmpIsEx || g != mldTestGroup || g2 != sn {
		t.Fatalf("general query answer: %d %v, %d %v", typ, g, typ2, g2)
	}
}

// TestMLDQueryChecks: a query with a bad checksum, a global source, a
// hop limit above 1 or no Router Alert is counted and dropped, and
// answered by nothing.
func TestMLDQueryChecks(t *testing.T) {
	s, ch, idx := newMLDTestStack(t)
	if err := s.McastIncGroup(idx, mldTestGroup, McastExclude); err != nil {
		t.Fatal(err)
	}
	nextReport(t, ch, time.Second)
	nextReport(t, ch, 2*time.Second)
	msg := mldQueryMsg(false, mldTestGroup, 10)
	bad := mldPacket(mldTestQuerier, mldTestGroup, 1, 0, msg)
	bad[len(bad)-1] ^= 1
	for _, p := range [][]byte{
		bad,
		mldPacket(mldTestSrc, mldTestGroup, 1, 0, msg),
		mldPacket(mldTestQuerier, mldTestGroup, 2, 0, msg),
		mldPacket(mldTestQuerier, mldTestGroup, 1, -1, msg),
		mldPacket(mldTestQuerier, mldTestGroup, 1, 1, msg),
	} {
		ch.InjectInbound(header.IPv6ProtocolNumber, gstack.NewPacketBuffer(gstack.PacketBufferOptions{Payload: buffer.MakeWithData(p)}))
	}
	if n := s.stats.mldDropped.Load(); n != 5 {
		t.Errorf("dropped %d, want 5", n)
	}
	time.Sleep(50 * time.Millisecond)
	if pkt := ch.Read(); pkt != nil {
		pkt.DecRef()
		t.Error("a dropped query was answered")
	}
}

// FuzzMLDQuery: whatever arrives on the NIC, the MLD tap neither panics
// nor reads sources that are not there.
func FuzzMLDQuery(f *testing.F) {
	f.Add(mldPacket(mldTestQuerier, allNodes, 1, 0, mldQueryMsg(false, netip.IPv6Unspecified(), 10)))
	f.Add(mldPacket(mldTestQuerier, mldTestGroup, 1, 0, mldQueryMsg(false, mldTestGroup, 0x8001, mldTestSrc)))
	f.Add(mldPacket(mldTestQuerier, mldTestGroup, 1, 0, mldQueryMsg(true, mldTestGroup, 5)))
	f.Add(mldPacket(netip.IPv6Unspecified(), mldTestGroup, 1, 0, mldV1Message(mldV1ReportType, mldTestGroup)))
	f.Add([]byte{0x60, 0, 0, 0, 0, 8, 0, 1})
	s, _, idx := newMLDTestStack(f)
	if err := s.McastIncGroup(idx, mldTestGroup, McastInclude); err != nil {
		f.Fatal(err)
	}
	s.McastAddSources(idx, mldTestGroup, McastInclude, []netip.Addr{mldTestSrc}, false)
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, ok := parseMLD(b); ok && len(m.sources) != 0 && len(m.sources) != m.nsrc {
			t.Fatalf("%d sources read of %d", len(m.sources), m.nsrc)
		}
		pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{Payload: buffer.MakeWithData(b)})
		pkt.PktType = tcpip.PacketMulticast
		s.tapMLD(idx, pkt)
		pkt.DecRef()
	})
}

// nextMLD returns the next MLD message (type, destination) the NIC sends
// within d.
func nextMLD(t *testing.T, ch *channel.Endpoint, d time.Duration) (byte, netip.Addr) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); {
		pkt := ch.Read()
		if pkt == nil {
			time.Sleep(2 * time.Millisecond)
			continue
		}
		v := pkt.ToView()
		b := append([]byte(nil), v.AsSlice()...)
		v.Release()
		pkt.DecRef()
		if len(b) > mldHdrSize && b[6] == 0 {
			return b[mldHdrSize], nAddr(header.IPv6(b).DestinationAddress())
		}
	}
	t.Fatalf("no MLD message within %v", d)
	return 0, netip.Addr{}
}

// TestMLDv1Querier: an MLDv1 query makes the interface speak MLDv1: it
// is answered with an MLDv1 report to the group, and a leave sends a
// done to ff02::2. Under force_mld_version=2 an MLDv1 query is ignored.
func TestMLDv1Querier(t *testing.T) {
	s, ch, idx := newMLDTestStack(t)
	if err := s.McastIncGroup(idx, mldTestGroup, McastExclude); err != nil {
		t.Fatal(err)
	}
	nextMLD(t, ch, time.Second)
	nextMLD(t, ch, 2*time.Second)
	inject := func(p []byte) {
		ch.InjectInbound(header.IPv6ProtocolNumber, gstack.NewPacketBuffer(gstack.PacketBufferOptions{Payload: buffer.MakeWithData(p)}))
	}
	if err := s.sysctl.Set("net.ipv6.conf.eth0.force_mld_version", "2"); err != nil {
		t.Fatal(err)
	}
	inject(mldPacket(mldTestQuerier, allNodes, 1, 0, mldQueryMsg(true, netip.IPv6Unspecified(), 10)))
	time.Sleep(50 * time.Millisecond)
	if pkt := ch.Read(); pkt != nil {
		pkt.DecRef()
		t.Fatal("an MLDv1 query was answered under force_mld_version=2")
	}
	if err := s.sysctl.Set("net.ipv6.conf.eth0.force_mld_version", "0"); err != nil {
		t.Fatal(err)
	}
	inject(mldPacket(mldTestQuerier, allNodes, 1, 0, mldQueryMsg(true, netip.IPv6Unspecified(), 10)))
	if typ, dst := nextMLD(t, ch, time.Second); typ != mldV1ReportType || dst != mldTestGroup {
		t.Fatalf("answer: type %d to %v", typ, dst)
	}
	s.McastDecGroup(idx, mldTestGroup)
	if typ, dst := nextMLD(t, ch, time.Second); typ != mldDoneType || dst != allRouters6 {
		t.Fatalf("leave: type %d to %v", typ, dst)
	}
}
