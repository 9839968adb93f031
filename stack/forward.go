package stack

import (
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
)

// IPv4 forwarding (net.ipv4.ip_forward, conf/<dev>/forwarding). Linux
// forwards a packet that arrives on an interface whose forwarding value is
// non-zero and is addressed to no local address; gVisor's per-NIC
// forwarding is the same switch. A write that changes ip_forward (which is
// conf/all/forwarding) copies the value to conf/default and to every
// interface (inet_forward_change); conf/default only seeds new interfaces.

// forwardAllChanged copies a changed ip_forward to conf.default.forwarding
// and every interface's conf.<dev>.forwarding; t.mu is held.
func forwardAllChanged(t *Sysctl, e *sysctlEntry) {
	v := e.val.Load()
	t.entries["net.ipv4.conf.default.forwarding"].val.Store(v)
	for _, d := range t.devs {
		d.forward.val.Store(v)
	}
}

// applyForwarding pushes every interface's forwarding value into gVisor.
func applyForwarding(s *Stack, _ *sysctlEntry) error {
	for _, d := range s.sysctl.devs {
		if err := s.applyDevForwarding(d); err != nil {
			return err
		}
	}
	return nil
}

// applyDevForwarding sets one NIC's forwarding. lo keeps its value only:
// everything it carries is addressed to this stack.
func (s *Stack) applyDevForwarding(d *devKnobs) error {
	if d.loopback {
		return nil
	}
	if _, e := s.g.SetNICForwarding(tcpip.NICID(d.ifindex), ipv4.ProtocolNumber, d.forward.val.Load() != 0); e != nil {
		return configErrno(e)
	}
	// gVisor's route lookup reads each NIC's forwarding switch (a source
	// address of another NIC may leave only through a forwarding one), so
	// routes cached under the old value are stale (udp_route_cache.go).
	s.invalidateRoutes()
	return nil
}
