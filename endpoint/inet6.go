package endpoint

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/options"
	"netsandbox/stack"
)

// AF_INET6 sockets (issue 14), dual-stack as Linux's (IPV6_V6ONLY 0 by
// default; an IPv4 peer shows as ::ffff:a.b.c.d). TCP is IPv4's TCP
// socket (tcpSock) over gVisor's TCP endpoint of the IPv6 network
// protocol, which also carries IPv4 for a dual-stack socket; tcp6.go
// switches its AF_INET6 parts. Our layer decodes sockaddr_in6, options
// and control messages with Linux's rules and errnos. UDP and UDP-Lite
// run on netsandbox's own UDP transport, which carries IPv6 beside IPv4
// (udp6.go, stack/udp_ipv6.go). Raw and ICMPv6 ping sockets:
// inet6_raw.go, inet6_ping.go. Every kind takes its SOL_IPV6 options
// through one dispatch (v6opts.go), IPV6_MINHOPCOUNT (TCP drops IPv6
// segments below it) and IPV6_UNICAST_IF (the interface of UDP, raw and
// ping unicast sends and connects) included.
//
// What is missing (ENOPROTOOPT, EPROTONOSUPPORT at socket(2), or a
// listed difference) is README.md's list for AF_INET6, each item pinned
// by a scenario (the defaults group's -missing ones, scenarios.Expected).

// newInet6 makes an AF_INET6 socket of a type and protocol New has
// range-checked.
func newInet6(s *stack.Stack, typ, proto int) (Socket, error) {
	if s.Gvisor().NetworkProtocolInstance(header.IPv6ProtocolNumber) == nil {
		return nil, unix.EAFNOSUPPORT // a gateway stack: IPv4 only
	}
	switch typ {
	case unix.SOCK_STREAM:
		if proto != 0 && proto != unix.IPPROTO_TCP {
			return nil, unix.EPROTONOSUPPORT
		}
		return newTCP6(s) // tcp.go: IPv4's TCP socket over gVisor's IPv6 endpoint
	case unix.SOCK_DGRAM:
		switch proto {
		case 0, unix.IPPROTO_UDP, unix.IPPROTO_UDPLITE:
			return newUDP6(s, proto == unix.IPPROTO_UDPLITE) // udp6.go
		case unix.IPPROTO_ICMPV6:
			return newPing6(s) // inet6_ping.go
		}
		return nil, unix.EPROTONOSUPPORT
	case unix.SOCK_RAW:
		if proto == 0 || proto > 255 {
			return nil, unix.EPROTONOSUPPORT
		}
		if !s.Caps().Has(stack.CapNetRaw) {
			return nil, unix.EPERM
		}
		return newRaw6(s, proto) // inet6_raw.go
	}
	return nil, unix.ESOCKTNOSUPPORT
}

// sock6 is the base of the AF_INET6 ICMPv6 ping and raw sockets over a
// gVisor endpoint (AF_INET6 TCP is tcpSock).
type sock6 struct {
	gsock

	// The peer given to connect(2) (guarded by mu).
	remote netip.AddrPort
	conn   bool
	shut   int // sk_shutdown of a datagram socket (mu)

	sendMu sync.Mutex // serializes a send that changes the traffic class
	// errs is a raw or ping socket's ICMPv6 error state
	// (inet6_icmperr.go); set once at creation.
	errs *gErrState
}

// push hands gVisor every option value it acts on.
func (k *sock6) push() error {
	if err := k.pushSockOpts(k.optsSnapshot()); err != nil {
		return err
	}
	return k.push6() // gsock6_opts.go
}

// addr6 is a sockaddr_in6 decoded for gVisor: the unspecified address
// is gVisor's empty one; a v4-mapped address stays 16 bytes (gVisor's
// dual-stack endpoints unmap it, or refuse it under IPV6_V6ONLY).
func addr6(sa options.SockaddrIn6) tcpip.FullAddress {
	fa := tcpip.FullAddress{Port: sa.Port}
	if !sa.Addr.IsUnspecified() {
		fa.Addr = tcpip.AddrFrom16(sa.Addr.As16())
	}
	if sa.Addr.IsLinkLocalUnicast() || sa.Addr.IsLinkLocalMulticast() {
		fa.NIC = tcpip.NICID(sa.Scope)
	}
	return fa
}

