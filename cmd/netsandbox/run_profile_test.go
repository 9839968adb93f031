package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The hidden profiling flags are taken out before the flags proper, in
// both spellings, and only before "--" (what follows is CMD's).
func TestProfileFlags(t *testing.T) {
	dir := t.TempDir()
	cpu, tr := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "run.trace")
	args := []string{"--mtu", "1500", "--cpuprofile", cpu, "--trace=" + tr, "--", "cmd", "--trace", "x"}
	stop := cpuProfile(&args)
	stop()
	if want := []string{"--mtu", "1500", "--", "cmd", "--trace", "x"}; !slices.Equal(args, want) {
		t.Errorf("args after cpuProfile = %q, want %q", args, want)
	}
	for _, f := range []string{cpu, tr} {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v (size %v), want a written profile", f, err, st)
		}
	}
	plain := []string{"--mtu", "9000", "--", "sh"}
	cpuProfile(&plain)()
	if !slices.Equal(plain, []string{"--mtu", "9000", "--", "sh"}) {
		t.Errorf("args without profiling flags changed: %q", plain)
	}
}
