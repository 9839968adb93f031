package gateway

import (
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// TestOptionWalks pins what admit reads in IP options, malformed ones
// above all: whether they hold a source route, and the offset of the byte
// a parameter problem points at (gVisor's processIPOptions rules).
func TestOptionWalks(t *testing.T) {
	rows := []struct {
		name   string
		opts   []byte
		routed bool
		ptr    int
		bad    bool
	}{
		{"none", nil, false, 0, false},
		{"nops", []byte{1, 1, 1, 1}, false, 0, false},
		{"eol then junk", []byte{0, 131, 1, 0}, false, 0, false},
		{"lsrr", []byte{131, 7, 4, 1, 2, 3, 4, 1}, true, 0, false},
		{"ssrr after nop", []byte{1, 137, 7, 4, 1, 2, 3, 4}, true, 0, false},
		{"lsrr length 1", []byte{131, 1, 0, 0}, true, 0, true},
		{"lsrr type alone", []byte{1, 1, 1, 131}, true, 3, true},
		{"lsrr too long", []byte{131, 9, 4, 0}, true, 0, true},
		{"lsrr after bad length", []byte{7, 1, 131, 3}, false, 0, true},
		{"lsrr after overlong", []byte{68, 40, 131, 3}, false, 0, true},
		{"type alone", []byte{1, 1, 1, 7}, false, 3, true},
		{"length 0", []byte{1, 148, 0, 0}, false, 1, true},
		{"rr short", []byte{7, 2, 0, 0}, false, 1, true},
		{"rr no room", []byte{7, 3, 4, 0}, false, 1, true},
		{"rr pointer low", []byte{7, 7, 3, 0, 0, 0, 0, 0}, false, 2, true},
		{"rr pointer mid", []byte{7, 7, 6, 0, 0, 0, 0, 0}, false, 2, true},
		{"rr full", []byte{7, 7, 8, 0, 0, 0, 0, 0}, false, 0, false},
		{"ts short", []byte{1, 68, 3, 5}, false, 2, true},
		{"ts bad flag", []byte{68, 8, 5, 2, 0, 0, 0, 0}, false, 3, true},
		{"ts pointer low", []byte{68, 8, 4, 0, 0, 0, 0, 0}, false, 2, true},
		{"ts entry past end", []byte{68, 8, 5, 1, 0, 0, 0, 0}, false, 2, true},
		{"ts full wrapped", []byte{68, 8, 9, 0xf0, 0, 0, 0, 0}, false, 3, true},
		{"ts full", []byte{68, 8, 9, 0x10, 0, 0, 0, 0}, false, 0, false},
		{"ra length 3", []byte{148, 3, 0, 0}, false, 1, true},
		{"ra value", []byte{148, 4, 0, 1}, false, 2, true},
		{"experiment length", []byte{30, 3, 0, 0}, false, 1, true},
		{"repeat", []byte{148, 4, 0, 0, 148, 4, 0, 0}, false, 4, true},
		{"unknown", []byte{25, 4, 9, 9}, false, 0, false},
	}
	for _, r := range rows {
		opts := header.IPv4Options(r.opts)
		if got := (*Gateway)(nil).sourceRouted(opts); got != r.routed {
			t.Errorf("%s % x: sourceRouted = %v, want %v", r.name, r.opts, got, r.routed)
		}
		if ptr, bad := optionProblem(opts); ptr != r.ptr || bad != r.bad {
			t.Errorf("%s % x: optionProblem = %d, %v, want %d, %v", r.name, r.opts, ptr, bad, r.ptr, r.bad)
		}
	}
}
