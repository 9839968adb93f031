package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// fakeProgress renders progress into a buffer on a clock the test moves.
func fakeProgress(total int, tty, rows bool) (*progress, *bytes.Buffer, *time.Time) {
	var b bytes.Buffer
	clock := time.Unix(1000, 0)
	p := &progress{w: &b, total: total, tty: tty, rows: rows, width: 60, now: func() time.Time { return clock }}
	p.begin()
	return p, &b, &clock
}

// On a terminal: one status line with [k/N] and the ETA at the pace so
// far, redrawn in place and erased at the end; no row left behind when the
// report goes to the same terminal.
func TestProgressTerminal(t *testing.T) {
	p, b, clock := fakeProgress(4, true, false)
	*clock = clock.Add(10 * time.Second)
	fmt.Fprintf(p, "%-9s %s\n", "identical", "socket/types")
	if got, want := b.String(), "\r\033[K[0/4] ETA ?\r\033[K[1/4] ETA 30s  identical socket/types"; got != want {
		t.Errorf("after one row: %q, want %q", got, want)
	}
	*clock = clock.Add(10 * time.Second)
	fmt.Fprintf(p, "%-9s %s\n", "differ", "udp/a-rather-long-scenario-name-that-does-not-fit-in-sixty-columns")
	if last := b.String()[strings.LastIndex(b.String(), "\r\033[K")+4:]; last != "[2/4] ETA 20s  differ udp/a-rather-long-scenario-name-that-" || len(last) != 59 {
		t.Errorf("status line %q (%d columns), want it cut to 59", last, len(last))
	}
	p.finish()
	if !strings.HasSuffix(b.String(), "\r\033[K") || strings.Contains(b.String(), "\n") {
		t.Errorf("after finish: %q, want the status line erased and no line left", b.String())
	}
}

// stderr apart from the report: each row once there, with its count; on a
// terminal the status line stays below them.
func TestProgressRows(t *testing.T) {
	p, b, clock := fakeProgress(2, false, true)
	fmt.Fprint(p, "note: runsc ")
	fmt.Fprint(p, "is old\nidentical socket/types\n")
	*clock = clock.Add(time.Second)
	fmt.Fprintf(p, "%-9s %s\n", "expected", "udp/x")
	if got, want := b.String(), "note: runsc is old\n[1/2] identical socket/types\n[2/2] expected udp/x\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	p, b, _ = fakeProgress(2, true, true)
	fmt.Fprintln(p, "identical socket/types")
	p.finish()
	if got, want := b.String(), "\r\033[K[0/2] ETA ?\r\033[K[1/2] identical socket/types\n\r\033[K[1/2] ETA 0s\r\033[K"; got != want {
		t.Errorf("terminal with rows: %q, want %q", got, want)
	}
}

// stderr is where the report goes, not a terminal (2>&1 into a log): no
// rows (the report has them), a count line every 30 s and at the end.
func TestProgressSameFile(t *testing.T) {
	p, b, clock := fakeProgress(3, false, false)
	for i, d := range []time.Duration{10 * time.Second, 25 * time.Second, time.Second} {
		*clock = clock.Add(d)
		fmt.Fprintf(p, "identical s/%d\n", i)
	}
	if got, want := b.String(), "progress: [2/3] ETA 18s\nprogress: [3/3] done in 36s\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSameFile(t *testing.T) {
	var b bytes.Buffer
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g, err := os.Open(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if !sameFile(&b, &b) || sameFile(&b, &bytes.Buffer{}) || !sameFile(f, g) || sameFile(f, os.Stdin) || isTerminal(f) || isTerminal(&b) {
		t.Error("sameFile/isTerminal")
	}
}

// The report lists each scenario once when stdout and stderr are one
// place (each row came on stderr as progress and again in the report).
func TestConformanceRowsOnce(t *testing.T) {
	requireNetns(t)
	var out bytes.Buffer
	if code := run([]string{"conformance", "--run", "^socket/(types|bad-family)$"}, &out, &out); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	for _, name := range []string{"socket/types", "socket/bad-family"} {
		if n := strings.Count(out.String(), name); n != 1 {
			t.Errorf("%s appears %d times, want once:\n%s", name, n, out.String())
		}
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if last := lines[len(lines)-1]; last != "conformance: 2 scenarios, 2 identical, 0 differ" {
		t.Errorf("last line %q, want the summary", last)
	}
	if !strings.Contains(out.String(), "progress: [2/2] done in") {
		t.Errorf("no count line:\n%s", out.String())
	}
}
