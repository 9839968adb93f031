package conformance

import (
	"os"
	"regexp"
	"testing"
)

// TestFreeBSD runs the FreeBSD ip(4) group (NETSANDBOX_FREEBSD_RUN=REGEXP
// selects scenarios) and fails on any row that differs from FreeBSD's
// source or, where a Linux equivalent runs, from the kernel's wire.
func TestFreeBSD(t *testing.T) {
	if err := Available(); err != nil {
		if os.Getenv("NETSANDBOX_REQUIRE_NETNS") == "1" {
			t.Fatalf("network namespaces required (NETSANDBOX_REQUIRE_NETNS=1): %v", err)
		}
		t.Skipf("needs root and network namespaces: %v", err)
	}
	var run *regexp.Regexp
	if re := os.Getenv("NETSANDBOX_FREEBSD_RUN"); re != "" {
		run = regexp.MustCompile(re)
	}
	rep, err := RunFreeBSD(run, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.N == 0 {
		t.Fatal("no FreeBSD scenario ran")
	}
	for _, row := range rep.Rows {
		if row.Status != "identical" {
			t.Errorf("%s:\n%s", row.Name, row.Diff)
		}
	}
}
