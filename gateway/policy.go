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

// Rule allows or denies egress to a prefix, optionally one port and one
// protocol.
type Rule struct {
	Allow  bool
	Prefix netip.Prefix
	Port   uint16 // 0: every port
	Proto  Proto  // ProtoAny: every protocol
}

// Policy decides which destinations the sandbox may reach. The most specific
// matching rule (longest prefix, then one with a port, then one with a
// protocol) wins; between equally specific rules deny wins; with no match the
// default applies.
type Policy struct {
	DenyAll bool // default deny instead of default allow
	Rules   []Rule
}

// ParseRule reads [PROTO:]CIDR[:PORT], e.g. "198.18.5.0/24",
// "tcp:198.18.5.1/32:80", "udp:0.0.0.0/0:53". A bare address is a /32.
func ParseRule(s string, allow bool) (Rule, error) {
	r := Rule{Allow: allow}
	rest := s
	for _, p := range []Proto{ProtoTCP, ProtoUDP, ProtoICMP} {
		if strings.HasPrefix(rest, p.String()+":") {
			r.Proto, rest = p, rest[len(p.String())+1:]
			break
		}
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		port, err := strconv.ParseUint(rest[i+1:], 10, 16)
		if err != nil || port == 0 {
			return r, fmt.Errorf("rule %q: port %q: want 1..65535", s, rest[i+1:])
		}
		if r.Proto == ProtoICMP {
			return r, fmt.Errorf("rule %q: icmp has no ports", s)
		}
		r.Port, rest = uint16(port), rest[:i]
	}
	if !strings.Contains(rest, "/") {
		rest += "/32"
	}
	p, err := netip.ParsePrefix(rest)
	if err != nil || !p.Addr().Is4() {
		return r, fmt.Errorf("rule %q: want [tcp:|udp:|icmp:]IPv4-CIDR[:PORT]", s)
	}
	r.Prefix = p.Masked()
	return r, nil
}

func (r Rule) matches(proto Proto, dst netip.AddrPort) bool {
	return r.Prefix.Contains(dst.Addr()) &&
		(r.Proto == ProtoAny || r.Proto == proto) &&
		(r.Port == 0 || (proto != ProtoICMP && r.Port == dst.Port()))
}

func (r Rule) specificity() int {
	n := r.Prefix.Bits() * 4
	if r.Port != 0 {
		n += 2
	}
	if r.Proto != ProtoAny {
		n++
	}
	return n
}

// Allows tells whether a flow of proto to dst may leave.
func (p *Policy) Allows(proto Proto, dst netip.AddrPort) bool {
	best, allow := -1, !p.DenyAll
	for _, r := range p.Rules {
		if !r.matches(proto, dst) {
			continue
		}
		switch sp := r.specificity(); {
		case sp > best:
			best, allow = sp, r.Allow
		case sp == best && !r.Allow:
			allow = false
		}
	}
	return allow
}
