package stack

import (
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
)

// applyNeigh pushes an interface's neigh.<dev>.* knobs into gVisor's
// neighbour cache for IPv4 (ARP): mcast_solicit is the number of
// broadcast requests for an unresolved address, ucast_solicit the unicast
// probes of a stale entry, retrans_time the gap between them,
// base_reachable_time and delay_first_probe_time the entry timers.
// gVisor replaces a zero or negative value with its default (Linux's
// defaults), where Linux would stop soliciting or age at once.
// Interfaces without link resolution (lo) keep the values only.
func (s *Stack) applyNeigh(d *devKnobs) error {
	id := tcpip.NICID(d.ifindex)
	c, e := s.g.NUDConfigurations(id, ipv4.ProtocolNumber)
	if e != nil {
		if _, ok := e.(*tcpip.ErrNotSupported); ok {
			return nil
		}
		return configErrno(e)
	}
	c.MaxMulticastProbes = nonNegU32(d.mcastSolicit.val.Load())
	c.MaxUnicastProbes = nonNegU32(d.ucastSolicit.val.Load())
	c.RetransmitTimer = time.Duration(d.retransMS.val.Load()) * time.Millisecond
	c.BaseReachableTime = time.Duration(d.reachableMS.val.Load()) * time.Millisecond
	c.DelayFirstProbeTime = time.Duration(max(d.delayProbe.val.Load(), 0)) * time.Second
	if e := s.g.SetNUDConfigurations(id, ipv4.ProtocolNumber, c); e != nil {
		return configErrno(e)
	}
	return nil
}

func nonNegU32(v int64) uint32 { return uint32(min(max(v, 0), 1<<32-1)) }
