package scenarios

import (
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// tcpPair connects a DUT TCP socket to a kernel listener on the peer and
// returns both connected ends.
func tcpPair(e *harness.Env) (dut, peer harness.Sock) {
	l := peerListener(e, e.BasePort)
	s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
	e.Check("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
	a, _, err := l.Accept(0)
	e.Check("peer accept", err)
	return s, a
}

// readAll receives what is available on a stream (bounded) and records it.
func recvStream(e *harness.Env, op string, s harness.Sock, want int) {
	var got []byte
	deadline := time.Now().Add(2 * time.Second)
	buf := make([]byte, 4096)
	for len(got) < want && time.Now().Before(deadline) {
		harness.WaitReadable(s, time.Until(deadline))
		n, _, _, _, err := s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil || n == 0 {
			e.Rec(op+" error", err, n)
			break
		}
		got = append(got, buf[:n]...)
	}
	e.Rec(op, len(got), got)
}

func tcpScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "tcp/echo-with-peer", Run: func(e *harness.Env) {
			s, a := tcpPair(e)
			send(e, "send", s, []byte("ping over tcp"), nil, 0)
			recvStream(e, "peer recv", a, 13)
			send(e, "peer send", a, []byte("pong"), nil, 0)
			recvStream(e, "recv", s, 4)
			n, _, _, from, err := func() (int, int, int, []byte, error) {
				send(e, "peer send", a, []byte("x"), nil, 0)
				harness.WaitReadable(s, 2*time.Second)
				return s.RecvMsg(make([]byte, 8), nil, 0)
			}()
			e.Rec("recvmsg from", err, n, e.SA(from))
		}},
		{Name: "tcp/accept-from-peer", Run: func(e *harness.Env) {
			l := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Rec("bind", l.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort)))
			e.GetInt("SO_ACCEPTCONN before", l, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
			e.Rec("listen", l.Listen(4))
			e.GetInt("SO_ACCEPTCONN", l, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
			c := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("peer bind", c.Bind(harness.Sockaddr(e.PeerAddr, e.BasePort+1)))
			e.Rec("peer connect", c.Connect(harness.Sockaddr(e.DUTAddr, e.BasePort)))
			r, err := l.Poll(unix.EPOLLIN, 2*time.Second)
			e.Rec("poll listener", err, r)
			a, sa, err := l.Accept(unix.SOCK_NONBLOCK)
			e.Check("accept", err)
			e.Rec("accept from", e.SA(sa))
			recName(e, "getsockname", a)
			recPeer(e, "getpeername", a)
			e.GetInt("accepted SO_ACCEPTCONN", a, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
			_, _, _, _, err = a.RecvMsg(make([]byte, 8), nil, 0)
			e.Rec("recv on nonblocking accepted", err)
			send(e, "peer send", c, []byte("hi"), nil, 0)
			recvStream(e, "recv", a, 2)
		}},
		{Name: "tcp/rdhup-after-peer-close", Run: func(e *harness.Env) {
			s, a := tcpPair(e)
			mask := uint32(unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP)
			r, err := s.Poll(mask, 0)
			e.Rec("poll connected", err, r)
			send(e, "peer send", a, []byte("bye"), nil, 0)
			e.Rec("peer close", a.Close())
			time.Sleep(50 * time.Millisecond)
			r, err = s.Poll(unix.EPOLLRDHUP, 2*time.Second)
			e.Rec("poll rdhup", err, r&unix.EPOLLRDHUP)
			r, err = s.Poll(mask, 0)
			e.Rec("poll after close", err, r)
			recvStream(e, "recv", s, 3)
			n, _, _, _, err := s.RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT)
			e.Rec("recv eof", err, n)
			e.Rec("shutdown WR", s.Shutdown(unix.SHUT_WR))
			time.Sleep(50 * time.Millisecond)
			r, err = s.Poll(mask, 2*time.Second)
			e.Rec("poll after both closed", err, r)
		}},
		{Name: "tcp/send-after-peer-reset", Run: func(e *harness.Env) {
			s, a := tcpPair(e)
			// SO_LINGER 0 makes the peer's close send a RST.
			linger := make([]byte, 8)
			linger[0] = 1
			e.Rec("peer SO_LINGER", a.SetSockOpt(unix.SOL_SOCKET, unix.SO_LINGER, linger))
			e.Rec("peer close", a.Close())
			r, err := s.Poll(unix.EPOLLIN|unix.EPOLLRDHUP, 2*time.Second)
			e.Rec("poll", err, r)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
			n, _, _, _, err := s.RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT)
			e.Rec("recv", err, n)
			send(e, "send", s, []byte("x"), nil, unix.MSG_NOSIGNAL)
		}},
		{Name: "tcp/unconnected-errors", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			send(e, "send", s, []byte("x"), nil, unix.MSG_NOSIGNAL)
			send(e, "sendto", s, []byte("x"), harness.Sockaddr(e.PeerAddr, e.BasePort), unix.MSG_NOSIGNAL)
			_, _, _, _, err := s.RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT)
			e.Rec("recv", err)
			_, _, err = s.Accept(0)
			e.Rec("accept unlistened", err)
			recPeer(e, "getpeername", s)
			r, err := s.Poll(unix.EPOLLIN|unix.EPOLLOUT|unix.EPOLLRDHUP, 0)
			e.Rec("poll", err, r)
		}},
		{Name: "tcp/listen-unbound", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Rec("listen", s.Listen(0))
			recName(e, "getsockname", s)
			e.Rec("listen again", s.Listen(16))
			e.Rec("bind after listen", s.Bind(harness.Sockaddr(anyAddr, e.BasePort)))
			e.Rec("connect on listener", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			u := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("listen udp", u.Listen(1))
			_, _, err := u.Accept(0)
			e.Rec("accept udp", err)
		}},
		{Name: "tcp/loopback-connect", Run: func(e *harness.Env) {
			l := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Rec("bind", l.Bind(harness.Sockaddr(loopback, e.BasePort)))
			e.Rec("listen", l.Listen(4))
			c := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Rec("connect", c.Connect(harness.Sockaddr(loopback, e.BasePort)))
			recName(e, "getsockname", c)
			a, sa, err := l.Accept(0)
			e.Check("accept", err)
			e.Rec("accept from", e.SA(sa))
			send(e, "send", c, []byte("loop"), nil, 0)
			recvStream(e, "recv", a, 4)
		}},
	}
}

