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
func (t *tcpSock) tcpConnectPre(sa []byte) (done bool, err error) {
	r, err := options.ParseConnectAddr(sa)
	if r.Unspec {
		return true, t.tcpDisconnect()
	}
	if err != nil && (len(sa) < 2 || len(sa) > options.MaxSockaddrLen) {
		return true, err // before the socket's state is looked at
	}
	t.mu.Lock()
	connected, connecting := t.conn, t.tcpc.connecting
	t.mu.Unlock()
	switch {
	case connected:
		return true, unix.EISCONN
	case connecting:
		return true, t.tcpConnectAgain()
	}
	return false, nil
}

// tcpConnectAgain is connect(2) on a socket whose connect is under way:
// EALREADY while the handshake runs (after waiting for it when blocking),
// else the connection's outcome, which concludes the connect.
func (t *tcpSock) tcpConnectAgain() error {
	state := tcp.EndpointState(t.endpoint().State())
	if state == tcp.StateSynSent || state == tcp.StateSynRecv {
		if !t.mayBlock(0) {
			return unix.EALREADY
		}
		if _, err := t.waitReady(t.Readiness, unix.EPOLLOUT, deadlineAfter(t.optsSnapshot().sndTimeo)); err != nil {
			if err == unix.EAGAIN {
				return unix.EALREADY // timed out while in progress
			}
			return err
		}
		state = tcp.EndpointState(t.endpoint().State())
	}
	switch state {
	case tcp.StateSynSent, tcp.StateSynRecv:
		return unix.EALREADY
	case tcp.StateInitial, tcp.StateBound, tcp.StateClose, tcp.StateError, tcp.StateTimeWait:
		// Closed by RST, timeout or ICMP error: the pending error, else
		// ECONNABORTED; the socket is unconnected again.
		e := t.takeTCPPending()
		if e == 0 {
			e = unix.ECONNABORTED
		}
		t.resetTCP()
		return e
	}
	t.markConnected()
	return nil
}

// tcpConnectStarted notes a connect under way (SS_CONNECTING); a new
// connection clears the error a disconnect left (tcp_connect_init).
func (t *tcpSock) tcpConnectStarted() {
	t.mu.Lock()
	t.tcpc = tcpConnState{connecting: true}
	t.mu.Unlock()
	t.armSynTimer() // tcp_opts_syn.go
}

// takeTCPPending is sock_error: the error a disconnect left, else the
// connection's own pending error if not yet reported; 0 if none.
func (t *tcpSock) takeTCPPending() unix.Errno {
	if e := t.takeDiscErr(); e != 0 {
		return e
	}
	return t.pendingErr()
}

// takeDiscErr reports and clears the error tcp_disconnect left.
func (t *tcpSock) takeDiscErr() unix.Errno {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.tcpc.discErr
	t.tcpc.discErr = 0
	return e
}

// discErrPending tells poll to raise EPOLLERR.
func (t *tcpSock) discErrPending() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tcpc.discErr != 0
}

// tcpDisconnect is connect(AF_UNSPEC): tcp_disconnect closes the
// connection (a reset where tcp_need_reset says so, leaving ECONNRESET
// pending; a SYN_SENT socket is closed with ECONNRESET pending too) and
// the socket is unconnected; gVisor can only abort its endpoint, so a
// fresh one takes its place, bound again if bind(2) named a port.
func (t *tcpSock) tcpDisconnect() error {
	state := tcp.EndpointState(t.endpoint().State())
	var pending unix.Errno
	switch state {
	case tcp.StateInitial, tcp.StateBound:
		t.mu.Lock()
		t.conn, t.tcpc.connecting = false, false
		t.mu.Unlock()
		return nil
	case tcp.StateClose, tcp.StateError:
		// Already closed: an error not yet reported stays pending.
		pending = t.pendingErr()
	case tcp.StateSynSent, tcp.StateSynRecv, tcp.StateEstablished, tcp.StateCloseWait, tcp.StateFinWait1, tcp.StateFinWait2:
		pending = unix.ECONNRESET
		t.endpoint().Abort()
	default: // listening, closing, last-ack, time-wait
		t.endpoint().Abort()
	}
	t.resetTCP()
	t.mu.Lock()
	t.tcpc.discErr = pending
	t.mu.Unlock()
	return nil
}

// tcpPollErr is poll's EPOLLERR for the error a disconnect left.
func (t *tcpSock) tcpPollErr(r uint32) uint32 {
	if t.discErrPending() {
		r |= unix.EPOLLERR
	}
	return r
}
