package scenarios

import (
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// peerUDP returns a kernel UDP socket on the peer bound to PeerAddr:port.
func peerUDP(e *harness.Env, port int) harness.Sock {
	p := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_DGRAM, 0)
	e.Check("peer bind", p.Bind(harness.Sockaddr(e.PeerAddr, port)))
	return p
}

// peerListener returns a kernel TCP listener on the peer at PeerAddr:port.
func peerListener(e *harness.Env, port int) harness.Sock {
	l := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_STREAM, 0)
	e.Check("peer bind", l.Bind(harness.Sockaddr(e.PeerAddr, port)))
	e.Check("peer listen", l.Listen(8))
	return l
}

func connectScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "connect/udp-names", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			recPeer(e, "getpeername before", s)
			e.Rec("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			recPeer(e, "getpeername", s)
			recName(e, "getsockname", s)
		}},
		{Name: "connect/udp-loopback-source", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("connect", s.Connect(harness.Sockaddr(loopback, e.BasePort)))
			recName(e, "getsockname", s)
			e.Rec("connect again peer", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			recName(e, "getsockname", s)
			recPeer(e, "getpeername", s)
		}},
		{Name: "connect/udp-unspec-disconnect", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			unspec := withFamily(harness.Sockaddr(anyAddr, 0), unix.AF_UNSPEC)
			e.Rec("disconnect", s.Connect(unspec))
			recPeer(e, "getpeername", s)
			recName(e, "getsockname", s)
			e.Rec("disconnect again", s.Connect(unspec))
			e.Rec("disconnect short", s.Connect(unspec[:2]))
			e.Rec("disconnect 1 byte", s.Connect(unspec[:1]))
		}},
		{Name: "connect/udp-bound-then-disconnect", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("bind", s.Bind(harness.Sockaddr(anyAddr, e.BasePort)))
			e.Rec("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			recName(e, "getsockname", s)
			e.Rec("disconnect", s.Connect(withFamily(harness.Sockaddr(anyAddr, 0), unix.AF_UNSPEC)))
			recName(e, "getsockname", s)
		}},
		{Name: "connect/udp-bad-sockaddr", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			sa := harness.Sockaddr(e.PeerAddr, e.BasePort)
			for _, l := range []int{0, 1, 4, 15} {
				e.Rec("connect short", l, s.Connect(sa[:l]))
			}
			e.Rec("connect inet6", s.Connect(withFamily(sa, unix.AF_INET6)))
			e.Rec("connect port 0", s.Connect(harness.Sockaddr(e.PeerAddr, 0)))
			recPeer(e, "getpeername", s)
		}},
		{Name: "connect/udp-unreachable-and-broadcast", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("connect off-net", s.Connect(harness.Sockaddr(offNet, e.BasePort)))
			e.Rec("connect subnet broadcast", s.Connect(harness.Sockaddr(subnetBC, e.BasePort)))
			e.Rec("connect limited broadcast", s.Connect(harness.Sockaddr(limitedBC, e.BasePort)))
			e.SetInt("SO_BROADCAST", s, unix.SOL_SOCKET, unix.SO_BROADCAST, 1)
			e.Rec("connect subnet broadcast", s.Connect(harness.Sockaddr(subnetBC, e.BasePort)))
			recPeer(e, "getpeername", s)
			recName(e, "getsockname", s)
		}},
		{Name: "connect/tcp-to-peer", Run: func(e *harness.Env) {
			l := peerListener(e, e.BasePort)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Rec("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			recName(e, "getsockname", s)
			recPeer(e, "getpeername", s)
			a, sa, err := l.Accept(0)
			e.Check("peer accept", err)
			e.Rec("peer accept from", e.SA(sa))
			recName(e, "peer getsockname", a)
			e.Rec("connect again", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
		}},
		{Name: "connect/tcp-refused", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Rec("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
			recPeer(e, "getpeername", s)
		}},
		{Name: "connect/tcp-nonblocking", Run: func(e *harness.Env) {
			l := peerListener(e, e.BasePort)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
			e.Rec("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			r, err := s.Poll(unix.EPOLLOUT, 2*time.Second)
			e.Rec("poll", err, r)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
			e.Rec("connect again", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			harness.WaitReadable(l, 2*time.Second)
			_, sa, err := l.Accept(0)
			e.Rec("peer accept", err, e.SA(sa))
		}},
		{Name: "connect/tcp-nonblocking-refused", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
			e.Rec("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			r, err := s.Poll(unix.EPOLLOUT|unix.EPOLLIN, 2*time.Second)
			e.Rec("poll", err, r)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
			e.GetInt("SO_ERROR again", s, unix.SOL_SOCKET, unix.SO_ERROR)
		}},
		{Name: "connect/tcp-off-net", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Rec("connect", s.Connect(harness.Sockaddr(offNet, e.BasePort)))
			e.Rec("connect broadcast", s.Connect(harness.Sockaddr(subnetBC, e.BasePort)))
			e.Rec("connect multicast", s.Connect(harness.Sockaddr(mcastAll, e.BasePort)))
		}},
	}
}
