// Package conformance runs the kernel-differential scenarios: the entry
// point for `netsandbox conformance` and for the go test driver.
package conformance

import (
	"regexp"

	"netsandbox/test/harness"
	"netsandbox/test/scenarios"
)

type (
	Options = harness.Options
	Report  = harness.Report
	Row     = harness.Row
)

// DUTs are the implementations a run can compare with the kernel.
var DUTs = []string{"netsandbox", "kernel", "runsc-netsandbox", "runsc"}

// RunAll runs every scenario selected by opts on a kernel DUT and on the
// compared DUT (opts.Against, netsandbox by default) and returns the
// report. It needs root and network namespaces; the runsc DUTs also build
// runsc-netsandbox and the agent (or take them from harness.EnvRunscBin
// and harness.EnvAgentBin).
func RunAll(opts Options) (Report, error) {
	return harness.RunScenarios(scenarios.All(), ExpectedFor(opts.Against), opts)
}

// ExpectedFor is the expected-difference list of a DUT: the library's for
// netsandbox; for runsc-netsandbox the library's plus the sentry's
// plumbing (SentryExpected); none for stock runsc, whose every difference
// is counted (it is the anchor, not ours to excuse).
func ExpectedFor(dut string) map[string]string {
	switch dut {
	case "runsc":
		return nil
	case "runsc-netsandbox":
		m := map[string]string{}
		for k, v := range scenarios.Expected {
			m[k] = v
		}
		for k, v := range SentryExpected {
			m[k] = v
		}
		return m
	}
	return scenarios.Expected
}

// Names lists the scenarios run selects (all of them for nil), in order.
func Names(run *regexp.Regexp) []string {
	var names []string
	for _, sc := range scenarios.All() {
		if run == nil || run.MatchString(sc.Name) {
			names = append(names, sc.Name)
		}
	}
	return names
}

// Available reports why namespaces cannot be made here, or nil.
func Available() error { return harness.Available() }
