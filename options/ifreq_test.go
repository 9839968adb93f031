package options

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestIfreqName(t *testing.T) {
	for _, c := range []struct{ in, dev, label string }{
		{"eth0", "eth0", "eth0"},
		{"eth0:1", "eth0", "eth0:1"},
		{"", "", ""},
		{strings.Repeat("x", 20), strings.Repeat("x", 15), strings.Repeat("x", 15)},
	} {
		var r Ifreq
		copy(r[:16], c.in)
		dev, label := r.Name()
		if dev != c.dev || label != c.label || r[15] != 0 {
			t.Errorf("%q: dev %q label %q, want %q %q", c.in, dev, label, c.dev, c.label)
		}
	}
}

func TestIfconfEntry(t *testing.T) {
	r := IfconfEntry("lo", netip.MustParseAddr("127.0.0.1"))
	want := append(append([]byte("lo"), make([]byte, 14)...), 2, 0, 0, 0, 127, 0, 0, 1)
	want = append(want, make([]byte, 16)...)
	if !bytes.Equal(r[:], want) {
		t.Errorf("entry %x, want %x", r[:], want)
	}
	if _, _, err := ParseIfconf(make([]byte, 15)); err != unix.EFAULT {
		t.Errorf("short ifconf: %v, want EFAULT", err)
	}
	tv := Timeval(1_500_000_123, true)
	if !bytes.Equal(tv[:], []byte{1, 0, 0, 0, 0, 0, 0, 0, 0x20, 0xa1, 0x07, 0, 0, 0, 0, 0}) {
		t.Errorf("timeval %x", tv)
	}
}

// FuzzIfreq: any 40 bytes parse without panic; the name is NUL-free,
// shorter than IFNAMSIZ, and a prefix of the label; encoders touch only
// their member of the union and read back what they wrote.
func FuzzIfreq(f *testing.F) {
	f.Add([]byte("eth0\x00garbage_after_nul"), uint32(0x1043), []byte{2, 0, 0, 0, 198, 18, 0, 2})
	f.Add([]byte("lo:alias:x\x00"), uint32(0x10049), []byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 40), uint32(0), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Fuzz(func(t *testing.T, in []byte, flags uint32, hw []byte) {
		var r Ifreq
		copy(r[:], in)
		orig := r
		dev, label := r.Name()
		if len(label) >= unix.IFNAMSIZ || strings.IndexByte(label, 0) >= 0 || !strings.HasPrefix(label, dev) || strings.Contains(dev, ":") {
			t.Fatalf("%x: dev %q label %q", in, dev, label)
		}
		if !bytes.Equal(r[:15], orig[:15]) || r[15] != 0 || !bytes.Equal(r[16:], orig[16:]) {
			t.Fatalf("Name changed more than ifr_name[15]: %x -> %x", orig, r)
		}
		r.SetFlags(flags)
		if uint32(r[16])|uint32(r[17])<<8 != flags&0xffff || !bytes.Equal(r[18:], orig[18:]) {
			t.Fatalf("SetFlags(%#x): %x", flags, r)
		}
		r.SetInt32(int32(flags))
		if r.Index() != int32(flags) {
			t.Fatalf("SetInt32/Index round trip %#x: %d", flags, r.Index())
		}
		a := netip.AddrFrom4([4]byte{byte(flags), byte(flags >> 8), 7, 9})
		r.SetAddr(a)
		if r.Addr() != a || r.AddrFamily() != unix.AF_INET || !bytes.Equal(r[32:], orig[32:]) {
			t.Fatalf("SetAddr(%v): %x", a, r)
		}
		r.SetHWAddr(uint16(flags), hw, len(hw))
		n := min(len(hw), sizeofIfrHwData)
		if r.AddrFamily() != uint16(flags) || !bytes.Equal(r[18:18+n], hw[:n]) || !bytes.Equal(r[32:], orig[32:]) {
			t.Fatalf("SetHWAddr(%x): %x", hw, r)
		}
		r.SetName(label)
		if d2, l2 := r.Name(); d2 != dev || l2 != label {
			t.Fatalf("SetName(%q) reads back %q %q", label, d2, l2)
		}
		if l, _, err := ParseIfconf(in); (err != nil) != (len(in) < SizeofIfconf) || err == nil && l != int32(uint32(in[0])|uint32(in[1])<<8|uint32(in[2])<<16|uint32(in[3])<<24) {
			t.Fatalf("ParseIfconf(%x) = %d, %v", in, l, err)
		}
	})
}
