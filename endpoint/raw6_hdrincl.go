package endpoint

import (
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/options"
)

// ipv6HdrIncl is IPV6_HDRINCL (include/uapi/linux/in6.h).
const ipv6HdrIncl = 36

func (r *raw6Sock) hdrinclOn() bool {
	r.optMu.Lock()
	defer r.optMu.Unlock()
	return r.hdrincl
}

// sendHeaderIncluded is rawv6_sendmsg's hdrincl path: the packet goes to
// the destination the socket named (:: is ::1) or its peer, from its
// bound address, out of the scope id's or the bound interface (else
// IPV6_MULTICAST_IF for a group); rawv6_send_hdrinc refuses it past the
// device MTU with EMSGSIZE and ipv6_local_error's entry (ports 0: no
// protocol header was probed), shorter than an IPv6 header with EINVAL.
func (r *raw6Sock) sendHeaderIncluded(p []byte, to *tcpip.FullAddress) (int, error) {
	return r.sendPacket6(p, to, 0)
}

// sendProtoRaw is an IPPROTO_RAW socket's send with IPV6_HDRINCL turned
// off: rawv6_sendmsg puts an IPv6 header of next header 255 (the
// socket's protocol) before the data, with the socket's or the message's
// hop limit and traffic class.
func (r *raw6Sock) sendProtoRaw(p []byte, to *tcpip.FullAddress, c options.IPv6SendControl) (int, error) {
	r.optMu.Lock()
	hops, tclass := r.v6.unicastHops, r.v6.tclass
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
	n, err := r.sendPacket6(pkt, to, header.IPv6MinimumSize)
	return max(n-header.IPv6MinimumSize, 0), err
}

// sendPacket6 sends the whole IPv6 packet p; hdr is how much of it the
// socket wrote itself (its destination is then filled in).
func (r *raw6Sock) sendPacket6(p []byte, to *tcpip.FullAddress, hdr int) (int, error) {
	dst, oif := r.sendDst6(to)
	if dst.IsUnspecified() {
		dst = netip.IPv6Loopback()
	}
	if oif == 0 {
		oif = r.optsSnapshot().bindIf
	}
	if oif == 0 && dst.IsMulticast() {
		r.optMu.Lock()
		oif = r.v6.mcastIf
		r.optMu.Unlock()
	}
	if hdr > 0 {
		d := dst.As16()
		copy(p[24:40], d[:])
	}
	var src netip.Addr
	r.mu.Lock()
	if r.hasBound && r.bound.Addr.Len() == 16 {
		src = netip.AddrFrom16(r.bound.Addr.As16())
	}
	r.mu.Unlock()
	mtu, err := r.s.SendHeaderIncluded6(p, src, dst, oif)
	if err == unix.EMSGSIZE && r.recvErr6() {
		r.errs.queueLocal(sockErr{
			ee:       options.SockExtendedErr{Errno: uint32(unix.EMSGSIZE), Origin: unix.SO_EE_ORIGIN_LOCAL, Info: uint32(mtu)},
			name:     netip.AddrPortFrom(dst, 0),
			truesize: localErrTruesize,
			stamp:    time.Now().UnixNano(),
		}, r.optsSnapshot().rcvbuf)
		r.q.Notify(waiter.EventErr)
	}
	if err != nil {
		return 0, err
	}
	return len(p), nil
}
