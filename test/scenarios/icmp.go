package scenarios

import (
	"bytes"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// recvErrQueue waits (bounded) for POLLERR and reads one error-queue entry,
// recording everything the kernel returns: payload, flags, the original
// destination and the sock_extended_err control message with its offender.
func recvErrQueue(e *harness.Env, op string, s harness.Sock) {
	r, err := s.Poll(0, time.Second)
	e.Rec(op+" poll", err, r)
	buf, oob := make([]byte, 2048), make([]byte, 256)
	n, oobn, fl, from, err := s.RecvMsg(buf, oob, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
	if err != nil {
		e.Rec(op, err)
		return
	}
	e.Rec(op, n, fmt.Sprintf("flags=%#x", fl), e.SA(from), harness.Cmsgs(oob[:oobn]))
	if n <= 64 {
		e.Rec(op+" payload", buf[:n])
	}
}

// farUDP returns a kernel UDP socket on the far host.
func farUDP(e *harness.Env, addr int, port int) harness.Sock {
	f := e.Socket(e.Far, unix.AF_INET, unix.SOCK_DGRAM, 0)
	e.Check("far bind", f.Bind(harness.Sockaddr(e.FarAddrs[addr], port)))
	return f
}

func icmpScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "icmp/udp-via-router", Run: func(e *harness.Env) {
			f := farUDP(e, 0, e.BasePort)
			s := dutUDP(e, 0)
			send(e, "send far", s, []byte("far away"), harness.Sockaddr(e.FarAddrs[0], e.BasePort), 0)
			e.RecvDgram("far recv", f, 64, 0)
			recName(e, "getsockname", s)
		}},
		{Name: "icmp/time-exceeded-recverr", Run: func(e *harness.Env) {
			s := dutUDP(e, 0)
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			e.SetInt("IP_TTL 1", s, unix.IPPROTO_IP, unix.IP_TTL, 1)
			send(e, "send far", s, []byte("ttl1"), harness.Sockaddr(e.FarAddrs[0], e.BasePort), 0)
			recvErrQueue(e, "errqueue", s)
			_, _, _, _, err := s.RecvMsg(make([]byte, 8), make([]byte, 64), unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
			e.Rec("errqueue empty", err)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
		}},
		{Name: "icmp/time-exceeded-connected-no-recverr", Run: func(e *harness.Env) {
			s := dutUDP(e, 0)
			e.SetInt("IP_TTL 1", s, unix.IPPROTO_IP, unix.IP_TTL, 1)
			e.Rec("connect far", s.Connect(harness.Sockaddr(e.FarAddrs[0], e.BasePort)))
			send(e, "send", s, []byte("ttl1"), nil, 0)
			r, err := s.Poll(unix.EPOLLIN, 500*time.Millisecond)
			e.Rec("poll", err, r)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
			send(e, "send again", s, []byte("ttl1"), nil, 0)
		}},
		{Name: "icmp/port-unreachable-recverr", Run: func(e *harness.Env) {
			s := dutUDP(e, 0)
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			send(e, "send peer closed port", s, []byte("knock"), harness.Sockaddr(e.PeerAddr, e.BasePort), 0)
			recvErrQueue(e, "errqueue", s)
			send(e, "send far closed port", s, []byte("knock far"), harness.Sockaddr(e.FarAddrs[0], e.BasePort), 0)
			recvErrQueue(e, "errqueue", s)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
		}},
		{Name: "icmp/port-unreachable-connected-recverr", Run: func(e *harness.Env) {
			s := dutUDP(e, 0)
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			e.Rec("connect", s.Connect(harness.Sockaddr(e.FarAddrs[0], e.BasePort)))
			send(e, "send", s, []byte("knock"), nil, 0)
			r, err := s.Poll(0, time.Second)
			e.Rec("poll", err, r)
			// With IP_RECVERR the error is both pending (SO_ERROR) and queued.
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
			recvErrQueue(e, "errqueue", s)
			send(e, "send again", s, []byte("knock"), nil, 0)
		}},
		{Name: "icmp/frag-needed-pmtu", Run: func(e *harness.Env) {
			f := farUDP(e, 1, e.BasePort)
			s := dutUDP(e, 0)
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			e.SetInt("IP_MTU_DISCOVER do", s, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DO)
			e.Rec("connect", s.Connect(harness.Sockaddr(e.FarAddrs[1], e.BasePort)))
			e.GetInt("IP_MTU before", s, unix.IPPROTO_IP, unix.IP_MTU)
			big := bytes.Repeat([]byte{0x5a}, 1400)
			send(e, "send 1400", s, big, nil, 0)
			recvErrQueue(e, "errqueue", s)
			e.GetInt("IP_MTU after", s, unix.IPPROTO_IP, unix.IP_MTU)
			send(e, "send 1400 again", s, big, nil, 0)
			send(e, "send 1252", s, big[:1252], nil, 0)
			e.RecvDgram("far recv len", f, 0, unix.MSG_TRUNC)
		}},
		{Name: "icmp/frag-needed-then-local-fragmentation", Run: func(e *harness.Env) {
			f := farUDP(e, 2, e.BasePort)
			s := dutUDP(e, 0)
			to := harness.Sockaddr(e.FarAddrs[2], e.BasePort)
			big := bytes.Repeat([]byte{0xa5}, 1400)
			send(e, "send 1400 (dropped by router)", s, big, to, 0)
			r, err := f.Poll(unix.EPOLLIN, 300*time.Millisecond)
			e.Rec("far poll", err, r)
			send(e, "send 1400 again", s, big, to, 0)
			harness.WaitReadable(f, 2*time.Second)
			buf := make([]byte, 2000)
			n, _, _, _, err := f.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			e.Rec("far recv", err, n, bytes.Equal(buf[:n], big))
		}},
		{Name: "icmp/raw-sees-time-exceeded", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			e.SetInt("IP_TTL 1", s, unix.IPPROTO_IP, unix.IP_TTL, 1)
			send(e, "echo far", s, echoRequest(0x7777, 3, []byte("ttl")), harness.Sockaddr(e.FarAddrs[0], 0), 0)
			deadline := time.Now().Add(2 * time.Second)
			for i := 0; i < 8 && time.Now().Before(deadline); i++ {
				harness.WaitReadable(s, time.Until(deadline))
				buf := make([]byte, 256)
				n, _, _, from, err := s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
				if err != nil || n < 28 || buf[20] == 8 || buf[20] == 0 {
					continue // our own request on loopback or an echo reply
				}
				e.Rec("icmp", n, e.SA(from), "type/code", buf[20:22], "src", buf[12:16])
				break
			}
		}},
		{Name: "icmp/tcp-via-router", Run: func(e *harness.Env) {
			l := e.Socket(e.Far, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("far bind", l.Bind(harness.Sockaddr(e.FarAddrs[3], e.BasePort)))
			e.Check("far listen", l.Listen(4))
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Rec("connect", s.Connect(harness.Sockaddr(e.FarAddrs[3], e.BasePort)))
			a, _, err := l.Accept(0)
			e.Check("far accept", err)
			data := bytes.Repeat([]byte("0123456789"), 600)
			send(e, "send 6000", s, data, nil, 0)
			recvStream(e, "far recv", a, len(data))
			send(e, "far send 6000", a, data, nil, 0)
			recvStream(e, "recv", s, len(data))
			e.GetInt("TCP_MAXSEG", s, unix.IPPROTO_TCP, unix.TCP_MAXSEG)
		}},
	}
}

// icmpLocalScenarios pin the local EMSGSIZE error on the error queue.
func icmpLocalScenarios() []harness.Scenario {
	return []harness.Scenario{
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
