// Package conformance runs the kernel-differential scenarios: the entry
// point for `netsandbox conformance` and for the go test driver.
package conformance

import (
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

// Available reports why namespaces cannot be made here, or nil.
func Available() error { return harness.Available() }
