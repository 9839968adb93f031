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
		{Name: "errno/tcp-shutdown-connecting", Run: tcpShutdownConnecting},
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

// tcpShutdownConnecting: inet_shutdown disconnects a SYN_SENT socket (as
// connect(AF_UNSPEC) does), whatever how says.
func tcpShutdownConnecting(e *harness.Env) {
	for _, how := range []int{unix.SHUT_RD, unix.SHUT_WR, unix.SHUT_RDWR} {
		s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
		e.Rec("connect", s.Connect(harness.Sockaddr(foreign, e.BasePort)))
		e.Rec("shutdown", how, s.Shutdown(how))
		r, err := s.Poll(unix.EPOLLIN|unix.EPOLLOUT|unix.EPOLLRDHUP, 0)
		e.Rec("poll", err, r)
		n, _, _, _, err := s.RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT)
		e.Rec("recv", n, err)
		n, err = s.SendMsg([]byte("x"), nil, nil, unix.MSG_NOSIGNAL)
		e.Rec("send", n, err)
		e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
		e.Rec("shutdown again", s.Shutdown(how))
	}
	l := peerListener(e, e.BasePort+1)
	s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	e.Rec("connect", s.Connect(harness.Sockaddr(foreign, e.BasePort)))
	e.Rec("shutdown", s.Shutdown(unix.SHUT_WR))
	e.Rec("connect listener", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort+1)))
	pollTCP(e, "poll listener", s)
	e.GetInt("SO_ERROR listener", s, unix.SOL_SOCKET, unix.SO_ERROR)
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

// tcpInfoField is one member of struct tcp_info (Linux 6.18, 280 bytes).
type tcpInfoField struct {
	name      string
	off, size int
}

var tcpInfoFields = []tcpInfoField{
	{"state", 0, 1}, {"ca_state", 1, 1}, {"retransmits", 2, 1}, {"probes", 3, 1}, {"backoff", 4, 1},
	{"options", 5, 1}, {"wscale", 6, 1}, {"flags", 7, 1}, {"rto", 8, 4}, {"ato", 12, 4},
	{"snd_mss", 16, 4}, {"rcv_mss", 20, 4}, {"unacked", 24, 4}, {"sacked", 28, 4}, {"lost", 32, 4},
	{"retrans", 36, 4}, {"fackets", 40, 4}, {"last_data_sent", 44, 4}, {"last_ack_sent", 48, 4},
	{"last_data_recv", 52, 4}, {"last_ack_recv", 56, 4}, {"pmtu", 60, 4}, {"rcv_ssthresh", 64, 4},
	{"rtt", 68, 4}, {"rttvar", 72, 4}, {"snd_ssthresh", 76, 4}, {"snd_cwnd", 80, 4}, {"advmss", 84, 4},
	{"reordering", 88, 4}, {"rcv_rtt", 92, 4}, {"rcv_space", 96, 4}, {"total_retrans", 100, 4},
	{"pacing_rate", 104, 8}, {"max_pacing_rate", 112, 8}, {"bytes_acked", 120, 8}, {"bytes_received", 128, 8},
	{"segs_out", 136, 4}, {"segs_in", 140, 4}, {"notsent_bytes", 144, 4}, {"min_rtt", 148, 4},
	{"data_segs_in", 152, 4}, {"data_segs_out", 156, 4}, {"delivery_rate", 160, 8}, {"busy_time", 168, 8},
	{"rwnd_limited", 176, 8}, {"sndbuf_limited", 184, 8}, {"delivered", 192, 4}, {"delivered_ce", 196, 4},
	{"bytes_sent", 200, 8}, {"bytes_retrans", 208, 8}, {"dsack_dups", 216, 4}, {"reord_seen", 220, 4},
	{"rcv_ooopack", 224, 4}, {"snd_wnd", 228, 4}, {"rcv_wnd", 232, 4}, {"rehash", 236, 4},
	{"total_rto", 240, 2}, {"total_rto_recoveries", 242, 2}, {"total_rto_time", 244, 4},
	{"received_ce", 248, 4}, {"accecn", 252, 28},
}

// recTCPInfo records getsockopt(TCP_INFO) with a large buffer: the length,
// then each field the caller does not name in skip (timing-dependent ones).
func recTCPInfo(e *harness.Env, op string, s harness.Sock, skip ...string) {
	b := make([]byte, 512)
	n, err := s.GetSockOpt(unix.SOL_TCP, unix.TCP_INFO, b)
	e.Rec(op, err, n)
	if err != nil {
		return
	}
	omit := map[string]bool{}
	for _, f := range skip {
		omit[f] = true
	}
	for _, f := range tcpInfoFields {
		if omit[f.name] || f.off+f.size > n {
			continue
		}
		var v uint64
		for i := f.size - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[f.off+i])
		}
		if f.name == "wscale" { // two 4-bit fields, snd_wscale low
			for _, w := range []struct {
				name string
				v    uint64
			}{{"snd_wscale", v & 0xf}, {"rcv_wscale", v >> 4}} {
				if !omit[w.name] {
					e.Rec(op+" "+w.name, w.v)
				}
			}
			continue
		}
		e.Rec(op+" "+f.name, v)
	}
}

// tcpInfoTimes are the fields that hold times since an event or
// measured delays: never the same twice.
var tcpInfoTimes = []string{"last_data_sent", "last_ack_sent", "last_data_recv", "last_ack_recv"}

