package endpoint

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"netsandbox/options"
	"netsandbox/stack"
)

// The AF_INET6 part of the sockets over a gVisor endpoint (TCP, raw and
// ping alike): their SOL_IPV6 values (gsock.v6), what is handed to gVisor,
// the bind checks and SOL_IP's reach. One copy, for every kind.

// push6 hands gVisor the SOL_IPV6 values it acts on; the kinds call it
// after pushSockOpts, so IPV6_MTU_DISCOVER is the one gVisor uses.
func (k *gsock) push6() error {
	k.optMu.Lock()
	v := k.v6
	k.optMu.Unlock()
	ep := k.endpoint()
	so := ep.SocketOptions()
	so.SetIPv6ReceivePacketInfo(v.rxPktinfo)
	so.SetReceiveHopLimit(v.rxHopLimit)
	so.SetReceiveTClass(v.rxTClass)
	so.SetReceiveOriginalDstAddress(v.rxOrigDst)
	so.SetMulticastLoop(v.mcastLoop)
	// An IPv4 datagram of a dual-stack socket has IPv4's packet info,
	// reported as IPV6_PKTINFO with the address v4-mapped (putCmsgs).
	so.SetReceivePacketInfo(v.rxPktinfo)
	if e := ep.SetSockOptInt(tcpip.IPv6HopLimitOption, v.unicastHops); e != nil {
		return stack.Errno(e)
	}
	if e := ep.SetSockOptInt(tcpip.IPv6TrafficClassOption, v.tclass); e != nil {
		return stack.Errno(e)
	}
	if e := ep.SetSockOptInt(tcpip.MTUDiscoverOption, int(gvisorPMTU(v.pmtudisc))); e != nil {
		return stack.Errno(e)
	}
	if k.typ != unix.SOCK_STREAM {
		if e := ep.SetSockOptInt(tcpip.MulticastTTLOption, v.mcastHops); e != nil {
			return stack.Errno(e)
		}
	}
	return nil
}

func (k *gsock) v6only() bool { return k.endpoint().SocketOptions().GetV6Only() }

func (k *gsock) localPort() uint16 {
	fa, e := k.endpoint().GetLocalAddress()
	if e != nil {
		return 0
	}
	return fa.Port
}

// checkBind6 is inet6_bind's checks, in its order: a sockaddr shorter
// than SIN6_LEN_RFC2133 is EINVAL, another family EAFNOSUPPORT; the
// address (checkBindAddr6), a privileged port, and a socket that has a
// port already (EINVAL).
func (k *gsock) checkBind6(b []byte) (options.SockaddrIn6, error) {
	sa, err := options.ParseSockaddrIn6(b)
	if err != nil {
		return sa, err
	}
	if options.SockaddrFamily(b) != unix.AF_INET6 {
		return sa, unix.EAFNOSUPPORT
	}
	if err := checkBindAddr6(k.s, sa.Addr, sa.Scope, k.v6only(), k.optsSnapshot().freeBind()); err != nil {
		return sa, err
	}
	if err := checkPrivilegedPort(k.s, sa.Port); err != nil {
		return sa, err
	}
	if k.localPort() != 0 {
		return sa, unix.EINVAL
	}
	return sa, nil
}

// sizeofIPv6Mreq is sizeof(struct ipv6_mreq).
const sizeofIPv6Mreq = 20

// servesIPLevel says whether SOL_IP is served on this AF_INET6 socket:
// ipv6_setsockopt and ipv6_getsockopt hand SOL_IP of a socket that is
// not raw to IPv4's code (through udp_prot), whose values apply to the
// socket's IPv4 (v4-mapped) traffic; a raw socket's SOL_IP is
// ENOPROTOOPT. A ping socket has no IPv4 traffic (pingv6 refuses
// v4-mapped peers), so its SOL_IP values are kept and read as Linux's
// and change nothing, as there. TCP's act on its IPv4 connection:
// IP_MINTTL, IP_MTU_DISCOVER (tcp6.go), IP_OPTIONS (tcp_ipopts.go); the
// port options (IP_BIND_ADDRESS_NO_PORT, IP_LOCAL_PORT_RANGE:
// tcp_bindport.go) on its binds of either family; IP_MTU is the route's
// (IPv6's too, as dst_mtu), IP_PKTOPTIONS's address inet_rcv_saddr
// (rcvSaddr4). IP_FREEBIND and IP_TRANSPARENT are IPV6_FREEBIND's and
// IPV6_TRANSPARENT's bits (nonlocal6.go).
func (k *gsock) servesIPLevel() bool { return k.typ != unix.SOCK_RAW }

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

