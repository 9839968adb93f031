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

// RunAll runs every scenario selected by opts on a kernel DUT and on the
// compared DUT (netsandbox unless opts.Against says "kernel") and returns
// the report. It needs root and network namespaces.
func RunAll(opts Options) (Report, error) {
	return harness.RunScenarios(scenarios.All(), scenarios.Expected, opts)
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
