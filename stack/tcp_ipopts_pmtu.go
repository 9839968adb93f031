package stack

import (
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// A "fragmentation needed" for a TCP connection with IP options: gVisor's
// TCP lowers its payload size to the new path MTU less the IP and TCP
// headers, not less the options, so its segments would still not fit and
// the router's next message, with the same MTU, would no longer lower it.
// Linux's tcp_sync_mss subtracts the options (icsk_ext_hdr_len) here too.
// The IPv4 hook (ipv4_hook.go) recognizes such a message before gVisor
// handles it and, once gVisor has, hands the connection the MTU (floored
// at min_pmtu, as __ip_rt_update_pmtu does) so that it makes room for its
// options again.

// tcpFragNeeded returns what to do once gVisor has handled pkt when pkt is
// a "fragmentation needed" quoting a segment of a TCP connection with IP
// options (nil otherwise). pkt's network header is not parsed yet.
func (s *Stack) tcpFragNeeded(pkt *gstack.PacketBuffer) func() {
	t := &s.ipo.tcp
	if t.n.Load() == 0 || len(pkt.NetworkHeader().Slice()) != 0 {
		return nil
	}
	d := pkt.Data()
	b, ok := d.PullUp(header.IPv4MinimumSize)
	if !ok || header.IPv4(b).Protocol() != uint8(header.ICMPv4ProtocolNumber) {
		return nil
	}
	ihl := int(header.IPv4(b).HeaderLength())
	// ICMP header, quoted IPv4 header (at least 20 bytes), TCP ports.
	if b, ok = d.PullUp(ihl + header.ICMPv4MinimumSize + header.IPv4MinimumSize); !ok || ihl < header.IPv4MinimumSize {
		return nil
	}
	icmp := header.ICMPv4(b[ihl:])
	if icmp.Type() != header.ICMPv4DstUnreachable || icmp.Code() != header.ICMPv4FragmentationNeeded {
		return nil
	}
	q := header.IPv4(b[ihl+header.ICMPv4MinimumSize:])
	qihl := int(q.HeaderLength())
	if q.Protocol() != uint8(header.TCPProtocolNumber) || qihl < header.IPv4MinimumSize {
		return nil
	}
	if b, ok = d.PullUp(ihl + header.ICMPv4MinimumSize + qihl + 4); !ok {
		return nil
	}
	tp := b[ihl+header.ICMPv4MinimumSize+qihl:]
	q = header.IPv4(b[ihl+header.ICMPv4MinimumSize:])
	local := netip.AddrPortFrom(nAddr(q.SourceAddress()), uint16(tp[0])<<8|uint16(tp[1]))
	remote := netip.AddrPortFrom(nAddr(q.DestinationAddress()), uint16(tp[2])<<8|uint16(tp[3]))
	mtu := int(header.ICMPv4(b[ihl:]).MTU())
	t.mu.RLock()
	f, ok := t.tooBig[tcpIPOKey{local, remote}]
	if !ok {
		f = t.tooBig[tcpIPOKey{netip.AddrPortFrom(netip.IPv4Unspecified(), local.Port()), remote}]
	}
	t.mu.RUnlock()
	if f == nil || mtu < header.IPv4MinimumMTU {
		return nil
	}
	mtu = max(mtu, s.sysctl.Int("net.ipv4.route.min_pmtu"))
	return func() { f(mtu) }
}
