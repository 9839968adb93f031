package scenarios

import (
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// IPV6_MINHOPCOUNT and IPV6_UNICAST_IF on every AF_INET6 socket kind
// (do_ipv6_setsockopt): the values, their errno, and their effect over the
// DUT's ::1. IPV6_MINHOPCOUNT drops a TCP segment whose hop limit is below
// it (tcp_v6_rcv); IPV6_UNICAST_IF, an ifindex in network byte order as
// IPv4's IP_UNICAST_IF, names the interface of a datagram socket's unicast
// sends and connect (udpv6_sendmsg, rawv6_sendmsg, ping_v6_sendmsg,
// ip6_datagram_flow_key_init), not a TCP connect's.

// v6OptKinds are the AF_INET6 socket kinds but ping, whose scenarios
// are apart (ipv6/ping-*: they set net.ipv4.ping_group_range, which the
// sentry's /proc/sys does not have).
var v6OptKinds = []struct {
	name       string
	typ, proto int
}{
	{"udp", unix.SOCK_DGRAM, 0},
	{"udplite", unix.SOCK_DGRAM, unix.IPPROTO_UDPLITE},
	{"tcp", unix.SOCK_STREAM, 0},
	{"raw", unix.SOCK_RAW, unix.IPPROTO_ICMPV6},
}

// minHopCountSetGet sets IPV6_MINHOPCOUNT to values and lengths, each
// read back.
func minHopCountSetGet(e *harness.Env, s harness.Sock) {
	getOptBytes(e, "default", s, unix.IPPROTO_IPV6, unix.IPV6_MINHOPCOUNT, 4)
	for _, v := range []int32{1, 255, 256, -1, 0, 64} {
		e.Rec(fmt.Sprintf("set %d", v), s.SetSockOpt(unix.IPPROTO_IPV6, unix.IPV6_MINHOPCOUNT, harness.Int32(v)))
		getOptBytes(e, "  get", s, unix.IPPROTO_IPV6, unix.IPV6_MINHOPCOUNT, 4)
	}
	e.Rec("optlen 3", s.SetSockOpt(unix.IPPROTO_IPV6, unix.IPV6_MINHOPCOUNT, []byte{5, 0, 0}))
	e.Rec("optlen 8", s.SetSockOpt(unix.IPPROTO_IPV6, unix.IPV6_MINHOPCOUNT, append(harness.Int32(7), 0, 0, 0, 0)))
	getOptBytes(e, "get", s, unix.IPPROTO_IPV6, unix.IPV6_MINHOPCOUNT, 4)
	getOptBytes(e, "get 2 bytes", s, unix.IPPROTO_IPV6, unix.IPV6_MINHOPCOUNT, 2)
	getOptBytes(e, "get 8 bytes", s, unix.IPPROTO_IPV6, unix.IPV6_MINHOPCOUNT, 8)
}

// unicastIfSetGet sets IPV6_UNICAST_IF to values and lengths, each read
// back, and with a bound device.
func unicastIfSetGet(e *harness.Env, s harness.Sock) {
	getOptBytes(e, "default", s, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_IF, 4)
	e.Rec("optlen 3", s.SetSockOpt(unix.IPPROTO_IPV6, unix.IPV6_UNICAST_IF, ifindexBE(1)[:3]))
	e.Rec("optlen 8", s.SetSockOpt(unix.IPPROTO_IPV6, unix.IPV6_UNICAST_IF, append(ifindexBE(1), 0, 0, 0, 0)))
	e.Rec("host order 1", s.SetSockOpt(unix.IPPROTO_IPV6, unix.IPV6_UNICAST_IF, harness.Int32(1)))
	e.Rec("no such interface", s.SetSockOpt(unix.IPPROTO_IPV6, unix.IPV6_UNICAST_IF, ifindexBE(99)))
	for _, idx := range []uint32{1, 2} {
		e.Rec(fmt.Sprintf("set %d", idx), s.SetSockOpt(unix.IPPROTO_IPV6, unix.IPV6_UNICAST_IF, ifindexBE(idx)))
		getOptBytes(e, "  get", s, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_IF, 4)
		getOptBytes(e, "  get 2 bytes", s, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_IF, 2)
	}
	e.Rec("clear", s.SetSockOpt(unix.IPPROTO_IPV6, unix.IPV6_UNICAST_IF, ifindexBE(0)))
	getOptBytes(e, "get", s, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_IF, 4)
	e.Rec("set 2", s.SetSockOpt(unix.IPPROTO_IPV6, unix.IPV6_UNICAST_IF, ifindexBE(2)))
	e.Rec("SO_BINDTODEVICE lo after it", s.SetSockOpt(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, []byte("lo")))
	getOptBytes(e, "get", s, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_IF, 4)
	e.Rec("with a bound device", s.SetSockOpt(unix.IPPROTO_IPV6, unix.IPV6_UNICAST_IF, ifindexBE(1)))
	e.Rec("clear with a bound device", s.SetSockOpt(unix.IPPROTO_IPV6, unix.IPV6_UNICAST_IF, ifindexBE(0)))
	getOptBytes(e, "get", s, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_IF, 4)
}

// unicastIfConnected connects s to ::1 (port for UDP) through eth0 (no
// route) and through lo, then sends connected through eth0.
func unicastIfConnected(e *harness.Env, name string, mk func() harness.Sock, port int, msg []byte) {
	for _, first := range []uint32{2, 1} {
		s := mk()
		e.Rec(fmt.Sprintf("%s IPV6_UNICAST_IF %d", name, first), s.SetSockOpt(unix.IPPROTO_IPV6, unix.IPV6_UNICAST_IF, ifindexBE(first)))
		e.Rec("  connect ::1", s.Connect(sa6(v6Loopback, port)))
		n, err := s.SendMsg(msg, nil, nil, 0)
		e.Rec("  send", n, err)
		e.Rec(fmt.Sprintf("  IPV6_UNICAST_IF %d", 3-first), s.SetSockOpt(unix.IPPROTO_IPV6, unix.IPV6_UNICAST_IF, ifindexBE(3-first)))
		n, err = s.SendMsg(msg, nil, nil, 0)
		e.Rec("  send", n, err)
	}
}

// unicastIfEcho sends an echo request to ::1 through eth0 (no route) and
// through lo.
func unicastIfEcho(e *harness.Env, name string, s harness.Sock) {
	for i, idx := range []uint32{2, 1} {
		e.Rec(fmt.Sprintf("%s IPV6_UNICAST_IF %d", name, idx), s.SetSockOpt(unix.IPPROTO_IPV6, unix.IPV6_UNICAST_IF, ifindexBE(idx)))
		n, err := s.SendMsg(echo6(0x77, uint16(i), "uc"), nil, sa6(v6Loopback, 0), 0)
		e.Rec("  send to ::1", n, err)
	}
}

func ipv6HopcountUcastScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "ipv6/minhopcount-set-get", Run: func(e *harness.Env) {
			for _, k := range v6OptKinds {
				e.Rec("kind", k.name)
				minHopCountSetGet(e, e.Socket(e.DUT, unix.AF_INET6, k.typ, k.proto))
			}
		}},
		{Name: "ipv6/minhopcount-tcp", Run: func(e *harness.Env) {
			// A listener's minimum drops a SYN below it; the child
			// inherits it and judges its connection's segments;
			// clearing it lets low segments in.
			l := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_STREAM, 0)
			e.SetInt("IPV6_MINHOPCOUNT 64", l, unix.IPPROTO_IPV6, unix.IPV6_MINHOPCOUNT, 64)
			e.Check("bind", l.Bind(sa6(v6Loopback, e.BasePort)))
			e.Check("listen", l.Listen(4))
			low := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
			e.SetInt("client hops 10", low, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, 10)
			e.Rec("connect hops 10", low.Connect(sa6(v6Loopback, e.BasePort)))
			r, _ := low.Poll(unix.EPOLLOUT, 500*time.Millisecond)
			e.Rec("connected within 0.5 s", r&unix.EPOLLOUT != 0)
			e.Rec("close", low.Close())
			c := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_STREAM, 0)
			e.Rec("connect hops 64", c.Connect(sa6(v6Loopback, e.BasePort)))
			a, _, err := l.Accept(0)
			e.Rec("accept", err)
			if err != nil {
				return
			}
			e.GetInt("child IPV6_MINHOPCOUNT", a, unix.IPPROTO_IPV6, unix.IPV6_MINHOPCOUNT)
			e.SetInt("client hops 10", c, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, 10)
			send(e, "send a", c, []byte("a"), nil, 0)
			e.Rec("bytes with hops 10", streamBytes(a, 1, 300*time.Millisecond))
			e.SetInt("client hops 64", c, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, 64)
			send(e, "send b", c, []byte("b"), nil, 0)
			e.Rec("bytes after hops 64", streamBytes(a, 2, 3*time.Second))
			e.SetInt("child IPV6_MINHOPCOUNT 0", a, unix.IPPROTO_IPV6, unix.IPV6_MINHOPCOUNT, 0)
			e.SetInt("client hops 10", c, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, 10)
			send(e, "send c", c, []byte("c"), nil, 0)
			e.Rec("bytes with hops 10 after clearing", streamBytes(a, 1, 2*time.Second))
			// The client's own minimum judges what the child sends.
			e.SetInt("client IPV6_MINHOPCOUNT 64", c, unix.IPPROTO_IPV6, unix.IPV6_MINHOPCOUNT, 64)
			e.SetInt("child hops 10", a, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, 10)
			send(e, "child send d", a, []byte("d"), nil, 0)
			e.Rec("client bytes with hops 10", streamBytes(c, 1, 300*time.Millisecond))
		}},
		{Name: "ipv6/unicast-if-set-get", Run: func(e *harness.Env) {
			for _, k := range v6OptKinds {
				e.Rec("kind", k.name)
				unicastIfSetGet(e, e.Socket(e.DUT, unix.AF_INET6, k.typ, k.proto))
			}
		}},
		{Name: "ipv6/unicast-if-udp-route", Run: func(e *harness.Env) {
			// Through eth0 ::1 is unreachable; through lo it is
			// reached; a bound device set afterwards wins; an
			// IPV6_PKTINFO interface replaces it.
			r := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind", r.Bind(sa6(v6Loopback, e.BasePort)))
			to := sa6(v6Loopback, e.BasePort)
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Rec("IPV6_UNICAST_IF eth0", s.SetSockOpt(unix.IPPROTO_IPV6, unix.IPV6_UNICAST_IF, ifindexBE(2)))
			send(e, "send to ::1 via eth0", s, []byte("x"), to, 0)
			e.Rec("connect ::1 via eth0", s.Connect(to))
			_ = sendCtl(e, "send pktinfo lo over it", s, []byte("p"), appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_PKTINFO, pktinfo6(netip.IPv6Unspecified(), 1)), to)
			v6Recv(e, "recv", r, 0)
			e.Rec("SO_BINDTODEVICE lo", s.SetSockOpt(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, []byte("lo")))
			send(e, "send to ::1 bound to lo", s, []byte("b"), to, 0)
			v6Recv(e, "recv", r, 0)
			t := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Rec("IPV6_UNICAST_IF lo", t.SetSockOpt(unix.IPPROTO_IPV6, unix.IPV6_UNICAST_IF, ifindexBE(1)))
			send(e, "send to ::1 via lo", t, []byte("l"), to, 0)
			v6Recv(e, "recv", r, 0)
			e.Rec("connect ::1 via lo", t.Connect(to))
			send(e, "send connected", t, []byte("c"), nil, 0)
			v6Recv(e, "recv", r, 0)
			// IPv4 (v4-mapped) traffic is IP_UNICAST_IF's.
			m := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Rec("IPV6_UNICAST_IF eth0", m.SetSockOpt(unix.IPPROTO_IPV6, unix.IPV6_UNICAST_IF, ifindexBE(2)))
			q := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("bind v4", q.Bind(harness.Sockaddr(v4Loopback, e.BasePort+1)))
			send(e, "send to ::ffff:127.0.0.1", m, []byte("4"), sa6(v4Mapped, e.BasePort+1), 0)
			harness.WaitReadable(q, 2*time.Second)
			e.RecvDgram("recv v4", q, 16, unix.MSG_DONTWAIT)
		}},
		{Name: "ipv6/unicast-if-kinds", Run: func(e *harness.Env) {
			// Raw sends follow it; a TCP connect does not.
			unicastIfEcho(e, "raw", e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6))
			l := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_STREAM, 0)
			e.Check("bind", l.Bind(sa6(v6Loopback, e.BasePort)))
			e.Check("listen", l.Listen(2))
			c := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_STREAM, 0)
			e.Rec("tcp IPV6_UNICAST_IF eth0", c.SetSockOpt(unix.IPPROTO_IPV6, unix.IPV6_UNICAST_IF, ifindexBE(2)))
			e.Rec("tcp connect ::1", c.Connect(sa6(v6Loopback, e.BasePort)))
		}},
		{Name: "ipv6/unicast-if-connected", Run: func(e *harness.Env) {
			// ip6_datagram_connect routes through it; a connected
			// send after it changes follows the new one.
			unicastIfConnected(e, "udp", func() harness.Sock { return e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0) }, e.BasePort, []byte("c"))
			unicastIfConnected(e, "raw", func() harness.Sock { return e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6) }, 0, echo6(0x77, 9, "c"))
		}},
		{Name: "ipv6/ping-minhopcount-unicast-if", Run: func(e *harness.Env) {
			// A ping socket keeps both; its sends follow
			// IPV6_UNICAST_IF.
			p := ping6Socket(e)
			minHopCountSetGet(e, p)
			unicastIfSetGet(e, ping6Socket(e))
			unicastIfEcho(e, "ping", p)
			recvICMP6(e, "ping reply", p, 0, sockPort(p))
			unicastIfConnected(e, "ping", func() harness.Sock { return ping6Socket(e) }, 0, echo6(0, 9, "c"))
		}},
	}
}
