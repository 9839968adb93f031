package endpoint

import (
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/options"
	"netsandbox/stack"
)

// ICMPv6 ping sockets (net/ipv6/ping.c) over gVisor's ICMPv6 endpoint,
// which writes the socket's identifier into each echo request, computes
// the checksum and queues only the echo replies carrying the identifier.
// Our layer checks the caller's group against net.ipv4.ping_group_range
// (shared by both families, as Linux's), and the sockaddrs, messages
// and control messages with ping_v6_sendmsg's and ping_check_bind_addr's
// rules. Deviations: the identifier is gVisor's ephemeral pick, not
// ping_get_port's sequential one, and is not shared with AF_INET ping
// sockets. ICMPv6 errors about the socket's echo requests are ours
// (inet6_icmperr.go): gVisor's ICMP endpoint drops them.

type ping6Sock struct {
	sock6

	// bound is what bind(2) named (guarded by mu), which
	// connect(AF_UNSPEC) keeps: the identifier when bind chose it
	// (SOCK_BINDPORT_LOCK), the address when not :: (SOCK_BINDADDR_LOCK).
	bound    tcpip.FullAddress
	hasBound bool
}

// newPing6 creates an ICMPv6 datagram socket; ping_init_sock allows it
// only to a gid inside net.ipv4.ping_group_range.
func newPing6(s *stack.Stack) (Socket, error) {
	lo, hi := s.Sysctl().Pair("net.ipv4.ping_group_range")
	if gid := int64(s.GID()); gid < int64(lo) || gid > int64(hi) {
		return nil, unix.EACCES
	}
	p := &ping6Sock{sock6: sock6{gsock: gsock{v6: defaultV6Opts()}}}
	mk := func(q *waiter.Queue) (tcpip.Endpoint, tcpip.Error) {
		return s.Gvisor().NewEndpoint(icmp.ProtocolNumber6, header.IPv6ProtocolNumber, q)
	}
	if err := p.open(s, unix.SOCK_DGRAM, unix.IPPROTO_ICMPV6, mk); err != nil {
		return nil, err
	}
	// ping_init_sock: an IPv6 ping socket is IPv6-only; inet6_create
	// leaves IP_MULTICAST_ALL off.
	p.ep.SocketOptions().SetV6Only(true)
	p.base.memb.noAll.Store(true)
	if err := p.push(); err != nil {
		p.ep.Close()
		return nil, err
	}
	p.watchICMP6Errors(p)
	return p, nil
}

// ident is inet_num: the echo identifier, 0 until the socket has one.
func (p *ping6Sock) ident() uint16 { return p.localPort() }

// Bind is ping_bind with ping_check_bind_addr's IPv6 rules: a sockaddr
// shorter than sockaddr_in6 is EINVAL, another family EAFNOSUPPORT;
// an address neither :: nor unicast (multicast, v4-mapped) is EINVAL, as
// is a link-local one without a scope id; a scope id naming no
// interface ENODEV, an address not local EADDRNOTAVAIL; then a socket
// that already has an identifier is EINVAL.
func (p *ping6Sock) Bind(b []byte) error {
	if len(b) < unix.SizeofSockaddrInet6 {
		return unix.EINVAL
	}
	sa, err := options.ParseSockaddrIn6(b)
	if err != nil {
		return err
	}
	if options.SockaddrFamily(b) != unix.AF_INET6 {
		return unix.EAFNOSUPPORT
	}
	a := sa.Addr
	scoped := a.IsLinkLocalUnicast()
	if !a.IsUnspecified() && (a.IsMulticast() || a.Is4In6()) || scoped && sa.Scope == 0 {
		return unix.EINVAL
	}
	if sa.Scope != 0 {
		if _, ok := p.s.InterfaceByIndex(int(sa.Scope)); !ok {
			return unix.ENODEV
		}
	}
	if !a.IsUnspecified() && !p.s.IsLocalAddr6(a) && !p.optsSnapshot().freeBind() {
		return unix.EADDRNOTAVAIL
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ident() != 0 {
		return unix.EINVAL
	}
	fa := addr6(sa)
	if e := p.bindEndpoint6(fa); e != nil {
		if _, ok := e.(*tcpip.ErrPortInUse); ok {
			return unix.EADDRINUSE
		}
		return errOf(e)
	}
	p.bound, p.hasBound = fa, true
	return nil
}

// autobind is inet_autobind: a socket without an identifier gets one.
func (p *ping6Sock) autobind() error {
	if p.ident() != 0 {
		return nil
	}
	if e := p.endpoint().Bind(tcpip.FullAddress{}); e != nil {
		if _, ok := e.(*tcpip.ErrInvalidEndpointState); ok {
			return nil // another thread bound it
		}
		return unix.EAGAIN
	}
	return nil
}

// Connect is inet_dgram_connect: AF_UNSPEC disconnects, anything else
// first gives the socket an identifier; then
// ip6_datagram_connect_v6_only.
func (p *ping6Sock) Connect(b []byte) error {
	if len(b) < 2 {
		return unix.EINVAL
	}
	if options.SockaddrFamily(b) == unix.AF_UNSPEC {
		return p.disconnectPing()
	}
	p.mu.Lock()
	err := p.autobind()
	p.mu.Unlock()
	if err != nil {
		return err
	}
	sa, err := parseConnect6(b) // inet6_raw.go
	if err != nil {
		return err
	}
	if sa.Addr.Is4In6() {
		return unix.ENETUNREACH // gVisor's ICMPv6 endpoint carries no IPv4
	}
	return p.connectKeepingPort(sa)
}

func (p *ping6Sock) GetPeerName() ([]byte, error) { return p.dgramPeerName() }

// disconnectPing is __udp_disconnect: gVisor's ICMP endpoint cannot
// disconnect, so the socket gets a fresh one, bound again to what
// bind(2) named; an identifier bind did not choose is given up.
func (p *ping6Sock) disconnectPing() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reopenLocked()
	if p.hasBound && p.bound.Port != 0 {
		_ = p.bindEndpoint6(p.bound)
	}
	p.remote, p.conn = netip.AddrPort{}, false
	return nil
}

