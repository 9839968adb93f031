package endpoint

import "golang.org/x/sys/unix"

// v6Opts are the SOL_IPV6 values every AF_INET6 socket kind keeps
// (UDP's, and through gsock TCP's, raw's and ping's).
type v6Opts struct {
	unicastHops int // -1: the route's (net.ipv6.conf.*.hop_limit, 64)
	mcastHops   int
	mcastLoop   bool
	mcastIf     int
	tclass      int
	rxPktinfo   bool
	rxHopLimit  bool
	rxTClass    bool
	rxOrigDst   bool
	// The RFC 2292 flags (IPV6_2292PKTINFO, IPV6_2292HOPLIMIT), which
	// tracepath still asks for.
	rx2292Pktinfo, rx2292HopLimit bool
	dontFrag                      bool // IPV6_DONTFRAG
	rxPathMTU                     bool // IPV6_RECVPATHMTU
	pmtudisc                      int  // IPV6_MTU_DISCOVER, IPV6_PMTUDISC_*
	recvErrRFC4884                bool // IPV6_RECVERR_RFC4884
}

// any tells whether a received packet may get an IPv6 control message
// (np->rxopt.all).
func (o *v6Opts) any() bool {
	return o.rxPktinfo || o.rxHopLimit || o.rxTClass || o.rxOrigDst || o.rx2292Pktinfo || o.rx2292HopLimit
}

// v6DefaultHopLimit is net.ipv6.conf.all.hop_limit's default.
const v6DefaultHopLimit = 64

// defaultV6Opts are a fresh socket's (inet6_create: IPV6_PMTUDISC_WANT).
func defaultV6Opts() v6Opts {
	return v6Opts{unicastHops: -1, mcastHops: 1, mcastLoop: true, pmtudisc: unix.IPV6_PMTUDISC_WANT}
}

// get is do_ipv6_getsockopt for the int options both AF_INET6 socket
// kinds keep as values (ok false for any other name): an unset unicast
// hop limit reads as the route's default, 64.
func (o *v6Opts) get(name int) (v int, ok bool) {
	switch name {
	case unix.IPV6_UNICAST_HOPS:
		v = o.unicastHops
		if v < 0 {
			v = v6DefaultHopLimit
		}
	case unix.IPV6_MULTICAST_HOPS:
		v = o.mcastHops
	case unix.IPV6_MULTICAST_LOOP:
		v = boolInt(o.mcastLoop)
	case unix.IPV6_MULTICAST_IF:
		v = o.mcastIf
	case unix.IPV6_TCLASS:
		v = o.tclass
	case unix.IPV6_RECVPKTINFO:
		v = boolInt(o.rxPktinfo)
	case unix.IPV6_RECVHOPLIMIT:
		v = boolInt(o.rxHopLimit)
	case unix.IPV6_RECVTCLASS:
		v = boolInt(o.rxTClass)
	case unix.IPV6_MTU_DISCOVER:
		v = o.pmtudisc
	case unix.IPV6_2292PKTINFO:
		v = boolInt(o.rx2292Pktinfo)
	case unix.IPV6_2292HOPLIMIT:
		v = boolInt(o.rx2292HopLimit)
	case unix.IPV6_DONTFRAG:
		v = boolInt(o.dontFrag)
	case unix.IPV6_RECVPATHMTU:
		v = boolInt(o.rxPathMTU)
	case unix.IPV6_RECVERR_RFC4884:
		v = boolInt(o.recvErrRFC4884)
	default:
		return 0, false
	}
	return v, true
}

// set is do_ipv6_setsockopt for the int options both AF_INET6 socket
// kinds keep as values (the caller has range-checked the name and holds
// the lock over o): hop limits in -1..255, IPV6_TCLASS in -1..255 (-1 =
// 0; keepECN leaves the ECN bits, a TCP socket's own), the flags, and
// IPV6_MTU_DISCOVER in DONT..OMIT.
func (o *v6Opts) set(name, v int, keepECN bool) error {
	on := v != 0
	switch name {
	case unix.IPV6_UNICAST_HOPS:
		if v < -1 || v > 255 {
			return unix.EINVAL
		}
		o.unicastHops = v
	case unix.IPV6_MULTICAST_HOPS:
		if v < -1 || v > 255 {
			return unix.EINVAL
		}
		if v == -1 {
			v = 1 // IPV6_DEFAULT_MCASTHOPS
		}
		o.mcastHops = v
	case unix.IPV6_MULTICAST_LOOP:
		if v != 0 && v != 1 {
			return unix.EINVAL
		}
		o.mcastLoop = on
	case unix.IPV6_TCLASS:
		if v < -1 || v > 0xff {
			return unix.EINVAL
		}
		if v == -1 {
			v = 0 // RFC 3542, 6.5
		}
		if keepECN {
			v = v&^3 | o.tclass&3
		}
		o.tclass = v
	case unix.IPV6_RECVERR_RFC4884:
		if v != 0 && v != 1 {
			return unix.EINVAL
		}
		o.recvErrRFC4884 = on
	case unix.IPV6_RECVPKTINFO:
		o.rxPktinfo = on
	case unix.IPV6_RECVHOPLIMIT:
		o.rxHopLimit = on
	case unix.IPV6_RECVTCLASS:
		o.rxTClass = on
	case unix.IPV6_RECVORIGDSTADDR:
		o.rxOrigDst = on
	case unix.IPV6_2292PKTINFO:
		o.rx2292Pktinfo = on
	case unix.IPV6_2292HOPLIMIT:
		o.rx2292HopLimit = on
	case unix.IPV6_DONTFRAG:
		o.dontFrag = on
	case unix.IPV6_RECVPATHMTU:
		o.rxPathMTU = on
	case unix.IPV6_MTU_DISCOVER:
		if v < unix.IPV6_PMTUDISC_DONT || v > unix.IPV6_PMTUDISC_OMIT {
			return unix.EINVAL
		}
		o.pmtudisc = v
	}
	return nil
}
