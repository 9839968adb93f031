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
		return setIPv6Opt(k, name, val) // v6opts.go
	case unix.SOL_IP:
		// ipv6_setsockopt hands SOL_IP to ip_setsockopt: the values the
		// socket's v4-mapped traffic uses (TTL, TOS, multicast, IP
		// options, SOL_IP control messages of IPv4 datagrams, IP_RECVERR
		// for ICMP errors about them) and the bits IPv6 shares.
		return k.udpSock.SetSockOpt(level, name, val)
	}
	return unix.ENOPROTOOPT
}

// udp6's part of the shared SOL_IPV6 code (setIPv6Opt, getIPv6Opt):
// v6Opts, IPV6_V6ONLY and IPV6_RECVERR under v6mu.
func (k *udp6) sockBase() *base       { return &k.base }
func (k *udp6) lockV6() *v6Opts       { k.v6mu.Lock(); return &k.v6 }
func (k *udp6) unlockV6()             { k.v6mu.Unlock() }
func (k *udp6) v6onlyNow() bool       { return k.isV6Only() }
func (k *udp6) keepECN() bool         { return false }
func (k *udp6) setMcastIf6(int) error { return nil } // read per send (outIf)

// boundDev is sk_bound_dev_if: a link-local bind's interface, else
// SO_BINDTODEVICE's.
func (k *udp6) boundDev() int {
	k.v6mu.Lock()
	scope := k.scope
	k.v6mu.Unlock()
	if scope != 0 {
		return scope
	}
	return k.optsSnapshot().bindIf
}

func (k *udp6) recvErr6Now() bool {
	k.v6mu.Lock()
	defer k.v6mu.Unlock()
	return k.recvErr6
}

func (k *udp6) setV6only(on bool) error {
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

func (k *udp6) setRecvErr6(on bool) {
	k.v6mu.Lock()
	k.recvErr6 = on
	k.v6mu.Unlock()
	if !on {
		k.purgeErrQueue() // do_ipv6_setsockopt: skb_errqueue_purge
	}
}

// setOwnIPv6: UDP has no SOL_IPV6 option of its own.
func (k *udp6) setOwnIPv6(int, []byte) (bool, error) { return false, nil }

func (k *udp6) getOwnIPv6(int, []byte) (int, bool, error) { return 0, false, nil }

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
		return getIPv6Opt(k, name, buf) // v6opts.go
	case unix.SOL_IP:
		return k.udpSock.GetSockOpt(level, name, buf) // ip_getsockopt's, as Linux
	}
	return 0, unix.ENOPROTOOPT
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
