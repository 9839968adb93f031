package stack

import (
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
)

// applyDefaultTTL makes gVisor's own protocols (TCP, ICMP, raw) use
// ip_default_ttl, as Linux's do.
func applyDefaultTTL(s *Stack, e *sysctlEntry) error {
	ttl := tcpip.DefaultTTLOption(e.val.Load())
	if err := s.g.SetNetworkProtocolOption(ipv4.ProtocolNumber, &ttl); err != nil {
		return configErrno(err)
	}
	return nil
}

// applyPortRange makes gVisor's port manager (TCP and our UDP) pick
// ephemeral ports from ip_local_port_range.
func applyPortRange(s *Stack, e *sysctlEntry) error {
	lo, hi := e.pair()
	if err := s.g.SetPortRange(uint16(lo), uint16(hi)); err != nil {
		return configErrno(err)
	}
	return nil
}
