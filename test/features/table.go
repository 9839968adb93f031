package features

import (
	"fmt"
	"regexp"
	"strings"
)

// Status of one row given the registered scenario names. Patterns are written
// in the spelling of the option names (IP_TTL); scenario names are matched in
// that spelling too ("sockopt/so-rcvbuf-udp" reads as "SOCKOPT/SO_RCVBUF_UDP").
// Scenarios that only read a default value ("*/default/*") pin no behaviour and
// do not count.
func (f Feature) Status(scenarios []string) (works bool, count int) {
	if f.Covers == "" {
		return false, 0
	}
	re := regexp.MustCompile(f.Covers)
	for _, s := range scenarios {
		if strings.Contains(s, "/default/") {
			continue
		}
		if re.MatchString(strings.ToUpper(strings.ReplaceAll(s, "-", "_"))) {
			count++
		}
	}
	return count > 0, count
}

// Markdown renders the feature table for README.md from the scenario names:
// linux are the kernel-differential scenarios, freebsd the FreeBSD group's
// (pinned to FreeBSD's source). FreeBSD rows count only the FreeBSD group,
// the other rows only the kernel-differential scenarios.
func Markdown(linux, freebsd []string) string {
	var b strings.Builder
	works := 0
	b.WriteString("| kind | name | status | scenarios | note |\n| --- | --- | --- | --- | --- |\n")
	for _, f := range Catalog {
		names, pinned := linux, "works, tested against the kernel"
		if f.Kind == BSDOption {
			names, pinned = freebsd, "works, pinned to FreeBSD source"
		}
		ok, n := f.Status(names)
		status := "missing"
		if ok {
			status = pinned
			works++
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %d | %s |\n", f.Kind, f.Name, status, n, f.Note)
	}
	fmt.Fprintf(&b, "\n%d of %d rows work; %d scenarios in all, and %d FreeBSD scenarios pinned to FreeBSD source.\n", works, len(Catalog), len(linux), len(freebsd))
	return b.String()
}

const (
	beginMarker = "<!-- features:begin -->\n"
	endMarker   = "<!-- features:end -->"
)

// Splice replaces the table between the markers of readme.
func Splice(readme, table string) (string, error) {
	i := strings.Index(readme, beginMarker)
	j := strings.Index(readme, endMarker)
	if i < 0 || j < i {
		return "", fmt.Errorf("README.md has no %q ... %q markers", strings.TrimSpace(beginMarker), endMarker)
	}
	return readme[:i+len(beginMarker)] + table + readme[j:], nil
}
