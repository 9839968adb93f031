package options

import (
	"bytes"
	"testing"
)

// walked is what one walk yields: the options, their offsets, where it
// stopped and whether on a malformed option.
type walked struct {
	opts [][]byte
	offs []int
	stop int
	bad  bool
}

func walkAll(b []byte) walked {
	var w walked
	it := NewIPOptionIter(b)
	for opt, off, ok := it.Next(); ok; opt, off, ok = it.Next() {
		w.opts = append(w.opts, opt)
		w.offs = append(w.offs, off)
	}
	w.stop, w.bad = it.Offset(), it.Malformed()
	return w
}

func TestIPOptionIter(t *testing.T) {
	rows := []struct {
		name string
		in   []byte
		offs []int
		stop int
		bad  bool
	}{
		{"empty", nil, nil, 0, false},
		{"nops", []byte{1, 1, 1}, nil, 3, false},
		{"eol first", []byte{0, 7, 3}, nil, 0, false},
		{"ra then eol", []byte{0x94, 4, 0, 0, 1, 0, 9, 9}, []int{0}, 5, false},
		{"nop rr ts", []byte{1, 7, 7, 4, 0, 0, 0, 0, 0x44, 4, 5, 0}, []int{1, 8}, 12, false},
		{"type alone", []byte{1, 7}, nil, 1, true},
		{"length 1", []byte{7, 1, 0, 0}, nil, 0, true},
		{"length 0", []byte{0x44, 0}, nil, 0, true},
		{"too long", []byte{0x94, 4, 0, 0, 7, 9, 4}, []int{0}, 4, true},
		{"exact end", []byte{0x83, 3, 4}, []int{0}, 3, false},
	}
	for _, r := range rows {
		w := walkAll(r.in)
		if len(w.offs) != len(r.offs) || w.stop != r.stop || w.bad != r.bad {
			t.Errorf("%s: offsets %v stop %d malformed %v, want %v %d %v", r.name, w.offs, w.stop, w.bad, r.offs, r.stop, r.bad)
			continue
		}
		for i, off := range r.offs {
			if w.offs[i] != off || !bytes.Equal(w.opts[i], r.in[off:off+int(r.in[off+1])]) {
				t.Errorf("%s: option %d at %d = %x", r.name, i, w.offs[i], w.opts[i])
			}
		}
	}
}

func TestIPOptionIterAllocs(t *testing.T) {
	b := []byte{1, 7, 7, 4, 0, 0, 0, 0, 0x44, 8, 5, 0, 0, 0, 0, 0, 0x94, 4, 0, 0, 0}
	n := testing.AllocsPerRun(100, func() {
		it := NewIPOptionIter(b)
		for _, _, ok := it.Next(); ok; _, _, ok = it.Next() {
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per walk, want 0", n)
	}
}

// FuzzIPOptionIter checks every walk against the rules: the options come
// in order, each inside b with a length of at least 2 and a type other than
// EOL and NOP, only NOPs between them; the walk stops at EOL, at the end,
// or at an option whose length is wrong; and the body may be rewritten
// during the walk.
func FuzzIPOptionIter(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 1, 0, 7})
	f.Add([]byte{0x94, 4, 0, 0})
	f.Add([]byte{1, 7, 7, 4, 0, 0, 0, 0, 0x44, 8, 5, 0, 0, 0, 0, 0})
	f.Add([]byte{0x83, 7, 4, 10, 0, 0, 1, 0x89, 3})
	f.Add([]byte{7, 1})
	f.Add([]byte{7})
	f.Add([]byte{2, 4, 1, 1, 0x86, 6, 0, 0, 0, 0, 0x44, 40})
	f.Fuzz(func(t *testing.T, b []byte) {
		w := walkAll(b)
		at := 0
		for i, opt := range w.opts {
			off := w.offs[i]
			for ; at < off; at++ {
				if b[at] != IPOptNop {
					t.Fatalf("%x: byte %d skipped is %d, not NOP", b, at, b[at])
				}
			}
			if opt[0] == IPOptEnd || opt[0] == IPOptNop || len(opt) < 2 || int(opt[1]) != len(opt) || off+len(opt) > len(b) || &opt[0] != &b[off] {
				t.Fatalf("%x: option %x at %d", b, opt, off)
			}
			at = off + len(opt)
		}
		for ; at < w.stop; at++ {
			if b[at] != IPOptNop {
				t.Fatalf("%x: byte %d skipped is %d, not NOP", b, at, b[at])
			}
		}
		switch {
		case w.bad:
			if w.stop >= len(b) || b[w.stop] <= IPOptNop || (w.stop+1 < len(b) && b[w.stop+1] >= 2 && w.stop+int(b[w.stop+1]) <= len(b)) {
				t.Fatalf("%x: malformed at %d", b, w.stop)
			}
		case w.stop < len(b):
			if b[w.stop] != IPOptEnd {
				t.Fatalf("%x: stopped at %d on %d", b, w.stop, b[w.stop])
			}
		case w.stop != len(b):
			t.Fatalf("%x: stopped at %d past the end", b, w.stop)
		}
		// Rewriting bodies, as compileOne and fragmentOptions do, leaves
		// the walk as it was.
		c := append([]byte(nil), b...)
		it := NewIPOptionIter(c)
		for opt, _, ok := it.Next(); ok; opt, _, ok = it.Next() {
			for j := 2; j < len(opt); j++ {
				opt[j] = ^opt[j]
			}
		}
		if it.Offset() != w.stop || it.Malformed() != w.bad {
			t.Fatalf("%x: rewriting bodies moved the walk", b)
		}
	})
}
