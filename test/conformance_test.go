package test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"netsandbox/test/conformance"
	"netsandbox/test/harness"
)

// requireNetns skips (or, under NETSANDBOX_REQUIRE_NETNS=1, fails) when
// network namespaces cannot be created here.
func requireNetns(t *testing.T) {
	t.Helper()
	if err := conformance.Available(); err != nil {
		if os.Getenv("NETSANDBOX_REQUIRE_NETNS") == "1" {
			t.Fatalf("network namespaces required (NETSANDBOX_REQUIRE_NETNS=1): %v", err)
		}
		t.Skipf("skipping kernel-differential tests: %v (run as root with netns support; set NETSANDBOX_REQUIRE_NETNS=1 to make this fatal)", err)
	}
}

// TestConformance runs every scenario on a kernel DUT and on netsandbox
// and fails on any difference not listed as expected.
// NETSANDBOX_CONFORMANCE_RUN=REGEXP selects scenarios by name;
// NETSANDBOX_CONFORMANCE_DUT selects the compared DUT: netsandbox (the
// library, default), kernel (two kernels), runsc-netsandbox or runsc (an
// agent making the calls inside runsc --network=plugin or
// --network=sandbox; see harness.NewRunscDUT).
// NETSANDBOX_CONFORMANCE_AGAINST is the DUT's older name.
func TestConformance(t *testing.T) {
	requireNetns(t)
	dut := os.Getenv("NETSANDBOX_CONFORMANCE_DUT")
	if dut == "" {
		dut = os.Getenv("NETSANDBOX_CONFORMANCE_AGAINST")
	}
	if dut != "" && !slices.Contains(conformance.DUTs, dut) {
		t.Fatalf("NETSANDBOX_CONFORMANCE_DUT=%q: want one of %v", dut, conformance.DUTs)
	}
	opts := conformance.Options{Against: dut}
	if re := os.Getenv("NETSANDBOX_CONFORMANCE_RUN"); re != "" {
		opts.Run = regexp.MustCompile(re)
	}
	if testing.Verbose() {
		opts.Progress = os.Stderr
	}
	rep, err := conformance.RunAll(opts)
	if err != nil {
		t.Fatalf("RunAll: %v", err)
	}
	for _, row := range rep.Rows {
		row := row
		t.Run(row.Name, func(t *testing.T) {
			switch row.Status {
			case "differ":
				t.Errorf("differs from Linux:\n%s", row.Diff)
			case "expected":
				t.Logf("expected difference (%s):\n%s", row.Reason, row.Diff)
			}
		})
	}
	var sb strings.Builder
	rep.WriteText(&sb)
	lines := strings.Split(strings.TrimSpace(sb.String()), "\n")
	t.Log(lines[len(lines)-1])
	if opts.Run == nil && rep.N < 60 {
		t.Errorf("only %d scenarios ran, want at least 60", rep.N)
	}
	if rep.Differ > 0 {
		t.Errorf("%d scenarios differ from Linux", rep.Differ)
	}
	for _, n := range rep.Notes {
		if strings.Contains(n, "ip_forward") {
			t.Errorf("host knob: %s", n)
		}
	}
	t.Run("no-namespaces-left", func(t *testing.T) {
		left, err := harness.ListOurNetns(harness.RunPrefix())
		if err != nil {
			t.Fatal(err)
		}
		if len(left) > 0 {
			t.Errorf("namespaces left behind: %v", left)
		}
	})
}

// TestScenariosDeterministic runs every scenario on two kernel topologies:
// a scenario that differs between two kernels measures noise, not netsandbox.
// NETSANDBOX_CONFORMANCE_RUN=REGEXP selects scenarios by name.
func TestScenariosDeterministic(t *testing.T) {
	requireNetns(t)
	opts := conformance.Options{Against: "kernel"}
	if re := os.Getenv("NETSANDBOX_CONFORMANCE_RUN"); re != "" {
		opts.Run = regexp.MustCompile(re)
	}
	rep, err := conformance.RunAll(opts)
	if err != nil {
		t.Fatalf("RunAll: %v", err)
	}
	for _, row := range rep.Rows {
		if row.Status != "identical" {
			t.Errorf("%s is not deterministic on Linux:\n%s", row.Name, row.Diff)
		}
	}
	if (opts.Run == nil && rep.N < 60) || rep.Identical != rep.N {
		t.Errorf("%d of %d scenarios identical on two kernels", rep.Identical, rep.N)
	}
}
