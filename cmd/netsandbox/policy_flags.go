package main

import (
	"flag"
	"fmt"
	"net/netip"

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
	fs.StringVar(&up, "dns-upstream", "", "`ADDR:PORT` of the resolver behind 10.0.2.3 (default: the first IPv4 nameserver of /etc/resolv.conf, port 53)")
	return func() error {
		for _, set := range []struct {
			list  multiFlag
			allow bool
		}{{allow, true}, {deny, false}} {
			for _, s := range set.list {
				r, err := gateway.ParseRule(s, set.allow)
				if err != nil {
					return usagef("%v", err)
				}
				if r.HostBits {
					flag := "--deny"
					if set.allow {
						flag = "--allow"
					}
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
