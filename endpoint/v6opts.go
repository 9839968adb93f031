package endpoint

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"
)

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
	// minHopCount is IPV6_MINHOPCOUNT (np->min_hopcount): AF_INET6 TCP
	// drops IPv6 segments below it (tcp_minttl.go); the other kinds
	// only keep it, as Linux.
	minHopCount int
	// ucastIf is IPV6_UNICAST_IF (np->ucast_oif): the interface of a
	// unicast send or connect that no scope id, bound device or
	// IPV6_PKTINFO named (ucastOut). TCP only keeps it, as Linux.
	ucastIf int
	// srcPrefs is IPV6_ADDR_PREFERENCES (np->srcprefs: v6_srcprefs.go).
	srcPrefs int
	// fragSize is IPV6_MTU (np->frag_size, 0 = unset): the MTU a UDP,
	// raw or ping datagram is held to where it may not be fragmented, and
	// the size of its fragments once it is past the route's MTU
	// (udp6_frag.go, raw_frag6.go); TCP keeps it and never reads it, as
	// Linux's ip6_xmit.
	fragSize int
}

// ucastOut is the output interface of a datagram to dst given oif, the one
// the scope id, the bound device or IPV6_PKTINFO named (0 = none):
// IPV6_UNICAST_IF for a unicast destination that has none, as
// udpv6_sendmsg, rawv6_sendmsg, ping_v6_sendmsg and
// ip6_datagram_flow_key_init do (after IPV6_MULTICAST_IF for a group).
// An IPv4 (v4-mapped) destination is IPv4's, which IP_UNICAST_IF steers.
func (o *v6Opts) ucastOut(oif int, dst netip.Addr) int {
	if oif == 0 && dst.Is6() && !dst.Is4In6() && !dst.IsMulticast() {
		return o.ucastIf
	}
	return oif
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
	case unix.IPV6_MINHOPCOUNT:
		v = o.minHopCount
	case unix.IPV6_ADDR_PREFERENCES:
		v = o.srcPrefsVal()
	case unix.IPV6_UNICAST_IF:
		// In network byte order, as IPv4's IP_UNICAST_IF (htonl).
		v = int(int32(binary.NativeEndian.Uint32(binary.BigEndian.AppendUint32(nil, uint32(o.ucastIf)))))
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
	case unix.IPV6_MINHOPCOUNT:
		if v < 0 || v > 255 {
			return unix.EINVAL
		}
		o.minHopCount = v
	case unix.IPV6_ADDR_PREFERENCES:
		return o.setSrcPrefs(v) // v6_srcprefs.go
	}
	return nil
}

// v6Sock is what an AF_INET6 socket kind (udp6; gsock for TCP, raw and
// ping) gives the SOL_IPV6 code they share (setIPv6Opt, getIPv6Opt), so
// that each option's rule is written once: where its v6Opts live and
// under which lock, the two values it keeps elsewhere (IPV6_V6ONLY and
// IPV6_RECVERR: gVisor's socket options for gsock, udp6's own fields),
// and its own options, which it answers first.
type v6Sock interface {
	sockBase() *base
	// lockV6 locks the kind's v6Opts and returns them; unlockV6 unlocks.
	lockV6() *v6Opts
	unlockV6()
	v6onlyNow() bool
	setV6only(on bool) error // EINVAL once the socket has a port
	recvErr6Now() bool
	setRecvErr6(on bool) // turning it off purges the error queue
	// setMcastIf6 hands a checked IPV6_MULTICAST_IF to the transport.
	setMcastIf6(ifindex int) error
	pathMTU6() (int, error) // IPV6_MTU's, ENOTCONN when unconnected
	boundDev() int          // sk_bound_dev_if (0 = none)
	keepECN() bool          // IPV6_TCLASS leaves the ECN bits (TCP's own)
	// setOwnIPv6 and getOwnIPv6 answer the kind's own options (and the
	// shared ones the kind refuses); handled false passes name on.
	setOwnIPv6(name int, val []byte) (handled bool, err error)
	getOwnIPv6(name int, buf []byte) (n int, handled bool, err error)
}

