package options

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"
)

// MaxSockaddrLen is sizeof(struct sockaddr_storage): move_addr_to_kernel
// rejects longer addresses given to bind, connect and sendto with EINVAL
// (sendmsg instead clamps msg_namelen to it).
const MaxSockaddrLen = 128

// sockaddr_in: family (native u16) | port (be16) | addr (4) | zero (8).

// ParseSockaddrIn decodes a sockaddr_in without judging its family: fewer
// than 16 bytes is EINVAL; the family is returned for the caller's checks.
func ParseSockaddrIn(b []byte) (netip.AddrPort, uint16, error) {
	if len(b) < unix.SizeofSockaddrInet4 {
		return netip.AddrPort{}, 0, unix.EINVAL
	}
	return decodeSockaddrIn(b), sockaddrFamily(b), nil
}

func decodeSockaddrIn(b []byte) netip.AddrPort {
	port := binary.BigEndian.Uint16(b[2:4])
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), port)
}

func sockaddrFamily(b []byte) uint16 { return nativeEndian.Uint16(b[0:2]) }

// SockaddrIn encodes ap (an IPv4 or IPv4-mapped address; anything else is
// encoded as 0.0.0.0) as a 16-byte sockaddr_in with family AF_INET.
func SockaddrIn(ap netip.AddrPort) []byte {
	b := make([]byte, unix.SizeofSockaddrInet4)
	PutSockaddrIn(b, ap)
	return b
}

// SockaddrInArray is SockaddrIn without a heap allocation.
func SockaddrInArray(ap netip.AddrPort) [unix.SizeofSockaddrInet4]byte {
	var b [unix.SizeofSockaddrInet4]byte
	PutSockaddrIn(b[:], ap)
	return b
}

// AppendSockaddrIn appends the 16-byte sockaddr_in of ap to dst.
func AppendSockaddrIn(dst []byte, ap netip.AddrPort) []byte {
	a := SockaddrInArray(ap)
	return append(dst, a[:]...)
}

// PutSockaddrIn writes the sockaddr_in of ap into buf and returns how many
// bytes it wrote: all 16, or len(buf) when shorter (getsockname and
// recvfrom copy a truncated address and report the full length; the caller
// reports unix.SizeofSockaddrInet4).
func PutSockaddrIn(buf []byte, ap netip.AddrPort) int {
	var b [unix.SizeofSockaddrInet4]byte
	nativeEndian.PutUint16(b[0:2], unix.AF_INET)
	binary.BigEndian.PutUint16(b[2:4], ap.Port())
	if a := ap.Addr().Unmap(); a.Is4() {
		a4 := a.As4()
		copy(b[4:8], a4[:])
	}
	return copy(buf, b[:])
}

// SockaddrResult is a sockaddr_in decoded for one call site.
type SockaddrResult struct {
	Addr netip.AddrPort
	// Unspec is true when sin_family was AF_UNSPEC and Linux accepted it:
	// for connect it means "disconnect" (Addr is then not meaningful); for
	// bind and sendto Addr is used as an AF_INET address.
	Unspec bool
}

// ParseBindAddr applies inet_bind's checks: more than 128 bytes or fewer
// than 16 is EINVAL; sin_family other than AF_INET is EAFNOSUPPORT, except
// AF_UNSPEC with sin_addr INADDR_ANY, accepted for compatibility as
// AF_INET 0.0.0.0 (the port is kept).
func ParseBindAddr(b []byte) (SockaddrResult, error) {
	if len(b) > MaxSockaddrLen || len(b) < unix.SizeofSockaddrInet4 {
		return SockaddrResult{}, unix.EINVAL
	}
	ap := decodeSockaddrIn(b)
	switch sockaddrFamily(b) {
	case unix.AF_INET:
		return SockaddrResult{Addr: ap}, nil
	case unix.AF_UNSPEC:
		if ap.Addr().IsUnspecified() {
			return SockaddrResult{Addr: ap, Unspec: true}, nil
		}
	}
	return SockaddrResult{}, unix.EAFNOSUPPORT
}

// ParseConnectAddr applies inet_dgram_connect / inet_stream_connect then
// ip4_datagram_connect / tcp_v4_connect, in Linux's order: more than 128
// bytes is EINVAL (move_addr_to_kernel); fewer than 2 bytes (no family)
// is EINVAL; AF_UNSPEC means disconnect whatever the length; fewer than 16
// bytes is EINVAL; another family than AF_INET is EAFNOSUPPORT.
func ParseConnectAddr(b []byte) (SockaddrResult, error) {
	if len(b) > MaxSockaddrLen || len(b) < 2 {
		return SockaddrResult{}, unix.EINVAL
	}
	if sockaddrFamily(b) == unix.AF_UNSPEC {
		return SockaddrResult{Unspec: true}, nil
	}
	if len(b) < unix.SizeofSockaddrInet4 {
		return SockaddrResult{}, unix.EINVAL
	}
	if sockaddrFamily(b) != unix.AF_INET {
		return SockaddrResult{}, unix.EAFNOSUPPORT
	}
	return SockaddrResult{Addr: decodeSockaddrIn(b)}, nil
}

// ParseSendtoAddr applies udp_sendmsg's (and raw_sendmsg's) destination
// checks: fewer than 16 bytes is EINVAL; a family other than AF_INET and
// AF_UNSPEC is EAFNOSUPPORT; AF_UNSPEC is used as AF_INET. The caller
// handles a nil address (no msg_name) itself, and for UDP a zero port
// (EINVAL). Ping sockets are stricter (AF_UNSPEC is EAFNOSUPPORT there):
// use ParseSockaddrIn and check the family.
func ParseSendtoAddr(b []byte) (SockaddrResult, error) {
	if len(b) < unix.SizeofSockaddrInet4 {
		return SockaddrResult{}, unix.EINVAL
	}
	switch sockaddrFamily(b) {
	case unix.AF_INET:
		return SockaddrResult{Addr: decodeSockaddrIn(b)}, nil
	case unix.AF_UNSPEC:
		return SockaddrResult{Addr: decodeSockaddrIn(b), Unspec: true}, nil
	}
	return SockaddrResult{}, unix.EAFNOSUPPORT
}
