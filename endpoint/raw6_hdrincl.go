package endpoint

import (
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"netsandbox/options"
	"netsandbox/stack"
)

// ipv6HdrIncl is IPV6_HDRINCL (include/uapi/linux/in6.h).
const ipv6HdrIncl = 36

func (r *raw6Sock) hdrinclOn() bool {
	r.optMu.Lock()
	defer r.optMu.Unlock()
	return r.hdrincl
}

// sendHeaderIncluded is rawv6_sendmsg's hdrincl path: the packet goes to
// the destination the socket named (:: is ::1) or its peer, from an
// IPV6_PKTINFO source or the bound address, out of the scope id's, the
// IPV6_PKTINFO or the bound interface (else IPV6_MULTICAST_IF for a
// group); rawv6_send_hdrinc refuses it past the device MTU with EMSGSIZE
// and ipv6_local_error's entry (ports 0: no protocol header was probed),
// shorter than an IPv6 header with EINVAL, then reports a pending error
// (sock_alloc_send_skb).
func (r *raw6Sock) sendHeaderIncluded(p []byte, to *tcpip.FullAddress, c options.IPv6SendControl) (int, error) {
	return r.sendPacket6(p, to, c, false)
}

// sendProtoRaw is an IPPROTO_RAW socket's send with IPV6_HDRINCL turned
// off: rawv6_sendmsg puts an IPv6 header of next header 255 (the
// socket's protocol) before the data, with the message's or the socket's
// hop limit (ip6_sk_dst_hoplimit: the multicast one for a group) and
// traffic class.
func (r *raw6Sock) sendProtoRaw(p []byte, to *tcpip.FullAddress, c options.IPv6SendControl) (int, error) {
	dst, _ := r.sendDst6(to)
	r.optMu.Lock()
	hops, tclass := r.v6.unicastHops, r.v6.tclass
	if dst.IsMulticast() {
		hops = r.v6.mcastHops
	}
	r.optMu.Unlock()
	if c.HasHopLimit && c.HopLimit >= 0 {
		hops = c.HopLimit
	}
	if hops < 0 {
		hops = v6DefaultHopLimit
	}
	if c.HasTClass && c.TClass >= 0 {
		tclass = c.TClass
	}
	pkt := make([]byte, header.IPv6MinimumSize+len(p))
	header.IPv6(pkt).Encode(&header.IPv6Fields{
		TrafficClass:      uint8(tclass),
		PayloadLength:     uint16(len(p)),
		TransportProtocol: unix.IPPROTO_RAW,
		HopLimit:          uint8(hops),
	})
	copy(pkt[header.IPv6MinimumSize:], p)
	n, err := r.sendPacket6(pkt, to, c, true)
	return max(n-header.IPv6MinimumSize, 0), err
}

// sendPacket6 sends the whole IPv6 packet p; ownHeader tells that the
// socket wrote its header, whose destination is then filled in.
func (r *raw6Sock) sendPacket6(p []byte, to *tcpip.FullAddress, c options.IPv6SendControl, ownHeader bool) (int, error) {
	dst, oif := r.sendDst6(to)
	if dst.IsUnspecified() {
		dst = netip.IPv6Loopback()
	}
	var src netip.Addr
	if c.HasPktinfo {
		if oif == 0 {
			oif = int(c.PktinfoIfIndex)
		}
		if !c.PktinfoAddr.IsUnspecified() {
			src = c.PktinfoAddr
		}
	}
	if oif == 0 {
		oif = r.optsSnapshot().bindIf
	}
	r.optMu.Lock()
	mcIf, loop := r.v6.mcastIf, r.v6.mcastLoop
	r.optMu.Unlock()
	if oif == 0 && dst.IsMulticast() {
		oif = mcIf
	}
	if ownHeader {
		d := dst.As16()
		copy(p[24:40], d[:])
	}
	r.mu.Lock()
	if !src.IsValid() && r.hasBound && r.bound.Addr.Len() == 16 {
		src = netip.AddrFrom16(r.bound.Addr.As16())
	}
	r.mu.Unlock()
	pending := func() error {
		if e := r.takeErr6(); e != 0 {
			return e
		}
		return nil
	}
	mtu, err := r.s.SendHeaderIncluded6(p, stack.HeaderIncluded6{Src: src, Dst: dst, IfIndex: oif, MulticastLoop: loop, BeforeWrite: pending})
	if err == unix.EMSGSIZE {
		r.noteLocalEMSGSIZE(netip.AddrPortFrom(dst, 0), mtu)
	}
	if err != nil {
		return 0, err
	}
	return len(p), nil
}
