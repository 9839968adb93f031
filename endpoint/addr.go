package endpoint

import (
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"

	"netsandbox/options"
)

// fullAddress turns a parsed sockaddr into gVisor's form.
func fullAddress(ap netip.AddrPort) tcpip.FullAddress {
	return tcpip.FullAddress{Addr: tcpip.AddrFrom4(ap.Addr().Unmap().As4()), Port: ap.Port()}
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
