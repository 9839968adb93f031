package endpoint

import (
	"net/netip"

	"golang.org/x/sys/unix"

	"netsandbox/options"
	"netsandbox/stack"
)

// SendMsg is udpv6_sendmsg: autobind, the destination (msg_name or the
// peer), ip6_datagram_send_ctl's control messages (IPV6_PKTINFO,
// IPV6_HOPLIMIT, IPV6_TCLASS), then the send with the socket's hop
// limit and traffic class. A v4-mapped destination takes the IPv4 path,
// as udpv6_sendmsg hands it to udp_sendmsg.
func (k *udp6) SendMsg(p, oob, to []byte, flags int) (int, error) {
	if k.isClosed() {
		return 0, unix.EBADF
	}
	src, remote, shut, err := k.sendEnds6()
	if err != nil {
		return 0, err
	}
	if flags&unix.MSG_OOB != 0 {
		return 0, unix.EOPNOTSUPP
	}
	dst, scope, err := k.sendDst6(to, remote, shut)
	if err != nil {
		return 0, err
	}
	if dst.Addr().Is4() {
		// udpv6_sendmsg hands a v4-mapped destination to udp_sendmsg,
		// with the socket's IPv4 source and SOL_IP values.
		if len(p) > 0xFFFF {
			return 0, unix.EMSGSIZE
		}
		return k.udpSock.sendTo(mappedSource(src), remote, shut, dst, p, oob, flags, true)
	}
	c, err := options.ParseIPv6SendControl(oob, sendCmsgPolicy(k.s))
	if err != nil {
		return 0, err
	}
	o := k.optsSnapshot()
	m := stack.UDPSend{
		Src:       src,
		Dst:       dst,
		Connected: remote.IsValid(),
		IPID:      k.ipid,
		DontRoute: o.misc.dontroute || flags&unix.MSG_DONTROUTE != 0,
		Payload:   p,
	}
	if err := k.applyV6Send(&m, c, scope); err != nil {
		return 0, err
	}
	if len(p) > stack.MaxUDP6Payload {
		k.noteSendError6(unix.EMSGSIZE, &m)
		k.notePathMTU(unix.EMSGSIZE, &m)
		return 0, unix.EMSGSIZE
	}
	if k.lite {
		k.applyLite(&m)
	}
	if err := k.takeSendErr(&m); err != nil {
		return 0, err
	}
	if err := k.s.SendUDP(&m); err != nil {
		if err == unix.ENOBUFS {
			k.s.Stats().UDPSndbufErrors.Add(1)
			return len(p), nil
		}
		k.noteSendError6(err, &m)
		k.notePathMTU(err, &m)
		return 0, err
	}
	return len(p), nil
}

// mappedSource is the IPv4 source of a v4-mapped send: the bound IPv4
// address, or 0.0.0.0 for :: (a socket bound to another IPv6 address is
// IPV6_V6ONLY and never sends IPv4).
func mappedSource(src netip.AddrPort) netip.AddrPort {
	if a := src.Addr(); a.Is6() && a.IsUnspecified() {
		return netip.AddrPortFrom(netip.IPv4Unspecified(), src.Port())
	}
	return src
}

// noteSendError6 is ipv6_local_error for a send __ip6_append_data refused
// for its size: with IPV6_RECVERR an SO_EE_ORIGIN_LOCAL EMSGSIZE is
// queued with the MTU the datagram was held to and msg_name the
// destination with its port. (An IPv4 destination's send is udp_sendmsg's,
// udpSock.sendTo, with ip_local_error's rules.)
func (k *udp6) noteSendError6(err error, m *stack.UDPSend) {
	if err != unix.EMSGSIZE {
		return
	}
	k.v6mu.Lock()
	recvErr := k.recvErr6
	k.v6mu.Unlock()
	if !recvErr {
		return
	}
	k.pushLocalError(unix.EMSGSIZE, m.Dst, k.sendMTU(m))
}