// sockaddr6 is the sockaddr_in6 of a gVisor address; an IPv4 address (a
// dual-stack socket's IPv4 peer) reads v4-mapped, an empty one as ::.
func sockaddr6(fa tcpip.FullAddress) []byte {
	var a netip.Addr
	switch fa.Addr.Len() {
	case 4:
		a = netip.AddrFrom16(netip.AddrFrom4(fa.Addr.As4()).As16())
	case 16:
		a = netip.AddrFrom16(fa.Addr.As16())
	default:
		a = netip.IPv6Unspecified()
	}
	var scope uint32
	if a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() {
		scope = uint32(fa.NIC)
	}
	return options.SockaddrIn6Bytes(netip.AddrPortFrom(a, fa.Port), scope)
}

// checkBindAddr6 is inet6_bind's check of the address: a v4-mapped one
// needs a dual-stack socket (EINVAL) and a local IPv4 address
// (EADDRNOTAVAIL; the unspecified, multicast and broadcast ones pass), a
// link-local one its scope id (EINVAL), any other unicast one a local
// address (EADDRNOTAVAIL) unless nonLocal (IPV6_FREEBIND or
// IPV6_TRANSPARENT: ipv6_can_nonlocal_bind).
func checkBindAddr6(s *stack.Stack, a netip.Addr, scope uint32, v6only, nonLocal bool) error {
	switch {
	case a.Is4In6():
		if v6only {
			return unix.EINVAL
		}
		u := a.Unmap()
		if !u.IsUnspecified() && !u.IsMulticast() && !s.IsLocalAddr(u) && !s.IsBroadcast(u) && !nonLocal {
			return unix.EADDRNOTAVAIL
		}
	case a.IsUnspecified(), a.IsMulticast():
	case a.IsLinkLocalUnicast() && scope == 0:
		return unix.EINVAL
	default:
		if !s.IsLocalAddr6(a) && !nonLocal {
			return unix.EADDRNOTAVAIL
		}
	}
	return nil
}

// Bind is inet6_bind (gsock.checkBind6); rawv6_bind and ping sockets
// leave IPV6_V6ONLY as it is.
func (k *sock6) Bind(b []byte) error {
	sa, err := k.checkBind6(b)
	if err != nil {
		return err
	}
	return errOf(k.endpoint().Bind(addr6(sa)))
}

// Connect is ip6_datagram_connect with inet_dgram_connect's AF_UNSPEC
// handling.
func (k *sock6) Connect(b []byte) error {
	if len(b) < 2 {
		return unix.EINVAL
	}
	fam := options.SockaddrFamily(b)
	if fam == unix.AF_UNSPEC {
		return k.disconnect()
	}
	if fam == unix.AF_INET && k.typ == unix.SOCK_DGRAM {
		// __ip6_datagram_connect: an IPv4 sockaddr on a dual-stack
		// socket connects to its v4-mapped form.
		if k.v6only() {
			return unix.EAFNOSUPPORT
		}
		ap, _, err := options.ParseSockaddrIn(b)
		if err != nil {
			return err
		}
		return k.connectDgram(options.SockaddrIn6{Addr: netip.AddrFrom16(ap.Addr().As16()), Port: ap.Port()})
	}
	sa, err := options.ParseSockaddrIn6(b)
	if err != nil {
		return err
	}
	if fam != unix.AF_INET6 {
		return unix.EAFNOSUPPORT
	}
	return k.connectDgram(sa)
}

// blockOn runs op until it answers something other than EAGAIN, waiting
// for mask between tries when the socket and flags allow blocking, up to
// the timeout (EAGAIN then, as an expired SO_RCVTIMEO/SO_SNDTIMEO).
func (k *sock6) blockOn(flags int, mask uint32, timeo time.Duration, op func() error) error {
	err := op()
	if err != unix.EAGAIN || !k.mayBlock(flags) {
		return err
	}
	deadline := deadlineAfter(timeo)
	for {
		if _, werr := k.waitReady(k.Readiness, mask, deadline); werr != nil {
			return werr
		}
		if err = op(); err != unix.EAGAIN {
			return err
		}
	}
}

