package endpoint

import (
	"net/netip"
	"sync"

	"golang.org/x/sys/unix"

	"netsandbox/options"
	"netsandbox/stack"
)

// AF_INET6 UDP and UDP-Lite sockets (socket(AF_INET6, SOCK_DGRAM,
// IPPROTO_UDP or IPPROTO_UDPLITE)): the IPv4 socket (udp.go, udplite.go)
// on the IPv6 half of netsandbox's UDP transport (stack/udp_ipv6.go), as
// Linux's net/ipv6/udp.c is one code for udpv6 and udplitev6. The queue,
// the coverage options, SOL_SOCKET and poll are udpSock's; what is IPv6's
// is here: sockaddr_in6 (v4-mapped for IPv4 peers of a dual-stack socket,
// IPV6_V6ONLY 0 by default), the SOL_IPV6 options (udp6_opts.go), the
// IPv6 control messages of sendmsg and recvmsg (udp6_io.go), multicast
// membership (mcast6_member.go) and ICMPv6 errors (udp6_errqueue.go).
//
// Missing: MLDv2 reports with the filters' source lists (gVisor's MLD
// reports every IPv6 group as any-source).
type udp6 struct {
	udpSock

	v6mu   sync.Mutex // guards the fields below
	v6     v6Opts
	v6only bool
	// recvErr6 is IPV6_RECVERR: ICMPv6 errors are queued (IPv4 ones
	// follow SOL_IP's IP_RECVERR, as __udp4_lib_err on a v6 socket).
	recvErr6 bool
	// scope is the interface a link-local bind(2) named (sk_bound_dev_if).
	scope int
	// peer is the connected peer as getpeername shows it (v4-mapped for
	// an IPv4 one, with its scope id); udpSock.remote is the same peer
	// as the stack takes it (unmapped).
	peer      netip.AddrPort
	peerScope uint32
	// rxpmtu is the path MTU a send under IPV6_DONTFRAG met, kept for
	// the next recvmsg under IPV6_RECVPATHMTU (np->rxpmtu; v6mu).
	rxpmtu *pathMTUNote
}

// newUDP6 makes the socket, UDP-Lite when lite; newInet6 has checked
// that the stack runs IPv6.
func newUDP6(s *stack.Stack, lite bool) (Socket, error) {
	k := &udp6{v6: defaultV6Opts()}
	k.lite = lite
	k.init(s, unix.SOCK_DGRAM, unix.IPPROTO_UDP)
	k.ipid = s.NewSocketIPID()
	// inet6_create leaves IP_MULTICAST_ALL off: IPv4 groups reach the
	// socket only when it joined them.
	k.base.memb.noAll.Store(true)
	return k, nil
}

// bindFlags6 are udpSock's bind flags with IPV6_V6ONLY and a link-local
// bind's interface.
func (k *udp6) bindFlags6() stack.UDPBindFlags {
	f := k.bindFlags()
	k.v6mu.Lock()
	f.V6Only = k.v6only
	if k.scope != 0 {
		f.BindToDevice = k.scope
	}
	k.v6mu.Unlock()
	return f
}

// Bind is inet6_bind: a sockaddr shorter than SIN6_LEN_RFC2133 is EINVAL,
// another family EAFNOSUPPORT; a v4-mapped address needs a dual-stack
// socket (EINVAL) and a local IPv4 address, any other address a local one
// (EADDRNOTAVAIL); a link-local one needs its scope id (EINVAL), which
// must name an interface (ENODEV) and binds the socket to it. Binding to
// an IPv6 address other than :: sets IPV6_V6ONLY.
func (k *udp6) Bind(b []byte) error {
	sa, err := options.ParseSockaddrIn6(b)
	if err != nil {
		return err
	}
	if options.SockaddrFamily(b) != unix.AF_INET6 {
		return unix.EAFNOSUPPORT
	}
	if err := checkBindAddr6(k.s, sa.Addr, sa.Scope, k.isV6Only(), k.optsSnapshot().freeBind()); err != nil {
		return err
	}
	a, scope := sa.Addr.Unmap(), 0
	if a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() {
		if _, ok := k.s.InterfaceByIndex(int(sa.Scope)); !ok {
			return unix.ENODEV
		}
		scope = int(sa.Scope)
	}
	if err := checkPrivilegedPort(k.s, sa.Port); err != nil {
		return err
	}
	k.bindMu.Lock()
	defer k.bindMu.Unlock()
	if k.isClosed() {
		return unix.EBADF
	}
	if k.binding != nil {
		return unix.EINVAL
	}
	f := k.bindFlags6()
	if scope != 0 {
		f.BindToDevice = scope
	}
	bd, err := k.s.UDPBind(k, netip.AddrPortFrom(a, sa.Port), f)
	if err != nil {
		return err
	}
	k.v6mu.Lock()
	k.scope = scope
	if a.Is6() && !a.IsUnspecified() {
		// __inet6_bind: an IPv6 address has no IPv4 half, so the
		// socket becomes IPV6_V6ONLY.
		k.v6only = true
	}
	k.v6mu.Unlock()
	k.binding = bd
	k.userPort = sa.Port != 0
	return nil
}

