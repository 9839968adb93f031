package stack

import (
	"gvisor.dev/gvisor/pkg/tcpip"
)

// EphemeralRange is inet_sk_get_local_port_range: the stack's
// ip_local_port_range narrowed by a socket's IP_LOCAL_PORT_RANGE (low port
// in the low 16 bits, high port in the high 16; 0 = unset). Each bound of
// the socket's range applies only when it lies inside the stack's range.
func (s *Stack) EphemeralRange(sockRange uint32) (lo, hi uint16) {
	l, h := s.sysctl.Pair("net.ipv4.ip_local_port_range")
	lo, hi = uint16(l), uint16(h)
	if sockRange == 0 {
		return lo, hi
	}
	sl, sh := uint16(sockRange), uint16(sockRange>>16)
	if lo <= sl && sl <= hi {
		lo = sl
	}
	if lo <= sh && sh <= hi {
		hi = sh
	}
	return lo, hi
}

// PickPort tries the ports of [lo, hi] from a random start, as Linux's
// port search does, until try accepts one; it reports false when every
// port was refused.
func (s *Stack) PickPort(lo, hi uint16, try func(port uint16) bool) bool {
	if lo == 0 || hi < lo {
		return false
	}
	n := uint32(hi) - uint32(lo) + 1
	rng := s.g.SecureRNG()
	start := rng.Uint32() % n
	for i := uint32(0); i < n; i++ {
		if try(uint16(uint32(lo) + (start+i)%n)) {
			return true
		}
	}
	return false
}

// reserveInRange takes an ephemeral port from the binding's own
// IP_LOCAL_PORT_RANGE.
func (b *UDPBinding) reserveInRange(addr tcpip.Address) (uint16, bool) {
	lo, hi := b.s.EphemeralRange(b.flags.PortRange)
	var got uint16
	ok := b.s.PickPort(lo, hi, func(p uint16) bool {
		if _, e := b.s.g.ReservePort(b.s.g.SecureRNG(), b.reservation(addr, p), nil); e != nil {
			return false
		}
		got = p
		return true
	})
	return got, ok
}
