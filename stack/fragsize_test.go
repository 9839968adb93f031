package stack

import (
	"encoding/binary"
	"testing"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// fragFrame builds an IPv4 fragment: ihl bytes of header (options NOPs),
// payload bytes of data at byte offset off.
func fragFrame(id uint16, ihl, payload, off int, more bool) []byte {
	b := make([]byte, ihl+payload)
	b[0] = 0x40 | byte(ihl/4)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[4:], id)
	ff := uint16(off / 8)
	if more {
		ff |= 0x2000
	}
	binary.BigEndian.PutUint16(b[6:], ff)
	b[8], b[9] = 64, 17
	copy(b[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	for i := 20; i < ihl; i++ {
		b[i] = 1
	}
	binary.BigEndian.PutUint16(b[10:], ^checksum.Checksum(b[:ihl], 0))
	return b
}

func observeFrame(t *fragTable, b []byte) {
	pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{Payload: buffer.MakeWithData(b)})
	defer pkt.DecRef()
	t.observe(pkt)
}

func TestFragTable(t *testing.T) {
	var ft fragTable
	// 3000 bytes of payload in 1480-byte pieces (first with 4 bytes of
	// options), the last one first.
	observeFrame(&ft, fragFrame(7, 20, 40, 2960, false))
	observeFrame(&ft, fragFrame(7, 24, 1480, 0, true))
	hdr := fragFrame(7, 20, 0, 0, false)
	if got := ft.lookup(hdr, 3000); got != 0 {
		t.Errorf("incomplete datagram: %d, want 0", got)
	}
	observeFrame(&ft, fragFrame(7, 20, 1480, 1480, true))
	if got := ft.lookup(hdr, 3000); got != 1504 {
		t.Errorf("reassembled: %d, want 1504", got)
	}
	if got := ft.lookup(hdr, 2999); got != 0 {
		t.Errorf("other length: %d, want 0", got)
	}
	if got := ft.lookup(fragFrame(8, 20, 0, 0, false), 3000); got != 0 {
		t.Errorf("other id: %d, want 0", got)
	}
	// A whole datagram with the same key replaces the record.
	observeFrame(&ft, fragFrame(7, 20, 3000, 0, false))
	if got := ft.lookup(hdr, 3000); got != 0 {
		t.Errorf("after a whole datagram: %d, want 0", got)
	}
	// A bad header checksum is not counted.
	bad := fragFrame(9, 20, 8, 0, true)
	bad[10] ^= 1
	observeFrame(&ft, bad)
	if ft.n.Load() != 0 {
		t.Errorf("bad checksum recorded")
	}
	// The table stays bounded.
	for i := 0; i < 3*fragTableSize; i++ {
		observeFrame(&ft, fragFrame(uint16(100+i), 20, 8, 0, true))
	}
	if n := int(ft.n.Load()); n > fragTableSize || n != len(ft.m) {
		t.Errorf("table holds %d (map %d), bound %d", n, len(ft.m), fragTableSize)
	}
}

func FuzzFragObserve(f *testing.F) {
	f.Add(fragFrame(1, 24, 16, 0, true), fragFrame(1, 20, 8, 16, false))
	f.Add([]byte{0x45}, []byte{})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var ft fragTable
		observeFrame(&ft, a)
		observeFrame(&ft, b)
		if int(ft.n.Load()) != len(ft.m) || len(ft.m) > fragTableSize {
			t.Fatalf("count %d, map %d", ft.n.Load(), len(ft.m))
		}
		for _, h := range [][]byte{a, b} {
			if len(h) >= 20 {
				if got := ft.lookup(h, len(h)-int(h[0]&0xf)*4); got < 0 || got > 0xffff {
					t.Fatalf("lookup %d", got)
				}
			}
		}
	})
}
