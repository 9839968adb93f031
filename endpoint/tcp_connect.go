package endpoint

import (
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"netsandbox/options"
)

// tcpConnState is what Linux keeps for connect(2) outside the TCP state
// machine, which gVisor's endpoint does not model: struct socket's state
// (a connect was started and no later connect concluded it), and the
// sk_err tcp_disconnect leaves, reported once by the next send, recv,
// SO_ERROR or poll and cleared by a new connection (tcp_connect_init).
type tcpConnState struct {
	connecting bool
	discErr    unix.Errno
	backlog    int // listen(2)'s backlog, for TCP_INFO (tcp_opts.go)
}

// tcpConnectPre is __inet_stream_connect up to tcp_v4_connect: AF_UNSPEC
// disconnects; a connected or listening socket is EISCONN; a socket whose
// connect is under way answers EALREADY (or, its connection settled, the
// outcome: 0, the pending error, or ECONNABORTED). done is false when the
// socket is unconnected and Connect goes on to start a connection.
func (g *gsock) tcpConnectPre(sa []byte) (done bool, err error) {
	r, err := options.ParseConnectAddr(sa)
	if r.Unspec {
		return true, g.tcpDisconnect()
	}
	if err != nil && (len(sa) < 2 || len(sa) > options.MaxSockaddrLen) {
		return true, err // before the socket's state is looked at
	}
	g.mu.Lock()
	connected, connecting := g.conn, g.tcpc.connecting
	g.mu.Unlock()
	switch {
	case connected:
		return true, unix.EISCONN
	case connecting:
		return true, g.tcpConnectAgain()
	}
	return false, nil
}

// tcpConnectAgain is connect(2) on a socket whose connect is under way:
// EALREADY while the handshake runs (after waiting for it when blocking),
// else the connection's outcome, which concludes the connect.
func (g *gsock) tcpConnectAgain() error {
	state := tcp.EndpointState(g.endpoint().State())
	if state == tcp.StateSynSent || state == tcp.StateSynRecv {
		if !g.mayBlock(0) {
			return unix.EALREADY
		}
		if _, err := g.waitReady(g.Readiness, unix.EPOLLOUT, deadlineAfter(g.optsSnapshot().sndTimeo)); err != nil {
			if err == unix.EAGAIN {
				return unix.EALREADY // timed out while in progress
			}
			return err
		}
		state = tcp.EndpointState(g.endpoint().State())
	}
	switch state {
	case tcp.StateSynSent, tcp.StateSynRecv:
		return unix.EALREADY
	case tcp.StateInitial, tcp.StateBound, tcp.StateClose, tcp.StateError, tcp.StateTimeWait:
		// Closed by RST, timeout or ICMP error: the pending error, else
		// ECONNABORTED; the socket is unconnected again.
		e := g.takeTCPPending()
		if e == 0 {
			e = unix.ECONNABORTED
		}
		g.resetTCP()
		return e
	}
	g.markConnected()
	return nil
}

// tcpConnectStarted notes a connect under way (SS_CONNECTING); a new
// connection clears the error a disconnect left (tcp_connect_init).
func (g *gsock) tcpConnectStarted() {
	g.mu.Lock()
	g.tcpc = tcpConnState{connecting: true}
	g.mu.Unlock()
	g.armSynTimer() // tcp_opts_syn.go
}

// takeTCPPending is sock_error: the error a disconnect left, else the
// connection's own pending error if not yet reported; 0 if none.
func (g *gsock) takeTCPPending() unix.Errno {
	if e := g.takeDiscErr(); e != 0 {
		return e
	}
	return g.pendingErr()
}

// takeDiscErr reports and clears the error tcp_disconnect left.
func (g *gsock) takeDiscErr() unix.Errno {
	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.tcpc.discErr
	g.tcpc.discErr = 0
	return e
}

// discErrPending tells poll to raise EPOLLERR.
func (g *gsock) discErrPending() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.tcpc.discErr != 0
}

// tcpDisconnect is connect(AF_UNSPEC): tcp_disconnect closes the
// connection (a reset where tcp_need_reset says so, leaving ECONNRESET
// pending; a SYN_SENT socket is closed with ECONNRESET pending too) and
// the socket is unconnected; gVisor can only abort its endpoint, so a
// fresh one takes its place, bound again if bind(2) named a port.
func (g *gsock) tcpDisconnect() error {
	state := tcp.EndpointState(g.endpoint().State())
	var pending unix.Errno
	switch state {
	case tcp.StateInitial, tcp.StateBound:
		g.mu.Lock()
		g.conn, g.tcpc.connecting = false, false
		g.mu.Unlock()
		return nil
	case tcp.StateClose, tcp.StateError:
		// Already closed: an error not yet reported stays pending.
		pending = g.pendingErr()
	case tcp.StateSynSent, tcp.StateSynRecv, tcp.StateEstablished, tcp.StateCloseWait, tcp.StateFinWait1, tcp.StateFinWait2:
		pending = unix.ECONNRESET
		g.endpoint().Abort()
	default: // listening, closing, last-ack, time-wait
		g.endpoint().Abort()
	}
	g.resetTCP()
	g.mu.Lock()
	g.tcpc.discErr = pending
	g.mu.Unlock()
	return nil
}

// tcpPollErr is poll's EPOLLERR for the error a disconnect left.
func (g *gsock) tcpPollErr(r uint32) uint32 {
	if g.discErrPending() {
		r |= unix.EPOLLERR
	}
	return r
}
