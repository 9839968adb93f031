package endpoint

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"netsandbox/options"
)

// ICMP_FILTER (raw(7)): a raw IPPROTO_ICMP socket drops the ICMP types
// whose bit is set in a 32-bit mask before they are queued to it
// (raw_rcv's icmp_filter). gVisor's IPv4 raw endpoint has no such filter,
// so the socket drops filtered packets at the head of its queue before
// poll and recvmsg look at it; other sockets still get them.

// setRawOpt handles SOL_RAW options on a raw socket as do_raw_setsockopt:
// ICMP_FILTER on an ICMP socket, EOPNOTSUPP on others, ENOPROTOOPT for any
// other option.
func (g *rawSock) setRawOpt(name int, val []byte) error {
	if name != options.ICMPFilter {
		return unix.ENOPROTOOPT
	}
	if g.proto != unix.IPPROTO_ICMP {
		return unix.EOPNOTSUPP
	}
	// raw_seticmpfilter copies at most 4 bytes; a shorter value replaces
	// only the first bytes.
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], g.icmpFilter.Load())
	copy(b[:], val)
	g.icmpFilter.Store(binary.NativeEndian.Uint32(b[:]))
	return nil
}

// getRawOpt is do_raw_getsockopt: min(optlen, 4) bytes of the mask.
func (g *rawSock) getRawOpt(name int, buf []byte) (int, error) {
	if name != options.ICMPFilter {
		return 0, unix.ENOPROTOOPT
	}
	if g.proto != unix.IPPROTO_ICMP {
		return 0, unix.EOPNOTSUPP
	}
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], g.icmpFilter.Load())
	return copy(buf, b[:]), nil
}

// icmpFiltered tells whether a received packet (IPv4 header included) is
// one the filter drops: a type below 32 whose bit is set, or a packet too
// short to carry a type.
func icmpFiltered(pkt []byte, mask uint32) bool {
	if len(pkt) < 1 {
		return true
	}
	ihl := int(pkt[0]&0xf) * 4
	if len(pkt) <= ihl {
		return true
	}
	t := pkt[ihl]
	return t < 32 && mask&(1<<t) != 0
}
