package options

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func noUnicast(netip.Addr) bool { return false }

func TestCompileIPOptions(t *testing.T) {
	src := netip.MustParseAddr("198.18.0.2")
	dst := netip.MustParseAddr("198.19.0.3")
	for _, c := range []struct {
		name       string
		in         []byte
		raw        bool
		err        error
		user, wire []byte
		firstHop   string
	}{
		{name: "empty", in: nil},
		{name: "nops padded", in: []byte{1, 1, 1}, user: []byte{1, 1, 1, 0}, wire: []byte{1, 1, 1, 0}},
		{name: "after EOL all EOL", in: []byte{0, 1, 1, 1}, user: []byte{0, 0, 0, 0}, wire: []byte{0, 0, 0, 0}},
		{name: "record route", in: []byte{7, 7, 4, 0, 0, 0, 0, 0},
			user: []byte{7, 7, 4, 0, 0, 0, 0, 0}, wire: []byte{7, 7, 8, 198, 18, 0, 2, 0}},
		{name: "router alert", in: []byte{0x94, 4, 0, 0}, user: []byte{0x94, 4, 0, 0}, wire: []byte{0x94, 4, 0, 0}},
		{name: "lsrr", in: []byte{0x83, 11, 4, 10, 0, 0, 1, 10, 0, 0, 2},
			user: []byte{0x83, 11, 4, 10, 0, 0, 1, 10, 0, 0, 2, 0}, wire: []byte{0x83, 11, 4, 10, 0, 0, 2, 198, 19, 0, 3, 0},
			firstHop: "10.0.0.1"},
		{name: "lsrr pointer not 4", in: []byte{0x83, 7, 8, 1, 2, 3, 4}, err: unix.EINVAL},
		{name: "two source routes", in: []byte{0x83, 7, 4, 1, 2, 3, 4, 0x89, 7, 4, 1, 2, 3, 4}, err: unix.EINVAL},
		{name: "truncated", in: []byte{7, 2}, err: unix.EINVAL},
		{name: "length past end", in: []byte{7, 9, 4, 0}, err: unix.EINVAL},
		{name: "too long", in: make([]byte, 41), err: unix.EINVAL},
		{name: "unknown needs CAP_NET_RAW", in: []byte{0x82, 4, 0, 0}, err: unix.EINVAL},
		{name: "unknown with CAP_NET_RAW", in: []byte{0x82, 4, 0, 0}, raw: true, user: []byte{0x82, 4, 0, 0}, wire: []byte{0x82, 4, 0, 0}},
		{name: "timestamp only", in: []byte{0x44, 8, 5, 0, 0, 0, 0, 0}, user: []byte{0x44, 8, 5, 0, 0, 0, 0, 0}},
		{name: "timestamp full overflow 15", in: []byte{0x44, 4, 5, 0xf0}, err: unix.EINVAL},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, err := CompileIPOptions(c.in, c.raw, noUnicast)
			if !errors.Is(err, c.err) || (err != nil) != (c.err != nil) {
				t.Fatalf("err %v, want %v", err, c.err)
			}
			if err != nil {
				return
			}
			if got := o.User(); !bytes.Equal(got, c.user) {
				t.Errorf("User() = %x, want %x", got, c.user)
			}
			if c.firstHop != "" && o.FirstHop != netip.MustParseAddr(c.firstHop) {
				t.Errorf("FirstHop = %v, want %s", o.FirstHop, c.firstHop)
			}
			if c.wire != nil {
				w := make([]byte, o.Len())
				o.Build(w, dst, src, time.Unix(0, 0))
				if !bytes.Equal(w, c.wire) {
					t.Errorf("Build = %x, want %x", w, c.wire)
				}
			}
		})
	}
}

func TestIPOptionsTimestampBuild(t *testing.T) {
	o, err := CompileIPOptions([]byte{0x44, 12, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0}, false, noUnicast)
	if err != nil {
		t.Fatal(err)
	}
	w := make([]byte, o.Len())
	o.Build(w, netip.MustParseAddr("1.2.3.4"), netip.MustParseAddr("5.6.7.8"), time.Unix(86400+2, 5e6))
	want := []byte{0x44, 12, 13, 1, 5, 6, 7, 8, 0, 0, 0x07, 0xd5}
	if !bytes.Equal(w, want) {
		t.Errorf("Build = %x, want %x", w, want)
	}
	if u := o.User(); !bytes.Equal(u, []byte{0x44, 12, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("User() = %x", u)
	}
}

func FuzzCompileIPOptions(f *testing.F) {
	f.Add([]byte{7, 7, 4, 0, 0, 0, 0}, false)
	f.Add([]byte{0x83, 11, 4, 10, 0, 0, 1, 10, 0, 0, 2}, true)
	f.Add([]byte{0x44, 12, 5, 3, 1, 2, 3, 4, 0, 0, 0, 0}, false)
	f.Fuzz(func(t *testing.T, b []byte, raw bool) {
		o, err := CompileIPOptions(b, raw, noUnicast)
		if err != nil {
			return
		}
		if o == nil {
			if len(b) != 0 {
				t.Fatal("nil options for non-empty input")
			}
			return
		}
		if o.Len()%4 != 0 || o.Len() > 40 {
			t.Fatalf("bad length %d", o.Len())
		}
		if u := o.User(); len(u) != o.Len() {
			t.Fatalf("User() length %d != %d", len(u), o.Len())
		}
		w := make([]byte, o.Len())
		o.Build(w, netip.MustParseAddr("1.2.3.4"), netip.MustParseAddr("5.6.7.8"), time.Now())
	})
}
