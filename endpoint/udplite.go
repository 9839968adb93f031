package endpoint

import (
	"golang.org/x/sys/unix"

	"netsandbox/options"
	"netsandbox/stack"
)

// UDP-Lite sockets (RFC 3828, socket(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE))
// are UDP sockets on the stack's UDP-Lite registration: everything is
// UDP's but SO_PROTOCOL, the port space and the two coverage options.

// Option level and names of udplite.h.
const (
	solUDPLite       = 136 // SOL_UDPLITE
	udpliteSendCscov = 10  // UDPLITE_SEND_CSCOV
	udpliteRecvCscov = 11  // UDPLITE_RECV_CSCOV
)

// covSet marks a coverage option as set (UDPLITE_SEND_CC, UDPLITE_RECV_CC)
// above its 16-bit value.
const covSet = 1 << 16

func newUDPLite(s *stack.Stack) (Socket, error) {
	u := &udpSock{lite: true}
	u.init(s, unix.SOCK_DGRAM, unix.IPPROTO_UDP)
	u.ipid = s.NewSocketIPID()
	return u, nil
}

// AcceptCoverage is the UDPLITE_RECV_CSCOV test of udp_queue_rcv_one_skb
// for a datagram with partial coverage cov: with the option set, 0 (full
// coverage wanted) refuses every such datagram, another value those that
// cover less. A refused one counts as a drop of the socket.
func (u *udpSock) AcceptCoverage(cov int) bool {
	v := u.liteRecv.Load()
	if v&covSet == 0 {
		return true
	}
	if min := int(v &^ covSet); min != 0 && cov >= min {
		return true
	}
	u.mu.Lock()
	u.drops++
	u.mu.Unlock()
	return false
}

// setUDPLevel is udp_lib_setsockopt for SOL_UDP and SOL_UDPLITE: an int of
// at least 4 bytes, then the option. Only the coverage options exist here,
// on UDP-Lite sockets: 1..7 becomes 8, above 65535 65535, and a negative
// value 8, as Linux clamps them.
func (u *udpSock) setUDPLevel(name int, val []byte) error {
	if len(val) < 4 {
		return unix.EINVAL
	}
	v := int(options.Int32(val))
	switch name {
	case udpliteSendCscov, udpliteRecvCscov:
		if !u.lite {
			return unix.ENOPROTOOPT
		}
		if v != 0 && v < 8 {
			v = 8
		} else if v > 0xffff {
			v = 0xffff
		}
		if name == udpliteSendCscov {
			u.liteSend.Store(uint32(v) | covSet)
		} else {
			u.liteRecv.Store(uint32(v) | covSet)
		}
		return nil
	}
	return unix.ENOPROTOOPT
}

// getUDPLevel is udp_lib_getsockopt for SOL_UDP and SOL_UDPLITE: the
// coverage options read 0 on a UDP socket and until set.
func (u *udpSock) getUDPLevel(name int, buf []byte) (int, error) {
	var v uint32
	switch name {
	case udpliteSendCscov:
		v = u.liteSend.Load()
	case udpliteRecvCscov:
		v = u.liteRecv.Load()
	default:
		return 0, unix.ENOPROTOOPT
	}
	return options.PutSockInt(buf, int32(v&^covSet)), nil
}

// applyLite marks m as a UDP-Lite datagram with the socket's send
// coverage.
func (u *udpSock) applyLite(m *stack.UDPSend) {
	v := u.liteSend.Load()
	m.Lite = true
	m.CsCovSet = v&covSet != 0
	m.CsCov = uint16(v)
}