// sendEnds6 is sendEnds with an AF_INET6 autobind.
func (k *udp6) sendEnds6() (src, remote netip.AddrPort, shut int, err error) {
	k.bindMu.Lock()
	err = k.autobind6Locked()
	if k.binding != nil {
		src = k.binding.Local()
	}
	remote = k.remote
	k.bindMu.Unlock()
	k.mu.Lock()
	shut = k.shut
	k.mu.Unlock()
	if err != nil && err != unix.EBADF {
		err = unix.EAGAIN
	}
	return src, remote, shut, err
}

// sendDst6 is udpv6_sendmsg's reading of msg_name: AF_INET6 needs
// SIN6_LEN_RFC2133 bytes and a non-zero port, AF_INET is its v4-mapped
// form, AF_UNSPEC means none, another family is EINVAL; a v4-mapped
// destination on an IPV6_V6ONLY socket is ENETUNREACH, :: is ::1. The
// destination comes back unmapped, with the scope id of a link-local one.
func (k *udp6) sendDst6(to []byte, remote netip.AddrPort, shut int) (netip.AddrPort, uint32, error) {
	if len(to) >= 2 && options.SockaddrFamily(to) == unix.AF_UNSPEC {
		to = nil
	}
	if to == nil {
		if shut&sndShutdown != 0 {
			return netip.AddrPort{}, 0, unix.EPIPE
		}
		if !remote.IsValid() {
			return netip.AddrPort{}, 0, unix.EDESTADDRREQ
		}
		k.v6mu.Lock()
		scope := k.peerScope
		k.v6mu.Unlock()
		return remote, scope, nil
	}
	if len(to) < 2 {
		return netip.AddrPort{}, 0, unix.EINVAL
	}
	var sa options.SockaddrIn6
	switch options.SockaddrFamily(to) {
	case unix.AF_INET6:
		var err error
		if sa, err = options.ParseSockaddrIn6(to); err != nil {
			return netip.AddrPort{}, 0, err
		}
	case unix.AF_INET:
		if k.isV6Only() {
			return netip.AddrPort{}, 0, unix.ENETUNREACH
		}
		ap, _, err := options.ParseSockaddrIn(to)
		if err != nil {
			return netip.AddrPort{}, 0, err
		}
		sa = options.SockaddrIn6{Addr: netip.AddrFrom16(ap.Addr().As16()), Port: ap.Port()}
	default:
		return netip.AddrPort{}, 0, unix.EINVAL
	}
	if sa.Addr.Is4In6() && k.isV6Only() {
		return netip.AddrPort{}, 0, unix.ENETUNREACH
	}
	if sa.Port == 0 {
		return netip.AddrPort{}, 0, unix.EINVAL
	}
	if shut&sndShutdown != 0 {
		return netip.AddrPort{}, 0, unix.EPIPE
	}
	if sa.Addr.IsUnspecified() {
		sa.Addr = netip.IPv6Loopback()
	}
	var scope uint32
	if sa.Addr.IsLinkLocalUnicast() || sa.Addr.IsLinkLocalMulticast() {
		scope = sa.Scope
	}
	return netip.AddrPortFrom(sa.Addr.Unmap(), sa.Port), scope, nil
}

