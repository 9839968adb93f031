package main

import (
	"errors"
	"io"
	"testing"
)

// Bad command lines are usage errors with a hint, never a run.
func TestTracepathUsageErrors(t *testing.T) {
	link := []string{"--link", "iface:eth0", "--addr", "198.18.0.2/24"}
	for _, args := range [][]string{
		{"198.19.0.2"},                                   // no --link
		append(link[:2:2], "198.19.0.2"),                 // no --addr
		append([]string{}, link...),                      // no destination
		append(append([]string{}, link...), "a", "b"),    // two destinations
		append(append([]string{}, link...), "example"),   // a name
		append(append([]string{}, link...), "::1"),       // not IPv4
		append(append([]string{}, link...), "1.2.3.4/x"), // bad port
		append(append([]string{}, link...), "1.2.3.4/70000"),
		append(append([]string{}, link...), "-l", "28", "1.2.3.4"),
		append(append([]string{}, link...), "-l", "65536", "1.2.3.4"),
		append(append([]string{}, link...), "-m", "0", "1.2.3.4"),
		append(append([]string{}, link...), "--wait", "0s", "1.2.3.4"),
	} {
		var ue usageError
		if _, err := parseTracepath(args, io.Discard); !errors.As(err, &ue) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
	c, err := parseTracepath(append(append([]string{}, link...), "-n", "-l", "1400", "198.19.0.2/33434"), io.Discard)
	if err != nil || !c.numeric || c.length != 1400 || c.port != 33434 || c.dest.String() != "198.19.0.2" || c.maxHops != 30 {
		t.Errorf("good command line: %+v %v", c, err)
	}
	if c, err := parseTracepath(append(append([]string{}, link...), "198.19.0.2"), io.Discard); err != nil || c.port != 44444 || c.length != 65535 {
		t.Errorf("defaults: %+v %v", c, err)
	}
}