// setIPv6 and getIPv6 are setIPv6Opt and getIPv6Opt (v6opts.go) for
// TCP, raw and ping sockets, whose v6Opts are gsock.v6 under optMu and
// whose IPV6_V6ONLY and IPV6_RECVERR gVisor's socket options hold.
func (k *gsock) setIPv6(name int, val []byte) error { return setIPv6Opt(k, name, val) }

func (k *gsock) getIPv6(name int, buf []byte) (int, error) { return getIPv6Opt(k, name, buf) }

func (k *gsock) sockBase() *base   { return &k.base }
func (k *gsock) lockV6() *v6Opts   { k.optMu.Lock(); return &k.v6 }
func (k *gsock) unlockV6()         { k.optMu.Unlock() }
func (k *gsock) v6onlyNow() bool   { return k.v6only() }
func (k *gsock) keepECN() bool     { return k.typ == unix.SOCK_STREAM }
func (k *gsock) recvErr6Now() bool { return k.endpoint().SocketOptions().GetIPv6RecvError() }

func (k *gsock) pathMTU6() (int, error) { return k.pathMTU() }
func (k *gsock) boundDev() int          { return k.optsSnapshot().bindIf }

func (k *gsock) setV6only(on bool) error {
	if k.localPort() != 0 {
		return unix.EINVAL
	}
	k.endpoint().SocketOptions().SetV6Only(on)
	return nil
}

// setRecvErr6: do_ipv6_setsockopt's purge of the queue when turned off
// (a raw or ping socket purges its own queue too: sock6.SetSockOpt).
func (k *gsock) setRecvErr6(on bool) {
	so := k.endpoint().SocketOptions()
	so.SetIPv6RecvError(on)
	for !on && so.DequeueErr() != nil {
	}
}

func (k *gsock) setMcastIf6(ifindex int) error {
	if e := k.endpoint().SetSockOpt(&tcpip.MulticastInterfaceOption{NIC: tcpip.NICID(ifindex)}); e != nil {
		return errOf(e)
	}
	return nil
}

// setOwnIPv6 refuses what these kinds do not serve: IPV6_MULTICAST_ALL
// on raw sockets, whose delivery of a group's packets is gVisor's
// (Linux's inet6_mc_check reads it there; a TCP socket receives no
// multicast and a ping socket takes echo replies by identifier, so there
// the value only reads back, as on Linux); the multicast interface and
// hop limit on TCP; the RFC 2292 flags and IPV6_RECVPATHMTU. IPV6_DONTFRAG is kept on
// TCP too, which never reads it (tcp_v6 does not fragment), as
// do_ipv6_setsockopt keeps it for any socket.
func (k *gsock) setOwnIPv6(name int, _ []byte) (bool, error) {
	switch name {
	case unix.IPV6_MULTICAST_ALL:
		return k.typ == unix.SOCK_RAW, unix.ENOPROTOOPT
	case unix.IPV6_MULTICAST_IF, unix.IPV6_MULTICAST_HOPS:
		return k.typ == unix.SOCK_STREAM, unix.ENOPROTOOPT
	case unix.IPV6_2292PKTINFO, unix.IPV6_2292HOPLIMIT, unix.IPV6_RECVPATHMTU:
		return true, unix.ENOPROTOOPT
	}
	return false, nil
}

func (k *gsock) getOwnIPv6(name int, _ []byte) (int, bool, error) {
	if name == unix.IPV6_MULTICAST_ALL && k.typ == unix.SOCK_RAW {
		return 0, true, unix.ENOPROTOOPT // see setOwnIPv6
	}
	return 0, false, nil
}

// putInt6 writes an int answer the way do_ipv6_getsockopt and
// do_tcp_getsockopt do: min(optlen, sizeof(int)) bytes of it.
func putInt6(buf []byte, v int) int {
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], uint32(int32(v)))
	return copy(buf, b[:])
}

// pathMTU is getsockopt(IPV6_MTU): the MTU of the route the connected
// socket caches (dst_mtu), ENOTCONN when it has none.
func (k *gsock) pathMTU() (int, error) {
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
