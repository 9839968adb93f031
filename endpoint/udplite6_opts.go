package endpoint

import (
	"golang.org/x/sys/unix"

	"netsandbox/options"
)

// Options of an AF_INET6 UDP-Lite socket: SOL_SOCKET and
// SOL_UDP/SOL_UDPLITE as the IPv4 socket's, SOL_IPV6 as
// do_ipv6_setsockopt/do_ipv6_getsockopt for the options served here;
// the rest, SOL_IP included, is ENOPROTOOPT (udplite6.go lists them).

func (k *udpLite6) SetSockOpt(level, name int, val []byte) error {
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
		return k.setIPv6Lite(name, val)
	}
	return unix.ENOPROTOOPT
}

// setIPv6Lite is do_ipv6_setsockopt for the options served: an int of at
// least 4 bytes (EINVAL), IPV6_V6ONLY only before bind (EINVAL),
// hop limits in -1..255, IPV6_TCLASS in -1..255 (-1 = 0).
func (k *udpLite6) setIPv6Lite(name int, val []byte) error {
	switch name {
	case unix.IPV6_V6ONLY, unix.IPV6_UNICAST_HOPS, unix.IPV6_MULTICAST_HOPS, unix.IPV6_MULTICAST_LOOP,
		unix.IPV6_MULTICAST_IF, unix.IPV6_TCLASS, unix.IPV6_RECVPKTINFO, unix.IPV6_RECVHOPLIMIT,
		unix.IPV6_RECVTCLASS, unix.IPV6_MTU_DISCOVER:
	default:
		return unix.ENOPROTOOPT
	}
	v, err := intVal(val)
	if err != nil {
		return err
	}
	on := v != 0
	if name == unix.IPV6_V6ONLY {
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
	}
	if name == unix.IPV6_MULTICAST_IF && v != 0 {
		if _, ok := k.s.InterfaceByIndex(v); !ok {
			return unix.ENODEV
		}
		if b := k.optsSnapshot().bindIf; b != 0 && b != v {
			return unix.EINVAL
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

func (k *udpLite6) GetSockOpt(level, name int, buf []byte) (int, error) {
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
		return k.getIPv6Lite(name, buf)
	}
	return 0, unix.ENOPROTOOPT
}

func (k *udpLite6) getIPv6Lite(name int, buf []byte) (int, error) {
	k.v6mu.Lock()
	o, v6only := k.v6, k.v6only
	k.v6mu.Unlock()
	if name == unix.IPV6_V6ONLY {
		return putInt6(buf, boolInt(v6only)), nil
	}
	v, ok := o.get(name)
	if !ok {
		return 0, unix.ENOPROTOOPT
	}
	return putInt6(buf, v), nil
}
