package endpoint

import (
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

func (g *gsock) Readiness(mask uint32) uint32 {
	if !g.isTCP() {
		return g.datagramPoll(mask)
	}
	r := g.endpoint().Readiness(waiter.EventMaskFromLinux(mask)).ToLinux()
	r = g.filterLowat(r, int(g.optsSnapshot().misc.rcvlowat))
	r = g.filterNotsent(r) // tcp_opts_notsent.go
	return g.tcpPoll(r) & mask
}

// datagramPoll is Linux's datagram_poll for raw and ping sockets: gVisor
// says whether data is queued; the shutdown and writability bits are ours.
func (g *gsock) datagramPoll(mask uint32) uint32 {
	g.dropFilteredICMP()
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

// tcpPoll corrects gVisor's TCP readiness to tcp_poll's: a socket that is
// not connected is writable and hung up; a closed one is ready for
// everything except EPOLLERR, which only a pending error raises, and never
// EPOLLPRI/EPOLLWRBAND without urgent data.
func (g *gsock) tcpPoll(r uint32) uint32 {
	switch tcp.EndpointState(g.endpoint().State()) {
	case tcp.StateInitial, tcp.StateBound:
		r |= unix.EPOLLOUT | unix.EPOLLWRNORM | unix.EPOLLHUP
		r = g.tcpPollErr(r)
	case tcp.StateClose, tcp.StateError, tcp.StateTimeWait:
		r &^= unix.EPOLLPRI | unix.EPOLLWRBAND | unix.EPOLLERR
		g.mu.Lock()
		taken := g.errTaken
		g.mu.Unlock()
		if tcp.EndpointState(g.endpoint().State()) == tcp.StateError && !taken {
			r |= unix.EPOLLERR
		}
	}
	return r
}

func (g *gsock) Wait(mask uint32, deadline time.Time) (uint32, error) {
	return g.waitReady(g.Readiness, mask, deadline)
}

func (g *gsock) Shutdown(how int) error {
	if !g.isTCP() {
		return g.shutdownDatagram(how)
	}
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
	if g.endpoint().State() == uint32(tcp.StateSynSent) {
		return g.tcpDisconnect() // inet_shutdown disconnects a SYN_SENT socket
	}
	if err := errOf(g.endpoint().Shutdown(f)); err != nil {
		return err
	}
	if f&tcpip.ShutdownRead != 0 {
		g.mu.Lock()
		g.shut |= rcvShutdown
		g.mu.Unlock()
	}
	return nil
}

func (g *gsock) Close() error {
	if !g.markClosed() {
		return unix.EBADF
	}
	g.unwatchICMPErrors()
	g.dropMinTTL()
	g.dropIPOptions()
	g.dropMemberships() // raw sockets' (ip_mc_drop_socket)
	g.leaveRouterAlert()
	if g.isPing() {
		g.pingClose()
	} else {
		g.endpoint().Close()
	}
	g.lingerWait()
	return nil
}

// lingerWait is sk_stream_wait_close: with SO_LINGER on and a non-zero
// time, close(2) on TCP returns once the FIN is acknowledged (the
// connection left FIN-WAIT-1, CLOSING and LAST-ACK) or the time is up; a
// negative l_linger means no limit, as MAX_SCHEDULE_TIMEOUT. (Linger 0 is
// gVisor's: it resets the connection.)
func (g *gsock) lingerWait() {
	m := g.optsSnapshot().misc
	if !g.isTCP() || !m.lingerOn || m.lingerSecs == 0 {
		return
	}
	var deadline time.Time
	if m.lingerSecs > 0 {
		deadline = time.Now().Add(time.Duration(m.lingerSecs) * time.Second)
	}
	const tick = 5 * time.Millisecond
	for {
		switch tcp.EndpointState(g.endpoint().State()) {
		case tcp.StateFinWait1, tcp.StateClosing, tcp.StateLastAck:
		default:
			return
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return
		}
		time.Sleep(tick)
	}
}

// shutdownDatagram is inet_shutdown on a raw or ping socket: the flags are
// recorded (an unconnected socket still answers ENOTCONN); receiving stops
// after the queue drains, and sending goes on, as raw_sendmsg does not look
// at SEND_SHUTDOWN.
func (g *gsock) shutdownDatagram(how int) error {
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
