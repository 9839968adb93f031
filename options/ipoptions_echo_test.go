package options

import (
	"bytes"
	"net/netip"
	"testing"
	"time"
)

func TestEchoIPOptions(t *testing.T) {
	src := netip.MustParseAddr("198.18.0.1")   // the SYN's sender
	local := netip.MustParseAddr("198.18.0.2") // this host
	now := time.Date(2026, 1, 2, 0, 0, 1, 0, time.UTC)
	for _, c := range []struct {
		name       string
		in         []byte
		none, bad  bool
		user, wire []byte
		firstHop   string
	}{
		{name: "no options", in: nil, none: true},
		{name: "router alert is not echoed", in: []byte{0x94, 4, 0, 0}, none: true},
		{name: "record route filled here, full",
			in:   []byte{7, 11, 8, 198, 18, 0, 1, 0, 0, 0, 0, 0},
			user: []byte{7, 11, 12, 198, 18, 0, 1, 198, 18, 0, 2, 0},
			wire: []byte{7, 11, 12, 198, 18, 0, 1, 198, 18, 0, 2, 0}},
		{name: "record route with room for the reply",
			in:   []byte{7, 15, 8, 198, 18, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0},
			user: []byte{7, 15, 12, 198, 18, 0, 1, 198, 18, 0, 2, 0, 0, 0, 0, 0},
			wire: []byte{7, 15, 16, 198, 18, 0, 1, 198, 18, 0, 2, 198, 18, 0, 2, 0}},
		{name: "timestamps, full after this host",
			in:   []byte{0x44, 12, 9, 0, 0, 0, 0, 7, 0, 0, 0, 0},
			user: []byte{0x44, 12, 13, 0, 0, 0, 0, 7, 0, 0, 3, 0xe8},
			wire: []byte{0x44, 12, 13, 0, 0, 0, 0, 7, 0, 0, 3, 0xe8}},
		{name: "loose source route reversed",
			in:   []byte{0x83, 11, 12, 10, 0, 0, 1, 10, 0, 0, 2, 0},
			user: []byte{0x83, 11, 4, 10, 0, 0, 2, 10, 0, 0, 1, 0},
			wire: []byte{0x83, 11, 4, 10, 0, 0, 1, 198, 18, 0, 1, 0}, firstHop: "10.0.0.2"},
		{name: "source route recording only the sender",
			in: []byte{0x83, 7, 8, 198, 18, 0, 1, 0}, none: true},
		{name: "malformed", in: []byte{7, 2, 0, 0}, bad: true},
		{name: "record route pointer below 4", in: []byte{7, 7, 3, 0, 0, 0, 0, 0}, bad: true},
	} {
		o, err := EchoIPOptions(c.in, src, local, now, noUnicast)
		if c.bad {
			if err == nil {
				t.Errorf("%s: no error", c.name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if c.none {
			if o != nil {
				t.Errorf("%s: got %x, want none", c.name, o.Data)
			}
			continue
		}
		if o == nil {
			t.Errorf("%s: no options", c.name)
			continue
		}
		if u := o.User(); !bytes.Equal(u, c.user) {
			t.Errorf("%s: User() = %x, want %x", c.name, u, c.user)
		}
		w := make([]byte, o.Len())
		o.Build(w, src, local, now)
		if !bytes.Equal(w, c.wire) {
			t.Errorf("%s: Build = %x, want %x", c.name, w, c.wire)
		}
		if got := o.FirstHop.String(); c.firstHop != "" && got != c.firstHop {
			t.Errorf("%s: FirstHop = %s, want %s", c.name, got, c.firstHop)
		}
	}
}

func FuzzEchoIPOptions(f *testing.F) {
	f.Add([]byte{7, 15, 8, 198, 18, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x44, 20, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x44, 12, 5, 3, 198, 18, 0, 2, 0, 0, 0, 0})
	f.Add([]byte{0x83, 11, 12, 10, 0, 0, 1, 10, 0, 0, 2, 0})
	f.Add([]byte{0x89, 15, 16, 10, 0, 0, 1, 10, 0, 0, 2, 198, 18, 0, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		src := netip.MustParseAddr("198.18.0.1")
		local := netip.MustParseAddr("198.18.0.2")
		in := append([]byte(nil), b...)
		o, err := EchoIPOptions(b, src, local, time.Now(), func(a netip.Addr) bool { return a != local })
		if !bytes.Equal(in, b) {
			t.Fatal("input modified")
		}
		if err != nil || o == nil {
			return
		}
		if o.Len()%4 != 0 || o.Len() > 40 || o.Len() == 0 {
			t.Fatalf("bad length %d", o.Len())
		}
		if u := o.User(); len(u) != o.Len() {
			t.Fatalf("User() length %d != %d", len(u), o.Len())
		}
		w := make([]byte, o.Len())
		o.Build(w, src, local, time.Now())
	})
}
