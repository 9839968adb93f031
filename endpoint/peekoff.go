package endpoint

import (
	"io"
	"sync/atomic"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/stack"
)

// peekOffset is sk_peek_off (SO_PEEK_OFF): where MSG_PEEK starts reading,
// moved forward by each peek and back by each read while it is >= 0; -1
// (the initial value) turns the offset off. The zero value reads -1: the
// value is stored plus one.
type peekOffset struct{ v atomic.Int32 }

func (p *peekOffset) get() int32  { return p.v.Load() - 1 }
func (p *peekOffset) set(v int32) { p.v.Store(v + 1) }

// fwd is sk_peek_offset_fwd, after a peek of n bytes.
func (p *peekOffset) fwd(n int) {
	if off := p.get(); off >= 0 {
		p.set(off + int32(n))
	}
}

// bwd is sk_peek_offset_bwd, after a read of n bytes.
func (p *peekOffset) bwd(n int) {
	if off := p.get(); off >= 0 {
		p.set(max(off-int32(n), 0))
	}
}

// peekOffSupported tells whether the socket kind has set_peek_off: UDP and
// TCP do, raw sockets do not, nor IPv6 ping sockets (inet6_sockraw_ops).
// IPv4 ping sockets do on Linux, but their reads are gVisor's, which has
// no peek offset, so they refuse it too.
func (b *base) peekOffSupported() bool {
	return b.typ == unix.SOCK_STREAM || b.typ == unix.SOCK_DGRAM && b.proto != unix.IPPROTO_ICMP && b.proto != unix.IPPROTO_ICMPV6
}

// peekTargetLocked finds where MSG_PEEK with offset off reads on UDP
// (__skb_try_recv_from_queue): whole datagrams no longer than the
// remaining offset are skipped (a zero-length one only past a non-zero
// offset). It returns the queue index and the offset inside that datagram.
func (u *udpSock) peekTargetLocked(off int) (idx, skip int, ok bool) {
	q := &u.queue
	for i := q.head; i < len(q.items); i++ {
		ulen := len(q.items[i].d.Payload)
		if off >= ulen && off > 0 {
			off -= ulen
			continue
		}
		return i, off, true
	}
	return 0, 0, false
}

// peekAtOffsetLocked is MSG_PEEK with SO_PEEK_OFF on UDP (udp_recvmsg):
// the copy starts at the offset inside the datagram found, and the offset
// moves forward by what is reported. ok is false when no datagram reaches
// the offset.
func (u *udpSock) peekAtOffsetLocked(p []byte, flags int, off int) (head queued, n, rflags int, from []byte, ok bool) {
	i, skip, ok := u.peekTargetLocked(off)
	if !ok {
		return queued{}, 0, 0, nil, false
	}
	e := u.queue.items[i]
	ulen := len(e.d.Payload)
	n = copy(p, e.d.Payload[skip:])
	if len(p) <= ulen-skip && len(p) < ulen {
		// udp_recvmsg's test: a buffer no larger than what follows the
		// offset, and smaller than the datagram, truncates.
		rflags |= unix.MSG_TRUNC
	}
	if flags&unix.MSG_TRUNC != 0 {
		n = ulen
	}
	u.peekOff.fwd(n)
	return e, n, rflags, sockaddr(e.d.Src), true
}

// peekReady is Readiness for a blocked MSG_PEEK with an offset: readable
// once a datagram reaches the offset (or on error or shutdown).
func (u *udpSock) peekReady(mask uint32) uint32 {
	r := u.Readiness(mask)
	off := int(u.peekOff.get())
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.shut&rcvShutdown != 0 {
		return r
	}
	if _, _, ok := u.peekTargetLocked(off); !ok {
		r &^= unix.EPOLLIN | unix.EPOLLRDNORM
	}
	return r
}

// peekStreamAtOffset is MSG_PEEK with SO_PEEK_OFF on TCP
// (tcp_recvmsg_locked peeking from copied_seq + offset): it waits until
// data lies beyond the offset, unless the stream can bring no more.
func (t *tcpSock) peekStreamAtOffset(dst io.Writer, size, flags, off int) (int, error) {
	deadline := deadlineAfter(t.optsSnapshot().rcvTimeo)
	for {
		if !t.belowLowat(off + 1) {
			buf := make([]byte, off+size)
			w := tcpip.SliceWriter(buf)
			res, e := t.readStreamTo(&w, len(buf), true)
			switch e.(type) {
			case nil:
				n, err := dst.Write(buf[min(off, res.Count):res.Count])
				t.peekOff.fwd(n)
				if n == 0 && err != nil {
					return 0, unix.EFAULT
				}
				return n, nil
			case *tcpip.ErrClosedForReceive:
				return 0, nil
			case *tcpip.ErrWouldBlock:
			case *tcpip.ErrInvalidEndpointState, *tcpip.ErrNotConnected:
				return 0, unix.ENOTCONN
			default:
				return 0, stack.Errno(e)
			}
		}
		if size == 0 {
			return 0, nil
		}
		if !t.mayBlock(flags) {
			return 0, unix.EAGAIN
		}
		ready := func(mask uint32) uint32 {
			r := t.endpoint().Readiness(waiter.EventMaskFromLinux(mask)).ToLinux()
			return t.filterLowat(r, off+1) & mask
		}
		if _, err := t.waitReady(ready, unix.EPOLLIN|unix.EPOLLRDHUP, deadline); err != nil {
			return 0, err
		}
	}
}
