package endpoint

import (
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/options"
	"netsandbox/stack"
)

// AF_INET6 TCP is tcpSock over gVisor's IPv6 TCP endpoint (dual-stack: a
// v4-mapped peer is IPv4 on the wire). Only what the family changes is
// here: sockaddr_in6 in and out, inet6_bind's and tcp_v6_connect's
// address rules, and the SOL_IPV6 and SOL_IP levels (gsock6_opts.go).
// SOL_TCP, SOL_SOCKET, I/O, poll, ioctl and shutdown are tcpSock's.
//
// IP_MINTTL judges an AF_INET6 socket's IPv4 traffic alone (v4HookAddr),
// which under gVisor has IPv4 addresses, as a v4-mapped connection is IPv4
// on the wire; IPV6_MINHOPCOUNT its IPv6 traffic (syncMinHops), in the
// same stack hook under IPv6 addresses. IP_OPTIONS registers for the IPv4
// traffic alone too, and IP_MTU_DISCOVER is the strategy of IPv4
// connections (ipv4Traffic).

func newTCP6(s *stack.Stack) (Socket, error) {
	t := &tcpSock{family: unix.AF_INET6}
	t.v6 = defaultV6Opts()
	err := t.open(s, unix.SOCK_STREAM, 0, func(q *waiter.Queue) (tcpip.Endpoint, tcpip.Error) {
		return s.Gvisor().NewEndpoint(tcp.ProtocolNumber, header.IPv6ProtocolNumber, q)
	})
	if err != nil {
		return nil, err
	}
	t.memb.noAll.Store(true) // inet6_create leaves IP_MULTICAST_ALL off
	if err := t.pushOpts(); err != nil {
		t.ep.Close()
		return nil, err
	}
	return t, nil
}

func (t *tcpSock) is6() bool { return t.family == unix.AF_INET6 }

// sockaddrOf is the sockaddr of the socket's family for a gVisor address.
func (t *tcpSock) sockaddrOf(fa tcpip.FullAddress) []byte {
	if t.is6() {
		return sockaddr6(fa)
	}
	return sockaddr(addrPortOf(fa))
}

// bind6 is inet6_bind for TCP: binding a real IPv6 address makes the
// socket IPV6_V6ONLY (__inet6_bind: the address has no IPv4 half).
func (t *tcpSock) bind6(b []byte) error {
	sa, err := t.checkBind6(b)
	if err != nil {
		return err
	}
	v6only := !sa.Addr.Is4In6() && !sa.Addr.IsUnspecified()
	if sa.Port == 0 {
		// IP_BIND_ADDRESS_NO_PORT, IP_LOCAL_PORT_RANGE (tcp_bindport.go).
		if handled, err := t.tcpBindPortZero(sa.Addr, sa.Scope); handled {
			if err == nil && v6only {
				t.endpoint().SocketOptions().SetV6Only(true)
			}
			return err
		}
	}
	fa := addr6(sa)
	if err := errOf(t.bindEndpoint6(fa)); err != nil {
		return err
	}
	if v6only {
		t.endpoint().SocketOptions().SetV6Only(true)
	}
	t.mu.Lock()
	t.bound, t.bound6 = sa.AddrPort(), fa
	t.mu.Unlock()
	t.syncMinTTL(netip.AddrPort{})
	return nil
}

// connectDst6 is tcp_v6_connect's reading of the address: shorter than
// SIN6_LEN_RFC2133 is EINVAL, another family EAFNOSUPPORT; :: means ::1;
// a multicast destination is ENETUNREACH, and a v4-mapped one on an
// IPV6_V6ONLY socket; a v4-mapped one then takes tcp_v4_connect's route
// checks.
func (t *tcpSock) connectDst6(b []byte) (tcpip.FullAddress, netip.AddrPort, error) {
	sa, err := options.ParseSockaddrIn6(b)
	if err != nil {
		return tcpip.FullAddress{}, netip.AddrPort{}, err
	}
	if options.SockaddrFamily(b) != unix.AF_INET6 {
		return tcpip.FullAddress{}, netip.AddrPort{}, unix.EAFNOSUPPORT
	}
	if sa.Addr.IsUnspecified() {
		sa.Addr = netip.IPv6Loopback()
	}
	if sa.Addr.Is4In6() {
		if t.v6only() {
			return tcpip.FullAddress{}, netip.AddrPort{}, unix.ENETUNREACH
		}
		if err := t.checkConnectDst(sa.Addr.Unmap()); err != nil {
			return tcpip.FullAddress{}, netip.AddrPort{}, err
		}
	} else if sa.Addr.IsMulticast() {
		return tcpip.FullAddress{}, netip.AddrPort{}, unix.ENETUNREACH
	}
	return addr6(sa), sa.AddrPort(), nil
}

