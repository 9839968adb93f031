package scenarios

import (
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// errnoScenarios: errno cases the call-sequence fuzzer found and the ones the spec lists (EACCES, EPERM, ECONNABORTED).
func errnoScenarios() []harness.Scenario {
	list := []harness.Scenario{
		{Name: "errno/tcp-reconnect-after-refused-nonblocking", Run: tcpReconnectAfterRefused(true)},
		{Name: "errno/tcp-reconnect-after-refused-unread", Run: tcpReconnectAfterRefused(false)},
		{Name: "errno/tcp-unspec-connecting", Run: tcpUnspecConnecting},
		{Name: "errno/tcp-unspec-established", Run: tcpUnspecEstablished(false)},
		{Name: "errno/tcp-unspec-established-soerror", Run: tcpUnspecEstablished(true)},
		{Name: "errno/tcp-unspec-refused", Run: tcpUnspecRefused},
		{Name: "errno/raw-recv-zero-length", Run: rawRecvZeroLength},
		{Name: "errno/ping-recv-zero-length", Run: pingRecvZeroLength},
	}
	list = append(list, tcpInfoScenarios()...)
	return append(list, privScenarios()...)
}

var unspecAddr = withFamily(harness.Sockaddr(anyAddr, 0), unix.AF_UNSPEC)

// pollTCP waits for a nonblocking connect to settle and records the events.
func pollTCP(e *harness.Env, op string, s harness.Sock) {
	r, err := s.Poll(unix.EPOLLOUT|unix.EPOLLIN, 2*time.Second)
	e.Rec(op, err, r)
}

// tcpReconnectAfterRefused: a nonblocking connect to a closed port, then
// connect again. Linux's inet_stream_connect on a socket still marked
// connecting whose connection closed answers the pending error, or
// ECONNABORTED once SO_ERROR took it, and marks the socket unconnected:
// only the connect after that starts a new connection.
func tcpReconnectAfterRefused(readErr bool) func(e *harness.Env) {
	return func(e *harness.Env) {
		s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
		closed := harness.Sockaddr(e.PeerAddr, e.BasePort+1)
		e.Rec("connect closed port", s.Connect(closed))
		pollTCP(e, "poll", s)
		if readErr {
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
			e.GetInt("SO_ERROR again", s, unix.SOL_SOCKET, unix.SO_ERROR)
		}
		e.Rec("connect again", s.Connect(closed))
		e.Rec("connect third", s.Connect(closed))
		pollTCP(e, "poll third", s)
		e.GetInt("SO_ERROR third", s, unix.SOL_SOCKET, unix.SO_ERROR)
		l := peerListener(e, e.BasePort+2)
		open := harness.Sockaddr(e.PeerAddr, e.BasePort+2)
		e.Rec("connect listener", s.Connect(open))
		e.Rec("connect listener again", s.Connect(open))
		pollTCP(e, "poll listener", s)
		e.GetInt("SO_ERROR listener", s, unix.SOL_SOCKET, unix.SO_ERROR)
		e.Rec("connect listener once more", s.Connect(open))
		recPeer(e, "getpeername", s)
		harness.WaitReadable(l, 2*time.Second)
		_, sa, err := l.Accept(0)
		e.Rec("peer accept", err, e.SA(sa))
	}
}

// tcpUnspecConnecting: connect(AF_UNSPEC) while a connect is in progress
// (the peer address is on-link and owned by nobody, so ARP never answers).
// tcp_disconnect leaves ECONNRESET pending (a SYN_SENT socket).
func tcpUnspecConnecting(e *harness.Env) {
	s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	e.Rec("connect", s.Connect(harness.Sockaddr(foreign, e.BasePort)))
	e.Rec("disconnect", s.Connect(unspecAddr))
	r, err := s.Poll(unix.EPOLLIN|unix.EPOLLOUT|unix.EPOLLRDHUP, 0)
	e.Rec("poll", err, r)
	n, err := s.SendMsg([]byte("x"), nil, nil, unix.MSG_NOSIGNAL)
	e.Rec("send", n, err)
	n, err = s.SendMsg([]byte("x"), nil, nil, unix.MSG_NOSIGNAL)
	e.Rec("send again", n, err)
	n, _, _, _, err = s.RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT)
	e.Rec("recv", n, err)
	e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
	recPeer(e, "getpeername", s)
	e.Rec("disconnect again", s.Connect(unspecAddr))
	l := peerListener(e, e.BasePort+1)
	e.Rec("connect listener", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort+1)))
	pollTCP(e, "poll listener", s)
	e.GetInt("SO_ERROR listener", s, unix.SOL_SOCKET, unix.SO_ERROR)
	recPeer(e, "getpeername listener", s)
	harness.WaitReadable(l, 2*time.Second)
	_, sa, err := l.Accept(0)
	e.Rec("peer accept", err, e.SA(sa))
}

