package endpoint

import (
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/options"
	"netsandbox/stack"
)

// sockErr is one entry of a socket's error queue (sk_error_queue): the
// sock_extended_err, where it points (msg_name), the datagram's data and,
// for ICMP-origin errors, the ICMP message's header facts that
// ip_cmsg_recv reports.
type sockErr struct {
	ee       options.SockExtendedErr
	offender netip.Addr     // ICMP sender; valid only for SO_EE_ORIGIN_ICMP
	name     netip.AddrPort // msg_name: original destination and port
	payload  []byte
	truesize int
	icmp     stack.Datagram // Src = offender, Dst = ICMP destination, TTL, TOS, ifindex
	stamp    int64          // arrival, Unix nanoseconds
}

// errQueue is a FIFO of errors.
type errQueue struct{ items []sockErr }

func (q *errQueue) len() int { return len(q.items) }

func (q *errQueue) push(e sockErr) { q.items = append(q.items, e) }

func (q *errQueue) pop() sockErr {
	e := q.items[0]
	q.items[0] = sockErr{}
	q.items = q.items[1:]
	if len(q.items) == 0 {
		q.items = nil
	}
	return e
}

// Charges of error-queue skbs against SO_RCVBUF: an ICMP error is a clone
// of the received packet (modelled like a datagram of the packet's size);
// a local error is alloc_skb(sizeof(struct iphdr)).
const localErrTruesize = 768

// errQueueAdmits is sock_queue_err_skb's admission rule: the charge must
// stay below the receive buffer (>= refuses, unlike the data path).
func errQueueAdmits(rmem, rcvbuf, size int) bool { return rmem+size < rcvbuf }

// queueErrLocked appends e to the error queue if the receive buffer has
// room; u.mu is held. Linux drops the error silently otherwise.
func (u *udpSock) queueErrLocked(e sockErr, rcvbuf int) bool {
	if !errQueueAdmits(u.rmem, rcvbuf, e.truesize) {
		return false
	}
	u.rmem += e.truesize
	u.errq.push(e)
	return true
}

// icmpSockErr builds the entry ip_icmp_error (or, for an ICMPv6 error,
// ipv6_icmp_error) queues for e.
func icmpSockErr(e *stack.ICMPError, errno unix.Errno) sockErr {
	origin, ipUDPHeaders := uint8(unix.SO_EE_ORIGIN_ICMP), header.IPv4MinimumSize+header.UDPMinimumSize
	if e.Offender.Is6() && !e.Offender.Is4In6() {
		origin, ipUDPHeaders = unix.SO_EE_ORIGIN_ICMP6, header.IPv6MinimumSize+header.UDPMinimumSize
	}
	return sockErr{
		ee: options.SockExtendedErr{
			Errno:  uint32(errno),
			Origin: origin,
			Type:   e.Type,
			Code:   e.Code,
			Info:   e.Info,
		},
		offender: e.Offender,
		name:     e.Dst,
		payload:  e.Payload,
		// The clone of the received ICMP packet: outer IP and ICMP
		// headers, the quoted IP and UDP headers and the quoted data.
		truesize: udpTruesize(ipUDPHeaders + ipUDPHeaders + len(e.Payload)),
		icmp: stack.Datagram{
			Src:     netip.AddrPortFrom(e.Offender, 0),
			Dst:     netip.AddrPortFrom(e.Src.Addr(), 0),
			IfIndex: e.IfIndex,
			TTL:     e.TTL,
			TOS:     e.TOS,
		},
		stamp: time.Now().UnixNano(),
	}
}

// queueLocalError is ip_local_error: with IP_RECVERR on, a send refused
// with EMSGSIZE leaves an SO_EE_ORIGIN_LOCAL error with the MTU in ee_info;
// msg_name is the destination with the socket's connected port (0 when
// unconnected). It does not set the pending error.
func (u *udpSock) queueLocalError(errno unix.Errno, dst netip.Addr, port uint16, info int) {
	if u.optsSnapshot().recvErr {
		u.pushLocalError(errno, netip.AddrPortFrom(dst, port), info)
	}
}

// pushLocalError queues an SO_EE_ORIGIN_LOCAL error (ip_local_error,
// ipv6_local_error) whose msg_name is name and ee_info info.
func (u *udpSock) pushLocalError(errno unix.Errno, name netip.AddrPort, info int) {
	e := sockErr{
		ee:       options.SockExtendedErr{Errno: uint32(errno), Origin: unix.SO_EE_ORIGIN_LOCAL, Info: uint32(info)},
		name:     name,
		truesize: localErrTruesize,
		stamp:    time.Now().UnixNano(),
	}
	rcvbuf := u.optsSnapshot().rcvbuf
	u.mu.Lock()
	ok := u.queueErrLocked(e, rcvbuf)
	u.mu.Unlock()
	if ok {
		u.q.Notify(waiter.EventErr)
	}
}

