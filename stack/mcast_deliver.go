package stack

import (
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// mcastDeliverable decides, before anything is built or charged for the
// receiver, whether a datagram to a multicast group reaches it: the
// interface's merged source filter (ip_check_mc_rcu) and then the socket's
// own (ip_mc_sf_allow). Two map look-ups: O(1) whatever the number of
// sources.
func (e *udpEndpoint) mcastDeliverable(pkt *gstack.PacketBuffer) bool {
	var group, src netip.Addr
	if isIPv6(pkt) {
		ip := header.IPv6(pkt.NetworkHeader().Slice())
		if dst := ip.DestinationAddress(); header.IsV6MulticastAddress(dst) {
			group, src = netip.AddrFrom16(dst.As16()), nAddr(ip.SourceAddress())
		}
	} else {
		ip := header.IPv4(pkt.NetworkHeader().Slice())
		if dst := ip.DestinationAddress(); header.IsV4MulticastAddress(dst) {
			group, src = netip.AddrFrom4(dst.As4()), nAddr(ip.SourceAddress())
		}
	}
	if !group.IsValid() {
		return true
	}
	// ip_check_mc_rcu (inet6_mc_check's interface half), then the
	// socket's own filter.
	ifindex := int(pkt.NICID)
	if !e.s.mcastHostAllows(ifindex, group, src) {
		e.s.stats.udpMcastFiltered.Add(1)
		return false
	}
	if f, ok := e.r.(MulticastFilter); ok && !f.AllowMulticast(group, src, ifindex) {
		e.s.stats.udpMcastFiltered.Add(1)
		return false
	}
	return true
}

// McastAccepts is ip_check_mc_rcu for packets that do not pass our UDP
// demuxer (gVisor's raw endpoints see every multicast packet the NIC takes):
// a datagram from src to group that arrived on ifindex is the host's only
// if a socket joined group there and the merged filter lets src through.
// 224.0.0.1 is always joined.
func (s *Stack) McastAccepts(ifindex int, group, src netip.Addr) bool {
	if group == allHosts {
		return true
	}
	m := &s.mc
	m.mu.RLock()
	defer m.mu.RUnlock()
	g := m.groups[mcKey{ifindex, group}]
	return g != nil && g.users > 0 && g.allows(src)
}
