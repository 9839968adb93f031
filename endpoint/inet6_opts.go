package endpoint

import (
	"encoding/binary"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"netsandbox/options"
)

// Option handling of AF_INET6 sockets: SOL_SOCKET as every socket
// (base's), SOL_IPV6 as do_ipv6_setsockopt/do_ipv6_getsockopt, SOL_TCP's
// common options, SOL_IP as IPv4's code for TCP and ping sockets
// (servesIPLevel). Other levels are ENOPROTOOPT.

// sizeofIPv6Mreq is sizeof(struct ipv6_mreq).
const sizeofIPv6Mreq = 20

func (k *sock6) SetSockOpt(level, name int, val []byte) error {
	if k.isClosed() {
		return unix.EBADF
	}
	switch level {
	case unix.SOL_SOCKET:
		switch name {
		case unix.SO_RXQ_OVFL, unix.SO_TIMESTAMPING_OLD, unix.SO_TIMESTAMPING_NEW:
			return unix.ENOPROTOOPT // not delivered on AF_INET6 yet
		}
		if err := k.setCommon(level, name, val); err != nil {
			return err
		}
		return k.push()
	case unix.SOL_IPV6:
		if err := k.setIPv6(name, val); err != nil {
			return err
		}
		return k.push()
	case unix.SOL_TCP:
		if k.typ == unix.SOCK_STREAM {
			return k.setTCP6(name, val)
		}
	case unix.SOL_IP:
		if !k.servesIPLevel(name) {
			return unix.ENOPROTOOPT
		}
		if err := k.setCommon(level, name, val); err != nil {
			return err
		}
		return k.push()
	}
	return unix.ENOPROTOOPT
}

// servesIPLevel says whether a SOL_IP option of this AF_INET6 socket is
// served. ipv6_setsockopt and ipv6_getsockopt hand SOL_IP of a socket
// that is not raw to IPv4's code (through udp_prot), whose values apply
// to the socket's IPv4 (v4-mapped) traffic; a raw socket's SOL_IP is
// ENOPROTOOPT. A ping socket has no IPv4 traffic (pingv6 refuses
// v4-mapped peers), so its SOL_IP values are kept and read as Linux's
// and change nothing, as there. Missing: on TCP the options that would
// change a v4-mapped connection and are not wired to it (IP_OPTIONS,
// IP_MINTTL, IP_MTU_DISCOVER, IP_RECVERR, IP_MTU, IP_PKTOPTIONS and the
// bind options); on both, IP_FREEBIND and IP_TRANSPARENT, which would
// let an IPv6 bind take a non-local address (ipv6_can_nonlocal_bind).
func (k *sock6) servesIPLevel(name int) bool {
	if k.typ == unix.SOCK_RAW {
		return false
	}
	switch name {
	case unix.IP_FREEBIND, unix.IP_TRANSPARENT:
		return false
	case unix.IP_OPTIONS, unix.IP_MINTTL, unix.IP_MTU_DISCOVER, unix.IP_RECVERR, unix.IP_MTU, unix.IP_PKTOPTIONS,
		unix.IP_BIND_ADDRESS_NO_PORT, unix.IP_LOCAL_PORT_RANGE:
		return k.typ != unix.SOCK_STREAM
	}
	return true
}

// intVal is the int of do_ipv6_setsockopt: shorter than an int is EINVAL.
// (IPV6_DONTFRAG reads as 0 then: dontFragVal.)
func intVal(val []byte) (int, error) {
	if len(val) < 4 {
		return 0, unix.EINVAL
	}
	return int(int32(binary.NativeEndian.Uint32(val))), nil
}

// optInt is intVal for name, except that IPV6_DONTFRAG takes any length:
// do_ipv6_setsockopt checks none for it and reads a short value as 0.
func optInt(name int, val []byte) (int, error) {
	if name == unix.IPV6_DONTFRAG && len(val) < 4 {
		return 0, nil
	}
	return intVal(val)
}

