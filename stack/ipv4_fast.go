package stack

import (
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/header/parse"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// The IPv4 receive fast path: the common datagram (IHL 5, not a fragment,
// UDP or UDP-Lite, valid header, unicast to an address of the receiving
// NIC from a source gVisor accepts) skips gVisor's IPv4 input and goes
// straight to the transport dispatcher, with the IP counters gVisor would
// move (PacketsReceived, ValidPacketsReceived, PacketsDelivered, on the
// NIC and the stack) moved the same way. Everything else, and every
// packet of a NIC that is loopback, promiscuous or disabled, or while a
// raw socket of the protocol may be registered or nftables is configured,
// takes gVisor's path unchanged: the fast path checks only what gVisor
// would check on the way to local delivery and hands anything that would
// be dropped, forwarded, reassembled or fanned out back to it before
// touching the packet.

// ipv4Fast is what a NIC's IPv4 endpoint needs for the fast path.
type ipv4Fast struct {
	nic    gstack.NetworkInterface
	gate   *rawGate
	proto  gstack.RejectIPv4WithHandler
	stats  *tcpip.IPStats // the endpoint's own
	gstats tcpip.IPStats  // the stack's (its counters are pointers)
	name   string         // the NIC's name, for iptables
	// taken counts the packets delivered on the fast path (tests).
	taken atomic.Uint64
}

// handleFast delivers pkt if it is the common datagram and reports
// whether it did; false leaves pkt untouched for gVisor.
func (e *ipv4HookEP) handleFast(pkt *gstack.PacketBuffer) bool {
	f := e.fast
	if f == nil || len(pkt.NetworkHeader().Slice()) != 0 {
		return false // off, or already parsed: not from a NIC
	}
	b, ok := pkt.Data().PullUp(header.IPv4MinimumSize)
	if !ok || b[0] != 0x45 { // version 4, IHL 5: no options
		return false
	}
	h := header.IPv4(b)
	p := h.TransportProtocol()
	if p != header.UDPProtocolNumber && p != UDPLiteProtocolNumber {
		return false
	}
	if e.s.raw4[p].Load() != 0 {
		return false // raw sockets see it first, through gVisor
	}
	tlen := int(h.TotalLength())
	if tlen < header.IPv4MinimumSize || tlen > pkt.Data().Size() ||
		h.More() || h.FragmentOffset() != 0 ||
		(!pkt.RXChecksumValidated && !h.IsChecksumValid()) {
		return false
	}
	src, dst := h.SourceAddress(), h.DestinationAddress()
	if src == header.IPv4Broadcast || src == header.IPv4Any || header.IsV4MulticastAddress(src) || header.IsV4LoopbackAddress(src) ||
		dst == header.IPv4Broadcast || header.IsV4MulticastAddress(dst) || header.IsV4LoopbackAddress(dst) {
		return false
	}
	if f.nic.IsLoopback() || f.nic.Promiscuous() || !e.ipv4Endpoint.Enabled() {
		return false
	}
	g := e.s.g
	if nft := g.NFTables(); nft != nil && g.IsNFTablesConfigured() {
		return false
	}
	// One of our own addresses, or the broadcast address of one of our
	// subnets, as the source: gVisor drops it (HandleLocal) or checks it.
	if ae := e.ipv4Endpoint.AcquireAssignedAddress(src, false, gstack.NeverPrimaryEndpoint, true); ae != nil {
		return false
	}
	ae := e.ipv4Endpoint.AcquireAssignedAddress(dst, false, gstack.CanBePrimaryEndpoint, true)
	if ae == nil || ae.Temporary() {
		return false // not ours: gVisor forwards or drops it
	}
	if sub := ae.AddressWithPrefix().Subnet(); sub.IsBroadcast(dst) {
		return false // subnet broadcast: fanned out by gVisor
	}

	// From here on the packet is ours, as it is gVisor's past its checks.
	gs := &f.gstats
	gs.PacketsReceived.Increment()
	f.stats.PacketsReceived.Increment()
	parse.IPv4(pkt) // cannot fail: checked above
	g.ParsePacketBufferTransport(p, pkt)
	nicID := f.nic.ID()
	pkt.NICID = nicID
	pkt.InputNICID = nicID
	if !g.IPTables().CheckPrerouting(pkt, e.ipv4Endpoint, f.name) {
		gs.IPTablesPreroutingDropped.Increment()
		f.stats.IPTablesPreroutingDropped.Increment()
		return true
	}
	gs.ValidPacketsReceived.Increment()
	f.stats.ValidPacketsReceived.Increment()
	pkt.NetworkPacketInfo.LocalAddressTemporary = false
	pkt.NetworkPacketInfo.LocalAddressBroadcast = false
	if !g.IPTables().CheckInput(pkt, f.name) {
		gs.IPTablesInputDropped.Increment()
		f.stats.IPTablesInputDropped.Increment()
		return true
	}
	gs.PacketsDelivered.Increment()
	f.stats.PacketsDelivered.Increment()
	f.taken.Add(1)
	if f.gate.TransportDispatcher.DeliverTransportPacket(p, pkt) == gstack.TransportPacketDestinationPortUnreachable {
		_ = f.proto.SendRejectionError(pkt, gstack.RejectIPv4WithICMPPortUnreachable, true)
	}
	return true
}

// newIPv4Fast returns the fast path of ep, nil if its stats are not
// gVisor's IPv4 ones.
func newIPv4Fast(g *gstack.Stack, nic gstack.NetworkInterface, gate *rawGate, proto gstack.RejectIPv4WithHandler, ep gstack.NetworkEndpoint) *ipv4Fast {
	st, ok := ep.Stats().(*ipv4.Stats)
	if !ok {
		return nil
	}
	return &ipv4Fast{nic: nic, gate: gate, proto: proto, stats: &st.IP, gstats: g.Stats().IP, name: nic.Name()}
}
