package gateway

import (
	"net/netip"
	"testing"
)

func TestPolicy(t *testing.T) {
	rule := func(s string, allow bool) Rule {
		r, err := ParseRule(s, allow)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	p := &Policy{DenyAll: true, Rules: []Rule{
		rule("198.18.0.0/16", true),
		rule("198.18.5.0/24", false),
		rule("tcp:198.18.5.1:80", true),
		rule("198.18.6.1", false),
		rule("udp:198.18.6.1", true),
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
	for _, bad := range []string{"", "300.1.1.1", "10.0.0.0/8:0", "10.0.0.0/8:70000", "icmp:10.0.0.1:5", "sctp:10.0.0.1", "::1/128"} {
		if _, err := ParseRule(bad, true); err == nil {
			t.Errorf("ParseRule(%q) accepted", bad)
		}
	}
}
