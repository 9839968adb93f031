package endpoint

import (
	"net/netip"

	"golang.org/x/sys/unix"

	"netsandbox/options"
)

// Options of an AF_INET6 UDP or UDP-Lite socket: SOL_SOCKET and
// SOL_UDP/SOL_UDPLITE and SOL_IP as the IPv4 socket's (ipv6_setsockopt
// hands SOL_IP to IPv4's code), SOL_IPV6 as do_ipv6_setsockopt/
// do_ipv6_getsockopt for the options served; the rest is ENOPROTOOPT
// (inet6.go lists what is missing on AF_INET6 sockets).

func (k *udp6) SetSockOpt(level, name int, val []byte) error {
	if k.isClosed() {
		return unix.EBADF
	}
	switch level {
	case unix.SOL_SOCKET, unix.SOL_UDP, solUDPLite:
		if level == unix.SOL_SOCKET && (name == unix.SO_TIMESTAMPING_OLD || name == unix.SO_TIMESTAMPING_NEW) {
			return unix.ENOPROTOOPT // no IPv6 timestamping here
		}
		return k.udpSock.SetSockOpt(level, name, val)
	case unix.SOL_IPV6:
		switch name {
		case unix.IPV6_FREEBIND, unix.IPV6_TRANSPARENT:
			// IPv4's FREEBIND and TRANSPARENT bits, as Linux keeps
			// them; an int at least (EINVAL), turning TRANSPARENT on
			// needs CAP_NET_RAW or CAP_NET_ADMIN (EPERM, first).
			v, err := intVal(val)
			if err != nil {
				return err
			}
			var b [4]byte
			options.PutInt32(b[:], int32(v))
			return k.udpSock.SetSockOpt(unix.SOL_IP, v4Twin(name), b[:])
		}
		return k.setIPv6(name, val)
	case unix.SOL_IP:
		// ipv6_setsockopt hands SOL_IP to ip_setsockopt: the values the
		// socket's v4-mapped traffic uses (TTL, TOS, multicast, IP
		// options, SOL_IP control messages of IPv4 datagrams, IP_RECVERR
		// for ICMP errors about them) and the bits IPv6 shares.
		return k.udpSock.SetSockOpt(level, name, val)
	}
	return unix.ENOPROTOOPT
}

// v4Twin is the IPv4 option whose bit an IPv6 one shares.
func v4Twin(name int) int {
	if name == unix.IPV6_FREEBIND {
		return unix.IP_FREEBIND
	}
	return unix.IP_TRANSPARENT
}

// setIPv6 is do_ipv6_setsockopt for the options served: an int of at
// least 4 bytes (EINVAL), IPV6_V6ONLY only before bind (EINVAL),
// hop limits in -1..255, IPV6_TCLASS in -1..255 (-1 = 0).
func (k *udp6) setIPv6(name int, val []byte) error {
	switch name {
	case unix.IPV6_ADD_MEMBERSHIP, unix.IPV6_DROP_MEMBERSHIP:
		return k.setMembership6(name == unix.IPV6_ADD_MEMBERSHIP, val) // mcast6_member.go
	case unix.MCAST_JOIN_GROUP, unix.MCAST_LEAVE_GROUP, unix.MCAST_JOIN_SOURCE_GROUP, unix.MCAST_LEAVE_SOURCE_GROUP,
		unix.MCAST_BLOCK_SOURCE, unix.MCAST_UNBLOCK_SOURCE, unix.MCAST_MSFILTER:
		return k.setMcastSource6(name, val) // mcast6_msf.go
	case unix.IPV6_MULTICAST_ALL:
		return k.setMulticastAll6(val) // mcast6_msf.go
	case unix.IPV6_MTU:
		return k.setFragSize(val) // udp6_pathmtu.go
	case unix.IPV6_V6ONLY, unix.IPV6_UNICAST_HOPS, unix.IPV6_MULTICAST_HOPS, unix.IPV6_MULTICAST_LOOP,
		unix.IPV6_MULTICAST_IF, unix.IPV6_TCLASS, unix.IPV6_RECVPKTINFO, unix.IPV6_RECVHOPLIMIT,
		unix.IPV6_RECVTCLASS, unix.IPV6_RECVORIGDSTADDR, unix.IPV6_RECVERR, unix.IPV6_MTU_DISCOVER,
		unix.IPV6_2292PKTINFO, unix.IPV6_2292HOPLIMIT, unix.IPV6_DONTFRAG, unix.IPV6_RECVPATHMTU,
		unix.IPV6_RECVERR_RFC4884:
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
		k.bindMu.Lock()
		bound := k.binding != nil
		k.bindMu.Unlock()
		if bound {
			return unix.EINVAL
		}
		k.v6mu.Lock()
		k.v6only = on
		k.v6mu.Unlock()
		return nil
	case unix.IPV6_RECVERR:
		k.v6mu.Lock()
		k.recvErr6 = on
		k.v6mu.Unlock()
		if !on {
			k.purgeErrQueue() // do_ipv6_setsockopt: skb_errqueue_purge
		}
		return nil
	case unix.IPV6_MULTICAST_IF:
		if v != 0 {
			if _, ok := k.s.InterfaceByIndex(v); !ok {
				return unix.ENODEV
			}
			if b := k.optsSnapshot().bindIf; b != 0 && b != v {
				return unix.EINVAL
			}
		}
	}
	k.v6mu.Lock()
	defer k.v6mu.Unlock()
	if name == unix.IPV6_MULTICAST_IF {
		k.v6.mcastIf = v
		return nil
	}
	return k.v6.set(name, v, false)
}