func (k *sock6) connectDgram(sa options.SockaddrIn6) error {
	if sa.Addr.Is4In6() && k.v6only() {
		return unix.ENETUNREACH
	}
	fa := addr6(sa)
	if err := k.checkMulticastDst(sa.Addr, fa.NIC); err != nil {
		return err
	}
	if sa.Addr.IsUnspecified() {
		// ip6_datagram_connect: :: means the loopback address.
		fa.Addr = tcpip.AddrFrom16(netip.IPv6Loopback().As16())
	}
	if fa.NIC == 0 {
		// ip6_datagram_flow_key_init: IPV6_UNICAST_IF.
		oif, err := k.ucastRoute6(0, netip.AddrFrom16(fa.Addr.As16()))
		if err != nil {
			return err
		}
		fa.NIC = oif
	}
	if e := k.endpoint().Connect(fa); e != nil {
		return errOf(e)
	}
	k.mu.Lock()
	k.remote, k.conn = sa.AddrPort(), true
	k.mu.Unlock()
	return nil
}

// reopenLocked gives the socket a fresh gVisor endpoint with the same
// options (a ping socket's identifier change, a raw socket's protocol).
func (k *sock6) reopenLocked() {
	ep, e := k.mk(k.q)
	if e != nil {
		return
	}
	v6only := k.v6only()
	k.epMu.Lock()
	old := k.ep
	k.ep = ep
	k.epMu.Unlock()
	old.Close()
	ep.SocketOptions().SetV6Only(v6only)
	_ = k.push()
}

func (k *sock6) disconnect() error {
	if e := k.endpoint().Disconnect(); e != nil {
		return errOf(e)
	}
	k.mu.Lock()
	k.remote, k.conn = netip.AddrPort{}, false
	k.mu.Unlock()
	return nil
}

// Listen and Accept: raw and ping sockets are not connection-based.
func (k *sock6) Listen(int) error { return unix.EOPNOTSUPP }

func (k *sock6) Accept(flags int) (Socket, []byte, error) {
	if flags&^(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) != 0 {
		return nil, nil, unix.EINVAL
	}
	return nil, nil, unix.EOPNOTSUPP
}

func (k *sock6) GetSockName() ([]byte, error) {
	fa, e := k.endpoint().GetLocalAddress()
	if e != nil {
		return nil, errOf(e)
	}
	return sockaddr6(fa), nil
}

func (k *sock6) GetPeerName() ([]byte, error) {
	fa, e := k.endpoint().GetRemoteAddress()
	if e != nil {
		return nil, errOf(e)
	}
	return sockaddr6(fa), nil
}

func (k *sock6) Shutdown(how int) error {
	var f tcpip.ShutdownFlags
	switch how {
	case unix.SHUT_RD:
		f = tcpip.ShutdownRead
	case unix.SHUT_WR:
		f = tcpip.ShutdownWrite
	case unix.SHUT_RDWR:
		f = tcpip.ShutdownRead | tcpip.ShutdownWrite
	default:
		return unix.EINVAL
	}
	// inet_shutdown: an unconnected datagram socket is ENOTCONN, but the
	// flags are still recorded.
	k.mu.Lock()
	k.shut |= how + 1
	conn := k.conn
	k.mu.Unlock()
	_ = k.endpoint().Shutdown(f)
	k.q.Notify(waiter.ReadableEvents | waiter.WritableEvents)
	if !conn {
		return unix.ENOTCONN
	}
	return nil
}

func (k *sock6) Close() error {
	if !k.beginClose() {
		return nil
	}
	k.closeErrs6()
	k.dropMemberships()  // IPv4 groups joined through SOL_IP
	k.dropMemberships6() // mcast6_member.go
	k.endpoint().Close()
	return nil
}