func (k *sock6) setIPv6(name int, val []byte) error {
	switch name {
	case unix.IPV6_ADD_MEMBERSHIP, unix.IPV6_DROP_MEMBERSHIP:
		return k.setMembership6(name == unix.IPV6_ADD_MEMBERSHIP, val) // mcast6_member.go
	case unix.MCAST_JOIN_GROUP, unix.MCAST_LEAVE_GROUP, unix.MCAST_JOIN_SOURCE_GROUP, unix.MCAST_LEAVE_SOURCE_GROUP,
		unix.MCAST_BLOCK_SOURCE, unix.MCAST_UNBLOCK_SOURCE, unix.MCAST_MSFILTER:
		return k.setMcastSource6(name, val) // mcast6_msf.go
	case unix.IPV6_MULTICAST_ALL:
		// A TCP socket receives no multicast and a ping socket takes
		// echo replies by identifier, so the value only reads back, as
		// on Linux. Missing on raw sockets, whose delivery of a group's
		// packets is gVisor's (Linux's inet6_mc_check reads it there).
		if k.typ == unix.SOCK_RAW {
			return unix.ENOPROTOOPT
		}
		return k.setMulticastAll6(val) // mcast6_msf.go
	case unix.IPV6_MULTICAST_IF, unix.IPV6_MULTICAST_HOPS:
		if k.typ == unix.SOCK_STREAM {
			return unix.ENOPROTOOPT
		}
	case unix.IPV6_V6ONLY, unix.IPV6_UNICAST_HOPS, unix.IPV6_MULTICAST_LOOP, unix.IPV6_TCLASS,
		unix.IPV6_RECVPKTINFO, unix.IPV6_RECVHOPLIMIT, unix.IPV6_RECVTCLASS, unix.IPV6_RECVORIGDSTADDR,
		unix.IPV6_RECVERR, unix.IPV6_MTU_DISCOVER, unix.IPV6_RECVERR_RFC4884:
	case unix.IPV6_DONTFRAG:
		// Kept on TCP too, which never reads it (tcp_v6 does not
		// fragment), as do_ipv6_setsockopt keeps it for any socket.
	case unix.IPV6_MTU:
		if k.typ == unix.SOCK_STREAM {
			_, err := fragSizeVal(val) // udp6_pathmtu.go
			return err
		}
		return unix.ENOPROTOOPT // raw, ping: gVisor fragments at the device MTU
	default:
		return unix.ENOPROTOOPT
	}
	v, err := optInt(name, val)
	if err != nil {
		return err
	}
	on := v != 0
	if name == unix.IPV6_V6ONLY {
		if k.localPort() != 0 {
			return unix.EINVAL
		}
		k.endpoint().SocketOptions().SetV6Only(on)
		return nil
	}
	if name == unix.IPV6_RECVERR {
		// do_ipv6_setsockopt: turning it off purges the queue.
		so := k.endpoint().SocketOptions()
		so.SetIPv6RecvError(on)
		for !on && so.DequeueErr() != nil {
		}
		if !on && k.errs != nil {
			k.errs.purge()
		}
		return nil
	}
	if name == unix.IPV6_MULTICAST_IF && v != 0 {
		if _, ok := k.s.InterfaceByIndex(v); !ok {
			return unix.ENODEV
		}
		if b := k.optsSnapshot().bindIf; b != 0 && b != v {
			return unix.EINVAL
		}
		if e := k.endpoint().SetSockOpt(&tcpip.MulticastInterfaceOption{NIC: tcpip.NICID(v)}); e != nil {
			return errOf(e)
		}
	}
	k.optMu.Lock()
	defer k.optMu.Unlock()
	o := &k.v6
	switch name {
	case unix.IPV6_MULTICAST_IF:
		if v == 0 {
			k.optMu.Unlock()
			e := k.endpoint().SetSockOpt(&tcpip.MulticastInterfaceOption{})
			k.optMu.Lock()
			if e != nil {
				return errOf(e)
			}
		}
		o.mcastIf = v
		return nil
	}
	return o.set(name, v, k.typ == unix.SOCK_STREAM)
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

func (k *sock6) setTCP6(name int, val []byte) error {
	v, err := intVal(val)
	if err != nil {
		return err
	}
	ep := k.endpoint()
	switch name {
	case unix.TCP_NODELAY:
		ep.SocketOptions().SetDelayOption(v == 0)
	case unix.TCP_KEEPIDLE:
		if v < 1 || v > maxTCPKeepIdle {
			return unix.EINVAL
		}
		o := tcpip.KeepaliveIdleOption(time.Duration(v) * time.Second)
		return errOf(ep.SetSockOpt(&o))
	case unix.TCP_KEEPINTVL:
		if v < 1 || v > maxTCPKeepIntvl {
			return unix.EINVAL
		}
		o := tcpip.KeepaliveIntervalOption(time.Duration(v) * time.Second)
		return errOf(ep.SetSockOpt(&o))
	case unix.TCP_KEEPCNT:
		if v < 1 || v > maxTCPKeepCnt {
			return unix.EINVAL
		}
		return errOf(ep.SetSockOptInt(tcpip.KeepaliveCountOption, v))
	default:
		return unix.ENOPROTOOPT
	}
	return nil
}

// putInt6 writes an int answer the way do_ipv6_getsockopt and
// do_tcp_getsockopt do: min(optlen, sizeof(int)) bytes of it.
func putInt6(buf []byte, v int) int {
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], uint32(int32(v)))
	return copy(buf, b[:])
}