func (k *udp6) GetSockOpt(level, name int, buf []byte) (int, error) {
	if k.isClosed() {
		return 0, unix.EBADF
	}
	switch level {
	case unix.SOL_SOCKET:
		if name == unix.SO_DOMAIN {
			return options.PutSockInt(buf, unix.AF_INET6), nil
		}
		return k.udpSock.GetSockOpt(level, name, buf)
	case unix.SOL_UDP, solUDPLite:
		return k.udpSock.GetSockOpt(level, name, buf)
	case unix.SOL_IPV6:
		switch x := k.optsSnapshot().ext; name {
		case unix.IPV6_FREEBIND:
			return putInt6(buf, boolInt(x.freebind)), nil
		case unix.IPV6_TRANSPARENT:
			return putInt6(buf, boolInt(x.transparent)), nil
		}
		return k.getIPv6(name, buf)
	case unix.SOL_IP:
		return k.udpSock.GetSockOpt(level, name, buf) // ip_getsockopt's, as Linux
	}
	return 0, unix.ENOPROTOOPT
}

func (k *udp6) getIPv6(name int, buf []byte) (int, error) {
	k.v6mu.Lock()
	o, v6only, recvErr := k.v6, k.v6only, k.recvErr6
	k.v6mu.Unlock()
	v, ok := o.get(name)
	if !ok {
		switch name {
		case unix.IPV6_V6ONLY:
			v = boolInt(v6only)
		case unix.IPV6_RECVERR:
			v = boolInt(recvErr)
		case unix.IPV6_RECVORIGDSTADDR:
			v = boolInt(o.rxOrigDst)
		case unix.IPV6_MTU:
			mtu, err := k.pathMTU6()
			if err != nil {
				return 0, err
			}
			v = mtu
		case unix.IPV6_PATHMTU:
			return k.getPathMTUInfo(buf) // udp6_pathmtu.go
		case unix.MCAST_MSFILTER:
			return k.getMsfilter6(buf) // mcast6_msf.go
		case unix.IPV6_MULTICAST_ALL:
			v = k.multicastAll6()
		default:
			return 0, unix.ENOPROTOOPT
		}
	}
	return putInt6(buf, v), nil
}

// pathMTU6 is getsockopt(IPV6_MTU): the path MTU to the connected peer
// (dst_mtu of the route the socket caches), ENOTCONN when it has none.
func (k *udp6) pathMTU6() (int, error) {
	k.bindMu.Lock()
	remote, connected := k.remote, k.binding != nil && k.remote.IsValid()
	var local netip.Addr
	if k.binding != nil {
		local = k.binding.Local().Addr()
	}
	k.bindMu.Unlock()
	if !connected {
		return 0, unix.ENOTCONN
	}
	if local.IsUnspecified() {
		local = netip.Addr{}
	}
	mtu, err := k.s.PathMTU(local, remote.Addr(), k.outIf(remote.Addr(), k.peerScopeNow()))
	if err != nil || mtu == 0 {
		return 0, unix.ENOTCONN
	}
	return mtu, nil
}

// peerScopeNow is the connected peer's scope id.
func (k *udp6) peerScopeNow() uint32 {
	k.v6mu.Lock()
	defer k.v6mu.Unlock()
	return k.peerScope
}
