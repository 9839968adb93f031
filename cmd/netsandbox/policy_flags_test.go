package main

import (
	"bytes"
	"net/netip"
	"testing"
)

func TestPolicyFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--deny", "*.", "--", "true"},
		{"--allow", "tcp:example.test:0", "--", "true"},
		{"--allow", "10.0.0.1:90-80", "--", "true"},
		{"--dns-upstream", "10.0.0.1", "--", "true"},
		{"--dns-upstream", "10.0.0.1:0", "--", "true"},
		{"--dns-upstream", "[::1]:53", "--", "true"},
	} {
		var out bytes.Buffer
		if code := run(append([]string{"run"}, args...), &out, &out); code != exitUsage {
			t.Errorf("run %q: exit %d, want %d (usage)\n%s", args, code, exitUsage, out.String())
		}
	}
	c, err := parseRun([]string{"--deny-all", "--allow", "*.example.test:443", "--deny", "udp:10.0.0.0/8:1000-2000",
		"--dns-upstream", "198.18.5.1:5353", "--", "true"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if r := c.policy.Rules; !c.policy.DenyAll || len(r) != 2 || r[0].Domain != "example.test" || !r[0].Subdomains || !r[0].Allow ||
		r[1].PortLo != 1000 || r[1].PortHi != 2000 || r[1].Allow {
		t.Errorf("policy %+v", c.policy)
	}
	if got, ok := resolverFor(c.dnsUpstream); !ok || got != netip.MustParseAddrPort("198.18.5.1:5353") {
		t.Errorf("resolver %v %v, want --dns-upstream's", got, ok)
	}
}
