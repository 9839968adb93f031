package options

// IPOptionIter steps through IPv4 options (RFC 791 section 3.1) the way
// Linux's ip_options_compile reads them: End of Option List (type 0) ends
// the list, No Operation (type 1) is one byte to skip, and every other
// option is a type byte, a length byte that counts both, then its body.
// TCP options (RFC 9293 section 3.1) have the same layout, so the iterator
// walks them too. It does not allocate and never reads outside b.
//
//	it := options.NewIPOptionIter(b)
//	for opt, off, ok := it.Next(); ok; opt, off, ok = it.Next() {
//		// opt[0] is the type, opt[1] == len(opt), off its offset in b
//	}
//	if it.Malformed() { ... }
type IPOptionIter struct {
	b   []byte
	off int
	bad bool
}

// NewIPOptionIter returns an iterator over the options in b.
func NewIPOptionIter(b []byte) IPOptionIter { return IPOptionIter{b: b} }

// Next returns the next option that is not a No Operation: its bytes, type
// and length included, and its offset in b. Changing the option's body in
// place does not disturb the walk. ok is false once the walk is over: at
// End of Option List, at the end of b, or at a malformed option (its
// length byte missing, below 2, or reaching past the end of b), which
// Malformed then reports.
func (it *IPOptionIter) Next() (opt []byte, off int, ok bool) {
	for it.off < len(it.b) {
		switch it.b[it.off] {
		case IPOptEnd:
			return nil, it.off, false
		case IPOptNop:
			it.off++
			continue
		}
		rest := len(it.b) - it.off
		if rest < 2 {
			it.bad = true
			return nil, it.off, false
		}
		n := int(it.b[it.off+1])
		if n < 2 || n > rest {
			it.bad = true
			return nil, it.off, false
		}
		off = it.off
		it.off += n
		return it.b[off:it.off], off, true
	}
	return nil, it.off, false
}

// Malformed tells whether the walk stopped at a malformed option.
func (it *IPOptionIter) Malformed() bool { return it.bad }

// Offset is where the walk stands: once it is over, the offset of the End
// of Option List, of the malformed option, or len(b).
func (it *IPOptionIter) Offset() int { return it.off }