// autobind6Locked is inet_autobind for an AF_INET6 socket: an ephemeral
// port on :: (dual-stack unless IPV6_V6ONLY).
func (k *udp6) autobind6Locked() error {
	if k.binding != nil {
		return nil
	}
	if k.isClosed() {
		return unix.EBADF
	}
	b, err := k.s.UDPBind(k, netip.AddrPortFrom(netip.IPv6Unspecified(), 0), k.bindFlags6())
	if err != nil {
		return err
	}
	k.binding = b
	return nil
}

func (k *udp6) isV6Only() bool {
	k.v6mu.Lock()
	defer k.v6mu.Unlock()
	return k.v6only
}

// Connect is ip6_datagram_connect with inet_dgram_connect's AF_UNSPEC
// (disconnect) and __ip6_datagram_connect's AF_INET (its v4-mapped form,
// EAFNOSUPPORT under IPV6_V6ONLY); a v4-mapped peer of an IPV6_V6ONLY
// socket is ENETUNREACH, and :: means ::1.
func (k *udp6) Connect(b []byte) error {
	if len(b) < 2 {
		return unix.EINVAL
	}
	var sa options.SockaddrIn6
	switch options.SockaddrFamily(b) {
	case unix.AF_UNSPEC:
		k.bindMu.Lock()
		defer k.bindMu.Unlock()
		k.v6mu.Lock()
		k.peer, k.peerScope = netip.AddrPort{}, 0
		k.v6mu.Unlock()
		return k.disconnectLocked()
	case unix.AF_INET:
		if k.isV6Only() {
			return unix.EAFNOSUPPORT
		}
		ap, _, err := options.ParseSockaddrIn(b)
		if err != nil {
			return err
		}
		sa = options.SockaddrIn6{Addr: netip.AddrFrom16(ap.Addr().As16()), Port: ap.Port()}
	default:
		var err error
		if sa, err = options.ParseSockaddrIn6(b); err != nil {
			return err
		}
		if options.SockaddrFamily(b) != unix.AF_INET6 {
			return unix.EAFNOSUPPORT
		}
	}
	if sa.Addr.Is4In6() && k.isV6Only() {
		return unix.ENETUNREACH
	}
	if sa.Addr.IsUnspecified() {
		sa.Addr = netip.IPv6Loopback()
	}
	scope := uint32(0)
	if sa.Addr.IsLinkLocalUnicast() || sa.Addr.IsLinkLocalMulticast() {
		scope = sa.Scope
	}
	remote := netip.AddrPortFrom(sa.Addr.Unmap(), sa.Port)
	k.bindMu.Lock()
	defer k.bindMu.Unlock()
	if err := k.autobind6Locked(); err != nil {
		return err
	}
	if err := k.binding.ConnectVia(remote, k.outIf(remote.Addr(), scope)); err != nil {
		return err
	}
	k.remote = remote
	k.connected.Store(true)
	k.ipid.Connected()
	k.v6mu.Lock()
	k.peer, k.peerScope = sa.AddrPort(), scope
	k.v6mu.Unlock()
	return nil
}

// outIf is the interface a datagram to dst leaves by: the scope id of a
// link-local destination, else IPV6_MULTICAST_IF for a group, else the
// bound device, else IPV6_UNICAST_IF for an IPv6 unicast one (0 = the
// route decides). An IPV6_PKTINFO interface replaces it (applyV6Send).
func (k *udp6) outIf(dst netip.Addr, scope uint32) int {
	if scope != 0 {
		return int(scope)
	}
	k.v6mu.Lock()
	v, bound := k.v6, k.scope
	k.v6mu.Unlock()
	if dst.IsMulticast() && dst.Is6() && v.mcastIf != 0 {
		return v.mcastIf
	}
	if bound == 0 {
		bound = k.optsSnapshot().bindIf
	}
	return v.ucastOut(bound, dst)
}

// sockaddr6Of is the sockaddr_in6 of an address the stack reports: an
// IPv4 one v4-mapped, a link-local one with scope.
func sockaddr6Of(ap netip.AddrPort, scope uint32) []byte {
	a := ap.Addr()
	if a.Is4() {
		a = netip.AddrFrom16(a.As16())
	}
	if !a.IsLinkLocalUnicast() && !a.IsLinkLocalMulticast() {
		scope = 0
	}
	return options.SockaddrIn6Bytes(netip.AddrPortFrom(a, ap.Port()), scope)
}

func (k *udp6) GetSockName() ([]byte, error) {
	k.bindMu.Lock()
	defer k.bindMu.Unlock()
	if k.binding == nil {
		return sockaddr6Of(netip.AddrPortFrom(netip.IPv6Unspecified(), 0), 0), nil
	}
	k.v6mu.Lock()
	scope := uint32(k.scope)
	k.v6mu.Unlock()
	return sockaddr6Of(k.binding.Local(), scope), nil
}

func (k *udp6) GetPeerName() ([]byte, error) {
	k.bindMu.Lock()
	remote := k.remote
	k.bindMu.Unlock()
	if !remote.IsValid() || remote.Port() == 0 {
		return nil, unix.ENOTCONN
	}
	k.v6mu.Lock()
	defer k.v6mu.Unlock()
	return options.SockaddrIn6Bytes(k.peer, k.peerScope), nil
}
