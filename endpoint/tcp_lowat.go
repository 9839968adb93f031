package endpoint

import (
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// SO_RCVLOWAT on TCP (gVisor's TCP ignores it): tcp_poll reports EPOLLIN
// only once lowat bytes are queued, and tcp_recvmsg waits for
// min(lowat, len) bytes, unless the stream can bring no more.

// belowLowat tells whether fewer than want bytes are queued on a
// connection that may still deliver more (established or closing its own
// side, not shut down for reading).
func (t *tcpSock) belowLowat(want int) bool {
	if want <= 1 {
		return false
	}
	switch tcp.EndpointState(t.endpoint().State()) {
	case tcp.StateEstablished, tcp.StateFinWait1, tcp.StateFinWait2:
	default:
		return false
	}
	t.mu.Lock()
	shutRd := t.shut&rcvShutdown != 0
	t.mu.Unlock()
	if shutRd {
		return false
	}
	avail, e := t.endpoint().GetSockOptInt(tcpip.ReceiveQueueSizeOption)
	return e == nil && avail < want
}

// filterLowat drops EPOLLIN from a TCP readiness while SO_RCVLOWAT is not
// met.
func (t *tcpSock) filterLowat(r uint32, lowat int) uint32 {
	if r&unix.EPOLLIN != 0 && t.belowLowat(lowat) {
		r &^= unix.EPOLLIN | unix.EPOLLRDNORM
	}
	return r
}

// waitLowat waits before a read of up to n bytes until min(SO_RCVLOWAT, n)
// are queued (all n with MSG_WAITALL is the read loop's business). A
// nonblocking read, an expired SO_RCVTIMEO or a stream that can bring no
// more stops the wait; the read then takes what there is.
func (t *tcpSock) waitLowat(n, flags int, deadline time.Time) error {
	want := min(int(t.optsSnapshot().misc.rcvlowat), n)
	if want <= 1 || !t.mayBlock(flags) {
		return nil
	}
	ready := func(mask uint32) uint32 {
		r := t.endpoint().Readiness(waiter.EventMaskFromLinux(mask)).ToLinux()
		return t.filterLowat(r, want) & mask
	}
	_, err := t.waitReady(ready, unix.EPOLLIN|unix.EPOLLRDHUP, deadline)
	if err == unix.EAGAIN {
		return nil
	}
	return err
}
