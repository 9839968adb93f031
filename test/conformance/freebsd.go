package conformance

import (
	"fmt"
	"io"
	"regexp"

	"netsandbox/test/harness"
	"netsandbox/test/scenarios"
)

// RunFreeBSD runs the FreeBSD ip(4) group selected by run (all for nil):
// each scenario on a netsandbox DUT with FreeBSD-personality sockets,
// checked against the record FreeBSD's source gives, and its Linux
// equivalent on a kernel DUT, whose wire observations must match. progress,
// if not nil, gets one line per scenario as it finishes.
func RunFreeBSD(run *regexp.Regexp, progress io.Writer) (Report, error) {
	var pf func(harness.Row)
	if progress != nil {
		pf = func(r harness.Row) { fmt.Fprintf(progress, "%-9s %s\n", r.Status, r.Name) }
	}
	return harness.RunFreeBSD(scenarios.FreeBSD(), run, pf, 0)
}

// FreeBSDNames lists the FreeBSD scenarios run selects, in order.
func FreeBSDNames(run *regexp.Regexp) []string {
	var names []string
	for _, sc := range scenarios.FreeBSD() {
		if run == nil || run.MatchString(sc.Name) {
			names = append(names, sc.Name)
		}
	}
	return names
}
