package gateway

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Proto is a relayed protocol, as policy rules name it.
type Proto uint8

const (
	ProtoAny Proto = iota
	ProtoTCP
	ProtoUDP
	ProtoICMP
)

func (p Proto) String() string {
	return [...]string{"any", "tcp", "udp", "icmp"}[p]
}

// Rule allows or denies egress to a prefix or a domain, optionally a port
// range and one protocol.
type Rule struct {
	Allow  bool
	Prefix netip.Prefix // an address rule (Domain empty)
	// Domain is a lower-case name without trailing dot; with Subdomains it
	// matches the names below it (not the name itself).
	Domain     string
	Subdomains bool
	PortLo     uint16 // 0: every port
	PortHi     uint16 // PortLo..PortHi, inclusive
	Proto      Proto  // ProtoAny: every protocol
	Text       string // the rule as written, for log lines
	// HostBits: the prefix was written with host bits set
	// ("198.18.5.10/15"); Prefix is the masked one.
	HostBits bool
}

// Policy decides which destinations the sandbox may reach. The most specific
// matching rule wins (see specificity); between equally specific rules deny
// wins; with no match the default applies.
type Policy struct {
	DenyAll bool // default deny instead of default allow
	Rules   []Rule
}

// RuleSyntax is the rule grammar ParseRule takes, for usage and errors.
const RuleSyntax = "[tcp:|udp:|icmp:]TARGET[:PORT[-PORT]] or TARGET[:PORT[-PORT]][/tcp|/udp|/icmp], TARGET = IPv4-CIDR|IPv4-ADDR|[IPv6-CIDR]|[IPv6-ADDR]|*|DOMAIN|*.DOMAIN"

// ParseRule reads [PROTO:]TARGET[:PORT[-PORT]] or, with the protocol last
// as -p writes it, TARGET[:PORT[-PORT]][/PROTO], where TARGET is an IPv4
// CIDR or address (a /32), "*" (every address), a domain ("example.test")
// or its subdomains ("*.example.test" or ".example.test"):
// "198.18.5.0/24", "tcp:198.18.5.1/32:80", "198.18.5.1:80/tcp",
// "udp:*:8000-8100", "tcp:*.example.test:443". A prefix with host bits
// set ("198.18.5.10/15") covers its masked prefix, and sets HostBits.
// An IPv6 prefix or address is written in brackets ("[2001:db8::/32]",
// "tcp:[2001:db8::1]:443"), or bare without a port ("2001:db8::/32").
func ParseRule(s string, allow bool) (Rule, error) {
	r := Rule{Allow: allow, Text: s}
	rest := s
	for _, p := range []Proto{ProtoTCP, ProtoUDP, ProtoICMP} {
		if strings.HasPrefix(rest, p.String()+":") {
			r.Proto, rest = p, rest[len(p.String())+1:]
			break
		}
	}
	for _, p := range []Proto{ProtoTCP, ProtoUDP, ProtoICMP} {
		if t, ok := strings.CutSuffix(rest, "/"+p.String()); ok {
			if r.Proto != ProtoAny {
				return r, fmt.Errorf("rule %q: the protocol twice: want %s", s, RuleSyntax)
			}
			r.Proto, rest = p, t
			break
		}
	}
	if r6, ok, err := parseRule6(r, rest); ok || err != nil {
		return r6, err
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		lo, hi, err := parsePorts(rest[i+1:])
		if err != nil {
			return r, fmt.Errorf("rule %q: %v; want %s", s, err, RuleSyntax)
		}
		if r.Proto == ProtoICMP {
			return r, fmt.Errorf("rule %q: icmp has no ports", s)
		}
		r.PortLo, r.PortHi, rest = lo, hi, rest[:i]
	}
	if rest == "*" {
		r.Prefix = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		return r, nil
	}
	if d, sub, ok := parseDomainPattern(rest); ok {
		r.Domain, r.Subdomains = d, sub
		return r, nil
	}
	if !strings.Contains(rest, "/") {
		rest += "/32"
	}
	p, err := netip.ParsePrefix(rest)
	if err != nil || !p.Addr().Is4() {
		return r, fmt.Errorf("rule %q: want %s", s, RuleSyntax)
	}
	r.Prefix = p.Masked()
	r.HostBits = r.Prefix != p
	return r, nil
}

