package options

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// SizeofSockaddrIn6RFC2133 is SIN6_LEN_RFC2133: the length of a
// sockaddr_in6 without sin6_scope_id, the shortest Linux takes.
const SizeofSockaddrIn6RFC2133 = 24

// SockaddrIn6 is a decoded sockaddr_in6. Scope is sin6_scope_id, zero
// when the caller's sockaddr ended before it (RFC 2133's layout).
type SockaddrIn6 struct {
	Addr     netip.Addr // always a 16-byte address; v4-mapped stays mapped
	Port     uint16
	FlowInfo uint32 // sin6_flowinfo as on the wire (network order)
	Scope    uint32
}

// AddrPort returns the address and port.
func (s SockaddrIn6) AddrPort() netip.AddrPort { return netip.AddrPortFrom(s.Addr, s.Port) }

// ParseSockaddrIn6 decodes the bytes of a sockaddr_in6 at least
// SIN6_LEN_RFC2133 long, whatever its family field says (callers check
// the family in their own order). Shorter input is EINVAL.
func ParseSockaddrIn6(b []byte) (SockaddrIn6, error) {
	if len(b) < SizeofSockaddrIn6RFC2133 {
		return SockaddrIn6{}, unix.EINVAL
	}
	var s SockaddrIn6
	s.Port = uint16(b[2])<<8 | uint16(b[3])
	s.FlowInfo = uint32(b[4])<<24 | uint32(b[5])<<16 | uint32(b[6])<<8 | uint32(b[7])
	s.Addr = netip.AddrFrom16([16]byte(b[8:24]))
	if len(b) >= unix.SizeofSockaddrInet6 {
		s.Scope = nativeEndian.Uint32(b[24:28])
	}
	return s, nil
}

// SockaddrFamily returns the sa_family of b, or AF_UNSPEC when b is
// shorter than the family field.
func SockaddrFamily(b []byte) int {
	if len(b) < 2 {
		return unix.AF_UNSPEC
	}
	return int(sockaddrFamily(b))
}

// SockaddrIn6Bytes encodes the 28-byte sockaddr_in6 of ap (a 4-byte
// address is written v4-mapped, as an AF_INET6 socket reports an IPv4
// peer) with flow information 0 and the given scope id.
func SockaddrIn6Bytes(ap netip.AddrPort, scope uint32) []byte {
	b := make([]byte, unix.SizeofSockaddrInet6)
	nativeEndian.PutUint16(b, unix.AF_INET6)
	b[2], b[3] = byte(ap.Port()>>8), byte(ap.Port())
	a := ap.Addr()
	if a.Is4() {
		a = netip.AddrFrom16(a.As16())
	}
	if a.IsValid() {
		a16 := a.As16()
		copy(b[8:24], a16[:])
	}
	nativeEndian.PutUint32(b[24:], scope)
	return b
}
