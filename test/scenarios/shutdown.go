package scenarios

import (
	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

func shutdownScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "shutdown/bad-how", Run: func(e *harness.Env) {
			for _, typ := range []int{unix.SOCK_DGRAM, unix.SOCK_STREAM} {
				s := e.Socket(e.DUT, unix.AF_INET, typ, 0)
				for _, how := range []int{-1, 3, 4, 1 << 20} {
					e.Rec("shutdown", how, s.Shutdown(how))
				}
			}
		}},
		{Name: "shutdown/unconnected", Run: func(e *harness.Env) {
			for _, typ := range []int{unix.SOCK_DGRAM, unix.SOCK_STREAM} {
				for _, how := range []int{unix.SHUT_RD, unix.SHUT_WR, unix.SHUT_RDWR} {
					s := e.Socket(e.DUT, unix.AF_INET, typ, 0)
					e.Rec("shutdown", typ, how, s.Shutdown(how))
					s.Close()
				}
			}
		}},
		{Name: "shutdown/udp-connected", Run: func(e *harness.Env) {
			s := dutUDP(e, 0)
			e.Rec("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			e.Rec("shutdown RD", s.Shutdown(unix.SHUT_RD))
			n, _, fl, _, err := s.RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT)
			e.Rec("recv after SHUT_RD", err, n, fl)
			r, err := s.Poll(unix.EPOLLIN|unix.EPOLLOUT|unix.EPOLLRDHUP, 0)
			e.Rec("poll", err, r)
			e.Rec("shutdown WR", s.Shutdown(unix.SHUT_WR))
			send(e, "send after SHUT_WR", s, []byte("x"), nil, unix.MSG_NOSIGNAL)
			r, err = s.Poll(unix.EPOLLIN|unix.EPOLLOUT|unix.EPOLLRDHUP, 0)
			e.Rec("poll", err, r)
			e.Rec("shutdown RDWR again", s.Shutdown(unix.SHUT_RDWR))
		}},
		{Name: "shutdown/udp-unconnected-then-recv", Run: func(e *harness.Env) {
			s := dutUDP(e, e.BasePort)
			e.Rec("shutdown RD", s.Shutdown(unix.SHUT_RD))
			n, _, fl, _, err := s.RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT)
			e.Rec("recv", err, n, fl)
			r, err := s.Poll(unix.EPOLLIN|unix.EPOLLOUT|unix.EPOLLRDHUP, 0)
			e.Rec("poll", err, r)
		}},
	}
}
