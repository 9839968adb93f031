package scenarios

import (
	"fmt"
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
		{Name: "tcp/backlog", Run: func(e *harness.Env) {
			for i, backlog := range []int{-1, 0, 1, 2} {
				l := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
				e.Check("bind", l.Bind(harness.Sockaddr(loopback, e.BasePort+i)))
				e.Rec(fmt.Sprintf("listen(%d)", backlog), l.Listen(backlog))
				// Five clients; those the queue holds complete, the
				// others' SYNs are dropped and retried a second later.
				for c := 0; c < 5; c++ {
					cl := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
					cl.Connect(harness.Sockaddr(loopback, e.BasePort+i))
				}
				time.Sleep(300 * time.Millisecond)
				accepted := 0
				for a := 0; a < 6; a++ {
					if _, _, err := l.Accept(0); err == nil {
						accepted++
					}
				}
				e.Rec(fmt.Sprintf("listen(%d) accepted", backlog), accepted)
			}
		}},
	}
}
