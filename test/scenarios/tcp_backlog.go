package scenarios

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// tcpBacklogScenarios pins how many connections a listener's queue holds:
// sk_acceptq_is_full compares the queue with the backlog by ">", so
// listen(N) lets N+1 completed connections wait (a negative backlog is
// net.core.somaxconn).
func tcpBacklogScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "tcp/recv-zero-length", Run: func(e *harness.Env) {
			// tcp_recvmsg_locked: a zero-length read meets its target
			// of 0 before any state or error check; only a listener is
			// ENOTCONN.
			recv0 := func(op string, s harness.Sock) {
				n, _, _, _, err := s.RecvMsg(nil, nil, unix.MSG_DONTWAIT)
				e.Rec(op, n, err)
			}
			u := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			recv0("unconnected", u)
			l := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("bind", l.Bind(harness.Sockaddr(loopback, e.BasePort)))
			e.Check("listen", l.Listen(1))
			recv0("listening", l)
			c := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("connect", c.Connect(harness.Sockaddr(loopback, e.BasePort)))
			a, _, err := l.Accept(0)
			e.Check("accept", err)
			recv0("connected, nothing queued", a)
			n, err := c.SendMsg([]byte("data"), nil, nil, 0)
			e.Rec("send", n, err)
			harness.WaitReadable(a, 2*time.Second)
			recv0("connected, data queued", a)
			n, _, _, _, err = a.RecvMsg(make([]byte, 16), nil, unix.MSG_DONTWAIT)
			e.Rec("read after", n, err)
			e.Check("peer close", c.Close())
			harness.WaitReadable(a, 2*time.Second)
			recv0("after the peer closed", a)
		}},
		{Name: "tcp/backlog", Run: func(e *harness.Env) {
			for i, backlog := range []int{-1, 0, 1, 2} {
				backlogFill(e, unix.AF_INET, backlog, 5, harness.Sockaddr(loopback, e.BasePort+i))
			}
		}},
	}
}

// backlogFill listens with backlog and connects clients one at a time, each
// given time to finish its handshake before the next SYN, then records which
// connected and how many accept returns. One at a time, because Linux drops
// the ACK that would overfill the queue while gVisor queues a handshake that
// began before the queue filled: concurrent SYNs race there, and the
// rule pinned here is the queue's length.
func backlogFill(e *harness.Env, family, backlog, clients int, addr []byte) {
	l := e.Socket(e.DUT, family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	e.Check("bind", l.Bind(addr))
	e.Rec(fmt.Sprintf("listen(%d)", backlog), l.Listen(backlog))
	e.GetInt("SO_ACCEPTCONN", l, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
	var connected strings.Builder
	for c := 0; c < clients; c++ {
		cl := e.Socket(e.DUT, family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
		cl.Connect(addr)
		// A dropped SYN is retried only after a second, so 300 ms
		// tells a queued connection from a refused one.
		if r, _ := cl.Poll(unix.EPOLLOUT, 300*time.Millisecond); r&unix.EPOLLOUT != 0 {
			connected.WriteByte('y')
		} else {
			connected.WriteByte('n')
		}
		// The client is connected when the SYN-ACK arrives; the
		// listener queues it when the last ACK does, which gVisor
		// handles on another goroutine: let it land before the next
		// SYN and before accepting.
		time.Sleep(100 * time.Millisecond)
	}
	e.Rec(fmt.Sprintf("listen(%d) clients connected", backlog), connected.String())
	accepted := 0
	for a := 0; a <= clients; a++ {
		if _, _, err := l.Accept(0); err == nil {
			accepted++
		}
	}
	e.Rec(fmt.Sprintf("listen(%d) accepted", backlog), accepted)
}