func parsePorts(s string) (lo, hi uint16, err error) {
	a, b, isRange := strings.Cut(s, "-")
	l, err1 := strconv.ParseUint(a, 10, 16)
	h, err2 := l, error(nil)
	if isRange {
		h, err2 = strconv.ParseUint(b, 10, 16)
	}
	if err1 != nil || err2 != nil || l == 0 || h < l {
		return 0, 0, fmt.Errorf("port %q: want 1..65535 or LOW-HIGH", s)
	}
	return uint16(l), uint16(h), nil
}

// parseDomainPattern reads "name", "*.name" or ".name"; a name needs a
// letter somewhere (so "300.1.1.1" stays a bad address, not a domain).
func parseDomainPattern(s string) (name string, sub, ok bool) {
	switch {
	case strings.HasPrefix(s, "*."):
		s, sub = s[2:], true
	case strings.HasPrefix(s, "."):
		s, sub = s[1:], true
	}
	name, ok = normalizeName(s)
	return name, sub, ok
}

// normalizeName lower-cases a host name and drops a trailing dot; ok false
// for anything that is not a DNS host name with a letter in it.
func normalizeName(s string) (string, bool) {
	s = strings.TrimSuffix(s, ".")
	if len(s) == 0 || len(s) > 253 {
		return "", false
	}
	letter := false
	b := []byte(s)
	label := 0
	for i, c := range b {
		switch {
		case c >= 'A' && c <= 'Z':
			b[i] = c + 'a' - 'A'
			letter = true
		case c >= 'a' && c <= 'z':
			letter = true
		case c >= '0' && c <= '9', c == '-', c == '_':
		case c == '.':
			if label == 0 {
				return "", false
			}
			label = -1
		default:
			return "", false
		}
		if label++; label > 63 {
			return "", false
		}
	}
	if label == 0 || !letter {
		return "", false
	}
	return string(b), true
}

func (r Rule) portProtoMatch(proto Proto, port uint16) bool {
	return (r.Proto == ProtoAny || r.Proto == proto) &&
		(r.PortLo == 0 || (proto != ProtoICMP && port >= r.PortLo && port <= r.PortHi))
}

// matches tells whether an address rule covers dst. Rules name IPv4
// prefixes; "*" (0.0.0.0/0) covers every address of both families, so
// that --deny-all --allow '*:443' and --deny '*' judge IPv6 as IPv4.
func (r Rule) matches(proto Proto, dst netip.AddrPort) bool {
	inPrefix := r.Prefix.Contains(dst.Addr()) || (r.Prefix.Bits() == 0 && dst.Addr().Is6())
	return r.Domain == "" && inPrefix && r.portProtoMatch(proto, dst.Port())
}

// matchesName tells whether a domain rule covers name.
func (r Rule) matchesName(name string) bool {
	if r.Domain == "" {
		return false
	}
	if !r.Subdomains {
		return name == r.Domain
	}
	return len(name) > len(r.Domain) && strings.HasSuffix(name, r.Domain) && name[len(name)-len(r.Domain)-1] == '.'
}

// specificity orders rules: every domain rule outranks every address rule
// (a name says more about the service than an address shared by many);
// among domain rules the longer name wins, an exact name beats subdomains
// of the same name; among address rules the longer prefix wins; then a
// single port beats a range beats every port, then a protocol beats any.
func (r Rule) specificity() int {
	n := 0
	switch {
	case r.PortLo != 0 && r.PortLo == r.PortHi:
		n += 4
	case r.PortLo != 0:
		n += 2
	}
	if r.Proto != ProtoAny {
		n++
	}
	if r.Domain == "" {
		return r.Prefix.Bits()*8 + n
	}
	labels := strings.Count(r.Domain, ".") + 1
	if !r.Subdomains {
		n += 8
	}
	return 1000 + labels*16 + n
}