// applyV6Send fills in an IPv6 datagram's hop limit, traffic class,
// interface and source from the socket and the send's control messages:
// IPV6_PKTINFO's interface must exist (ENODEV) and its address be local
// (EINVAL), a link-local source needs an interface (EINVAL).
func (k *udp6) applyV6Send(m *stack.UDPSend, c options.IPv6SendControl, scope uint32) error {
	k.v6mu.Lock()
	v := k.v6
	m.FragSize = v.fragSize
	k.v6mu.Unlock()
	dst := m.Dst.Addr()
	hop := v.unicastHops
	if dst.IsMulticast() {
		hop = v.mcastHops
	}
	if c.HasHopLimit && c.HopLimit >= 0 {
		hop = c.HopLimit
	}
	if hop >= 0 {
		m.TTL, m.TTLZero = uint8(hop), hop == 0
	}
	m.TOS = uint8(v.tclass)
	if c.HasTClass {
		m.TOS = uint8(c.TClass) // -1 leaves as 0xff, as Linux 6.18 does
	}
	m.NoMulticastLoop = !v.mcastLoop
	m.PMTU = stack.PMTUMode(v.pmtudisc)
	m.DontFrag = v.dontFrag
	if c.HasDontFrag {
		m.DontFrag = c.DontFrag
	}
	m.IfIndex = k.outIf(dst, scope)
	if !c.HasPktinfo {
		return nil
	}
	if c.PktinfoIfIndex != 0 {
		if _, ok := k.s.InterfaceByIndex(int(c.PktinfoIfIndex)); !ok {
			return unix.ENODEV
		}
		m.IfIndex = int(c.PktinfoIfIndex)
	} else if c.PktinfoAddr.IsLinkLocalUnicast() {
		return unix.EINVAL
	}
	if a := c.PktinfoAddr; !a.IsUnspecified() {
		// ipv6_can_nonlocal_bind: FREEBIND or TRANSPARENT lets a source
		// no interface has through (sendUDP6 sends from it).
		if !k.s.IsLocalAddr6(a) && !k.optsSnapshot().freeBind() {
			return unix.EINVAL
		}
		m.Src = netip.AddrPortFrom(a, m.Src.Port())
	}
	return nil
}

// RecvMsg is udpv6_recvmsg: the oldest datagram (a pending error first),
// its source as sockaddr_in6 (v4-mapped for an IPv4 one), and the
// control messages: SOL_SOCKET's, then ip6_datagram_recv_specific_ctl's
// IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS and IPV6_ORIGDSTADDR;
// MSG_ERRQUEUE reads the error queue (udp6_errqueue.go).
func (k *udp6) RecvMsg(p, oob []byte, flags int) (int, int, int, []byte, error) {
	if k.isClosed() {
		return 0, 0, 0, nil, unix.EBADF
	}
	if flags&unix.MSG_ERRQUEUE != 0 {
		return k.recvErrQueue6(p, oob)
	}
	if note := k.takePathMTUNote(); note != nil {
		return k.recvPathMTU(note, oob) // udp6_pathmtu.go
	}
	deadline := deadlineAfter(k.optsSnapshot().rcvTimeo)
	for {
		k.mu.Lock()
		if e := k.soErr; e != 0 {
			k.soErr = 0
			k.mu.Unlock()
			return 0, 0, 0, nil, e
		}
		peekOff := int(k.peekOff.get())
		if flags&unix.MSG_PEEK != 0 && peekOff >= 0 {
			if head, n, rflags, _, ok := k.peekAtOffsetLocked(p, flags, peekOff); ok {
				k.mu.Unlock()
				oobn, cflags := k.recvCmsgs6(oob, &head)
				return n, oobn, rflags | cflags, sockaddr6Of(head.d.Src, uint32(head.d.IfIndex)), nil
			}
		} else if k.queue.len() > 0 {
			head := *k.queue.front()
			n, rflags, _ := k.takeLocked(p, flags)
			k.mu.Unlock()
			oobn, cflags := k.recvCmsgs6(oob, &head)
			return n, oobn, rflags | cflags, sockaddr6Of(head.d.Src, uint32(head.d.IfIndex)), nil
		}
		shut := k.shut
		k.mu.Unlock()
		if !k.mayBlock(flags) {
			return 0, 0, 0, nil, unix.EAGAIN
		}
		if shut&rcvShutdown != 0 {
			return 0, 0, 0, nil, nil
		}
		ready := k.Readiness
		if flags&unix.MSG_PEEK != 0 && peekOff >= 0 {
			ready = k.peekReady
		}
		if _, err := k.waitReady(ready, unix.EPOLLIN, deadline); err != nil {
			return 0, 0, 0, nil, err
		}
	}
}

