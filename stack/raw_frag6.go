package stack

import (
	"net/netip"

	"golang.org/x/sys/unix"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// Raw6Send is a datagram of an AF_INET6 raw socket (its header not
// included): where it goes and the header values the socket chose.
type Raw6Send struct {
	Src           netip.Addr // IPV6_PKTINFO's or the bound address; invalid or :: lets the route pick
	Dst           netip.Addr
	IfIndex       int // 0 = route decides
	MulticastLoop bool
	Proto         uint8
	TClass        uint8
	HopLimit      int // -1: the route's default
	ChecksumAt    int // where the checksum over the pseudo-header goes; -1 for none
	EchoIdent     int // a ping socket's identifier, written at bytes 4-5; -1 for none
	PMTU          PMTUMode
	FragSize      int // IPV6_MTU (np->frag_size), 0 = unset
	Payload       []byte
}

// SendRaw6Fragmented sends m in fragments when it is larger than the MTU
// of its output, as rawv6_sendmsg's and ping_v6_sendmsg's
// ip6_append_data does: cut at the cork MTU (the path MTU below PROBE,
// else the device's, lowered to IPV6_MTU: ip6_setup_cork), where gVisor's
// raw endpoint refuses anything past the device MTU, its ICMP endpoint
// cuts at the device MTU, and neither knows the path MTU or IPV6_MTU.
// handled is false for a datagram that fits, which the socket's gVisor
// endpoint sends. The modes that refuse an oversized datagram were
// answered before (EMSGSIZE and ipv6_local_error); OMIT and the modes
// below DO fragment. The checksum at ChecksumAt is computed here, as
// rawv6_push_pending_frames does (IPV6_CHECKSUM, and always at 2 for
// ICMPv6).
func (s *Stack) SendRaw6Fragmented(m *Raw6Send) (handled bool, err error) {
	size := header.IPv6MinimumSize + len(m.Payload)
	if size <= ipv6MinMTU {
		return false, nil // no MTU is below IPV6_MIN_MTU
	}
	r, err := s.findRoute6(s.routeSource6(m.Src), m.Dst, m.IfIndex, m.MulticastLoop)
	if err != nil {
		return false, nil // the endpoint's write reports it
	}
	defer r.Release()
	cork, out := s.mtus6(r, m.Dst, m.PMTU, m.FragSize)
	if size <= out {
		return false, nil
	}
	if err := s.mcastOverLoopback(r, m.Dst); err != nil {
		return true, err
	}
	src := r.LocalAddress()
	whole := append([]byte(nil), m.Payload...)
	if m.EchoIdent >= 0 && len(whole) >= header.ICMPv6EchoMinimumSize {
		header.ICMPv6(whole).SetIdent(uint16(m.EchoIdent))
	}
	if at := m.ChecksumAt; at >= 0 {
		if at+2 > len(whole) {
			return true, unix.EINVAL // rawv6_push_pending_frames
		}
		whole[at], whole[at+1] = 0, 0
		sum := header.PseudoHeaderChecksum(tcpip.TransportProtocolNumber(m.Proto), src, r.RemoteAddress(), uint16(len(whole)))
		c := ^checksum.Checksum(whole, sum)
		whole[at], whole[at+1] = byte(c>>8), byte(c)
	}
	hop := uint8(m.HopLimit)
	if m.HopLimit < 0 {
		hop = r.DefaultTTL()
	}
	return true, writeWholeAsFragments6(r, src, whole, m.TClass, hop, tcpip.TransportProtocolNumber(m.Proto), cork)
}
