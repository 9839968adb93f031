package fuzz

import (
	"strings"
	"testing"
)

// TestCallSeedsDecode shows that the seeds decode into the calls they were
// written for and reach the states they aim at (a datagram received, a
// connection accepted and read).
func TestCallSeedsDecode(t *testing.T) {
	want := [][]string{
		{"bind(s0, 020013887f000001", "connect(s1, 020013887f000001", "sendmsg(s1, 100 bytes, oob , to , 0x40) = ok",
			"recvmsg(s0, 2048, 256, 0x40) = ok"},
		{"listen(s0, 8) = ok", "connect(s1, 020000507f000001", "accept(s0, 0x800) = ok", "recvmsg(s2, 2048, 256, 0x40) = ok"},
		{"socket(2, 0x803, 1) = ok", "socket(2, 0x802, 1) = ok", "IP_HDRINCL"},
		{"connect(s0, 02000007c6120001", "connect(s1, 02000050c6120001", "EALREADY"},
		{"SO_RCVBUF", "IP_TTL", "SO_REUSEADDR", "bind(s0, 020013897f000001"},
		{"socket(10, 0x802, 0) = ok", "socket(10, 0x801, 0) = ok", "bind(s0, 0200138a7f0000010000000000000000) = EINVAL"},
	}
	seeds := callSeeds()
	if len(seeds) != len(want) {
		t.Fatalf("%d seeds, %d expectations", len(seeds), len(want))
	}
	for i, seed := range seeds {
		s, ch := newStack(t.Fatalf)
		c := newCallRunner(s, t.Fatalf)
		r := &byteReader{b: seed}
		for n := 0; n < maxCalls && !r.empty(); n++ {
			c.step(r)
			c.invariants()
			drainWire(ch)
		}
		for _, so := range c.socks {
			so.Close()
		}
		s.Close()
		trace := strings.Join(c.trace, "\n")
		for _, w := range want[i] {
			if !strings.Contains(trace, w) {
				t.Errorf("seed %d: no %q in its calls:\n%s", i, w, trace)
			}
		}
	}
}
