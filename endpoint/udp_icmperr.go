package endpoint

import (
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/stack"
)

// icmpUnreach is Linux's icmp_err_convert: the errno of each
// destination-unreachable code and whether it is fatal ("hard").
var icmpUnreach = [...]struct {
	errno unix.Errno
	hard  bool
}{
	header.ICMPv4NetUnreachable:            {unix.ENETUNREACH, false},
	header.ICMPv4HostUnreachable:           {unix.EHOSTUNREACH, false},
	header.ICMPv4ProtoUnreachable:          {unix.ENOPROTOOPT, true},
	header.ICMPv4PortUnreachable:           {unix.ECONNREFUSED, true},
	header.ICMPv4FragmentationNeeded:       {unix.EMSGSIZE, false},
	header.ICMPv4SourceRouteFailed:         {unix.EOPNOTSUPP, false},
	header.ICMPv4DestinationNetworkUnknown: {unix.ENETUNREACH, true},
	header.ICMPv4DestinationHostUnknown:    {unix.EHOSTDOWN, true},
	header.ICMPv4SourceHostIsolated:        {unix.ENONET, true},
	header.ICMPv4NetProhibited:             {unix.ENETUNREACH, true},
	header.ICMPv4HostProhibited:            {unix.EHOSTUNREACH, true},
	header.ICMPv4NetUnreachableForTos:      {unix.ENETUNREACH, false},
	header.ICMPv4HostUnreachableForTos:     {unix.EHOSTUNREACH, false},
	header.ICMPv4AdminProhibited:           {unix.EHOSTUNREACH, true},
	header.ICMPv4HostPrecedenceViolation:   {unix.EHOSTUNREACH, true},
	header.ICMPv4PrecedenceCutInEffect:     {unix.EHOSTUNREACH, true}, // NR_ICMP_UNREACH
}

// unreachErrno is icmp_err_convert for a destination-unreachable code
// other than fragmentation needed; a code past the table is a soft
// EHOSTUNREACH, as every caller (udp_err, ping_err, raw_err) treats it.
func unreachErrno(code uint8) (errno unix.Errno, hard bool) {
	if int(code) < len(icmpUnreach) {
		return icmpUnreach[code].errno, icmpUnreach[code].hard
	}
	return unix.EHOSTUNREACH, false
}

// udpICMPErrno is the errno classification of __udp4_lib_err: ok is false
// for messages UDP does not report (source quench, redirect, unknown types).
func udpICMPErrno(e *stack.ICMPError, pmtudisc int) (errno unix.Errno, hard, ok bool) {
	switch header.ICMPv4Type(e.Type) {
	case header.ICMPv4TimeExceeded:
		return unix.EHOSTUNREACH, false, true
	case header.ICMPv4ParamProblem:
		return unix.EPROTO, true, true
	case header.ICMPv4DstUnreachable:
		if header.ICMPv4Code(e.Code) == header.ICMPv4FragmentationNeeded {
			// Path MTU discovery: an error only when the socket does not
			// let its datagrams be fragmented.
			if pmtudisc == unix.IP_PMTUDISC_DONT {
				return 0, false, false
			}
			return unix.EMSGSIZE, true, true
		}
		errno, hard := unreachErrno(e.Code)
		return errno, hard, true
	}
	return 0, false, false
}

// DeliverICMPError records an ICMP error about a datagram this socket
// sent, as __udp4_lib_err: with IP_RECVERR every reported error is queued
// (ip_icmp_error) and becomes the pending error (sk_err), connected or
// not; without it only a hard error on a connected socket becomes the
// pending error that poll, the next send or receive and SO_ERROR report.
func (u *udpSock) DeliverICMPError(e *stack.ICMPError) {
	errno, hard, ok := udpICMPErrno(e, u.pmtudisc())
	if !ok {
		return
	}
	o := u.optsSnapshot()
	recvErr := o.recvErr
	if !recvErr && (!hard || !u.connected.Load()) {
		return
	}
	u.mu.Lock()
	if recvErr {
		se := icmpSockErr(e, errno)
		if o.recvErrRFC4884 {
			setRFC4884(&se, e, e.PayloadOffset)
		}
		u.queueErrLocked(se, o.rcvbuf)
	}
	u.soErr = errno
	u.mu.Unlock()
	u.q.Notify(waiter.EventErr)
}

// takeSendErr is sock_error as __ip_append_data meets it when it allocates
// the datagram, after the route lookup: a pending error fails the send and
// is cleared; a routing failure comes first and leaves it pending.
func (u *udpSock) takeSendErr(m *stack.UDPSend) error {
	u.mu.Lock()
	pending := u.soErr != 0
	u.mu.Unlock()
	if !pending {
		return nil
	}
	if err := u.routeCheck(m); err != nil {
		return err
	}
	u.mu.Lock()
	e := u.soErr
	u.soErr = 0
	u.mu.Unlock()
	if e == 0 {
		return nil
	}
	return e
}

// routeCheck is the route lookup a send makes before it meets a pending
// error (ip_route_output_flow, ip6_dst_lookup_flow).
func (u *udpSock) routeCheck(m *stack.UDPSend) error {
	if m.Dst.Addr().Is6() {
		_, err := u.s.PathMTU(m.Src.Addr(), m.Dst.Addr(), m.IfIndex)
		return err
	}
	_, _, err := u.s.RouteFrom(m.Src.Addr(), m.Dst.Addr(), m.IfIndex)
	return err
}

// pmtudisc is the socket's IP_MTU_DISCOVER mode.
func (u *udpSock) pmtudisc() int { return u.optsSnapshot().pmtudisc }