// recvCmsgs6 writes a datagram's control messages into oob and returns
// msg_controllen and MSG_CTRUNC as put_cmsg leaves them. An IPv4
// datagram's IPV6_PKTINFO has its destination v4-mapped and IPv4's
// interface rule (ip6_datagram_recv_common_ctl).
func (k *udp6) recvCmsgs6(oob []byte, e *queued) (int, int) {
	f := k.rx()
	k.stamp.noteRecv(f, e.arr.stamp)
	k.v6mu.Lock()
	v := k.v6
	k.v6mu.Unlock()
	ipv4 := e.d.Dst.Addr().Is4()
	if f&(rxStamp|rxQueueOvfl) == 0 && !v.any() && (!ipv4 || f&rxIPMask == 0) {
		return 0, 0
	}
	b := options.NewCmsgBuilder(oob)
	putTimestamp(&b, f, e.arr.stamp)
	if f&rxQueueOvfl != 0 && e.arr.drops != 0 {
		b.PutInt32(unix.SOL_SOCKET, unix.SO_RXQ_OVFL, int32(e.arr.drops))
	}
	putRecvCmsgs6(k.s, &b, v, &e.d, true)
	if ipv4 {
		// udpv6_recvmsg: an IPv4 datagram gets ip_cmsg_recv_offset's
		// SOL_IP messages in place of the IPv6-specific ones.
		k.putIPCmsgs(&b, f, e)
	}
	return b.Len(), b.Flags()
}

// putRecvCmsgs6 writes the IPv6 control messages of a received packet
// d: ip6_datagram_recv_common_ctl's IPV6_PKTINFO (an IPv4 packet's
// v4-mapped, with IPv4's interface rule), then for an IPv6 one
// ip6_datagram_recv_specific_ctl's IPV6_HOPLIMIT, IPV6_TCLASS, the RFC
// 2292 IPV6_2292PKTINFO and IPV6_2292HOPLIMIT and, when origDst,
// IPV6_ORIGDSTADDR of d.Dst.
func putRecvCmsgs6(s *stack.Stack, b *options.CmsgBuilder, v v6Opts, d *stack.Datagram, origDst bool) {
	if v.rxPktinfo {
		dst, ifindex := d.Dst.Addr(), d.IfIndex
		if dst.Is4() {
			ifindex = pktinfoIfIndex(s, d)
			dst = netip.AddrFrom16(dst.As16())
		}
		b.Put(unix.SOL_IPV6, unix.IPV6_PKTINFO, options.In6Pktinfo(dst, uint32(ifindex)))
	}
	if d.Dst.Addr().Is4() {
		// An IPv4 datagram's SOL_IP messages are the caller's
		// (udpv6_recvmsg's ip_cmsg_recv_offset).
		return
	}
	if v.rxHopLimit {
		b.PutInt32(unix.SOL_IPV6, unix.IPV6_HOPLIMIT, int32(d.TTL))
	}
	if v.rxTClass {
		b.PutInt32(unix.SOL_IPV6, unix.IPV6_TCLASS, int32(d.TOS))
	}
	if v.rx2292Pktinfo {
		b.Put(unix.SOL_IPV6, unix.IPV6_2292PKTINFO, options.In6Pktinfo(d.Dst.Addr(), uint32(d.IfIndex)))
	}
	if v.rx2292HopLimit {
		b.PutInt32(unix.SOL_IPV6, unix.IPV6_2292HOPLIMIT, int32(d.TTL))
	}
	if v.rxOrigDst && origDst {
		b.Put(unix.SOL_IPV6, unix.IPV6_ORIGDSTADDR, sockaddr6Of(d.Dst, uint32(d.IfIndex)))
	}
}
