package gateway

import (
	"net/netip"
	"testing"
)

func mustRule(t *testing.T, s string, allow bool) Rule {
	t.Helper()
	r, err := ParseRule(s, allow)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPolicy(t *testing.T) {
	rule := func(s string, allow bool) Rule { return mustRule(t, s, allow) }
	p := &Policy{DenyAll: true, Rules: []Rule{
		rule("198.18.0.0/16", true),
		rule("198.18.5.0/24", false),
		rule("tcp:198.18.5.1:80", true),
		rule("198.18.6.1", false),
		rule("udp:198.18.6.1", true),
		rule("tcp:198.18.7.0/24:8000-8100", false),
		rule("tcp:198.18.7.0/24:8080", true),
	}}
	for _, c := range []struct {
		proto Proto
		dst   string
		want  bool
	}{
		{ProtoTCP, "198.18.1.1:1", true},
		{ProtoTCP, "198.18.5.1:81", false},
		{ProtoTCP, "198.18.5.1:80", true},
		{ProtoUDP, "198.18.5.1:80", false},
		{ProtoICMP, "198.18.5.1:0", false},
		{ProtoUDP, "198.18.6.1:53", true},
		{ProtoTCP, "198.18.6.1:53", false},
		{ProtoTCP, "10.1.1.1:80", false},
		{ProtoTCP, "198.18.7.1:7999", true},
		{ProtoTCP, "198.18.7.1:8000", false},
		{ProtoTCP, "198.18.7.1:8100", false},
		{ProtoTCP, "198.18.7.1:8101", true},
		{ProtoTCP, "198.18.7.1:8080", true}, // a single port beats a range
		{ProtoUDP, "198.18.7.1:8050", true},
	} {
		if got := p.Allows(c.proto, netip.MustParseAddrPort(c.dst)); got != c.want {
			t.Errorf("%v %s: allowed %v, want %v", c.proto, c.dst, got, c.want)
		}
	}
	// Equal specificity: deny wins; no match: the default (allow).
	q := &Policy{Rules: []Rule{rule("10.0.0.0/8", true), rule("10.0.0.0/8", false)}}
	if q.Allows(ProtoTCP, netip.MustParseAddrPort("10.1.1.1:1")) || !q.Allows(ProtoTCP, netip.MustParseAddrPort("11.1.1.1:1")) {
		t.Error("tie must deny, no match must allow")
	}
	for _, bad := range []string{"", "300.1.1.1", "10.0.0.0/8:0", "10.0.0.0/8:70000", "icmp:10.0.0.1:5", "sctp:10.0.0.1", "[::1/128",
		"10.0.0.1:90-80", "10.0.0.1:-5", "10.0.0.1:5-", "*.", ".", "*.*.example.test", "exa mple.test", "a..b", "example.test:0",
		"tcp:example.test:x", "icmp:example.test:1", "1.2.3", "-", "exa/mple.test",
		"tcp:10.0.0.1:80/tcp", "10.0.0.1:80/sctp", "10.0.0.1:5/icmp", "*:0", "**", "*/8"} {
		if r, err := ParseRule(bad, true); err == nil {
			t.Errorf("ParseRule(%q) accepted: %+v", bad, r)
		}
	}
	for s, want := range map[string]Rule{
		"Example.Test.":            {Domain: "example.test"},
		"*.example.test":           {Domain: "example.test", Subdomains: true},
		".example.test":            {Domain: "example.test", Subdomains: true},
		"tcp:api.example.test:443": {Domain: "api.example.test", Proto: ProtoTCP, PortLo: 443, PortHi: 443},
		"udp:10.0.0.0/8:1000-2000": {Prefix: netip.MustParsePrefix("10.0.0.0/8"), Proto: ProtoUDP, PortLo: 1000, PortHi: 2000},
		// The protocol last, as -p writes it; * for every address.
		"198.18.0.0/15:80/tcp": {Prefix: netip.MustParsePrefix("198.18.0.0/15"), Proto: ProtoTCP, PortLo: 80, PortHi: 80},
		"198.18.5.1:53/udp":    {Prefix: netip.MustParsePrefix("198.18.5.1/32"), Proto: ProtoUDP, PortLo: 53, PortHi: 53},
		"198.18.5.0/24/icmp":   {Prefix: netip.MustParsePrefix("198.18.5.0/24"), Proto: ProtoICMP},
		"example.test:443/tcp": {Domain: "example.test", Proto: ProtoTCP, PortLo: 443, PortHi: 443},
		"*":                    {Prefix: netip.MustParsePrefix("0.0.0.0/0")},
		"tcp:*:443":            {Prefix: netip.MustParsePrefix("0.0.0.0/0"), Proto: ProtoTCP, PortLo: 443, PortHi: 443},
		"*:8000-8100/udp":      {Prefix: netip.MustParsePrefix("0.0.0.0/0"), Proto: ProtoUDP, PortLo: 8000, PortHi: 8100},
		"198.18.5.10/15":       {Prefix: netip.MustParsePrefix("198.18.0.0/15"), HostBits: true},
	} {
		r := rule(s, true)
		want.Allow, want.Text = true, s
		if r != want {
			t.Errorf("ParseRule(%q) = %+v, want %+v", s, r, want)
		}
	}
}

func TestPolicyDomains(t *testing.T) {
	rule := func(s string, allow bool) Rule { return mustRule(t, s, allow) }
	addr := netip.MustParseAddrPort("198.18.5.1:443")
	p := &Policy{DenyAll: true, Rules: []Rule{
		rule("allowed.test", true),
		rule("*.cdn.test", false),
		rule("api.cdn.test", true),
		rule("tcp:ports.test:8000-8100", true),
		rule("198.18.5.0/24", false),
	}}
	for _, c := range []struct {
		name      string
		proto     Proto
		dst       netip.AddrPort
		names     []string
		presented string
		chain     []string
		want      bool
	}{
		{"resolved allowed name", ProtoTCP, addr, []string{"allowed.test"}, "", nil, true},
		{"a domain rule outranks an address rule", ProtoUDP, addr, []string{"allowed.test"}, "", nil, true},
		{"no name: the address rule", ProtoTCP, addr, nil, "", nil, false},
		{"subdomain denied", ProtoTCP, addr, []string{"x.cdn.test"}, "", nil, false},
		{"subdomain rule misses the name itself", ProtoTCP, addr, []string{"cdn.test"}, "", nil, false},
		{"exact beats subdomains", ProtoTCP, addr, []string{"api.cdn.test"}, "", nil, true},
		{"CNAME chain: the most specific name decides", ProtoTCP, addr, []string{"api.cdn.test", "edge.cdn.test"}, "", nil, true},
		{"verified SNI", ProtoTCP, addr, []string{"allowed.test", "x.cdn.test"}, "allowed.test", []string{"allowed.test"}, true},
		{"verified SNI of a denied name", ProtoTCP, addr, []string{"allowed.test", "x.cdn.test"}, "x.cdn.test", []string{"x.cdn.test"}, false},
		{"verified SNI allowed by its CNAME", ProtoTCP, addr, []string{"www.alias.test", "allowed.test"}, "www.alias.test", []string{"www.alias.test", "allowed.test"}, true},
		{"SNI never resolved here cannot allow", ProtoTCP, netip.MustParseAddrPort("203.0.113.9:443"), nil, "allowed.test", nil, false},
		{"fronting: other SNI to an allowed name's address", ProtoTCP, addr, []string{"allowed.test"}, "other.test", nil, false},
		{"port range by name", ProtoTCP, netip.MustParseAddrPort("198.18.9.9:8080"), []string{"ports.test"}, "", nil, true},
		{"outside the port range", ProtoTCP, netip.MustParseAddrPort("198.18.9.9:8101"), []string{"ports.test"}, "", nil, false},
		{"protocol of a name rule", ProtoUDP, netip.MustParseAddrPort("198.18.9.9:8080"), []string{"ports.test"}, "", nil, false},
	} {
		got, by := p.Decide(Flow{Proto: c.proto, Dst: c.dst, Names: c.names, Presented: c.presented, PresentedChain: c.chain})
		if got != c.want {
			t.Errorf("%s: allowed %v by %+v, want %v", c.name, got, by, c.want)
		}
	}
	// Default allow: a lying SNI does not hide a denied name.
	q := &Policy{Rules: []Rule{rule("denied.test", false)}}
	if ok, _ := q.Decide(Flow{Proto: ProtoTCP, Dst: addr, Names: []string{"denied.test"}, Presented: "innocent.test"}); ok {
		t.Error("denied name with another SNI allowed")
	}
	if ok, _ := q.Decide(Flow{Proto: ProtoTCP, Dst: addr, Presented: "denied.test"}); ok {
		t.Error("presented denied name allowed")
	}
	if ok, _ := q.Decide(Flow{Proto: ProtoTCP, Dst: addr, Names: []string{"fine.test"}}); !ok {
		t.Error("other name denied")
	}

	r := &Policy{Rules: []Rule{
		rule("denied.test", false), rule("*.sub.test", false), rule("api.sub.test", true),
		rule("tcp:web.test:443", false), rule("both.test", false), rule("tcp:both.test:443", true),
	}}
	for name, want := range map[string]bool{
		"denied.test": true, "x.sub.test": true, "api.sub.test": false, "sub.test": false,
		"web.test": false, "both.test": false, "other.test": false,
	} {
		if got, _ := r.RefusesName(name); got != want {
			t.Errorf("RefusesName(%q) = %v, want %v", name, got, want)
		}
	}
	if !r.NeedsName(ProtoTCP, 80) || (&Policy{Rules: []Rule{rule("tcp:a.test:443", true)}}).NeedsName(ProtoTCP, 80) ||
		(&Policy{Rules: []Rule{rule("udp:a.test", true)}}).NeedsName(ProtoTCP, 443) {
		t.Error("NeedsName: want true exactly when a domain rule covers the protocol and port")
	}
}
