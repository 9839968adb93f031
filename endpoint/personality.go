package endpoint

import "golang.org/x/sys/unix"

// SetTTLZero gives a UDP socket a unicast TTL of 0, which ip(7)'s IP_TTL
// refuses (1..255) but other personalities allow (FreeBSD's ip_ctloutput
// stores any int's low byte): its datagrams then leave with TTL 0.
// Other kinds of socket answer EOPNOTSUPP.
func SetTTLZero(s Socket) error {
	u, ok := s.(*udpSock)
	if !ok {
		return unix.EOPNOTSUPP
	}
	u.optMu.Lock()
	u.opts.ttl = 0
	u.optMu.Unlock()
	return nil
}

// SetDatagramMinTTL makes a UDP socket drop arriving datagrams whose TTL is
// below min (0 turns it off), as FreeBSD's udp_input does for IP_MINTTL;
// Linux applies IP_MINTTL to TCP only. Other kinds of socket answer
// EOPNOTSUPP.
func SetDatagramMinTTL(s Socket, min uint8) error {
	u, ok := s.(*udpSock)
	if !ok {
		return unix.EOPNOTSUPP
	}
	u.dgramMinTTL.Store(uint32(min))
	return nil
}