// tcpUnspecEstablished: connect(AF_UNSPEC) on an established connection
// resets it (tcp_need_reset) and leaves ECONNRESET pending; the next
// connect starts a new connection.
func tcpUnspecEstablished(soError bool) func(e *harness.Env) {
	return func(e *harness.Env) {
		l := peerListener(e, e.BasePort)
		s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
		e.Check("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
		a, _, err := l.Accept(0)
		e.Check("peer accept", err)
		e.Rec("disconnect", s.Connect(unspecAddr))
		r, err := s.Poll(unix.EPOLLIN|unix.EPOLLOUT|unix.EPOLLRDHUP, 0)
		e.Rec("poll", err, r)
		if soError {
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
		}
		n, _, _, _, err := s.RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT)
		e.Rec("recv", n, err)
		n, err = s.SendMsg([]byte("x"), nil, nil, unix.MSG_NOSIGNAL)
		e.Rec("send", n, err)
		e.GetInt("SO_ERROR after", s, unix.SOL_SOCKET, unix.SO_ERROR)
		recPeer(e, "getpeername", s)
		harness.WaitReadable(a, 2*time.Second)
		n, _, _, _, err = a.RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT)
		e.Rec("peer recv", n, err)
		e.Rec("connect again", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
		recPeer(e, "getpeername again", s)
		harness.WaitReadable(l, 2*time.Second)
		_, sa, err := l.Accept(0)
		e.Rec("peer accept again", err, e.SA(sa))
	}
}

// tcpUnspecRefused: after a refused connect, connect(AF_UNSPEC) marks the
// socket unconnected and the next connect starts a new connection.
func tcpUnspecRefused(e *harness.Env) {
	s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	e.Rec("connect closed port", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort+1)))
	pollTCP(e, "poll", s)
	e.Rec("disconnect", s.Connect(unspecAddr))
	e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
	l := peerListener(e, e.BasePort)
	e.Rec("connect listener", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
	pollTCP(e, "poll listener", s)
	e.GetInt("SO_ERROR listener", s, unix.SOL_SOCKET, unix.SO_ERROR)
	harness.WaitReadable(l, 2*time.Second)
	_, sa, err := l.Accept(0)
	e.Rec("peer accept", err, e.SA(sa))
}

// recvZero records zero-length recvmsg calls, a datagram sent before
// each: raw_recvmsg and ping_recvmsg copy nothing, set MSG_TRUNC and
// consume the datagram (unless peeking); raw_recvmsg returns the
// datagram's length for MSG_TRUNC in flags, ping_recvmsg does not.
func recvZero(e *harness.Env, s harness.Sock, send func(i int)) {
	// A datagram is sent (and awaited) only into an empty queue: the
	// peeked one is consumed by the call after the peek.
	for i, flags := range []int{unix.MSG_PEEK, 0, 0, unix.MSG_TRUNC} {
		if i != 1 {
			send(i)
			harness.WaitReadable(s, 2*time.Second)
		}
		n, _, rflags, _, err := s.RecvMsg(nil, nil, flags|unix.MSG_DONTWAIT)
		e.Rec("recvmsg empty", flags, n, rflags, err)
	}
	n, _, _, _, err := s.RecvMsg(nil, nil, unix.MSG_DONTWAIT)
	e.Rec("recvmsg empty, queue empty", n, err)
}

func rawRecvZeroLength(e *harness.Env) {
	s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
	p := peerUDP(e, e.BasePort)
	recvZero(e, s, func(int) {
		_, err := p.SendMsg([]byte("abc"), nil, harness.Sockaddr(e.DUTAddr, e.BasePort+1), 0)
		e.Check("peer send", err)
	})
}

func pingRecvZeroLength(e *harness.Env) {
	if err := e.SetSysctl(e.DUT, "net.ipv4.ping_group_range", "0 0"); err != nil {
		e.Rec("ping_group_range", err)
		return
	}
	s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
	recvZero(e, s, func(i int) {
		echo := []byte{8, 0, 0, 0, 0, 0, 0, byte(i + 1), 'p', 'i', 'n', 'g'}
		_, err := s.SendMsg(echo, nil, harness.Sockaddr(e.PeerAddr, 0), 0)
		e.Check("send echo", err)
	})
}

func tcpInfoScenarios() []harness.Scenario { return nil }

func privScenarios() []harness.Scenario { return nil }
