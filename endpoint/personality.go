package endpoint

import "golang.org/x/sys/unix"

// SetTTLZero gives a UDP or raw socket a unicast TTL of 0, which ip(7)'s
// IP_TTL refuses (1..255) but other personalities allow (FreeBSD's
// ip_ctloutput stores any int's low byte): its datagrams then leave with
// TTL 0. Other kinds of socket answer EOPNOTSUPP.
func SetTTLZero(s Socket) error {
	var b *base
	switch s := s.(type) {
	case *udpSock:
		b = &s.base
	case *rawSock:
		b = &s.base
	default:
		return unix.EOPNOTSUPP
	}
	b.optMu.Lock()
	b.opts.ttl = 0
	b.optMu.Unlock()
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

// SetMulticastLimits replaces, for one datagram or raw socket, the limits
// Linux puts on its multicast state: memberships (igmp_max_memberships)
// and sources per membership (igmp_max_msf), 0 keeping Linux's; unlimited
// drops the optmem_max admission too. A personality with limits of its own
// (FreeBSD: IP_MAX_MEMBERSHIPS, net.inet.ip.mcast.maxgrpsrc) enforces them
// itself. Other sockets answer EOPNOTSUPP.
func SetMulticastLimits(s Socket, memberships, sources int, unlimited bool) error {
	p, ok := s.(interface{ personalityBase() *base })
	if !ok || s.(interface{ isTCP() bool }).isTCP() {
		return unix.EOPNOTSUPP
	}
	b := p.personalityBase()
	b.memb.op.Lock()
	b.memb.limits = mcLimits{memberships: memberships, sources: sources, noOptmem: unlimited}
	b.memb.op.Unlock()
	return nil
}

func (b *base) personalityBase() *base { return b }

func (b *base) isTCP() bool { return b.typ == unix.SOCK_STREAM }
