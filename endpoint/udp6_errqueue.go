package endpoint

import (
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/options"
	"netsandbox/stack"
)

// ICMPv6 errors on AF_INET6 UDP and UDP-Lite sockets: __udp6_lib_err's
// rules, ipv6_icmp_error's queue entry and ipv6_recv_error's reading of
// it. ICMP errors about the socket's IPv4 traffic follow the IPv4 rules
// (udpSock's, with SOL_IP's IP_RECVERR, not served on AF_INET6) and are
// read the IPv6 way.

// icmp6Unreach is icmpv6_err_convert's table for destination
// unreachable: the errno of each code and whether it is fatal.
var icmp6Unreach = [...]struct {
	errno unix.Errno
	hard  bool
}{
	header.ICMPv6NetworkUnreachable: {unix.ENETUNREACH, false},
	header.ICMPv6Prohibited:         {unix.EACCES, true},
	header.ICMPv6BeyondScope:        {unix.EHOSTUNREACH, false},
	header.ICMPv6AddressUnreachable: {unix.EHOSTUNREACH, false},
	header.ICMPv6PortUnreachable:    {unix.ECONNREFUSED, true},
	header.ICMPv6Policy:             {unix.EACCES, true},
	header.ICMPv6RejectRoute:        {unix.EACCES, true},
}

// icmp6ErrConvert is icmpv6_err_convert: unknown codes and types are a
// protocol error, fatal for destination unreachable only.
func icmp6ErrConvert(typ, code uint8) (unix.Errno, bool) {
	switch header.ICMPv6Type(typ) {
	case header.ICMPv6DstUnreachable:
		if int(code) < len(icmp6Unreach) {
			return icmp6Unreach[code].errno, icmp6Unreach[code].hard
		}
		return unix.EPROTO, true
	case header.ICMPv6PacketTooBig:
		return unix.EMSGSIZE, false
	case header.ICMPv6ParamProblem:
		return unix.EPROTO, true
	case header.ICMPv6TimeExceeded:
		return unix.EHOSTUNREACH, false
	}
	return unix.EPROTO, false
}

// DeliverICMPError is __udp6_lib_err for an ICMPv6 error (an IPv4 one
// goes to udpSock's __udp4_lib_err): a packet too big lowers the path
// MTU unless the socket ignores it (IPV6_PMTUDISC_INTERFACE, OMIT) and
// is fatal unless it lets its datagrams be fragmented (DONT); with
// IPV6_RECVERR every error is queued and becomes the pending error,
// without it only a fatal one on a connected socket is pending.
func (k *udp6) DeliverICMPError(e *stack.ICMPError) {
	if !e.Dst.Addr().Is6() {
		k.udpSock.DeliverICMPError(e)
		return
	}
	errno, hard := icmp6ErrConvert(e.Type, e.Code)
	k.v6mu.Lock()
	pmtudisc, recvErr, rfc4884 := k.v6.pmtudisc, k.recvErr6, k.v6.recvErrRFC4884
	k.v6mu.Unlock()
	if header.ICMPv6Type(e.Type) == header.ICMPv6PacketTooBig {
		if pmtudisc == unix.IPV6_PMTUDISC_INTERFACE || pmtudisc == unix.IPV6_PMTUDISC_OMIT {
			return // ip6_sk_accept_pmtu
		}
		k.s.LearnPMTU6(e.Dst.Addr(), int(e.Info))
		hard = pmtudisc != unix.IPV6_PMTUDISC_DONT
	}
	if !recvErr && (!hard || !k.connected.Load()) {
		return
	}
	rcvbuf := k.optsSnapshot().rcvbuf
	k.mu.Lock()
	if recvErr {
		se := icmpSockErr(e, errno)
		if rfc4884 {
			setRFC4884(&se, e, e.PayloadOffset)
		}
		k.queueErrLocked(se, rcvbuf)
	}
	k.soErr = errno
	k.mu.Unlock()
	k.q.Notify(waiter.EventErr)
}

// recvErrQueue6 is ipv6_recv_error: recvErrQueue's entry, with msg_name
// a sockaddr_in6 (v4-mapped for an IPv4 error, scoped for a link-local
// destination) and the IPV6_RECVERR message.
func (k *udp6) recvErrQueue6(p, oob []byte) (int, int, int, []byte, error) {
	e, ok := k.popErr()
	if !ok {
		return 0, 0, 0, nil, unix.EAGAIN
	}
	n, rflags := errPayload(p, &e)
	k.v6mu.Lock()
	v := k.v6
	k.v6mu.Unlock()
	oobn, cflags := errCmsgs6(k.s, k.rx(), v, oob, &e)
	return n, oobn, rflags | cflags, sockaddr6Of(e.name, uint32(e.icmp.IfIndex)), nil
}

// errCmsgs6 writes ipv6_recv_error's control messages for a socket with
// receive flags f and IPv6 options v: the timestamp; for an ICMP or
// ICMPv6 error the socket's IPv6 messages about the ICMP packet
// (ip6_datagram_recv_common_ctl's IPV6_PKTINFO, and for ICMPv6 the
// specific ones) and the offender; then IPV6_RECVERR with a
// sock_extended_err and a sockaddr_in6 (zero for a local error).
func errCmsgs6(s *stack.Stack, f rxFlags, v v6Opts, oob []byte, e *sockErr) (int, int) {
	cb := options.NewCmsgBuilder(oob)
	putTimestamp(&cb, f, e.stamp)
	offender := make([]byte, unix.SizeofSockaddrInet6)
	if isICMPOrigin(e.ee.Origin) {
		// IPV6_ORIGDSTADDR's port is read where the transport header
		// would be, which ipv6_icmp_error left at the quoted payload.
		d := e.icmp
		origDst := len(e.payload) >= 4
		if origDst {
			d.Dst = netip.AddrPortFrom(d.Dst.Addr(), uint16(e.payload[2])<<8|uint16(e.payload[3]))
		}
		putRecvCmsgs6(s, &cb, v, &d, origDst)
		offender = sockaddr6Of(netip.AddrPortFrom(e.offender, 0), uint32(e.icmp.IfIndex))
	}
	ee := e.ee.Encode()
	cb.Put(unix.SOL_IPV6, unix.IPV6_RECVERR, append(ee[:], offender...))
	return cb.Len(), cb.Flags()
}
