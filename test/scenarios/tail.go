package scenarios

import (
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

func tailScenarios() []harness.Scenario {
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
		{Name: "udp/destination-inaddr-any", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("bind", s.Bind(harness.Sockaddr(anyAddr, e.BasePort)))
			send(e, "sendto 0.0.0.0", s, []byte("self"), harness.Sockaddr(anyAddr, e.BasePort), 0)
			e.RecvDgram("recv", s, 16, 0)
			c := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("connect 0.0.0.0", c.Connect(harness.Sockaddr(anyAddr, e.BasePort)))
			recName(e, "getsockname", c)
			recPeer(e, "getpeername", c)
		}},
		{Name: "icmp/local-emsgsize-recverr", Run: func(e *harness.Env) {
			s := dutUDP(e, 0)
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			e.SetInt("IP_MTU_DISCOVER do", s, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DO)
			e.Rec("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			send(e, "send 1473", s, make([]byte, 1473), nil, 0)
			// Linux queues the local error too (origin LOCAL, info = MTU).
			recvErrQueue(e, "errqueue", s)
			s2 := dutUDP(e, 0)
			e.SetInt("IP_MTU_DISCOVER do", s2, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DO)
			send(e, "unconnected send 1473 without IP_RECVERR", s2, make([]byte, 1473), harness.Sockaddr(e.PeerAddr, e.BasePort), 0)
			r, err := s2.Poll(0, 100*time.Millisecond)
			e.Rec("poll", err, r)
		}},
	}
}
