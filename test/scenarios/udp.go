package scenarios

import (
	"bytes"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// dutUDP returns a DUT UDP socket bound to DUTAddr:port (0 = ephemeral).
func dutUDP(e *harness.Env, port int) harness.Sock {
	s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
	e.Check("bind", s.Bind(harness.Sockaddr(e.DUTAddr, port)))
	return s
}

// send records sendmsg(p, to) on s.
func send(e *harness.Env, op string, s harness.Sock, p, to []byte, flags int) {
	n, err := s.SendMsg(p, nil, to, flags)
	e.Rec(op, err, n)
}

func udpScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "udp/round-trip-with-peer", Run: func(e *harness.Env) {
			p := peerUDP(e, e.BasePort)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			send(e, "sendto peer", s, []byte("hello peer"), harness.Sockaddr(e.PeerAddr, e.BasePort), 0)
			recName(e, "getsockname after send", s)
			buf := make([]byte, 64)
			harness.WaitReadable(p, 2*time.Second)
			n, _, _, from, err := p.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			e.Rec("peer recv", err, n, e.SA(from), buf[:n])
			send(e, "peer reply", p, []byte("hello dut"), from, 0)
			e.RecvDgram("recv reply", s, 64, 0)
		}},
		{Name: "udp/connected-send-recv", Run: func(e *harness.Env) {
			p := peerUDP(e, e.BasePort)
			s := dutUDP(e, e.BasePort+1)
			e.Rec("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			send(e, "send", s, []byte("connected"), nil, 0)
			e.RecvDgram("peer recv", p, 64, 0)
			send(e, "peer reply", p, []byte("back"), harness.Sockaddr(e.DUTAddr, e.BasePort+1), 0)
			e.RecvDgram("recv", s, 64, 0)
			// A datagram from another port is filtered out by the connection.
			q := peerUDP(e, e.BasePort+2)
			send(e, "other peer sends", q, []byte("stranger"), harness.Sockaddr(e.DUTAddr, e.BasePort+1), 0)
			send(e, "peer again", p, []byte("again"), harness.Sockaddr(e.DUTAddr, e.BasePort+1), 0)
			e.RecvDgram("recv", s, 64, 0)
			_, _, _, _, err := s.RecvMsg(make([]byte, 64), nil, unix.MSG_DONTWAIT)
			e.Rec("recv empty", err)
		}},
		{Name: "udp/loopback-self", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("bind", s.Bind(harness.Sockaddr(loopback, e.BasePort)))
			send(e, "sendto self", s, []byte("me"), harness.Sockaddr(loopback, e.BasePort), 0)
			e.RecvDgram("recv", s, 16, 0)
			send(e, "sendto self empty", s, []byte{}, harness.Sockaddr(loopback, e.BasePort), 0)
			e.RecvDgram("recv empty", s, 16, 0)
		}},
		{Name: "udp/peek-then-read", Run: func(e *harness.Env) {
			p := peerUDP(e, e.BasePort)
			s := dutUDP(e, e.BasePort+1)
			send(e, "peer send 1", p, []byte("first"), harness.Sockaddr(e.DUTAddr, e.BasePort+1), 0)
			send(e, "peer send 2", p, []byte("second"), harness.Sockaddr(e.DUTAddr, e.BasePort+1), 0)
			e.RecvDgram("peek", s, 64, unix.MSG_PEEK)
			e.RecvDgram("peek short", s, 2, unix.MSG_PEEK)
			e.RecvDgram("read", s, 64, 0)
			e.RecvDgram("read", s, 64, 0)
			e.RecvDgram("read empty", s, 64, 0)
		}},
		{Name: "udp/truncation", Run: func(e *harness.Env) {
			p := peerUDP(e, e.BasePort)
			s := dutUDP(e, e.BasePort+1)
			to := harness.Sockaddr(e.DUTAddr, e.BasePort+1)
			for _, m := range []string{"0123456789", "abcdefghij", "ABCDEFGHIJ", "klmnopqrst"} {
				send(e, "peer send", p, []byte(m), to, 0)
			}
			e.RecvDgram("recv short buffer", s, 4, 0)
			e.RecvDgram("recv MSG_TRUNC short", s, 4, unix.MSG_TRUNC)
			e.RecvDgram("recv MSG_TRUNC|PEEK zero", s, 0, unix.MSG_TRUNC|unix.MSG_PEEK)
			e.RecvDgram("recv zero buffer", s, 0, 0)
			e.RecvDgram("recv MSG_TRUNC exact", s, 10, unix.MSG_TRUNC)
		}},
		{Name: "udp/dontwait-eagain", Run: func(e *harness.Env) {
			s := dutUDP(e, 0)
			_, _, _, _, err := s.RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT)
			e.Rec("recv", err)
			r, err := s.Poll(unix.EPOLLIN|unix.EPOLLOUT, 0)
			e.Rec("poll", err, r)
		}},
		{Name: "udp/edestaddrreq", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			send(e, "send unbound", s, []byte("x"), nil, 0)
			e.Rec("bind", s.Bind(harness.Sockaddr(anyAddr, e.BasePort)))
			send(e, "send bound", s, []byte("x"), nil, 0)
			send(e, "sendto short addr", s, []byte("x"), harness.Sockaddr(e.PeerAddr, e.BasePort)[:8], 0)
			send(e, "sendto inet6", s, []byte("x"), withFamily(harness.Sockaddr(e.PeerAddr, e.BasePort), unix.AF_INET6), 0)
			send(e, "sendto unspec", s, []byte("x"), withFamily(harness.Sockaddr(e.PeerAddr, e.BasePort), unix.AF_UNSPEC), 0)
			send(e, "sendto port 0", s, []byte("x"), harness.Sockaddr(e.PeerAddr, 0), 0)
			send(e, "sendto off-net", s, []byte("x"), harness.Sockaddr(offNet, e.BasePort), 0)
		}},
		{Name: "udp/broadcast-permission", Run: func(e *harness.Env) {
			p := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("peer bind any", p.Bind(harness.Sockaddr(anyAddr, e.BasePort)))
			s := dutUDP(e, e.BasePort+1)
			to := harness.Sockaddr(subnetBC, e.BasePort)
			send(e, "sendto broadcast", s, []byte("bc"), to, 0)
			e.GetInt("SO_BROADCAST", s, unix.SOL_SOCKET, unix.SO_BROADCAST)
			e.SetInt("set SO_BROADCAST", s, unix.SOL_SOCKET, unix.SO_BROADCAST, 1)
			send(e, "sendto broadcast", s, []byte("bc"), to, 0)
			e.RecvDgram("peer recv", p, 64, 0)
			send(e, "sendto limited broadcast", s, []byte("lbc"), harness.Sockaddr(limitedBC, e.BasePort), 0)
		}},
		{Name: "udp/message-size-limit", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("bind", s.Bind(harness.Sockaddr(loopback, e.BasePort)))
			to := harness.Sockaddr(loopback, e.BasePort)
			send(e, "send 65508", s, make([]byte, 65508), to, 0)
			send(e, "send 70000", s, make([]byte, 70000), to, 0)
			big := bytes.Repeat([]byte("0123456789abcdef"), 4096)[:65507]
			send(e, "send 65507", s, big, to, 0)
			got := e.RecvDgram("recv len", s, 70000, unix.MSG_TRUNC|unix.MSG_PEEK)
			_ = got
			buf := make([]byte, 70000)
			n, _, _, _, err := s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			e.Rec("recv content", err, n, bytes.Equal(buf[:n], big))
		}},
		{Name: "udp/fragmented-to-peer", Run: func(e *harness.Env) {
			p := peerUDP(e, e.BasePort)
			s := dutUDP(e, 0)
			big := bytes.Repeat([]byte("netsandbox"), 1000)[:9000]
			send(e, "send 9000", s, big, harness.Sockaddr(e.PeerAddr, e.BasePort), 0)
			buf := make([]byte, 10000)
			harness.WaitReadable(p, 2*time.Second)
			n, _, _, from, err := p.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			e.Rec("peer recv", err, n, e.SA(from), bytes.Equal(buf[:n], big))
			send(e, "peer reply 9000", p, big, from, 0)
			harness.WaitReadable(s, 2*time.Second)
			n, _, _, from, err = s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			e.Rec("recv", err, n, e.SA(from), bytes.Equal(buf[:n], big))
		}},
		{Name: "udp/port-unreachable", Run: func(e *harness.Env) {
			s := dutUDP(e, 0)
			e.Rec("connect closed port", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			send(e, "send", s, []byte("anyone?"), nil, 0)
			r, err := s.Poll(unix.EPOLLERR, 2*time.Second)
			e.Rec("poll", err, r)
			send(e, "send again", s, []byte("anyone?"), nil, 0)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
		}},
		{Name: "udp/ttl-and-tos-on-wire", Run: func(e *harness.Env) {
			p := peerUDP(e, e.BasePort)
			e.SetInt("peer IP_RECVTTL", p, unix.IPPROTO_IP, unix.IP_RECVTTL, 1)
			e.SetInt("peer IP_RECVTOS", p, unix.IPPROTO_IP, unix.IP_RECVTOS, 1)
			s := dutUDP(e, 0)
			to := harness.Sockaddr(e.PeerAddr, e.BasePort)
			peerCmsgs := func(op string) {
				harness.WaitReadable(p, 2*time.Second)
				buf, oob := make([]byte, 64), make([]byte, 256)
				n, oobn, fl, _, err := p.RecvMsg(buf, oob, unix.MSG_DONTWAIT)
				e.Rec(op, err, n, fl, harness.Cmsgs(oob[:oobn]))
			}
			send(e, "send default", s, []byte("a"), to, 0)
			peerCmsgs("peer recv")
			e.SetInt("IP_TTL 33", s, unix.IPPROTO_IP, unix.IP_TTL, 33)
			e.SetInt("IP_TOS 0x28", s, unix.IPPROTO_IP, unix.IP_TOS, 0x28)
			send(e, "send", s, []byte("b"), to, 0)
			peerCmsgs("peer recv")
			e.SetInt("IP_TTL -1", s, unix.IPPROTO_IP, unix.IP_TTL, -1)
			e.SetInt("IP_TOS 0xff", s, unix.IPPROTO_IP, unix.IP_TOS, 0xff)
			send(e, "send", s, []byte("c"), to, 0)
			peerCmsgs("peer recv")
		}},
		{Name: "udp/recv-ttl-tos-cmsgs", Run: func(e *harness.Env) {
			p := peerUDP(e, e.BasePort)
			s := dutUDP(e, e.BasePort+1)
			e.SetInt("IP_RECVTTL", s, unix.IPPROTO_IP, unix.IP_RECVTTL, 1)
			e.SetInt("IP_RECVTOS", s, unix.IPPROTO_IP, unix.IP_RECVTOS, 1)
			e.SetInt("peer IP_TTL", p, unix.IPPROTO_IP, unix.IP_TTL, 17)
			e.SetInt("peer IP_TOS", p, unix.IPPROTO_IP, unix.IP_TOS, 0x10)
			send(e, "peer send", p, []byte("ttl"), harness.Sockaddr(e.DUTAddr, e.BasePort+1), 0)
			harness.WaitReadable(s, 2*time.Second)
			buf, oob := make([]byte, 64), make([]byte, 256)
			n, oobn, fl, from, err := s.RecvMsg(buf, oob, unix.MSG_DONTWAIT)
			e.Rec("recv", err, n, fl, e.SA(from), harness.Cmsgs(oob[:oobn]))
		}},
	}
}