// SendMsg is ping_v6_sendmsg after inet_send_prepare's autobind:
// ping_common_sendmsg's checks (more than 65535 bytes EMSGSIZE, less
// than an ICMPv6 header EINVAL, MSG_OOB EOPNOTSUPP, anything but an echo
// request of code 0 EINVAL), then the destination: a sockaddr shorter
// than sockaddr_in6 EINVAL, another family EAFNOSUPPORT, none on an
// unconnected socket EDESTADDRREQ, a v4-mapped one or a link-local one
// without an interface EINVAL.
func (p *ping6Sock) SendMsg(b, oob, to []byte, flags int) (int, error) {
	if p.isClosed() {
		return 0, unix.EBADF
	}
	p.mu.Lock()
	err := p.autobind()
	p.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if err := checkPing6Request(b, flags); err != nil {
		return 0, err
	}
	var wo tcpip.WriteOptions
	var dst netip.Addr
	var oif int
	if to != nil {
		if len(to) < unix.SizeofSockaddrInet6 {
			return 0, unix.EINVAL
		}
		sa, err := options.ParseSockaddrIn6(to)
		if err != nil {
			return 0, err
		}
		if options.SockaddrFamily(to) != unix.AF_INET6 {
			return 0, unix.EAFNOSUPPORT
		}
		dst = sa.Addr
		if dst.IsLinkLocalUnicast() || dst.IsLinkLocalMulticast() || dst.IsInterfaceLocalMulticast() {
			oif = int(sa.Scope)
		}
	} else {
		p.mu.Lock()
		conn, remote := p.conn, p.remote
		p.mu.Unlock()
		if !conn {
			return 0, unix.EDESTADDRREQ
		}
		dst = remote.Addr()
	}
	if oif == 0 {
		oif = p.optsSnapshot().bindIf
	}
	if oif == 0 && dst.IsMulticast() {
		p.optMu.Lock()
		oif = p.v6.mcastIf
		p.optMu.Unlock()
	}
	scoped := dst.IsLinkLocalUnicast() || dst.IsLinkLocalMulticast() || dst.IsInterfaceLocalMulticast()
	if scoped && oif == 0 || dst.Is4In6() {
		return 0, unix.EINVAL
	}
	if b := p.optsSnapshot().bindIf; oif != 0 && b != 0 && oif != b {
		return 0, unix.EINVAL
	}
	c, err := options.ParseIPv6SendControl(oob, sendCmsgPolicy(p.s))
	if err != nil {
		return 0, err
	}
	if err := p.sendControl(c, &wo); err != nil {
		return 0, err
	}
	tclass := -1
	if c.HasTClass {
		tclass = c.TClass & 0xff
	}
	if to != nil {
		fa := tcpip.FullAddress{Addr: tcpip.AddrFrom16(dst.As16())}
		if scoped {
			fa.NIC = tcpip.NICID(oif)
		}
		if err := p.checkMulticastDst(dst, fa.NIC); err != nil {
			return 0, err
		}
		wo.To = &fa
	}
	if oif == 0 {
		if err := p.steerUnicast6(&wo, dst); err != nil { // IPV6_UNICAST_IF
			return 0, err
		}
		if wo.To != nil {
			oif = int(wo.To.NIC)
		}
	}
	if err := p.checkSize6(b, dst, oif, c); err != nil {
		return 0, err
	}
	if handled, n, err := p.sendFragmented(b, dst, oif, wo, tclass, pingChecksumAt, int(p.ident())); handled {
		return n, err // raw6_bigsend.go
	}
	var n int
	err = p.blockOn(flags, unix.EPOLLOUT, p.optsSnapshot().sndTimeo, func() error {
		var err error
		n, err = p.write(b, wo, tclass)
		return err
	})
	return n, err
}

// checkPing6Request is ping_common_sendmsg's check of the message.
func checkPing6Request(b []byte, flags int) error {
	if len(b) > 0xffff {
		return unix.EMSGSIZE
	}
	if len(b) < header.ICMPv6EchoMinimumSize {
		return unix.EINVAL
	}
	if flags&unix.MSG_OOB != 0 {
		return unix.EOPNOTSUPP
	}
	if h := header.ICMPv6(b); h.Type() != header.ICMPv6EchoRequest || h.Code() != 0 {
		return unix.EINVAL
	}
	return nil
}

// RecvMsg is ping_recvmsg: MSG_OOB is EOPNOTSUPP, and MSG_TRUNC in the
// caller's flags is ignored (the bytes copied are returned).
func (p *ping6Sock) RecvMsg(b, oob []byte, flags int) (int, int, int, []byte, error) {
	if flags&unix.MSG_OOB != 0 {
		return 0, 0, 0, nil, unix.EOPNOTSUPP
	}
	return p.sock6.RecvMsg(b, oob, flags&^unix.MSG_TRUNC)
}