// setIPv6Opt is do_ipv6_setsockopt for every AF_INET6 socket kind: the
// kind's own options first, then memberships and source filters, then the
// int options (at least 4 bytes, EINVAL; IPV6_DONTFRAG any length), with
// IPV6_V6ONLY only before the socket has a port (EINVAL) and
// IPV6_MULTICAST_IF naming an interface (ENODEV) that is the bound
// device, if any (EINVAL).
func setIPv6Opt(k v6Sock, name int, val []byte) error {
	if handled, err := k.setOwnIPv6(name, val); handled {
		return err
	}
	b := k.sockBase()
	switch name {
	case unix.IPV6_ADD_MEMBERSHIP, unix.IPV6_DROP_MEMBERSHIP:
		return b.setMembership6(name == unix.IPV6_ADD_MEMBERSHIP, val) // mcast6_member.go
	case unix.MCAST_JOIN_GROUP, unix.MCAST_LEAVE_GROUP, unix.MCAST_JOIN_SOURCE_GROUP, unix.MCAST_LEAVE_SOURCE_GROUP,
		unix.MCAST_BLOCK_SOURCE, unix.MCAST_UNBLOCK_SOURCE, unix.MCAST_MSFILTER:
		return b.setMcastSource6(name, val) // mcast6_msf.go
	case unix.IPV6_MULTICAST_ALL:
		return b.setMulticastAll6(val) // mcast6_msf.go
	case unix.IPV6_UNICAST_IF:
		return setUnicastIf6(k, val)
	case unix.IPV6_FREEBIND, unix.IPV6_TRANSPARENT:
		return b.setNonLocal6(name, val) // nonlocal6.go
	case unix.IPV6_MTU:
		fs, err := fragSizeVal(val)
		if err != nil {
			return err
		}
		k.lockV6().fragSize = fs
		k.unlockV6()
		return nil
	case unix.IPV6_MINHOPCOUNT, unix.IPV6_V6ONLY, unix.IPV6_UNICAST_HOPS, unix.IPV6_MULTICAST_HOPS, unix.IPV6_MULTICAST_LOOP,
		unix.IPV6_MULTICAST_IF, unix.IPV6_TCLASS, unix.IPV6_RECVPKTINFO, unix.IPV6_RECVHOPLIMIT,
		unix.IPV6_RECVTCLASS, unix.IPV6_RECVORIGDSTADDR, unix.IPV6_RECVERR, unix.IPV6_MTU_DISCOVER,
		unix.IPV6_2292PKTINFO, unix.IPV6_2292HOPLIMIT, unix.IPV6_DONTFRAG, unix.IPV6_RECVPATHMTU,
		unix.IPV6_RECVERR_RFC4884, unix.IPV6_ADDR_PREFERENCES:
	default:
		return unix.ENOPROTOOPT
	}
	v, err := optInt(name, val)
	if err != nil {
		return err
	}
	on := v != 0
	switch name {
	case unix.IPV6_V6ONLY:
		return k.setV6only(on)
	case unix.IPV6_RECVERR:
		k.setRecvErr6(on)
		return nil
	case unix.IPV6_MULTICAST_IF:
		if v != 0 {
			if _, ok := b.s.InterfaceByIndex(v); !ok {
				return unix.ENODEV
			}
			if bound := b.optsSnapshot().bindIf; bound != 0 && bound != v {
				return unix.EINVAL
			}
		}
		if err := k.setMcastIf6(v); err != nil {
			return err
		}
	}
	o := k.lockV6()
	defer k.unlockV6()
	if name == unix.IPV6_MULTICAST_IF {
		o.mcastIf = v
		return nil
	}
	return o.set(name, v, k.keepECN())
}

// setUnicastIf6 is IPV6_UNICAST_IF: exactly an int (EINVAL), an
// interface index in network byte order, as IPv4's IP_UNICAST_IF; 0
// clears it, an index no interface has is EADDRNOTAVAIL, and a socket
// bound to a device (SO_BINDTODEVICE, a link-local bind) takes none
// (EINVAL). Binding to a device afterwards is allowed and wins (ucastOut
// is asked only when no device was named).
func setUnicastIf6(k v6Sock, val []byte) error {
	if len(val) != 4 {
		return unix.EINVAL
	}
	ifindex := int(int32(binary.BigEndian.Uint32(val)))
	if ifindex != 0 {
		if _, ok := k.sockBase().s.InterfaceByIndex(ifindex); !ok {
			return unix.EADDRNOTAVAIL
		}
		if k.boundDev() != 0 {
			return unix.EINVAL
		}
	}
	o := k.lockV6()
	o.ucastIf = ifindex
	k.unlockV6()
	return nil
}

// getIPv6Opt is do_ipv6_getsockopt for every AF_INET6 socket kind: the
// kind's own options first, then the values v6Opts keeps, then the rest.
func getIPv6Opt(k v6Sock, name int, buf []byte) (int, error) {
	if n, handled, err := k.getOwnIPv6(name, buf); handled {
		return n, err
	}
	o := *k.lockV6()
	k.unlockV6()
	v, ok := o.get(name)
	if ok {
		return putInt6(buf, v), nil
	}
	b := k.sockBase()
	switch name {
	case unix.IPV6_V6ONLY:
		v = boolInt(k.v6onlyNow())
	case unix.IPV6_RECVERR:
		v = boolInt(k.recvErr6Now())
	case unix.IPV6_RECVORIGDSTADDR:
		v = boolInt(o.rxOrigDst)
	case unix.IPV6_MTU:
		mtu, err := k.pathMTU6()
		if err != nil {
			return 0, err
		}
		v = mtu
	case unix.IPV6_PATHMTU:
		return putPathMTUInfo(buf, k.pathMTU6) // udp6_pathmtu.go
	case unix.MCAST_MSFILTER:
		return b.getMsfilter6(buf) // mcast6_msf.go
	case unix.IPV6_FREEBIND, unix.IPV6_TRANSPARENT:
		return b.getNonLocal6(name, buf), nil // nonlocal6.go
	case unix.IPV6_MULTICAST_ALL:
		v = b.multicastAll6()
	default:
		return 0, unix.ENOPROTOOPT
	}
	return putInt6(buf, v), nil
}

// fragSizeVal is do_ipv6_setsockopt's check of IPV6_MTU (np->frag_size):
// an int of at least 4 bytes (EINVAL), 0 (unset) or at least
// IPV6_MIN_MTU (EINVAL), with no upper bound. getsockopt(IPV6_MTU) still
// reads the route's path MTU.
func fragSizeVal(val []byte) (int, error) {
	v, err := intVal(val)
	if err != nil {
		return 0, err
	}
	if v != 0 && v < ipv6MinMTU {
		return 0, unix.EINVAL
	}
	return v, nil
}

// ipv6MinMTU is IPV6_MIN_MTU.
const ipv6MinMTU = 1280
