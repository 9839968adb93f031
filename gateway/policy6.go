package gateway

import (
	"fmt"
	"net/netip"
	"strings"
)

// parseRule6 reads an IPv6 TARGET[:PORT[-PORT]] (what ParseRule has after
// the protocol): "[PREFIX]" or "[ADDR]" with an optional port, or a bare
// prefix or address without one (its colons are not a port separator).
// ok false: not IPv6, ParseRule goes on.
func parseRule6(r Rule, rest string) (Rule, bool, error) {
	target, ports := rest, ""
	switch {
	case strings.HasPrefix(rest, "["):
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return r, false, fmt.Errorf("rule %q: no closing bracket; want %s", r.Text, RuleSyntax)
		}
		target, ports = rest[1:end], rest[end+1:]
		if ports != "" {
			p, ok := strings.CutPrefix(ports, ":")
			if !ok {
				return r, false, fmt.Errorf("rule %q: want %s", r.Text, RuleSyntax)
			}
			ports = p
		}
	case strings.Count(rest, ":") < 2:
		return r, false, nil // IPv4, "*" or a domain, with or without a port
	}
	if !strings.Contains(target, "/") {
		target += "/128"
	}
	p, err := netip.ParsePrefix(target)
	if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
		return r, false, fmt.Errorf("rule %q: want %s", r.Text, RuleSyntax)
	}
	if ports != "" {
		if r.Proto == ProtoICMP {
			return r, false, fmt.Errorf("rule %q: icmp has no ports", r.Text)
		}
		lo, hi, err := parsePorts(ports)
		if err != nil {
			return r, false, fmt.Errorf("rule %q: %v; want %s", r.Text, err, RuleSyntax)
		}
		r.PortLo, r.PortHi = lo, hi
	}
	r.Prefix = p.Masked()
	r.HostBits = r.Prefix != p
	return r, true, nil
}