// setSockOpt6 answers the levels the family changes; handled is false
// for the levels tcpSock answers alike for both families.
func (t *tcpSock) setSockOpt6(level, name int, val []byte) (handled bool, err error) {
	switch level {
	case unix.SOL_IPV6:
		if err := t.setIPv6(name, val); err != nil {
			return true, err
		}
		if name == unix.IPV6_MINHOPCOUNT {
			t.syncMinTTL(netip.AddrPort{}) // tcp_minttl.go
		}
		return true, t.pushOpts()
	case unix.SOL_IP, unix.SOL_SOCKET:
	default:
		return true, unix.ENOPROTOOPT // ipv6_setsockopt
	}
	return false, nil
}

func (t *tcpSock) getSockOpt6(level, name int, buf []byte) (handled bool, n int, err error) {
	switch {
	case level == unix.SOL_SOCKET && name == unix.SO_DOMAIN:
		return true, options.PutSockInt(buf, unix.AF_INET6), nil
	case level == unix.SOL_IPV6:
		n, err := t.getIPv6(name, buf)
		return true, n, err
	case level != unix.SOL_SOCKET && level != unix.SOL_IP && level != unix.SOL_TCP:
		// ipv6_getsockopt: any other level is ENOPROTOOPT, where
		// IPv4's ip_getsockopt answers EOPNOTSUPP.
		return true, 0, unix.ENOPROTOOPT
	}
	return false, 0, nil
}

// v4HookAddr is the IPv4 form of a gVisor address of the socket, for the
// stack's IPv4-keyed TCP hooks (IP_MINTTL): an AF_INET socket's as it is;
// an AF_INET6 socket's IPv4 or v4-mapped address unmapped, its
// unspecified one 0.0.0.0 unless IPV6_V6ONLY (a dual-stack wildcard
// takes IPv4 too). ok is false for an IPv6 address, whose traffic is
// IPv6's: IP_MINTTL does not judge it (IPV6_MINHOPCOUNT does: syncMinHops).
func (t *tcpSock) v4HookAddr(fa tcpip.FullAddress) (ap netip.AddrPort, ok bool) {
	if !t.is6() || fa.Addr.Len() == 4 {
		return addrPortOf(fa), true
	}
	if fa.Addr.Len() == 0 {
		return addrPortOf(fa), !t.v6only()
	}
	a := netip.AddrFrom16(fa.Addr.As16())
	switch {
	case a.Is4In6():
		return netip.AddrPortFrom(a.Unmap(), fa.Port), true
	case a.IsUnspecified():
		return netip.AddrPortFrom(netip.IPv4Unspecified(), fa.Port), !t.v6only()
	}
	return netip.AddrPort{}, false
}

// ipv4Traffic says whether the socket's connection is IPv4 on the wire:
// an AF_INET socket's, or an AF_INET6 one's with a v4-mapped peer (gVisor
// keeps that peer's address as IPv4).
func (t *tcpSock) ipv4Traffic() bool {
	if !t.is6() {
		return true
	}
	info, ok := t.endpoint().Info().(*gstack.TransportEndpointInfo)
	return ok && info.ID.RemoteAddress.Len() == 4
}

// pmtuBeforeConnect gives an AF_INET6 socket's connection to a v4-mapped
// peer IP_MTU_DISCOVER's strategy, which decides its segments' DF as
// inet->pmtudisc does on Linux (an IPv6 connection keeps
// IPV6_MTU_DISCOVER's).
func (t *tcpSock) pmtuBeforeConnect(remote netip.AddrPort) error {
	if !t.is6() || !remote.Addr().Is4In6() {
		return nil
	}
	return t.pushPMTU(t.optsSnapshot())
}

// loopback4IPv6 is Linux's LOOPBACK4_IPV6: the IPv4 address an AF_INET6
// socket with an IPv6 local address reports where an IPv4 one is asked
// (inet_rcv_saddr).
var loopback4IPv6 = netip.AddrFrom4([4]byte{127, 0, 0, 6})

// rcvSaddr4 is inet_rcv_saddr: the local IPv4 address, for an AF_INET6
// socket a v4-mapped one unmapped, 0.0.0.0 for ::, and LOOPBACK4_IPV6 for
// an IPv6 one (__inet6_bind, tcp_v6_connect, tcp_v6_syn_recv_sock).
func (t *tcpSock) rcvSaddr4() netip.Addr {
	sa, err := t.GetSockName() // a deferred bind's address too
	switch {
	case err != nil:
		return netip.IPv4Unspecified()
	case !t.is6() && len(sa) >= 8:
		return netip.AddrFrom4([4]byte(sa[4:8]))
	case len(sa) < unix.SizeofSockaddrInet6:
		return netip.IPv4Unspecified()
	}
	a := netip.AddrFrom16([16]byte(sa[8:24]))
	switch {
	case a.Is4In6():
		return a.Unmap()
	case a.IsUnspecified():
		return netip.IPv4Unspecified()
	}
	return loopback4IPv6
}
