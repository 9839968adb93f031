package stack_test

import (
	"bytes"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"

	"netsandbox/stack"
)

// TestUDP6PathMTUFragments: with ::1's path MTU at 1400, datagrams larger
// than it are fragmented under DONT, WANT and OMIT's device MTU is not
// reached; DO is refused above the path MTU, PROBE and INTERFACE above
// the device's; IPV6_MTU (FragSize) lowers the MTU a send is held to
// but fragments only what exceeds the path MTU, as Linux 6.18 does. The
// receiver gets every datagram whole.
func TestUDP6PathMTUFragments(t *testing.T) {
	s := newStack(t, stack.Config{})
	rec := newRecorder()
	b, err := s.UDPBind(rec, ap("[::1]:5000"), stack.UDPBindFlags{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	lo := ap("[::1]:5000").Addr()
	s.LearnPMTU6(lo, 1400)
	for i, c := range []struct {
		mode     stack.PMTUMode
		frag     int
		dontFrag bool
		n        int
		want     error
		mtu      int
		pkts     int // IP packets the loopback received
	}{
		{stack.PMTUWant, 0, false, 3000, nil, 1400, 3},
		{stack.PMTUDont, 0, false, 1353, nil, 1400, 2},
		{stack.PMTUWant, 1300, false, 3000, nil, 1300, 3},
		{stack.PMTUWant, 1300, false, 1352, nil, 1300, 1}, // within the path MTU: whole
		{stack.PMTUWant, 1283, false, 60000, nil, 1283, 49},
		{stack.PMTUDo, 0, false, 1352, nil, 1400, 1},
		{stack.PMTUDo, 0, false, 1353, unix.EMSGSIZE, 1400, 0},
		{stack.PMTUDo, 1300, false, 1300, unix.EMSGSIZE, 1300, 0},
		{stack.PMTUDo, 1500, false, 1353, unix.EMSGSIZE, 1400, 0},
		{stack.PMTUProbe, 0, false, 3000, nil, 65536, 1},
		{stack.PMTUProbe, 1500, false, 3000, unix.EMSGSIZE, 1500, 0},
		{stack.PMTUInterface, 1300, false, 1300, unix.EMSGSIZE, 1300, 0},
		{stack.PMTUInterface, 0, false, 65500, unix.EMSGSIZE, 65536, 0},
		{stack.PMTUOmit, 1300, false, 3000, nil, 1300, 1},
		{stack.PMTUWant, 0, true, 1353, unix.EMSGSIZE, 1400, 0},
		{stack.PMTUWant, 1300, true, 1253, unix.EMSGSIZE, 1300, 0},
		{stack.PMTUWant, 1300, true, 1252, nil, 1300, 1},
	} {
		p := bytes.Repeat([]byte{byte(i + 1)}, c.n)
		m := &stack.UDPSend{Src: ap("[::1]:4000"), Dst: ap("[::1]:5000"), PMTU: c.mode, FragSize: c.frag, DontFrag: c.dontFrag, Payload: p}
		if mtu, err := s.SendMTU6(m); err != nil || mtu != c.mtu {
			t.Errorf("case %d: SendMTU6 %d %v, want %d", i, mtu, err, c.mtu)
		}
		before := s.Gvisor().Stats().IP.PacketsReceived.Value()
		if err := s.SendUDP(m); err != c.want {
			t.Fatalf("case %d: send %v, want %v", i, err, c.want)
		}
		if got := int(s.Gvisor().Stats().IP.PacketsReceived.Value() - before); got != c.pkts {
			t.Errorf("case %d: %d packets, want %d", i, got, c.pkts)
		}
		if c.want != nil {
			continue
		}
		if d := rec.next(t); !bytes.Equal(d.Payload, p) {
			t.Fatalf("case %d: received %d bytes", i, len(d.Payload))
		}
	}
}

// TestUDP6FragmentsOnTheWire: what leaves a 1500-byte link for an
// on-link IPv6 peer: whole up to the device MTU even above IPV6_MTU,
// fragments of the learnt path MTU or of IPV6_MTU past it, with the
// Fragment header's offsets, M flags and one identification per
// datagram, another for the next; gVisor writes them as built.
func TestUDP6FragmentsOnTheWire(t *testing.T) {
	s := newStack(t, stack.Config{})
	ch := channel.New(256, 1500, "")
	idx, err := s.AddInterface("eth0", ch)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddAddress6(idx, netip.MustParsePrefix("2001:db8::1/64")); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRoute6(netip.MustParsePrefix("2001:db8::/64"), netip.Addr{}, idx); err != nil {
		t.Fatal(err)
	}
	dst := ap("[2001:db8::2]:9")
	type frag struct {
		size, off int
		more      bool
		id        uint32
	}
	read := func() []frag {
		var got []frag
		for {
			pkt := ch.Read()
			if pkt == nil {
				return got
			}
			b := pkt.ToView().AsSlice()
			pkt.DecRef()
			ip := header.IPv6(b)
			if ip.NextHeader() != header.IPv6FragmentHeader && ip.NextHeader() != uint8(header.UDPProtocolNumber) {
				continue // NDP, MLD
			}
			if ip.NextHeader() != header.IPv6FragmentHeader {
				got = append(got, frag{size: len(b)})
				continue
			}
			f := header.IPv6Fragment(b[header.IPv6MinimumSize:])
			if f.NextHeader() != uint8(header.UDPProtocolNumber) || ip.HopLimit() != 64 {
				t.Fatalf("fragment header %x", b[:48])
			}
			got = append(got, frag{len(b), int(f.FragmentOffset()) * 8, f.More(), f.ID()})
		}
	}
	send := func(n, fragSize int) []frag {
		t.Helper()
		m := &stack.UDPSend{Src: ap("[2001:db8::1]:4000"), Dst: dst, PMTU: stack.PMTUWant, FragSize: fragSize, Payload: make([]byte, n)}
		if err := s.SendUDP(m); err != nil {
			t.Fatal(err)
		}
		return read()
	}
	check := func(op string, got []frag, sizes, offs []int) {
		t.Helper()
		if len(got) != len(sizes) {
			t.Fatalf("%s: %+v", op, got)
		}
		for i, g := range got {
			if g.size != sizes[i] || g.off != offs[i] || g.more != (i < len(got)-1) || g.id != got[0].id {
				t.Fatalf("%s: %+v", op, got)
			}
		}
	}
	check("1400 with IPV6_MTU 1300", send(1400, 1300), []int{1448}, []int{0})
	a := send(3000, 1300)
	check("3000 with IPV6_MTU 1300", a, []int{1296, 1296, 560}, []int{0, 1248, 2496})
	b := send(3000, 0)
	check("3000 at the device MTU", b, []int{1496, 1496, 160}, []int{0, 1448, 2896})
	if a[0].id == b[0].id || a[0].id == 0 || b[0].id == 0 {
		t.Fatalf("identifications %#x, %#x", a[0].id, b[0].id)
	}
	s.LearnPMTU6(dst.Addr(), 1400)
	check("3000 at the path MTU", send(3000, 0), []int{1400, 1400, 352}, []int{0, 1352, 2704})
	check("3000 at IPV6_MTU 1283", send(3000, 1283), []int{1280, 1280, 592}, []int{0, 1232, 2464})
	check("1352 within the path MTU", send(1352, 1300), []int{1400}, []int{0})

	// UDP-Lite's fragments name it as the next header.
	m := &stack.UDPSend{Src: ap("[2001:db8::1]:4000"), Dst: dst, PMTU: stack.PMTUWant, Lite: true, Payload: make([]byte, 2000)}
	if err := s.SendUDP(m); err != nil {
		t.Fatal(err)
	}
	for n := 0; n < 2; {
		pkt := ch.Read()
		if pkt == nil {
			t.Fatalf("%d UDP-Lite fragments", n)
		}
		b := pkt.ToView().AsSlice()
		pkt.DecRef()
		if header.IPv6(b).NextHeader() != header.IPv6FragmentHeader {
			continue
		}
		if b[40] != uint8(stack.UDPLiteProtocolNumber) {
			t.Fatalf("UDP-Lite fragment's next header %d", b[40])
		}
		n++
	}
}

// TestUDP6ForeignSource: a datagram from an address no interface has (a
// freebind binding's) leaves with that source, whole or in fragments,
// and its checksum is right for it (the receiver verifies it).
func TestUDP6ForeignSource(t *testing.T) {
	s := newStack(t, stack.Config{})
	rec := newRecorder()
	b, err := s.UDPBind(rec, ap("[::1]:5000"), stack.UDPBindFlags{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	s.LearnPMTU6(ap("[::1]:5000").Addr(), 1400)
	src := ap("[2001:db8::5]:4000")
	for _, n := range []int{100, 3000} {
		p := bytes.Repeat([]byte{byte(n)}, n)
		if err := s.SendUDP(&stack.UDPSend{Src: src, Dst: ap("[::1]:5000"), PMTU: stack.PMTUWant, Payload: p}); err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		d := rec.next(t)
		if d.Src != src || !bytes.Equal(d.Payload, p) {
			t.Fatalf("%d bytes: received %d from %v, want from %v", n, len(d.Payload), d.Src, src)
		}
	}
}
