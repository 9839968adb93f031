package main

import (
	"flag"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"netsandbox/gateway"
)

const ruleSyntax = "[tcp:|udp:|icmp:]TARGET[:PORT[-PORT]] or TARGET[:PORT[-PORT]][/tcp|/udp|/icmp], TARGET = CIDR|ADDR|*|DOMAIN|*.DOMAIN"

// policyFlags registers the egress policy's flags (--allow, --deny,
// --deny-all) and --dns-upstream on fs; the returned function fills pol
// and upstream once fs has parsed.
func policyFlags(fs *flag.FlagSet, pol *gateway.Policy, upstream *netip.AddrPort) func() error {
	var allow, deny multiFlag
	var up string
	fs.Var(&allow, "allow", "allow egress to `RULE`: "+ruleSyntax+" (repeatable)")
	fs.Var(&deny, "deny", "deny egress to `RULE`: "+ruleSyntax+" (repeatable)")
	fs.BoolVar(&pol.DenyAll, "deny-all", false, "deny egress not allowed by --allow (DNS through 10.0.2.3 stays allowed)")
	fs.StringVar(&up, "dns-upstream", "", "`ADDR:PORT` of the resolver behind 10.0.2.3 (default: the first IPv4 nameserver of /etc/resolv.conf, else its first IPv6 one, port 53)")
	return func() error {
		for _, set := range []struct {
			list  multiFlag
			allow bool
		}{{allow, true}, {deny, false}} {
			for _, s := range set.list {
				flag := "--deny"
				if set.allow {
					flag = "--allow"
				}
				r, err := gateway.ParseRule(s, set.allow)
				if err != nil {
					if why := ruleProblem(s); why != "" {
						return usagef("%s %q: %s; a RULE is %s", flag, s, why, ruleSyntax)
					}
					return usagef("%s: %v", flag, err)
				}
				if r.HostBits {
					fmt.Fprintf(fs.Output(), "netsandbox: warning: %s %s: the prefix has host bits set; the rule covers %s\n", flag, s, r.Prefix)
				}
				pol.Rules = append(pol.Rules, r)
			}
		}
		if up != "" {
			a, err := netip.ParseAddrPort(up)
			if err != nil || !a.Addr().Is4() || a.Port() == 0 {
				return usagef("--dns-upstream %q: want IPv4-ADDR:PORT", up)
			}
			*upstream = a
		}
		return nil
	}
}

// resolverFor is where the gateway sends the sandbox's DNS: upstream
// (--dns-upstream) when set, else the host's resolver.
func resolverFor(upstream netip.AddrPort) (netip.AddrPort, bool) {
	if upstream.IsValid() {
		return upstream, true
	}
	return hostResolver()
}

var ruleProtos = []string{"tcp", "udp", "icmp"}

// ruleProblem names the part of a rule gateway.ParseRule refused (the
// protocol, the port or the target), so the error points at it; "" if it
// cannot tell. Each part is checked by ParseRule itself, alone.
func ruleProblem(s string) string {
	valid := func(r string) bool { _, err := gateway.ParseRule(r, true); return err == nil }
	rest := s
	// The protocol first: a word before the first colon.
	if head, tail, ok := strings.Cut(rest, ":"); ok && isWord(head) {
		switch {
		case slices.Contains(ruleProtos, head):
			rest = tail
		case slices.Contains(ruleProtos, strings.ToLower(head)):
			return fmt.Sprintf("protocol %q: write it in lower case, %s", head, strings.ToLower(head))
		case strings.Contains(tail, ":") || !isWord(strings.TrimSuffix(tail, ".")):
			// PROTO:TARGET:PORT, or a TARGET that is no bare word
			// (example.com, 10.0.0.0/8, *): head was meant as a protocol.
			return fmt.Sprintf("unknown protocol %q: want tcp, udp or icmp (tcp:TARGET or TARGET/tcp)", head)
		default:
			// WORD:WORD: a host and a named port, or a protocol and a host.
			return fmt.Sprintf("%q is not a protocol (tcp, udp or icmp) and %q is not a port (1..65535 or LOW-HIGH; names are not looked up)", head, tail)
		}
	}
	// The protocol last: a word after the last slash.
	if i := strings.LastIndexByte(rest, '/'); i >= 0 && isWord(rest[i+1:]) {
		p := rest[i+1:]
		switch {
		case slices.Contains(ruleProtos, p):
			if rest != s {
				return "the protocol twice: give it first or last"
			}
			rest = rest[:i]
		case slices.Contains(ruleProtos, strings.ToLower(p)):
			return fmt.Sprintf("protocol %q: write it in lower case, %s", p, strings.ToLower(p))
		default:
			return fmt.Sprintf("unknown protocol %q: want tcp, udp or icmp", p)
		}
	}
	target := rest
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		target = rest[:i]
		port := rest[i+1:]
		if !valid("*:" + port) {
			return fmt.Sprintf("port %q: want 1..65535 or LOW-HIGH with LOW <= HIGH (names are not looked up)", port)
		}
		if strings.HasPrefix(s, "icmp:") || strings.HasSuffix(s, "/icmp") {
			return "icmp has no ports: drop :" + port
		}
	}
	if strings.Contains(target, ":") {
		return fmt.Sprintf("target %q: one :PORT at most, after the target", target)
	}
	if valid(target) {
		return ""
	}
	if a, bits, ok := strings.Cut(target, "/"); ok {
		if _, err := netip.ParseAddr(a); err == nil {
			return fmt.Sprintf("prefix %q: the length %q: want 0..32", target, bits)
		}
	}
	return fmt.Sprintf("target %q is not an IPv4 address or CIDR, *, DOMAIN or *.DOMAIN", target)
}

// isWord tells whether s is letters only (a protocol, or a bare host name).
func isWord(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