// Allows tells whether a flow of proto to dst may leave by the address
// rules alone (a flow with no known name).
func (p *Policy) Allows(proto Proto, dst netip.AddrPort) bool {
	allow, _ := p.Decide(Flow{Proto: proto, Dst: dst})
	return allow
}

// Flow is what a policy decision sees of a flow.
type Flow struct {
	Proto Proto
	Dst   netip.AddrPort
	// Names resolved to Dst's address through the gateway's DNS.
	Names []string
	// Presented is the name the client itself sent (TLS SNI, HTTP Host),
	// normalized; "" when none.
	Presented string
	// PresentedChain is the names of the DNS answers that took Presented
	// to Dst's address (Presented and its CNAMEs); empty when Presented
	// did not resolve there.
	PresentedChain []string
}

// Decide returns the verdict for f and the deciding rule (nil: the
// default). Domain rules match the flow's names: the presented name and its
// CNAMEs alone when it resolved to the address (the client said which of
// the address's names it wants); otherwise Names and the presented name,
// but then only deny rules count for domains — an allow by name needs a
// name that resolved to the address and, if the client presented one, that
// very name. Address rules match the destination.
func (p *Policy) Decide(f Flow) (allow bool, by *Rule) {
	names := f.Names
	allowByName := true
	if f.Presented != "" {
		if len(f.PresentedChain) > 0 {
			names = f.PresentedChain
		} else {
			names = append(append([]string(nil), f.Names...), f.Presented)
			allowByName = false
		}
	}
	best, allow := -1, !p.DenyAll
	for i := range p.Rules {
		r := &p.Rules[i]
		if r.Domain == "" {
			if !r.matches(f.Proto, f.Dst) {
				continue
			}
		} else {
			if (r.Allow && !allowByName) || !r.portProtoMatch(f.Proto, f.Dst.Port()) || !anyName(r, names) {
				continue
			}
		}
		switch sp := r.specificity(); {
		case sp > best:
			best, allow, by = sp, r.Allow, r
		case sp == best && !r.Allow:
			allow, by = false, r
		}
	}
	return allow, by
}

func anyName(r *Rule, names []string) bool {
	for _, n := range names {
		if r.matchesName(n) {
			return true
		}
	}
	return false
}

// HasDomains tells whether any rule names a domain: only then does the
// gateway learn names from DNS answers.
func (p *Policy) HasDomains() bool {
	for _, r := range p.Rules {
		if r.Domain != "" {
			return true
		}
	}
	return false
}

// NeedsName tells whether a domain rule may apply to a flow of proto to
// port: only such TCP flows wait for the client's first bytes.
func (p *Policy) NeedsName(proto Proto, port uint16) bool {
	for _, r := range p.Rules {
		if r.Domain != "" && r.portProtoMatch(proto, port) {
			return true
		}
	}
	return false
}

// RefusesName tells whether the most specific domain rule covering name
// denies it for every protocol and port: then the gateway's DNS answers
// NXDOMAIN for it instead of asking the resolver.
func (p *Policy) RefusesName(name string) (bool, *Rule) {
	best := -1
	var by *Rule
	for i := range p.Rules {
		r := &p.Rules[i]
		if !r.matchesName(name) {
			continue
		}
		switch sp := r.specificity(); {
		case sp > best:
			best, by = sp, r
		case sp == best && !r.Allow:
			by = r
		}
	}
	if by == nil || by.Allow || by.PortLo != 0 || by.Proto != ProtoAny {
		return false, nil
	}
	return true, by
}
