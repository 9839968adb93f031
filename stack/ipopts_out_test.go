package stack

import (
	"bytes"
	"testing"

	"netsandbox/options"
)

func TestFragmentOptions(t *testing.T) {
	// Record route and timestamp become NOPs; router alert and a loose
	// source route (copy bit set) stay; EOL ends the walk.
	in := []byte{7, 7, 4, 1, 2, 3, 4, 0x94, 4, 0, 0, 0x83, 7, 4, 5, 6, 7, 8, 0x44, 8, 5, 0, 9, 9, 9, 9, 0, 7}
	want := []byte{1, 1, 1, 1, 1, 1, 1, 0x94, 4, 0, 0, 0x83, 7, 4, 5, 6, 7, 8, 1, 1, 1, 1, 1, 1, 1, 1, 0, 7}
	fragmentOptions(in)
	if !bytes.Equal(in, want) {
		t.Errorf("fragmentOptions = %x, want %x", in, want)
	}
	bad := []byte{7, 9, 4, 0}
	fragmentOptions(bad) // a length past the end stops the walk
	if !bytes.Equal(bad, []byte{7, 9, 4, 0}) {
		t.Errorf("malformed options changed: %x", bad)
	}
}

func TestStrictRoute(t *testing.T) {
	for _, c := range []struct {
		data []byte
		want bool
	}{
		{[]byte{0x89, 7, 4, 0, 0, 0, 0, 0}, true},
		{[]byte{1, 0x89, 7, 4, 0, 0, 0, 0}, true},
		{[]byte{0x83, 7, 4, 0, 0, 0, 0, 0}, false},
		{[]byte{0, 0x89, 7, 4}, false},
		{[]byte{7, 1}, false},
	} {
		if got := strictRoute(&options.IPOptions{Data: c.data}); got != c.want {
			t.Errorf("strictRoute(%x) = %v, want %v", c.data, got, c.want)
		}
	}
}

func TestSYNMSSOption(t *testing.T) {
	for _, c := range []struct {
		opts []byte
		mss  int
		ok   bool
	}{
		{[]byte{2, 4, 5, 0xb4}, 1460, true},
		{[]byte{1, 1, 4, 2, 2, 4, 2, 0x18}, 536, true},
		{[]byte{0, 2, 4, 5, 0xb4}, 0, false},
		{[]byte{3, 3, 7, 2, 4, 5}, 0, false},
		{[]byte{3, 1}, 0, false},
	} {
		mss, ok := synMSSOption(c.opts)
		if mss != c.mss || ok != c.ok {
			t.Errorf("synMSSOption(%x) = %d, %v; want %d, %v", c.opts, mss, ok, c.mss, c.ok)
		}
	}
}
