package main

import (
	"errors"
	"strings"
	"testing"
)

func TestApplyNeedsExactlyOneMatch(t *testing.T) {
	m := mutation{Name: "m", File: "f.go", Find: "a := 1", Repl: "a := 2"}
	got, err := apply(m, []byte("x\na := 1\ny\n"))
	if err != nil || string(got) != "x\na := 2\ny\n" {
		t.Errorf("one match: %q, %v", got, err)
	}
	for _, text := range []string{"x\n", "a := 1\na := 1\n"} {
		if _, err := apply(m, []byte(text)); err == nil {
			t.Errorf("%q: applied, want an error", text)
		}
	}
}

// TestMutationsApply checks the list against the working tree: every
// mutation's code is there exactly once (what -list checks too).
func TestMutationsApply(t *testing.T) {
	repo, err := gitOutput("", "rev-parse", "--show-toplevel")
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	if err := checkAll(source{repo: strings.TrimSpace(repo)}); err != nil {
		t.Error(err)
	}
}

func TestClassify(t *testing.T) {
	const (
		caught = "=== RUN   TestConformance\n    conformance_test.go:56: conformance: 8 scenarios, 7 identical, 1 differ\n" +
			"--- FAIL: TestConformance (3.1s)\n    --- FAIL: TestConformance/pmtu/learn-below-min (0.00s)\n" +
			"    --- PASS: TestConformance/pmtu/learn-1000-modes (0.00s)\n    --- PASS: TestConformance/no-namespaces-left (0.00s)\nFAIL\n"
		passed  = "    conformance_test.go:56: conformance: 8 scenarios, 8 identical, 0 differ\n--- PASS: TestConformance (3.1s)\nok\n"
		none    = "    conformance_test.go:56: conformance: 0 scenarios, 0 identical, 0 differ\n--- PASS: TestConformance (0.1s)\nok\n"
		noBuild = "# netsandbox/stack\nstack/pmtu.go:93:5: syntax error\nFAIL\tnetsandbox/test [build failed]\n"
		leaked  = "    conformance_test.go:56: conformance: 8 scenarios, 8 identical, 0 differ\n" +
			"    --- FAIL: TestConformance/no-namespaces-left (0.00s)\nFAIL\n"
	)
	failed := errors.New("exit status 1")
	for _, c := range []struct {
		name, out string
		err       error
		timedOut  bool
		want      string
	}{
		{"caught", caught, failed, false, "caught"},
		{"passed", passed, nil, false, "MISSED"},
		{"no scenario", none, nil, false, "broken"},
		{"build failed", noBuild, failed, false, "broken"},
		{"namespace left, nothing differs", leaked, failed, false, "broken"},
		{"timed out", caught, failed, true, "broken"},
	} {
		r := classify(result{n: -1}, run{out: []byte(c.out), err: c.err, timedOut: c.timedOut})
		if r.verdict != c.want {
			t.Errorf("%s: verdict %s (%s), want %s", c.name, r.verdict, r.detail, c.want)
		}
		if c.want == "caught" && strings.Join(r.caught, ",") != "pmtu/learn-below-min" {
			t.Errorf("%s: caught by %q", c.name, r.caught)
		}
	}
}