func (k *sock6) GetSockOpt(level, name int, buf []byte) (int, error) {
	if k.isClosed() {
		return 0, unix.EBADF
	}
	switch level {
	case unix.SOL_SOCKET:
		switch name {
		case unix.SO_DOMAIN:
			return options.PutSockInt(buf, unix.AF_INET6), nil
		case unix.SO_ERROR:
			if len(buf) < 4 {
				return 0, unix.EINVAL
			}
			if e := k.takeErr6(); e != 0 {
				return putErrno(buf, e), nil
			}
			return putErrno(buf, unix.Errno(errOfErrno(k.endpoint().LastError()))), nil
		case unix.SO_ACCEPTCONN:
			listening := k.typ == unix.SOCK_STREAM && tcp.EndpointState(k.endpoint().State()) == tcp.StateListen
			return options.PutSockInt(buf, int32(boolInt(listening))), nil
		}
		return k.getCommon(level, name, buf)
	case unix.SOL_IPV6:
		return k.getIPv6(name, buf)
	case unix.SOL_TCP:
		if k.typ == unix.SOCK_STREAM {
			return k.getTCP6(name, buf)
		}
	case unix.SOL_IP:
		if name == unix.IP_PROTOCOL && k.servesIPLevel(name) {
			// inet_num: the local port, or a ping socket's identifier.
			return options.PutIPInt(buf, int32(k.localPort())), nil
		}
		if k.servesIPLevel(name) {
			return k.getCommon(level, name, buf) // ip_getsockopt's, as Linux
		}
	}
	return 0, unix.ENOPROTOOPT
}

func errOfErrno(e tcpip.Error) int {
	if e == nil {
		return 0
	}
	if err, ok := errOf(e).(unix.Errno); ok {
		return int(err)
	}
	return 0
}

func (k *sock6) getIPv6(name int, buf []byte) (int, error) {
	k.optMu.Lock()
	o := k.v6
	k.optMu.Unlock()
	v, ok := o.get(name)
	if ok {
		return putInt6(buf, v), nil
	}
	switch name {
	case unix.IPV6_V6ONLY:
		v = boolInt(k.v6only())
	case unix.IPV6_RECVORIGDSTADDR:
		v = boolInt(o.rxOrigDst)
	case unix.IPV6_RECVERR:
		v = boolInt(k.endpoint().SocketOptions().GetIPv6RecvError())
	case unix.IPV6_MTU:
		mtu, err := k.pathMTU()
		if err != nil {
			return 0, err
		}
		v = mtu
	case unix.MCAST_MSFILTER:
		return k.getMsfilter6(buf) // mcast6_msf.go
	case unix.IPV6_PATHMTU:
		return putPathMTUInfo(buf, k.pathMTU) // udp6_pathmtu.go
	case unix.IPV6_MULTICAST_ALL:
		if k.typ == unix.SOCK_RAW {
			return 0, unix.ENOPROTOOPT // see setIPv6
		}
		v = k.multicastAll6()
	default:
		return 0, unix.ENOPROTOOPT
	}
	return putInt6(buf, v), nil
}

func (k *sock6) getTCP6(name int, buf []byte) (int, error) {
	ep := k.endpoint()
	var v int
	switch name {
	case unix.TCP_NODELAY:
		v = boolInt(!ep.SocketOptions().GetDelayOption())
	case unix.TCP_KEEPIDLE, unix.TCP_KEEPINTVL:
		var d time.Duration
		if name == unix.TCP_KEEPIDLE {
			var o tcpip.KeepaliveIdleOption
			if e := ep.GetSockOpt(&o); e != nil {
				return 0, errOf(e)
			}
			d = time.Duration(o)
		} else {
			var o tcpip.KeepaliveIntervalOption
			if e := ep.GetSockOpt(&o); e != nil {
				return 0, errOf(e)
			}
			d = time.Duration(o)
		}
		v = int(d / time.Second)
	case unix.TCP_KEEPCNT:
		n, e := ep.GetSockOptInt(tcpip.KeepaliveCountOption)
		if e != nil {
			return 0, errOf(e)
		}
		v = n
	default:
		return 0, unix.ENOPROTOOPT
	}
	return putInt6(buf, v), nil
}

// pathMTU is getsockopt(IPV6_MTU): the MTU of the route the connected
// socket caches (dst_mtu), ENOTCONN when it has none.
func (k *sock6) pathMTU() (int, error) {
	ep := k.endpoint()
	remote, e := ep.GetRemoteAddress()
	if e != nil || remote.Addr.Len() == 0 {
		return 0, unix.ENOTCONN
	}
	local, _ := ep.GetLocalAddress()
	if remote.Addr.Len() == 4 {
		var l netip.Addr
		if local.Addr.Len() == 4 {
			l = netip.AddrFrom4(local.Addr.As4())
		}
		mtu, err := k.s.PathMTU(l, netip.AddrFrom4(remote.Addr.As4()), k.optsSnapshot().bindIf)
		if err != nil || mtu == 0 {
			return 0, unix.ENOTCONN
		}
		return int(mtu), nil
	}
	var src tcpip.Address
	if local.Addr.Len() == 16 {
		src = local.Addr
	}
	r, e := k.s.Gvisor().FindRoute(remote.NIC, src, remote.Addr, header.IPv6ProtocolNumber, false)
	if e != nil {
		return 0, unix.ENOTCONN
	}
	defer r.Release()
	// dst_mtu is the device's MTU (no IPv6 path MTU is learnt yet);
	// gVisor's route MTU has the IPv6 header taken off.
	if ifc, ok := k.s.InterfaceByIndex(int(r.NICID())); ok && ifc.MTU != 0 {
		return int(ifc.MTU), nil
	}
	return int(r.MTU()) + header.IPv6MinimumSize, nil
}
