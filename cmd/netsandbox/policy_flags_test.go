package main

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"netsandbox/gateway"
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
	// The protocol last, as -p writes it; host bits warn; a bad rule's
	// error shows both orders.
	var warn bytes.Buffer
	c2, err := parseRun([]string{"--allow", "198.18.0.0/15:80/tcp", "--deny", "198.18.5.10/15", "--", "true"}, &warn)
	if err != nil {
		t.Fatal(err)
	}
	if r := c2.policy.Rules; len(r) != 2 || r[0].Proto != gateway.ProtoTCP || r[0].PortLo != 80 || r[1].Prefix != netip.MustParsePrefix("198.18.0.0/15") {
		t.Errorf("policy %+v", c2.policy)
	}
	if w := warn.String(); !strings.Contains(w, "--deny 198.18.5.10/15: the prefix has host bits set; the rule covers 198.18.0.0/15") || strings.Count(w, "warning") != 1 {
		t.Errorf("warnings: %q, want one for the host bits of 198.18.5.10/15", w)
	}
	var out bytes.Buffer
	if code := run([]string{"run", "--allow", "198.18.0.0/15:80/sctp", "--", "true"}, &out, &out); code != exitUsage ||
		!strings.Contains(out.String(), "[tcp:|udp:|icmp:]TARGET[:PORT[-PORT]] or TARGET[:PORT[-PORT]][/tcp|/udp|/icmp]") {
		t.Errorf("a bad rule: exit %d, want %d and both forms in the error:\n%s", code, exitUsage, out.String())
	}
	if got, ok := resolverFor(c.dnsUpstream); !ok || got != netip.MustParseAddrPort("198.18.5.1:5353") {
		t.Errorf("resolver %v %v, want --dns-upstream's", got, ok)
	}
}

// A refused rule's error names the part at fault: --allow ftp:example.com
// said port "example.com".
func TestPolicyRuleErrors(t *testing.T) {
	for _, c := range []struct{ rule, want string }{
		{"ftp:example.com", `unknown protocol "ftp"`},
		{"ftp:example.com:21", `unknown protocol "ftp"`},
		{"sctp:10.0.0.0/8", `unknown protocol "sctp"`},
		{"198.18.0.0/15:80/sctp", `unknown protocol "sctp"`},
		{"TCP:1.2.3.4", `protocol "TCP": write it in lower case, tcp`},
		{"localhost:http", `"http" is not a port`},
		{"10.0.0.1:90-80", `port "90-80"`},
		{"tcp:example.test:0", `port "0"`},
		{"icmp:1.2.3.4:80", "icmp has no ports"},
		{"10.0.0.0/33", `the length "33"`},
		{"1.2.3.4:80:90", "one :PORT at most"},
		{"tcp:1.2.3.4/udp", "the protocol twice"},
		{"300.1.1.1", `target "300.1.1.1" is not`},
	} {
		var out bytes.Buffer
		code := run([]string{"run", "--deny", c.rule, "--", "true"}, &out, &out)
		msg := out.String()
		if code != exitUsage || !strings.Contains(msg, `--deny "`+c.rule+`": `) || !strings.Contains(msg, c.want) || !strings.Contains(msg, "a RULE is "+ruleSyntax) {
			t.Errorf("--deny %s: exit %d, want %d and %q with the syntax:\n%s", c.rule, code, exitUsage, c.want, msg)
		}
	}
}
