package endpoint

import (
	"net/netip"

	"golang.org/x/sys/unix"

	"gvisor.dev/gvisor/pkg/tcpip"

	"netsandbox/options"
	"netsandbox/stack"
)

// fullAddress turns a parsed sockaddr into gVisor's form.
func fullAddress(ap netip.AddrPort) tcpip.FullAddress {
	return tcpip.FullAddress{Addr: tcpip.AddrFrom4(ap.Addr().Unmap().As4()), Port: ap.Port()}
}

// bindAddress is fullAddress for bind(2): gVisor spells INADDR_ANY as the
// empty address.
func bindAddress(ap netip.AddrPort) tcpip.FullAddress {
	if ap.Addr().IsUnspecified() {
		return tcpip.FullAddress{Port: ap.Port()}
	}
	return fullAddress(ap)
}

// addrPortOf is the inverse of fullAddress; an empty gVisor address reads
// as 0.0.0.0.
func addrPortOf(fa tcpip.FullAddress) netip.AddrPort {
	var a4 [4]byte
	if fa.Addr.Len() == 4 {
		a4 = fa.Addr.As4()
	}
	return netip.AddrPortFrom(netip.AddrFrom4(a4), fa.Port)
}

// sockaddr is the 16-byte sockaddr_in of ap.
func sockaddr(ap netip.AddrPort) []byte { return options.SockaddrIn(ap) }

// routeDst is the destination Linux's output route lookup really uses: a
// destination of INADDR_ANY means this host, the bound source address if
// there is one, else 127.0.0.1 (__ip_route_output_key).
func routeDst(dst netip.AddrPort, src netip.Addr) netip.AddrPort {
	if !dst.Addr().IsUnspecified() {
		return dst
	}
	if src.IsValid() && !src.IsUnspecified() {
		return netip.AddrPortFrom(src, dst.Port())
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), dst.Port())
}

// checkBroadcastDst is the RTCF_BROADCAST test of udp_sendmsg,
// ip4_datagram_connect and raw_sendmsg: a broadcast destination needs
// SO_BROADCAST (EACCES). The route lookup comes first, so without a route
// the answer is the routing error even for a broadcast destination.
func checkBroadcastDst(s *stack.Stack, src, dst netip.Addr, o sockOpts) error {
	if o.broadcast || !s.IsBroadcast(dst) {
		return nil
	}
	if _, _, err := s.RouteFrom(src, dst, o.bindIf); err != nil {
		return err
	}
	return unix.EACCES
}