// udpReceiveScenarios are the receive side of UDP: broadcast delivery beside
// a unicast bind and a full receive buffer.
func udpReceiveScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "udp/broadcast-receive", Run: func(e *harness.Env) {
			anyS := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.SetInt("SO_REUSEADDR", anyS, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			e.Check("bind any", anyS.Bind(harness.Sockaddr(anyAddr, e.BasePort)))
			uni := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.SetInt("SO_REUSEADDR", uni, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			e.Check("bind unicast", uni.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort)))
			bc := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.SetInt("SO_REUSEADDR", bc, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			e.Check("bind subnet broadcast", bc.Bind(harness.Sockaddr(subnetBC, e.BasePort)))
			p := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.SetInt("peer SO_BROADCAST", p, unix.SOL_SOCKET, unix.SO_BROADCAST, 1)
			e.Check("peer bind", p.Bind(harness.Sockaddr(e.PeerAddr, e.BasePort+1)))
			for _, dst := range []netip.Addr{subnetBC, limitedBC} {
				send(e, "peer send to "+dst.String(), p, []byte("bcast"), harness.Sockaddr(dst, e.BasePort), 0)
				time.Sleep(100 * time.Millisecond)
				for _, s := range []struct {
					op string
					s  harness.Sock
				}{{"any", anyS}, {"unicast", uni}, {"broadcast", bc}} {
					n, _, _, from, err := s.s.RecvMsg(make([]byte, 16), nil, unix.MSG_DONTWAIT)
					e.Rec("  "+s.op+" recv", err, n, e.SA(from))
				}
			}
		}},
		{Name: "udp/rcvbuf-overflow", Run: func(e *harness.Env) {
			s := dutUDP(e, e.BasePort)
			e.SetInt("SO_RCVBUF", s, unix.SOL_SOCKET, unix.SO_RCVBUF, 0)
			e.SetInt("SO_RXQ_OVFL", s, unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1)
			p := peerUDP(e, e.BasePort+1)
			for i := 0; i < 20; i++ {
				p.SendMsg(make([]byte, 100), nil, harness.Sockaddr(e.DUTAddr, e.BasePort), 0)
			}
			time.Sleep(200 * time.Millisecond)
			got := 0
			var last string
			for i := 0; i < 25; i++ {
				oob := make([]byte, 64)
				_, oobn, _, _, err := s.RecvMsg(make([]byte, 200), oob, unix.MSG_DONTWAIT)
				if err != nil {
					break
				}
				got++
				last = harness.Cmsgs(oob[:oobn])
			}
			e.Rec("queued", got, "last cmsgs", last)
		}},
	}
}

// udpAnyDestScenarios pin sending to INADDR_ANY (the local host).
func udpAnyDestScenarios() []harness.Scenario {
	return []harness.Scenario{
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
	}
}
