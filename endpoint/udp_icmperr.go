package endpoint

import (
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/stack"
)

// ICMP types and the destination-unreachable code UDP treats specially.
const (
	icmpDestUnreach  = 3
	icmpTimeExceeded = 11
	icmpParamProblem = 12
	icmpFragNeeded   = 4
	icmpUnreachCodes = 16 // NR_ICMP_UNREACH + 1
)

// icmpUnreach is Linux's icmp_err_convert: the errno of each
// destination-unreachable code and whether it is fatal ("hard").
var icmpUnreach = [icmpUnreachCodes]struct {
	errno unix.Errno
	hard  bool
}{
	{unix.ENETUNREACH, false},  // net unreachable
	{unix.EHOSTUNREACH, false}, // host unreachable
	{unix.ENOPROTOOPT, true},   // protocol unreachable
	{unix.ECONNREFUSED, true},  // port unreachable
	{unix.EMSGSIZE, false},     // fragmentation needed
	{unix.EOPNOTSUPP, false},   // source route failed
	{unix.ENETUNREACH, true},   // net unknown
	{unix.EHOSTDOWN, true},     // host unknown
	{unix.ENONET, true},        // host isolated
	{unix.ENETUNREACH, true},   // net administratively prohibited
	{unix.EHOSTUNREACH, true},  // host administratively prohibited
	{unix.ENETUNREACH, false},  // net unreachable for TOS
	{unix.EHOSTUNREACH, false}, // host unreachable for TOS
	{unix.EHOSTUNREACH, true},  // communication administratively prohibited
	{unix.EHOSTUNREACH, true},  // host precedence violation
	{unix.EHOSTUNREACH, true},  // precedence cutoff
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
	switch e.Type {
	case icmpTimeExceeded:
		return unix.EHOSTUNREACH, false, true
	case icmpParamProblem:
		return unix.EPROTO, true, true
	case icmpDestUnreach:
		if e.Code == icmpFragNeeded {
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
	if _, _, err := u.s.RouteFrom(m.Src.Addr(), m.Dst.Addr(), m.IfIndex); err != nil {
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

// pmtudisc is the socket's IP_MTU_DISCOVER mode.
func (u *udpSock) pmtudisc() int { return u.optsSnapshot().pmtudisc }