// tcpRebindScenarios pin rebinding after TIME_WAIT and reconnecting after a
// refused connect.
func tcpRebindScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "tcp/time-wait-rebind", Run: func(e *harness.Env) {
			l := peerListener(e, e.BasePort)
			for i, origReuse := range []bool{false, true} {
				port := e.BasePort + 1 + i
				s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
				if origReuse {
					e.SetInt("original SO_REUSEADDR", s, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
				}
				e.Check("bind", s.Bind(harness.Sockaddr(e.DUTAddr, port)))
				e.Check("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
				a, _, err := l.Accept(0)
				e.Check("peer accept", err)
				// The DUT closes first, so its end goes to TIME_WAIT.
				e.Rec("close", s.Close())
				r, err := a.Poll(unix.EPOLLRDHUP, 2*time.Second)
				e.Rec("peer poll", err, r&unix.EPOLLRDHUP)
				e.Rec("peer close", a.Close())
				time.Sleep(100 * time.Millisecond)
				t := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
				e.Rec("rebind without SO_REUSEADDR", t.Bind(harness.Sockaddr(e.DUTAddr, port)))
				u := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
				e.SetInt("SO_REUSEADDR", u, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
				e.Rec("rebind with SO_REUSEADDR", u.Bind(harness.Sockaddr(e.DUTAddr, port)))
			}
		}},
		{Name: "tcp/reconnect-after-refused", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Rec("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			e.Rec("connect again", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			peerListener(e, e.BasePort)
			e.Rec("connect with listener", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			recPeer(e, "getpeername", s)
		}},
	}
}
