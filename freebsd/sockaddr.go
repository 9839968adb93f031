package freebsd

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"
)

// SizeofSockaddrIn is sizeof(struct sockaddr_in) on FreeBSD.
const SizeofSockaddrIn = 16

// ParseSockaddrIn reads a FreeBSD struct sockaddr_in passed with namelen
// len(b), as connect and sendto take it: getsockaddr (kern/uipc_syscalls.c)
// takes namelen as sa_len, so the sin_len byte the caller wrote is not
// looked at; a namelen below 2 (offsetof(sa_data)) or other than 16 is
// EINVAL (in_pcbconnect_setup: sa_len != sizeof(*sin)), a family other
// than AF_INET EAFNOSUPPORT.
func ParseSockaddrIn(b []byte) (netip.AddrPort, error) {
	ap, err := ParseBindSockaddrIn(b)
	if err == nil && b[1] != AF_INET {
		return netip.AddrPort{}, unix.EAFNOSUPPORT
	}
	return ap, err
}

// ParseBindSockaddrIn reads the sockaddr of bind: udp_bind hands it to
// in_pcbbind_setup, which checks sa_len (16, else EINVAL) and, its family
// check being under "#ifdef notdef", not the family.
func ParseBindSockaddrIn(b []byte) (netip.AddrPort, error) {
	if len(b) != SizeofSockaddrIn {
		return netip.AddrPort{}, unix.EINVAL
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), binary.BigEndian.Uint16(b[2:4])), nil
}

// SockaddrIn encodes ap as a FreeBSD struct sockaddr_in (sin_len 16).
func SockaddrIn(ap netip.AddrPort) []byte {
	b := make([]byte, SizeofSockaddrIn)
	b[0] = SizeofSockaddrIn
	b[1] = AF_INET
	binary.BigEndian.PutUint16(b[2:], ap.Port())
	a := ap.Addr().As4()
	copy(b[4:8], a[:])
	return b
}

// linuxSockaddr re-encodes a FreeBSD sockaddr_in for the wrapped socket.
func linuxSockaddr(b []byte) ([]byte, error) {
	ap, err := ParseSockaddrIn(b)
	if err != nil {
		return nil, err
	}
	return linuxOf(ap), nil
}

func linuxOf(ap netip.AddrPort) []byte {
	out := make([]byte, unix.SizeofSockaddrInet4)
	binary.NativeEndian.PutUint16(out, unix.AF_INET)
	binary.BigEndian.PutUint16(out[2:], ap.Port())
	a := ap.Addr().As4()
	copy(out[4:8], a[:])
	return out
}

// bsdSockaddr re-encodes a Linux sockaddr_in from the wrapped socket; nil
// stays nil and anything that is not a sockaddr_in is passed unchanged.
func bsdSockaddr(b []byte) []byte {
	if len(b) != unix.SizeofSockaddrInet4 || binary.NativeEndian.Uint16(b) != unix.AF_INET {
		return b
	}
	return SockaddrIn(netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), binary.BigEndian.Uint16(b[2:4])))
}