func (k *sock6) Readiness(mask uint32) uint32 {
	r := uint32(k.endpoint().Readiness(waiter.EventMaskFromLinux(mask)).ToLinux())
	if k.errPending6() {
		r |= unix.EPOLLERR
	}
	return r & mask
}

func (k *sock6) Wait(mask uint32, deadline time.Time) (uint32, error) {
	return k.waitReady(k.Readiness, mask, deadline)
}

func (k *sock6) Ioctl(req uint, arg []byte) error {
	switch req {
	case fionbio:
		if len(arg) < 4 {
			return unix.EFAULT
		}
		k.SetNonblock(arg[0]|arg[1]|arg[2]|arg[3] != 0)
		return nil
	case unix.SIOCINQ, unix.SIOCOUTQ:
		if len(arg) < 4 {
			return unix.EFAULT
		}
		var v int
		var e tcpip.Error
		if req == unix.SIOCINQ {
			v, e = k.endpoint().GetSockOptInt(tcpip.ReceiveQueueSizeOption)
		} else {
			v, e = k.endpoint().GetSockOptInt(tcpip.SendQueueSizeOption)
		}
		if e != nil {
			return errOf(e)
		}
		options.PutSockInt(arg, int32(v))
		return nil
	}
	return unix.ENOTTY
}

// SendMsg is udpv6_sendmsg's handling of the destination and control
// messages over gVisor's Write.
func (k *sock6) SendMsg(p, oob, to []byte, flags int) (int, error) {
	if k.isClosed() {
		return 0, unix.EBADF
	}
	if flags&unix.MSG_OOB != 0 {
		return 0, unix.EOPNOTSUPP
	}
	var wo tcpip.WriteOptions
	tclass := -1 // the socket's
	c, err := options.ParseIPv6SendControl(oob, sendCmsgPolicy(k.s))
	if err != nil {
		return 0, err
	}
	if err := k.sendControl(c, &wo); err != nil {
		return 0, err
	}
	if c.HasTClass {
		// An IPV6_TCLASS message of -1 leaves as 0xff: Linux (6.18,
		// ipcm6_init_sk then ip6_datagram_send_ctl) puts the int into
		// the header as it is, not the socket's.
		tclass = c.TClass & 0xff
	}
	if wo.To, err = k.sendDst(to); err != nil {
		return 0, err
	}
	var n int
	err = k.blockOn(flags, unix.EPOLLOUT, k.optsSnapshot().sndTimeo, func() error {
		var err error
		n, err = k.write(p, wo, tclass)
		return err
	})
	return n, err
}

// sendDst is udpv6_sendmsg's reading of msg_name: AF_INET6 needs
// SIN6_LEN_RFC2133 bytes and a non-zero port, AF_INET goes to the IPv4
// path (a v4-mapped destination), AF_UNSPEC means none, anything else
// is EINVAL; a v4-mapped destination on an IPV6_V6ONLY socket is
// ENETUNREACH.
func (k *sock6) sendDst(to []byte) (*tcpip.FullAddress, error) {
	if to == nil {
		k.mu.Lock()
		conn, shut := k.conn, k.shut
		k.mu.Unlock()
		if shut&sndShutdown != 0 {
			return nil, unix.EPIPE
		}
		if !conn {
			return nil, unix.EDESTADDRREQ
		}
		return nil, nil
	}
	if len(to) < 2 {
		return nil, unix.EINVAL
	}
	var sa options.SockaddrIn6
	switch options.SockaddrFamily(to) {
	case unix.AF_INET6:
		var err error
		if sa, err = options.ParseSockaddrIn6(to); err != nil {
			return nil, err
		}
	case unix.AF_INET:
		if k.v6only() {
			return nil, unix.ENETUNREACH
		}
		ap, _, err := options.ParseSockaddrIn(to)
		if err != nil {
			return nil, err
		}
		sa = options.SockaddrIn6{Addr: netip.AddrFrom16(ap.Addr().As16()), Port: ap.Port()}
	case unix.AF_UNSPEC:
		return k.sendDst(nil)
	default:
		return nil, unix.EINVAL
	}
	if sa.Addr.Is4In6() && k.v6only() {
		return nil, unix.ENETUNREACH
	}
	if sa.Port == 0 {
		return nil, unix.EINVAL
	}
	fa := addr6(sa)
	if sa.Addr.IsUnspecified() {
		fa.Addr = tcpip.AddrFrom16(netip.IPv6Loopback().As16())
	}
	if err := k.checkMulticastDst(sa.Addr, fa.NIC); err != nil {
		return nil, err
	}
	return &fa, nil
}