// sendMTU is the MTU __ip_append_data compares a datagram with (the value
// ip_local_error reports): the path MTU for DONT, WANT and DO, the
// interface MTU for PROBE, INTERFACE and OMIT (ip_sk_use_pmtu).
func (u *udpSock) sendMTU(m *stack.UDPSend) int {
	if m.Dst.Addr().Is6() {
		mtu := u.s.PathMTU
		if m.PMTU >= stack.PMTUProbe {
			mtu = u.s.DeviceMTU6
		}
		n, err := mtu(m.Src.Addr(), m.Dst.Addr(), m.IfIndex)
		if err != nil {
			return 0
		}
		return n
	}
	if m.PMTU < stack.PMTUProbe {
		mtu, err := u.s.PathMTU(m.Src.Addr(), m.Dst.Addr(), m.IfIndex)
		if err != nil {
			return 0
		}
		return mtu
	}
	_, ifindex, err := u.s.RouteFrom(m.Src.Addr(), m.Dst.Addr(), m.IfIndex)
	if err != nil {
		return 0
	}
	ifc, ok := u.s.InterfaceByIndex(ifindex)
	if !ok {
		return 0
	}
	return min(int(ifc.MTU), 0xffff)
}

// noteSendError queues the local error of a send __ip_append_data refused
// for its size.
func (u *udpSock) noteSendError(err error, m *stack.UDPSend, remote netip.AddrPort) {
	if err != unix.EMSGSIZE || !u.optsSnapshot().recvErr {
		return
	}
	u.queueLocalError(unix.EMSGSIZE, m.Dst.Addr(), remote.Port(), u.sendMTU(m))
}

// recvErrQueue is ip_recv_error: it never blocks; the oldest error's data
// (cut to p, MSG_TRUNC), its msg_name, the timestamp and, for ICMP errors,
// the socket's IP control messages about the ICMP packet, then the
// IP_RECVERR message.
func (u *udpSock) recvErrQueue(p, oob []byte) (int, int, int, []byte, error) {
	e, ok := u.popErr()
	if !ok {
		return 0, 0, 0, nil, unix.EAGAIN
	}
	n, rflags := errPayload(p, &e)
	oobn, cflags := u.errCmsgs(oob, &e)
	return n, oobn, rflags | cflags, sockaddr(e.name), nil
}

// popErr dequeues the oldest error (errQueue.dequeue) and keeps poll's
// EPOLLERR up while more wait.
func (u *udpSock) popErr() (sockErr, bool) {
	u.mu.Lock()
	e, ok := u.errq.dequeue(&u.soErr, &u.rmem)
	more := u.errq.len() > 0
	u.mu.Unlock()
	if more {
		u.q.Notify(waiter.EventErr)
	}
	return e, ok
}

// dequeue is sock_dequeue_err_skb over q, under its owner's lock: the
// oldest error, uncharged from rmem, with soErr (sk_err) moved to the
// next ICMP error behind it, or cleared when an ICMP error leaves none
// behind.
func (q *errQueue) dequeue(soErr *unix.Errno, rmem *int) (sockErr, bool) {
	if q.len() == 0 {
		return sockErr{}, false
	}
	e := q.pop()
	*rmem -= e.truesize
	icmpNext := q.len() > 0 && isICMPOrigin(q.items[0].ee.Origin)
	if icmpNext {
		*soErr = unix.Errno(q.items[0].ee.Errno)
	}
	if isICMPOrigin(e.ee.Origin) && !icmpNext {
		*soErr = 0
	}
	return e, true
}

// isICMPOrigin is is_icmp_err_skb: an error an ICMP or ICMPv6 message
// raised.
func isICMPOrigin(origin uint8) bool {
	return origin == unix.SO_EE_ORIGIN_ICMP || origin == unix.SO_EE_ORIGIN_ICMP6
}

// errPayload copies an error's data into p: the bytes read and
// MSG_ERRQUEUE, with MSG_TRUNC when p was short.
func errPayload(p []byte, e *sockErr) (int, int) {
	n := copy(p, e.payload)
	rflags := unix.MSG_ERRQUEUE
	if n < len(e.payload) {
		rflags |= unix.MSG_TRUNC
	}
	return n, rflags
}

// errCmsgs writes ip_recv_error's control messages.
func (b *base) errCmsgs(oob []byte, e *sockErr) (int, int) {
	f := b.rx()
	cb := options.NewCmsgBuilder(oob)
	putTimestamp(&cb, f, e.stamp)
	isICMP := e.ee.Origin == unix.SO_EE_ORIGIN_ICMP
	if isICMP && f&rxIPMask != 0 {
		putICMPCmsgs(&cb, f, e)
	}
	rec := options.EncodeRecvErr(e.ee, e.offender, isICMP)
	cb.Put(unix.SOL_IP, unix.IP_RECVERR, rec[:])
	return cb.Len(), cb.Flags()
}

