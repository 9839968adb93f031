package gateway

import (
	"net/netip"
	"strconv"

	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"netsandbox/options"
)

// The gateway's NIC is promiscuous with spoofing, so gVisor takes every
// packet of the sandbox as addressed to itself, whatever its destination,
// and answers as that destination: an IP protocol it has no transport for
// gets protocol unreachable "from" the destination (ipv4's
// deliverPacketLocally, TransportPacketProtocolUnreachable), a malformed
// IP option parameter problem "from" it (processIPOptions). The gateway
// has heard nothing from that destination, which may not exist. admit
// sees each IPv4 packet of the sandbox first (FilterLink) and decides,
// as the network between the sandbox and the world would:
//
//   - a source-routed packet (LSRR, SSRR) is dropped silently, whatever
//     its destination, as Linux drops it with accept_source_route 0 (its
//     default, and what the host would do with it);
//   - a malformed IP option in a packet to another address gets parameter
//     problem from the gateway, the hop that found it, as a Linux router
//     sends it (ip_options_compile, from its own address); none for a
//     fragment other than the first (RFC 1812 4.3.2.7);
//   - a protocol other than TCP, UDP and ICMP to another address cannot be
//     relayed (the host's sockets carry those three): a destination the
//     egress policy denies gets "administratively prohibited" from the
//     gateway, as a denied UDP datagram does; any other is dropped
//     silently, as by a network that loses it: no one is there to say
//     otherwise.
//
// Packets to the gateway's own addresses (10.0.2.2, 10.0.2.3), broadcast
// and multicast go to the stack unchanged: it answers those as the host it
// is there. Each drop is counted in Stats.
func (gw *Gateway) admit(pkt *gstack.PacketBuffer) bool {
	d := pkt.Data()
	b, ok := d.PullUp(header.IPv4MinimumSize)
	if !ok {
		return true // the stack drops what is too short
	}
	ip := header.IPv4(b)
	ihl := int(ip.HeaderLength())
	proto := ip.Protocol()
	if ihl == header.IPv4MinimumSize && relayed(proto) {
		return true // the fast path: a relayed protocol without options
	}
	if !ip.IsValid(d.Size()) {
		return true
	}
	if b, ok = d.PullUp(ihl); !ok {
		return true
	}
	ip = header.IPv4(b)
	if !ip.IsChecksumValid() {
		return true // the stack counts and drops it
	}
	dst := addrOf(ip.DestinationAddress())
	if gw.sourceRouted(ip.Options()) {
		gw.stats.SourceRouted.Add(1)
		gw.logf("%s %v -> %v dropped: source-routed", protoName(proto), addrOf(ip.SourceAddress()), dst)
		return false
	}
	if gw.speaksFor(dst) {
		return true
	}
	firstFragment := ip.FragmentOffset() == 0
	if ihl > header.IPv4MinimumSize {
		if ptr, bad := optionProblem(ip.Options()); bad {
			gw.stats.BadOptions.Add(1)
			if firstFragment {
				gw.sendICMPError(gw.cfg.Gateway, uint8(header.ICMPv4ParamProblem), 0, uint32(header.IPv4MinimumSize+ptr)<<24, quoteOf(pkt, ihl))
			}
			return false
		}
	}
	if relayed(proto) {
		return true
	}
	src := addrOf(ip.SourceAddress())
	if !dst.IsLoopback() && !dst.IsUnspecified() && !gw.sandboxNet.Contains(dst) {
		if ok, why := gw.policyVerdict(ProtoAny, netip.AddrPortFrom(dst, 0)); !ok {
			gw.stats.Denied.Add(1)
			gw.logf("%s %v -> %v refused: %s", protoName(proto), src, dst, why)
			if firstFragment {
				gw.sendICMPError(gw.cfg.Gateway, uint8(header.ICMPv4DstUnreachable), uint8(header.ICMPv4AdminProhibited), 0, quoteOf(pkt, ihl))
			}
			return false
		}
	}
	gw.stats.Unrelayed.Add(1)
	gw.logf("%s %v -> %v dropped: only TCP, UDP and ICMP are relayed", protoName(proto), src, dst)
	return false
}

// relayed tells whether the gateway relays IP protocol p.
func relayed(p uint8) bool {
	return p == uint8(header.TCPProtocolNumber) || p == uint8(header.UDPProtocolNumber) || p == uint8(header.ICMPv4ProtocolNumber)
}

// speaksFor tells whether the stack may answer a packet to dst as its
// destination: the gateway's own addresses, and broadcast and multicast
// (which the stack never answers with an error).
func (gw *Gateway) speaksFor(dst netip.Addr) bool {
	if dst == gw.cfg.Gateway || (gw.cfg.DNS.IsValid() && dst == gw.cfg.DNS) || dst.IsMulticast() {
		return true
	}
	if dst == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return true
	}
	if n := gw.sandboxNet; n.Bits() < 31 && n.Contains(dst) {
		bcast := n.Addr().As4()
		host := uint32(1)<<(32-n.Bits()) - 1
		for i := range bcast {
			bcast[i] |= byte(host >> (24 - 8*i))
		}
		return dst == netip.AddrFrom4(bcast)
	}
	return false
}

