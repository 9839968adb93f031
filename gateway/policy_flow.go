package gateway

import (
	"net/netip"
)

// policyVerdict applies the egress policy to a flow of proto to dst with
// the names the sandbox resolved for dst. A TCP flow a domain rule may
// decide passes here: holdTCP decides it on the client's first bytes.
func (gw *Gateway) policyVerdict(proto Proto, dst netip.AddrPort) (bool, string) {
	p := gw.cfg.Policy
	if p == nil {
		return true, ""
	}
	if proto == ProtoTCP && p.NeedsName(ProtoTCP, dst.Port()) {
		return true, ""
	}
	return gw.decide(Flow{Proto: proto, Dst: dst})
}

// decide completes f with the names learnt for its address and applies the
// policy; why names the deciding rule.
func (gw *Gateway) decide(f Flow) (bool, string) {
	p := gw.cfg.Policy
	if p.HasDomains() {
		f.Names = gw.names.names(f.Dst.Addr())
		if f.Presented != "" {
			f.PresentedChain = gw.names.chain(f.Dst.Addr(), f.Presented)
		}
	}
	allow, by := p.Decide(f)
	if allow {
		return true, ""
	}
	return false, "denied by policy (" + ruleText(by) + ")"
}

// ruleText names a deciding rule as the command line wrote it.
func ruleText(r *Rule) string {
	if r == nil {
		return "--deny-all"
	}
	flag := "--deny "
	if r.Allow {
		flag = "--allow "
	}
	if r.Text != "" {
		return flag + r.Text
	}
	if r.Domain != "" {
		return flag + r.Domain
	}
	return flag + r.Prefix.String()
}
