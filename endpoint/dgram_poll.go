package endpoint

import (
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"
)

// Readiness is Linux's datagram_poll for raw and ping sockets: gVisor says
// whether data is queued; the shutdown and writability bits are ours.
func (g *dgramSock) Readiness(mask uint32) uint32 {
	g.kind.dropUnwanted()
	gv := g.endpoint().Readiness(waiter.ReadableEvents | waiter.EventErr).ToLinux()
	r := gv & (unix.EPOLLIN | unix.EPOLLRDNORM | unix.EPOLLERR)
	if g.icmpErrPending() {
		r |= unix.EPOLLERR
	}
	if r&unix.EPOLLERR != 0 {
		r |= g.errPri() // SO_SELECT_ERR_QUEUE (sockopts_ext.go)
	}
	g.mu.Lock()
	shut := g.shut
	g.mu.Unlock()
	if shut&rcvShutdown != 0 {
		r |= unix.EPOLLRDHUP | unix.EPOLLIN | unix.EPOLLRDNORM
	}
	if shut == rcvShutdown|sndShutdown {
		r |= unix.EPOLLHUP
	}
	r |= unix.EPOLLOUT | unix.EPOLLWRNORM | unix.EPOLLWRBAND
	return r & mask
}

func (g *dgramSock) Wait(mask uint32, deadline time.Time) (uint32, error) {
	return g.waitReady(g.Readiness, mask, deadline)
}

// Shutdown is inet_shutdown on a raw or ping socket: the flags are
// recorded (an unconnected socket still answers ENOTCONN); receiving stops
// after the queue drains, and sending goes on, as raw_sendmsg does not look
// at SEND_SHUTDOWN.
func (g *dgramSock) Shutdown(how int) error {
	if how < unix.SHUT_RD || how > unix.SHUT_RDWR {
		return unix.EINVAL
	}
	g.mu.Lock()
	g.shut |= how + 1
	conn := g.conn
	g.mu.Unlock()
	g.q.Notify(waiter.EventIn | waiter.EventHUp | waiter.EventRdHUp)
	if !conn {
		return unix.ENOTCONN
	}
	return nil
}