// checkMulticastDst is the route lookup's answer for an IPv6 multicast
// destination whose interface (the scope id, else IPV6_MULTICAST_IF,
// else SO_BINDTODEVICE) is lo: Linux's lo has no IFF_MULTICAST and no
// multicast route, so the lookup fails with ENETUNREACH, where gVisor's
// loopback would carry the datagram.
func (k *sock6) checkMulticastDst(dst netip.Addr, nic tcpip.NICID) error {
	if !dst.IsMulticast() || dst.Is4In6() {
		return nil
	}
	idx := int(nic)
	if idx == 0 {
		k.optMu.Lock()
		idx = k.v6.mcastIf
		k.optMu.Unlock()
	}
	if idx == 0 {
		idx = k.optsSnapshot().bindIf
	}
	if ifc, ok := k.s.InterfaceByIndex(idx); ok && ifc.Loopback {
		return unix.ENETUNREACH
	}
	return nil
}

// ucastRoute6 is the interface IPV6_UNICAST_IF gives a datagram or a
// connect to dst when nothing else named one (nic: the scope id or
// IPV6_PKTINFO's; the bound device), as rawv6_sendmsg, ping_v6_sendmsg
// and ip6_datagram_flow_key_init do (v6Opts.ucastOut); 0 when it does
// not apply. No route through it is ENETUNREACH, as ip6_dst_lookup_flow
// answers (gVisor's write would answer EADDRNOTAVAIL).
func (k *sock6) ucastRoute6(nic tcpip.NICID, dst netip.Addr) (tcpip.NICID, error) {
	if nic != 0 || k.optsSnapshot().bindIf != 0 {
		return 0, nil
	}
	k.optMu.Lock()
	oif := k.v6.ucastOut(0, dst)
	k.optMu.Unlock()
	if oif == 0 {
		return 0, nil
	}
	r, e := k.s.Gvisor().FindRoute(tcpip.NICID(oif), tcpip.Address{}, tcpip.AddrFrom16(dst.As16()), header.IPv6ProtocolNumber, false)
	if e != nil {
		return 0, unix.ENETUNREACH
	}
	r.Release()
	return tcpip.NICID(oif), nil
}

// steerUnicast6 sends a datagram to an IPv6 unicast msg_name out of
// IPV6_UNICAST_IF (ucastRoute6). A connected send has only the route
// checked: it leaves by the route its connect took, which the option
// chose when it was set then (connectDgram).
func (k *sock6) steerUnicast6(wo *tcpip.WriteOptions, dst netip.Addr) error {
	var nic tcpip.NICID
	if wo.ControlMessages.HasIPv6PacketInfo {
		nic = wo.ControlMessages.IPv6PacketInfo.NIC
	}
	if wo.To != nil && wo.To.NIC != 0 {
		return nil
	}
	oif, err := k.ucastRoute6(nic, dst)
	if err != nil || oif == 0 || wo.To == nil {
		return err
	}
	wo.To.NIC = oif
	return nil
}