// putICMPCmsgs is ip_cmsg_recv on the ICMP packet that carried the error:
// no ipv4_pktinfo_prepare ran on it, so IP_PKTINFO holds the arrival
// interface from the IP control block and no spec_dst; IP_ORIGDSTADDR
// reads its "port" from the quoted data, where the transport header was
// reset to.
func putICMPCmsgs(b *options.CmsgBuilder, f rxFlags, e *sockErr) {
	d := &e.icmp
	if f&rxPktinfo != 0 {
		pi := options.InPktinfo{IfIndex: int32(d.IfIndex), Addr: d.Dst.Addr()}
		enc := pi.Encode()
		b.Put(unix.SOL_IP, unix.IP_PKTINFO, enc[:])
	}
	if f&rxTTL != 0 {
		b.PutInt32(unix.SOL_IP, unix.IP_TTL, int32(d.TTL))
	}
	if f&rxTOS != 0 {
		tos := [1]byte{d.TOS}
		b.Put(unix.SOL_IP, unix.IP_TOS, tos[:])
	}
	if f&rxOrigDst != 0 && len(e.payload) >= 4 {
		port := uint16(e.payload[2])<<8 | uint16(e.payload[3])
		sa := options.SockaddrInArray(netip.AddrPortFrom(d.Dst.Addr(), port))
		b.Put(unix.SOL_IP, unix.IP_ORIGDSTADDR, sa[:])
	}
}

// purgeErrQueue is skb_errqueue_purge, run when IP_RECVERR is turned off.
func (u *udpSock) purgeErrQueue() {
	u.mu.Lock()
	for u.errq.len() > 0 {
		u.rmem -= u.errq.pop().truesize
	}
	u.mu.Unlock()
}

// errQueued tells whether the error queue holds anything; u.mu is held.
func (u *udpSock) errQueuedLocked() bool { return u.errq.len() > 0 }

// RFC 4884 extension structure: a 4-byte header (version 2, checksum) and
// objects with a 4-byte header (length, class, type).
const (
	rfc4884MinOrig    = 128 // the original datagram is at least 128 bytes
	rfc4884ExtHdr     = 4
	rfc4884ObjHdr     = 4
	rfc4884ExtVersion = 2
)

// setRFC4884 is ip_icmp_error_rfc4884 for IP_RECVERR_RFC4884 and
// IPV6_RECVERR_RFC4884: for an ICMP destination unreachable, time
// exceeded or parameter problem (ICMPv6: destination unreachable or time
// exceeded) with a length field, ee_data gets the offset of the extension
// structure in the data the socket reads and whether it is invalid. hlen
// is how far that data starts after the ICMP header. ICMP counts the
// length in 32-bit words, ICMPv6 in 64-bit ones.
func setRFC4884(se *sockErr, e *stack.ICMPError, hlen int) {
	var off int
	if se.ee.Origin == unix.SO_EE_ORIGIN_ICMP6 {
		switch header.ICMPv6Type(e.Type) {
		case header.ICMPv6DstUnreachable, header.ICMPv6TimeExceeded:
			off = int(e.OrigLen) * 8
		default:
			return
		}
	} else {
		switch header.ICMPv4Type(e.Type) {
		case header.ICMPv4DstUnreachable, header.ICMPv4TimeExceeded, header.ICMPv4ParamProblem:
			off = int(e.OrigLen) * 4
		default:
			return
		}
	}
	if off < rfc4884MinOrig || off < hlen {
		return
	}
	off -= hlen
	if off+rfc4884ExtHdr > len(se.payload) {
		return
	}
	var flags uint8
	if !validRFC4884(se.payload, off) {
		flags = unix.SO_EE_RFC4884_FLAG_INVALID
	}
	se.ee.SetRFC4884(uint16(off), flags)
}

// validRFC4884 is ip_icmp_error_rfc4884_validate: another version is not
// checked; a version 2 structure must have a good checksum (when set) and
// objects that tile it.
func validRFC4884(b []byte, off int) bool {
	ext := b[off:]
	if ext[0]>>4 != rfc4884ExtVersion {
		return true
	}
	if ext[2] != 0 || ext[3] != 0 {
		if checksum.Checksum(ext, 0) != 0xffff {
			return false
		}
	}
	for o := rfc4884ExtHdr; o < len(ext); {
		if o+rfc4884ObjHdr > len(ext) {
			return false
		}
		l := int(ext[o])<<8 | int(ext[o+1])
		if l < rfc4884ObjHdr {
			return false
		}
		o += l
		if o > len(ext) {
			return false
		}
	}
	return true
}
