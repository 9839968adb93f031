package endpoint

import (
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"netsandbox/options"
)

// IPV6_RECVERR on AF_INET6 UDP: the error queue is gVisor's (its UDP
// endpoint queues an ICMPv6 port unreachable for a connected socket, and
// a local EMSGSIZE); recvmsg(MSG_ERRQUEUE) reads it as ipv6_recv_error
// writes it: the original payload, the original destination as msg_name,
// MSG_ERRQUEUE in the flags and an IPV6_RECVERR message of struct
// sock_extended_err and the offender's sockaddr_in6 (zero for a local
// error). Deviations, gVisor's: no error is queued for an unconnected
// socket, nor for ICMPv6 errors other than port unreachable
// (transport/udp/endpoint.go HandleError), and the offender is the
// socket's own address, which over loopback is the ICMPv6 sender too.

// recvErrQueue is recvmsg(MSG_ERRQUEUE) on an AF_INET6 socket.
func (k *sock6) recvErrQueue(p, oob []byte, flags int) (int, int, int, []byte, error) {
	ep := k.endpoint()
	so := ep.SocketOptions()
	// ipv6_recv_error dequeues even under MSG_PEEK (sock_dequeue_err_skb),
	// and an ICMP error read with no ICMP error behind it clears sk_err.
	se := so.DequeueErr()
	if se == nil {
		return 0, 0, 0, nil, unix.EAGAIN
	}
	if icmpOrigin(se) {
		if next := so.PeekErr(); next == nil || !icmpOrigin(next) {
			ep.LastError() // reading gVisor's last error clears it
		}
	}
	var payload []byte
	if se.Payload != nil {
		payload = se.Payload.AsSlice()
	}
	n := copy(p, payload)
	rflags := unix.MSG_ERRQUEUE
	if len(payload) > len(p) {
		rflags |= unix.MSG_TRUNC
		if flags&unix.MSG_TRUNC != 0 {
			n = len(payload)
		}
	}
	var ee options.SockExtendedErr
	if en, ok := errOf(se.Err).(unix.Errno); ok {
		ee.Errno = uint32(en)
	}
	var offender []byte
	if c := se.Cause; c != nil {
		ee.Origin, ee.Type, ee.Code, ee.Info = uint8(c.Origin()), c.Type(), c.Code(), c.Info()
	}
	if ee.Origin == unix.SO_EE_ORIGIN_ICMP6 || ee.Origin == unix.SO_EE_ORIGIN_ICMP {
		offender = sockaddr6(tcpip.FullAddress{Addr: se.Offender.Addr, NIC: se.Offender.NIC})
	} else {
		offender = make([]byte, unix.SizeofSockaddrInet6)
	}
	b := ee.Encode()
	cb := options.NewCmsgBuilder(oob)
	level, typ := int32(unix.SOL_IPV6), int32(unix.IPV6_RECVERR)
	if ee.Origin == unix.SO_EE_ORIGIN_ICMP {
		level, typ = unix.SOL_IP, unix.IP_RECVERR
	}
	cb.Put(level, typ, append(b[:], offender...))
	from := sockaddr6(se.Dst)
	if a := netip.AddrFrom16([16]byte(from[8:24])); !a.IsLinkLocalUnicast() {
		clear(from[24:28]) // ipv6_iface_scope_id: link-local only
	}
	return n, cb.Len(), rflags | cb.Flags(), from, nil
}

// icmpOrigin reports whether a queued error came from an ICMP or ICMPv6
// message (is_icmp_err_skb).
func icmpOrigin(se *tcpip.SockError) bool {
	return se.Cause != nil && (se.Cause.Origin() == tcpip.SockExtErrorOriginICMP || se.Cause.Origin() == tcpip.SockExtErrorOriginICMP6)
}
