package options

import "golang.org/x/sys/unix"

// Integer socket options: how Linux reads an int from setsockopt's optval and
// how much of an int getsockopt writes back. Measured on Linux 6.18 (x86_64)
// with a UDP socket, matching net/ipv4/ip_sockglue.c and net/core/sock.c:
//
//	setsockopt SOL_IP int options, optval {0x21,0x02,0,0,0,0,0,0}:
//	  optlen 0      -> value 0, no error from the read itself (IP_PKTINFO,
//	                   IP_TOS, IP_RECVERR, IP_MTU_DISCOVER succeed and store 0);
//	                   IP_TTL, IP_MULTICAST_TTL, IP_MINTTL ... check optlen < 1
//	                   themselves and return EINVAL (see IPIntNeedsValue)
//	  optlen 1,2,3  -> first byte, unsigned (0x21 = 33)
//	  optlen 4,8    -> first native-endian int32 (0x221 = 545)
//	getsockopt SOL_IP IP_TTL (value 200):
//	  optlen -1 -> EINVAL; 0 -> 0 bytes; 1,2,3 -> 1 byte (200), optlen 1;
//	  4,8 -> 4 bytes, optlen 4
//	getsockopt SOL_IP IP_UNICAST_IF (value htonl(1) = 0x01000000, > 255):
//	  optlen 1,2,3 -> the first 1,2,3 bytes of the int; 4,8 -> 4 bytes
//	setsockopt SOL_SOCKET SO_RCVBUF: optlen 0..3 -> EINVAL; 4,8 -> first int32
//	getsockopt SOL_SOCKET SO_RCVBUF/SO_REUSEADDR: optlen -1 -> EINVAL;
//	  otherwise min(optlen, 4) bytes of the int, optlen set to that

// ParseIPInt reads an int option value the way do_ip_setsockopt does:
// len(b) >= 4 reads a native-endian int32 (extra bytes ignored), 1..3 reads
// the first byte as unsigned, and an empty value reads as 0 without error
// ("optlen == 0 is equivalent to val == 0" in the kernel). Options that
// reject optlen 0 do so themselves: check IPIntNeedsValue.
func ParseIPInt(b []byte) (int32, error) {
	v, _ := ParseIntOpt(b)
	return v, nil
}

// ParseIntOpt is ParseIPInt in the errno-valued form the architecture
// contract names; the errno is always 0 (the read itself never fails).
func ParseIntOpt(b []byte) (v int32, err unix.Errno) {
	switch {
	case len(b) >= sizeofInt:
		return int32(nativeEndian.Uint32(b)), 0
	case len(b) >= 1:
		return int32(b[0]), 0
	}
	return 0, 0
}

// IPIntNeedsValue reports whether SOL_IP option opt answers EINVAL to an
// empty optval (Linux's "if (optlen < 1) goto e_inval"), rather than taking
// it as 0. IP_UNICAST_IF is stricter still (optlen must be exactly 4) and is
// not covered here.
func IPIntNeedsValue(opt int) bool {
	switch opt {
	case unix.IP_TTL, unix.IP_MULTICAST_TTL, unix.IP_MULTICAST_LOOP, unix.IP_MULTICAST_ALL,
		unix.IP_FREEBIND, unix.IP_TRANSPARENT, unix.IP_MINTTL:
		return true
	}
	return false
}

// ParseSockInt reads a SOL_SOCKET int option value like sk_setsockopt:
// fewer than 4 bytes is EINVAL, otherwise the first native-endian int32.
func ParseSockInt(b []byte) (int32, error) {
	if len(b) < sizeofInt {
		return 0, unix.EINVAL
	}
	return int32(nativeEndian.Uint32(b)), nil
}

// PutIPInt writes v into buf as do_ip_getsockopt does for int options, with
// len(buf) as the caller's optlen (a negative optlen is EINVAL at the
// caller): 1..3 bytes of room and 0 <= v <= 255 give one byte; otherwise
// min(len(buf), 4) bytes of the native-endian int. It returns the optlen to
// report.
func PutIPInt(buf []byte, v int32) int {
	if len(buf) > 0 && len(buf) < sizeofInt && v >= 0 && v <= 255 {
		buf[0] = byte(v)
		return 1
	}
	return putIntPrefix(buf, v)
}

// PutIntOpt is the architecture contract's name for PutIPInt.
func PutIntOpt(buf []byte, v int32) (n int) { return PutIPInt(buf, v) }

// PutSockInt writes v into buf as sk_getsockopt does: min(len(buf), 4)
// bytes of the native-endian int. It returns the optlen to report.
func PutSockInt(buf []byte, v int32) int { return putIntPrefix(buf, v) }

// putIntPrefix copies the leading bytes of the in-memory int, so a short
// buffer gets the low-address bytes, as copy_to_user(optval, &val, len).
func putIntPrefix(buf []byte, v int32) int {
	var tmp [sizeofInt]byte
	nativeEndian.PutUint32(tmp[:], uint32(v))
	return copy(buf, tmp[:])
}

// PutInt32 writes a native-endian int32 into b[0:4] (for callers building
// structs or int-valued cmsgs). b must hold 4 bytes.
func PutInt32(b []byte, v int32) { nativeEndian.PutUint32(b, uint32(v)) }

// Int32 reads a native-endian int32 from b[0:4]. b must hold 4 bytes.
func Int32(b []byte) int32 { return int32(nativeEndian.Uint32(b)) }

// ICMPFilter is ICMP_FILTER at SOL_RAW (linux/icmp.h; x/sys/unix has no
// name for it): a raw ICMP socket's 32-bit mask of the types it drops.
const ICMPFilter = 1
