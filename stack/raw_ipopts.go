package stack

import (
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"netsandbox/options"
)

// RawSend is one datagram of a raw socket (header not included) that
// carries IP options, which gVisor's raw endpoint cannot add: the stack
// builds its header as raw_sendmsg's ip_append_data path would.
type RawSend struct {
	Src             netip.Addr // bound source; invalid or 0.0.0.0 = the route's
	Dst             netip.Addr
	IfIndex         int // 0 = route decides
	Protocol        uint8
	TTL             uint8 // 0 = route default (a multicast TTL is the caller's)
	TTLZero         bool  // a TTL of 0 leaves as 0 (the socket's own TTL is 0, as FreeBSD allows)
	TOS             uint8
	PMTU            PMTUMode
	Connected       bool          // a peer address is set: IP ID never 0
	IPID            *DatagramIPID // the socket's IP ID counter (nil = the stack's)
	NoMulticastLoop bool
	IPOptions       *options.IPOptions // nil = none
	Payload         []byte
}

// SendRawIP sends m. Errors are unix.Errno as SendUDP's.
func (s *Stack) SendRawIP(m *RawSend) error {
	if !m.Dst.Is4() || (m.Src.IsValid() && !m.Src.Is4()) {
		return unix.EAFNOSUPPORT
	}
	src := m.Src
	if src.IsValid() && src.IsUnspecified() {
		src = netip.Addr{}
	}
	dst := firstHop(m.IPOptions, m.Dst)
	r, err := s.findRoute(src, dst, m.IfIndex, !m.NoMulticastLoop)
	weakHost := false
	if err == unix.ENETUNREACH && src.IsValid() && s.IsLocalAddr(src) {
		r, err = s.findRoute(netip.Addr{}, dst, m.IfIndex, !m.NoMulticastLoop)
		weakHost = true
	}
	pmtuDst := m.Dst
	if err != nil {
		if !s.loopbackOnLink(err, m.IfIndex, dst) {
			return err
		}
		// Through lo, on link (see SendUDP).
		if r, err = s.onLinkLoopbackRoute(dst); err != nil {
			return err
		}
		if !src.IsValid() {
			src = s.loopbackSource()
		}
		weakHost, pmtuDst = true, netip.Addr{}
	}
	defer r.Release()
	if !weakHost {
		src = nAddr(r.LocalAddress())
	}
	mtu, _, locked := s.sendMTU(r, pmtuDst, m.PMTU)
	ipLen := header.IPv4MinimumSize + m.IPOptions.Len()
	size := ipLen + len(m.Payload)
	if size > 0xffff {
		return unix.EMSGSIZE
	}
	df, refuse := m.PMTU.dfAndRefuse(size <= mtu)
	if refuse {
		return unix.EMSGSIZE
	}
	df = df && !(locked && m.PMTU == PMTUWant)
	ttl := m.TTL
	if ttl == 0 && !m.Dst.IsMulticast() && !m.TTLZero {
		ttl = r.DefaultTTL()
	}
	var id uint16
	if !(df && (m.PMTU == PMTUDo || m.PMTU == PMTUProbe) && !m.Connected) {
		id = s.datagramIPID(m.IPID, m.Connected)
	}
	hdr := buffer.NewViewSize(ipLen)
	putIPv4(hdr.AsSlice(), r, &ipv4Fields{
		src: src, final: m.Dst, proto: m.Protocol, ttl: ttl, tos: m.TOS,
		df: df, id: id, opts: m.IPOptions,
	}, size)
	return writeHeaderIncluded(r, hdr, m.Payload)
}