// sendControl applies an IPV6_PKTINFO, IPV6_HOPLIMIT message to the
// write: the interface must exist (ENODEV), a link-local source needs an
// interface (EINVAL), a source address must be local (EINVAL).
func (k *sock6) sendControl(c options.IPv6SendControl, wo *tcpip.WriteOptions) error {
	if c.HasPktinfo {
		if c.PktinfoIfIndex != 0 {
			if _, ok := k.s.InterfaceByIndex(int(c.PktinfoIfIndex)); !ok {
				return unix.ENODEV
			}
		} else if c.PktinfoAddr.IsLinkLocalUnicast() {
			return unix.EINVAL
		}
		a := c.PktinfoAddr
		if !a.IsUnspecified() {
			local := k.s.IsLocalAddr6(a) || a.Is4In6() && k.s.IsLocalAddr(a.Unmap())
			if !local {
				return unix.EINVAL
			}
		}
		wo.ControlMessages.HasIPv6PacketInfo = true
		wo.ControlMessages.IPv6PacketInfo = tcpip.IPv6PacketInfo{NIC: tcpip.NICID(c.PktinfoIfIndex)}
		if !a.IsUnspecified() {
			wo.ControlMessages.IPv6PacketInfo.Addr = tcpip.AddrFrom16(a.As16())
		}
	}
	if c.HasHopLimit && c.HopLimit >= 0 {
		wo.ControlMessages.HasHopLimit = true
		wo.ControlMessages.HopLimit = uint8(c.HopLimit)
	}
	return nil
}

// write hands a datagram to gVisor; a per-message traffic class (tclass >= 0) is
// set on the endpoint for this write only.
func (k *sock6) write(p []byte, wo tcpip.WriteOptions, tclass int) (int, error) {
	if e := k.takeErr6(); e != 0 {
		return 0, e // sock_alloc_send_skb meets a pending error
	}
	ep := k.endpoint()
	if tclass >= 0 {
		k.sendMu.Lock()
		defer k.sendMu.Unlock()
		k.optMu.Lock()
		def := k.v6.tclass
		k.optMu.Unlock()
		if e := ep.SetSockOptInt(tcpip.IPv6TrafficClassOption, tclass); e != nil {
			return 0, errOf(e)
		}
		defer ep.SetSockOptInt(tcpip.IPv6TrafficClassOption, def)
	}
	var r bytes.Reader
	r.Reset(p)
	n, e := ep.Write(&r, wo)
	if e != nil {
		if _, ok := e.(*tcpip.ErrWouldBlock); ok && n == 0 {
			return 0, unix.EAGAIN
		}
		return int(n), errOf(e)
	}
	return int(n), nil
}

// RecvMsg reads one datagram with the control messages
// of udpv6_recvmsg: SOL_SOCKET timestamps first, then IPV6_PKTINFO,
// IPV6_HOPLIMIT and IPV6_TCLASS in ip6_datagram_recv_specific_ctl's
// order.
func (k *sock6) RecvMsg(p, oob []byte, flags int) (int, int, int, []byte, error) {
	w := tcpip.SliceWriter(p)
	return k.RecvTo(&w, len(p), oob, flags)
}

// RecvTo is RecvMsg with at most size bytes written to dst.
func (k *sock6) RecvTo(dst io.Writer, size int, oob []byte, flags int) (int, int, int, []byte, error) {
	if k.isClosed() {
		return 0, 0, 0, nil, unix.EBADF
	}
	if flags&unix.MSG_ERRQUEUE != 0 && k.errs != nil {
		return k.recvErrQueue6(dst, size, oob) // inet6_icmperr.go
	}
	if flags&unix.MSG_ERRQUEUE != 0 {
		p := make([]byte, size)
		n, oobn, rflags, from, err := k.recvErrQueue(p, oob, flags) // inet6_errqueue.go
		if n > 0 {
			dst.Write(p[:min(n, size)])
		}
		return n, oobn, rflags, from, err
	}
	if flags&unix.MSG_OOB != 0 {
		return 0, 0, 0, nil, unix.EINVAL
	}
	var (
		n, oobn, rflags int
		from            []byte
	)
	err := k.blockOn(flags, unix.EPOLLIN, k.optsSnapshot().rcvTimeo, func() error {
		var err error
		n, oobn, rflags, from, err = k.recvOnce(dst, size, oob, flags)
		return err
	})
	return n, oobn, rflags, from, err
}