// tcpInfoConnSkip are a connection's fields left out of the comparison:
// the times, the RTT estimates and what derives from them (rto, pacing
// rate), and what depends on how each stack sizes its buffers (the
// receive window scale, rcv_ssthresh, rcv_space, rcv_wnd), and
// bytes_acked and delivered, which count the SYN on Linux, gVisor does
// not keep.
var tcpInfoConnSkip = append([]string{"rto", "rtt", "rttvar", "min_rtt", "pacing_rate", "delivery_rate",
	"rcv_wscale", "rcv_ssthresh", "rcv_space", "rcv_wnd", "bytes_acked", "delivered"}, tcpInfoTimes...)

func tcpInfoScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "errno/tcp-info-unconnected", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			recTCPInfo(e, "fresh", s, tcpInfoTimes...)
			e.Check("bind", s.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort)))
			recTCPInfo(e, "bound", s, tcpInfoTimes...)
			// getsockopt copies min(optlen, sizeof(struct tcp_info)).
			for _, l := range []int{0, 1, 7, 8, 44, 279, 280, 281, 1000} {
				b := make([]byte, l)
				n, err := s.GetSockOpt(unix.SOL_TCP, unix.TCP_INFO, b)
				e.Rec("optlen", l, err, n, b[:min(n, 44)])
			}
		}},
		{Name: "errno/tcp-info-listener", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("bind", s.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort)))
			e.Check("listen", s.Listen(5))
			recTCPInfo(e, "listener", s)
		}},
		{Name: "errno/tcp-info-established", Run: func(e *harness.Env) {
			l := peerListener(e, e.BasePort)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			a, _, err := l.Accept(0)
			e.Check("peer accept", err)
			_ = a
			recTCPInfo(e, "client", s, tcpInfoConnSkip...)
			ds := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("dut bind", ds.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort+1)))
			e.Check("dut listen", ds.Listen(5))
			p := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("peer connect", p.Connect(harness.Sockaddr(e.DUTAddr, e.BasePort+1)))
			harness.WaitReadable(ds, 2*time.Second)
			c, _, err := ds.Accept(0)
			e.Check("dut accept", err)
			// Linux counts a passive connection's SYN on the child and its
			// SYN-ACK on the request sock; gVisor the other way round.
			recTCPInfo(e, "accepted", c, append(append([]string(nil), tcpInfoConnSkip...), "segs_in", "segs_out")...)
		}},
	}
}

// privScenarios run calls as a program without some capabilities
// (harness Env.Unprivileged: per-thread capabilities on the kernel host, a
// stack made without them on the netsandbox host, lo only).
func privScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "errno/eacces-privileged-port", Run: func(e *harness.Env) {
			u := e.Unprivileged(e.DUT, unix.CAP_NET_BIND_SERVICE)
			for _, typ := range []int{unix.SOCK_DGRAM, unix.SOCK_STREAM} {
				for _, port := range []int{80, 1023, 1024, 0} {
					s := e.Socket(u, unix.AF_INET, typ, 0)
					e.Rec("bind", typ, port, s.Bind(harness.Sockaddr(loopback, port)))
					e.Check("close", s.Close())
				}
				s := e.Socket(u, unix.AF_INET, typ, 0)
				e.Rec("bind wildcard 1", typ, s.Bind(harness.Sockaddr(anyAddr, 1)))
				// ip_unprivileged_port_start moves the line.
				e.Rec("sysctl", e.SetSysctl(u, "net.ipv4.ip_unprivileged_port_start", "80"))
				e.Rec("bind 80 after sysctl", typ, s.Bind(harness.Sockaddr(loopback, 80)))
				s2 := e.Socket(u, unix.AF_INET, typ, 0)
				e.Rec("bind 79 after sysctl", typ, s2.Bind(harness.Sockaddr(loopback, 79)))
				e.Rec("sysctl back", e.SetSysctl(u, "net.ipv4.ip_unprivileged_port_start", "1024"))
			}
		}},
		{Name: "errno/eperm-without-net-raw-admin", Run: func(e *harness.Env) {
			u := e.Unprivileged(e.DUT, unix.CAP_NET_RAW, unix.CAP_NET_ADMIN)
			for _, proto := range []int{unix.IPPROTO_UDP, unix.IPPROTO_ICMP, unix.IPPROTO_RAW, unix.IPPROTO_TCP} {
				s, err := u.Socket(unix.AF_INET, unix.SOCK_RAW, proto)
				e.Rec("socket raw", proto, err)
				if err == nil {
					s.Close()
				}
			}
			s := e.Socket(u, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.SetInt("IP_TRANSPARENT", s, unix.SOL_IP, unix.IP_TRANSPARENT, 1)
			e.SetInt("IP_TRANSPARENT 0", s, unix.SOL_IP, unix.IP_TRANSPARENT, 0)
			e.SetInt("SO_PRIORITY 6", s, unix.SOL_SOCKET, unix.SO_PRIORITY, 6)
			e.SetInt("SO_PRIORITY 7", s, unix.SOL_SOCKET, unix.SO_PRIORITY, 7)
			e.SetInt("SO_RCVBUFFORCE", s, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 65536)
			e.SetInt("SO_SNDBUFFORCE", s, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 65536)
			e.SetInt("IP_FREEBIND", s, unix.SOL_IP, unix.IP_FREEBIND, 1)
			t := e.Socket(u, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.SetInt("TCP IP_TRANSPARENT", t, unix.SOL_IP, unix.IP_TRANSPARENT, 1)
		}},
		{Name: "errno/eacces-ping-group-range", Run: func(e *harness.Env) {
			// ping sockets are for the gids in ping_group_range.
			for _, r := range []string{"1 0", "0 0", "1 1"} {
				e.Rec("ping_group_range", r, e.SetSysctl(e.DUT, "net.ipv4.ping_group_range", r))
				s, err := e.DUT.Socket(unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
				e.Rec("socket ping", err)
				if err == nil {
					s.Close()
				}
			}
		}},
	}
}
