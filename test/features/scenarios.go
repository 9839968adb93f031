package features

import (
	"netsandbox/test/scenarios"
)

// PinnedScenarios are the scenario names that count for the table: every
// registered scenario except those whose difference from Linux is expected
// (an expected difference pins nothing). CI fails on any other difference, so
// on a green CI each of these is identical on the kernel and on netsandbox.
func PinnedScenarios() []string {
	var names []string
	for _, s := range scenarios.All() {
		if _, expected := scenarios.Expected[s.Name]; !expected {
			names = append(names, s.Name)
		}
	}
	return names
}

// FreeBSDScenarios are the FreeBSD group's names (scenarios.FreeBSD()): each
// is checked against FreeBSD's source and, where Linux has the equivalent,
// against the kernel's wire; CI fails on any that differs.
func FreeBSDScenarios() []string {
	var names []string
	for _, s := range scenarios.FreeBSD() {
		names = append(names, s.Name)
	}
	return names
}