// quoteOf is the packet's IP header and the 8 bytes after it, for an ICMP
// error (the packet is not parsed yet: its data holds the IP header).
func quoteOf(pkt *gstack.PacketBuffer, ihl int) []byte {
	d := pkt.Data()
	return d.AsRange().Capped(ihl + 8).ToSlice()
}

func protoName(p uint8) string {
	switch p {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 1:
		return "icmp"
	case 47:
		return "gre"
	case 132:
		return "sctp"
	}
	return "protocol " + strconv.Itoa(int(p))
}

// sourceRouted tells whether opts hold a loose or strict source route
// (RFC 791), read as far as the option lengths are sane; a source route
// whose own length is malformed counts.
func (gw *Gateway) sourceRouted(opts header.IPv4Options) bool {
	it := options.NewIPOptionIter(opts)
	for opt, _, ok := it.Next(); ok; opt, _, ok = it.Next() {
		if isSourceRoute(opt[0]) {
			return true
		}
	}
	return it.Malformed() && isSourceRoute(opts[it.Offset()])
}

func isSourceRoute(typ byte) bool { return typ == options.IPOptLSRR || typ == options.IPOptSSRR }

// optionProblem finds what gVisor's processIPOptions would refuse in opts,
// by the same rules (lengths, repeats, the pointers and flags of record
// route and timestamp, router alert's value): ptr is the offset of the bad
// byte within opts.
func optionProblem(opts header.IPv4Options) (ptr int, bad bool) {
	it := options.NewIPOptionIter(opts)
	var seen [256]bool
	for o, at, ok := it.Next(); ok; o, at, ok = it.Next() {
		typ := header.IPv4OptionType(o[0])
		// gVisor's IPv4OptionIterator checks these lengths before repeats.
		switch typ {
		case header.IPv4OptionTimestampType:
			if len(o) < header.IPv4OptionTimestampHdrLength {
				return at + header.IPv4OptionLengthOffset, true
			}
		case header.IPv4OptionRecordRouteType:
			if len(o) < header.IPv4OptionRecordRouteHdrLength {
				return at + header.IPv4OptionLengthOffset, true
			}
		case header.IPv4OptionRouterAlertType:
			if len(o) != header.IPv4OptionRouterAlertLength {
				return at + header.IPv4OptionLengthOffset, true
			}
		case header.IPv4OptionExperimentType:
			if len(o) != header.IPv4OptionExperimentLength {
				return at + header.IPv4OptionLengthOffset, true
			}
		}
		if seen[typ] {
			return at, true
		}
		seen[typ] = true
		switch typ {
		case header.IPv4OptionRecordRouteType:
			switch ptr := int(o[2]); {
			case len(o) < header.IPv4AddressSize+header.IPv4OptionRecordRouteHdrLength:
				return at + header.IPv4OptionLengthOffset, true
			case ptr <= header.IPv4OptionRecordRouteHdrLength:
				return at + header.IPv4OptRRPointerOffset, true
			case ptr <= len(o) && ptr+header.IPv4AddressSize > len(o)+1:
				return at + header.IPv4OptRRPointerOffset, true
			}
		case header.IPv4OptionTimestampType:
			var entry int
			switch flags := o[3] & 0xf; flags {
			case byte(header.IPv4OptionTimestampOnlyFlag):
				entry = header.IPv4OptionTimestampSize
			case byte(header.IPv4OptionTimestampWithIPFlag), byte(header.IPv4OptionTimestampWithPredefinedIPFlag):
				entry = header.IPv4OptionTimestampWithAddrSize
			default:
				return at + header.IPv4OptTSOFLWAndFLGOffset, true
			}
			ptr := int(o[2])
			switch {
			case ptr <= header.IPv4OptionTimestampHdrLength:
				return at + header.IPv4OptTSPointerOffset, true
			case ptr > len(o):
				// Full: the overflow count goes up, and a wrapped one is
				// a problem (unless the addresses were given).
				if o[3]&0xf != byte(header.IPv4OptionTimestampWithPredefinedIPFlag) && o[3]>>4 == 0xf {
					return at + header.IPv4OptTSOFLWAndFLGOffset, true
				}
			case ptr-(header.IPv4OptionTimestampHdrLength+1)+entry > len(o)-header.IPv4OptionTimestampHdrLength:
				return at + header.IPv4OptTSPointerOffset, true
			}
		case header.IPv4OptionRouterAlertType:
			if o[2] != 0 || o[3] != 0 {
				return at + header.IPv4OptionRouterAlertValueOffset, true
			}
		}
	}
	if it.Malformed() {
		return it.Offset(), true
	}
	return 0, false
}