func (k *sock6) recvOnce(dst io.Writer, size int, oob []byte, flags int) (int, int, int, []byte, error) {
	if e := k.takeErr6(); e != 0 {
		return 0, 0, 0, nil, e // skb_recv_datagram: a pending error first
	}
	ep := k.endpoint()
	ro := tcpip.ReadOptions{Peek: flags&unix.MSG_PEEK != 0, NeedRemoteAddr: true}
	res, e := ep.Read(&tcpip.LimitedWriter{W: dst, N: int64(size)}, ro)
	if e != nil {
		switch e.(type) {
		case *tcpip.ErrWouldBlock:
			k.mu.Lock()
			shut := k.shut
			k.mu.Unlock()
			if shut&rcvShutdown != 0 {
				return 0, 0, 0, nil, nil
			}
			return 0, 0, 0, nil, unix.EAGAIN
		case *tcpip.ErrClosedForReceive:
			return 0, 0, 0, nil, nil
		}
		return 0, 0, 0, nil, errOf(e)
	}
	n := res.Count
	rflags := 0
	if res.Total > res.Count {
		rflags |= unix.MSG_TRUNC
		if flags&unix.MSG_TRUNC != 0 {
			n = res.Total
		}
	}
	from := sockaddr6(res.RemoteAddr)
	cb := options.NewCmsgBuilder(oob)
	k.putCmsgs(&cb, res.ControlMessages)
	return n, cb.Len(), rflags | cb.Flags(), from, nil
}

func (k *sock6) putCmsgs(cb *options.CmsgBuilder, cm tcpip.ReceivableControlMessages) {
	rx := k.rx()
	if rx&(rxStamp|rxStampNS) != 0 && cm.HasTimestamp {
		ts := cm.Timestamp
		var b [16]byte
		typ := unix.SO_TIMESTAMP_OLD
		sub := ts.Nanosecond() / 1000
		if rx&rxStampNS != 0 {
			typ, sub = unix.SO_TIMESTAMPNS_OLD, ts.Nanosecond()
		}
		if rx&rxStampNew != 0 {
			typ = map[int]int{unix.SO_TIMESTAMP_OLD: unix.SO_TIMESTAMP_NEW, unix.SO_TIMESTAMPNS_OLD: unix.SO_TIMESTAMPNS_NEW}[typ]
		}
		putU64(b[:8], uint64(ts.Unix()))
		putU64(b[8:], uint64(sub))
		cb.Put(unix.SOL_SOCKET, int32(typ), b[:])
	}
	switch {
	case cm.HasIPv6PacketInfo:
		a := netip.AddrFrom16(cm.IPv6PacketInfo.Addr.As16())
		cb.Put(unix.SOL_IPV6, unix.IPV6_PKTINFO, options.In6Pktinfo(a, uint32(cm.IPv6PacketInfo.NIC)))
	case cm.HasIPPacketInfo:
		a := netip.AddrFrom16(netip.AddrFrom4(cm.PacketInfo.DestinationAddr.As4()).As16())
		cb.Put(unix.SOL_IPV6, unix.IPV6_PKTINFO, options.In6Pktinfo(a, uint32(cm.PacketInfo.NIC)))
	}
	if cm.HasHopLimit {
		cb.PutInt32(unix.SOL_IPV6, unix.IPV6_HOPLIMIT, int32(cm.HopLimit))
	}
	if cm.HasTClass {
		cb.PutInt32(unix.SOL_IPV6, unix.IPV6_TCLASS, int32(cm.TClass))
	}
	if cm.HasOriginalDstAddress && cm.OriginalDstAddress.Addr.Len() == 16 {
		// An IPv6 datagram's destination and port, the scope id only
		// for a link-local one (ipv6_iface_scope_id); an IPv4 one of a
		// dual-stack socket gets none, as IPv4's cmsg flags decide it.
		od := cm.OriginalDstAddress
		a := netip.AddrFrom16(od.Addr.As16())
		var scope uint32
		if a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() {
			scope = uint32(od.NIC)
		}
		cb.Put(unix.SOL_IPV6, unix.IPV6_ORIGDSTADDR, options.SockaddrIn6Bytes(netip.AddrPortFrom(a, od.Port), scope))
	}
}

func putU64(b []byte, v uint64) { binary.NativeEndian.PutUint64(b, v) }
