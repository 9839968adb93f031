package stack

import (
	"bytes"
	"encoding/binary"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// TestFragments6Layout: the fragments of a 3008-byte UDP datagram (3000
// bytes of payload) at the MTUs measured on Linux 6.18 (AF_PACKET on lo,
// path MTU 1400 learnt, IPV6_MTU 0, 1300 and 1283): packet sizes,
// offsets, M flags, one identification, and the bytes put back together.
func TestFragments6Layout(t *testing.T) {
	src := tcpip.AddrFrom16([16]byte{15: 1})
	whole := make([]byte, 3008)
	for i := range whole {
		whole[i] = byte(i * 7)
	}
	for _, c := range []struct {
		mtu   int
		sizes []int
		offs  []int
	}{
		{1400, []int{1400, 1400, 352}, []int{0, 1352, 2704}},
		{1300, []int{1296, 1296, 560}, []int{0, 1248, 2496}},
		{1283, []int{1280, 1280, 592}, []int{0, 1232, 2464}},
		{1280, []int{1280, 1280, 592}, []int{0, 1232, 2464}},
		{3056, []int{3056}, []int{0}}, // a fragment header too: not called for it in practice
	} {
		frags, err := fragments6(src, src, 0x20, 9, header.UDPProtocolNumber, 0xdeadbeef, whole, c.mtu)
		if err != nil {
			t.Fatal(err)
		}
		if len(frags) != len(c.sizes) {
			t.Fatalf("mtu %d: %d fragments, want %d", c.mtu, len(frags), len(c.sizes))
		}
		var got []byte
		for i, v := range frags {
			b := v.AsSlice()
			ip := header.IPv6(b)
			if len(b) != c.sizes[i] || int(ip.PayloadLength())+40 != len(b) || !ip.IsValid(len(b)) {
				t.Fatalf("mtu %d fragment %d: %d bytes, payload length %d, want %d", c.mtu, i, len(b), ip.PayloadLength(), c.sizes[i])
			}
			if ip.NextHeader() != 44 || ip.HopLimit() != 9 || ip.SourceAddress() != src {
				t.Fatalf("mtu %d fragment %d: header %x", c.mtu, i, b[:40])
			}
			if tc, _ := ip.TOS(); tc != 0x20 {
				t.Fatalf("traffic class %#x", tc)
			}
			f := header.IPv6Fragment(b[40:])
			if f.NextHeader() != 17 || int(f.FragmentOffset())*8 != c.offs[i] || f.More() != (i < len(frags)-1) || f.ID() != 0xdeadbeef || b[41] != 0 {
				t.Fatalf("mtu %d fragment %d: fragment header %x", c.mtu, i, b[40:48])
			}
			if i < len(frags)-1 && (len(b)-48)%8 != 0 {
				t.Fatalf("fragment %d carries %d bytes", i, len(b)-48)
			}
			if binary.BigEndian.Uint16(b[42:])&6 != 0 {
				t.Fatal("reserved bits set")
			}
			got = append(got, b[48:]...)
			v.Release()
		}
		if !bytes.Equal(got, whole) {
			t.Fatalf("mtu %d: reassembled bytes differ", c.mtu)
		}
	}
	if _, err := fragments6(src, src, 0, 1, header.UDPProtocolNumber, 1, whole, 55); err == nil {
		t.Fatal("an MTU with no room for 8 bytes fragmented")
	}
}

// TestFragID6: identifications are never 0 and differ between datagrams.
func TestFragID6(t *testing.T) {
	seen := map[uint32]bool{}
	for range 1000 {
		id := fragID6()
		if id == 0 || seen[id] {
			t.Fatalf("id %#x", id)
		}
		seen[id] = true
	}
}

// FuzzFragments6: any datagram at any MTU comes out as fragments of at
// most the MTU, contiguous, multiples of 8 but the last, that put back
// together give the datagram; an MTU with no room for 8 bytes is
// EMSGSIZE.
func FuzzFragments6(f *testing.F) {
	f.Add(make([]byte, 3008), uint16(1400))
	f.Add([]byte("x"), uint16(1280))
	f.Add(make([]byte, 100), uint16(56))
	f.Fuzz(func(t *testing.T, whole []byte, mtu16 uint16) {
		mtu := int(mtu16)
		src := tcpip.AddrFrom16([16]byte{15: 1})
		frags, err := fragments6(src, src, 0, 64, header.UDPProtocolNumber, 7, whole, mtu)
		if mtu < 56 {
			if err == nil {
				t.Fatalf("mtu %d fragmented", mtu)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		for i, v := range frags {
			b := v.AsSlice()
			fh := header.IPv6Fragment(b[40:])
			last := i == len(frags)-1
			if len(b) > mtu || int(fh.FragmentOffset())*8 != len(got) || fh.More() == last || fh.ID() != 7 ||
				!last && (len(b)-48)%8 != 0 || int(header.IPv6(b).PayloadLength()) != len(b)-40 {
				t.Fatalf("mtu %d fragment %d of %d: %x", mtu, i, len(frags), b[:48])
			}
			got = append(got, b[48:]...)
			v.Release()
		}
		if !bytes.Equal(got, whole) {
			t.Fatal("reassembled bytes differ")
		}
	})
}
