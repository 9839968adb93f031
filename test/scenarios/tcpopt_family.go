package scenarios

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// tcpoptNet is the address family a tcpopt scenario runs in: AF_INET
// between the DUT and the peer, or AF_INET6 over the DUT's ::1 (the
// harness gives IPv6 to the DUT's lo only), where both ends are the DUT's.
// AF_INET6 TCP is the IPv4 TCP socket with another address family, so the
// same scenario bodies run in both.
// tcpoptMapped is AF_INET6 between the DUT and the peer over IPv4, with
// v4-mapped addresses on the DUT's side.
type tcpoptNet struct {
	family int
	suffix string // of the scenario's name
	mapped bool
}

var (
	tcpoptV4     = tcpoptNet{unix.AF_INET, "", false}
	tcpoptV6     = tcpoptNet{unix.AF_INET6, "-v6", false}
	tcpoptMapped = tcpoptNet{unix.AF_INET6, "-mapped", true}
	tcpoptNets   = []tcpoptNet{tcpoptV4, tcpoptV6}
)

// sa is an IPv4 address's sockaddr for a DUT socket of the family: a
// sockaddr_in, or v4-mapped.
func (n tcpoptNet) sa(a netip.Addr, port int) []byte {
	if n.mapped {
		return sa6(netip.AddrFrom16(a.As16()), port)
	}
	return harness.Sockaddr(a, port)
}

// farListenerSock is peerListener, or for AF_INET6 over ::1 a DUT
// listener.
func (n tcpoptNet) farListenerSock(e *harness.Env, port int) harness.Sock {
	if n.family != unix.AF_INET6 || n.mapped {
		return peerListener(e, port)
	}
	l := n.socket(e)
	e.Check("far bind", l.Bind(n.dutAddr(e, port)))
	e.Check("far listen", l.Listen(8))
	return l
}

// socket is a fresh TCP socket of the family on the DUT.
func (n tcpoptNet) socket(e *harness.Env) harness.Sock {
	return e.Socket(e.DUT, n.family, unix.SOCK_STREAM, 0)
}

// dutAddr is the DUT's address at port: e.DUTAddr or ::1.
func (n tcpoptNet) dutAddr(e *harness.Env, port int) []byte {
	if n.family == unix.AF_INET6 && !n.mapped {
		return sa6(v6Loopback, port)
	}
	return n.sa(e.DUTAddr, port)
}

// client is a TCP socket that connects to a DUT listener: the peer's, or
// over ::1 another of the DUT's.
func (n tcpoptNet) client(e *harness.Env) harness.Sock {
	if n.family == unix.AF_INET6 {
		return n.socket(e)
	}
	return e.Socket(e.Peer, unix.AF_INET, unix.SOCK_STREAM, 0)
}

// pairAt is a DUT socket of the family connected to a far end at port:
// tcpPairAt's peer, or over ::1 a DUT socket accepted by a DUT listener.
func (n tcpoptNet) pairAt(e *harness.Env, port int) (dut, far harness.Sock) {
	if n.family != unix.AF_INET6 {
		return tcpPairAt(e, port)
	}
	l := n.socket(e)
	e.Check("far bind", l.Bind(n.dutAddr(e, port)))
	e.Check("far listen", l.Listen(8))
	s := n.socket(e)
	e.Check("connect", s.Connect(n.dutAddr(e, port)))
	a, _, err := l.Accept(0)
	e.Check("far accept", err)
	return s, a
}

// tcpoptFamilyScenarios are the scenarios written for both families
// (the AF_INET6 ones are named with -v6).
func tcpoptFamilyScenarios() []harness.Scenario {
	var scs []harness.Scenario
	for _, n := range tcpoptNets {
		scs = append(scs,
			harness.Scenario{Name: "tcpopt/inq" + n.suffix, Run: n.inq},
			harness.Scenario{Name: "tcpopt/defer-accept" + n.suffix, Run: n.deferAccept},
			harness.Scenario{Name: "tcpopt/accept-inherits" + n.suffix, Run: n.acceptInherits},
			harness.Scenario{Name: "tcpopt/set-get" + n.suffix, Run: n.setGet},
			harness.Scenario{Name: "tcpopt/info-state" + n.suffix, Run: n.infoState},
		)
	}
	scs = append(scs, harness.Scenario{Name: "tcpopt/cork-v6", Run: func(e *harness.Env) { tcpoptV6.corkBasic(e) }})
	return scs
}

// setGet sets every int option of tcpoptIntOpts to a few values, each
// read back, with short and long optlens.
func (n tcpoptNet) setGet(e *harness.Env) {
	s := n.socket(e)
	for _, o := range tcpoptIntOpts {
		e.GetInt("fresh "+o.name, s, unix.SOL_TCP, o.opt)
	}
	for _, o := range tcpoptIntOpts {
		tcpoptSetGet(e, o.name, s, unix.SOL_TCP, o.opt, 1, 0, 5, 1000, -1, 0x7fffffff, 2)
		tcpoptLens(e, o.name, s, unix.SOL_TCP, o.opt, 3)
	}
	e.GetInt("MAXSEG fresh", s, unix.SOL_TCP, unix.TCP_MAXSEG)
	tcpoptSetGet(e, "MAXSEG", s, unix.SOL_TCP, unix.TCP_MAXSEG, 1000, 87, 88, 32767, 32768, 0)
	e.Rec("CONGESTION reno", s.SetSockOpt(unix.SOL_TCP, unix.TCP_CONGESTION, []byte("reno")))
	e.Rec("CONGESTION bogus", s.SetSockOpt(unix.SOL_TCP, unix.TCP_CONGESTION, []byte("bogus")))
	getOptBytes(e, "CONGESTION", s, unix.SOL_TCP, unix.TCP_CONGESTION, 16)
	tcpoptSetGet(e, "IP_RECVERR", s, unix.SOL_IP, unix.IP_RECVERR, 1, 0)
}

// infoState is TCP_INFO's state through a connection's life (closed,
// listening, established, after the far end's FIN, and the far end's
// after both FINs, which Linux reports closed, not TIME_WAIT), and
// TCP_MAXSEG, tcpi_pmtu and tcpi_advmss before and after a clamped
// connect.
func (n tcpoptNet) infoState(e *harness.Env) {
	state := func(op string, s harness.Sock) {
		info := make([]byte, 8)
		_, err := s.GetSockOpt(unix.SOL_TCP, unix.TCP_INFO, info)
		e.Rec(op+" TCP_INFO state", err, info[0])
	}
	l := n.socket(e)
	state("fresh", l)
	e.Check("bind", l.Bind(n.dutAddr(e, e.BasePort+2)))
	state("bound", l)
	e.Check("listen", l.Listen(4))
	state("listening", l)
	s, a := n.pairAt(e, e.BasePort)
	state("connected", s)
	state("far end", a)
	e.SetInt("MAXSEG 1000 when established", s, unix.SOL_TCP, unix.TCP_MAXSEG, 1000)
	e.Check("far shutdown", a.Shutdown(unix.SHUT_WR))
	harness.WaitReadable(s, 2*time.Second)
	time.Sleep(50 * time.Millisecond) // for the FIN's ACK
	state("after the far end's FIN", s)
	state("far end after its FIN", a)
	e.Check("close", s.Close())
	time.Sleep(50 * time.Millisecond)
	state("far end after close", a)
	c := n.socket(e)
	e.SetInt("MAXSEG 1200", c, unix.SOL_TCP, unix.TCP_MAXSEG, 1200)
	e.GetInt("MAXSEG before connect", c, unix.SOL_TCP, unix.TCP_MAXSEG)
	e.GetInt("IP_MTU before connect", c, unix.SOL_IP, unix.IP_MTU)
	// Clamped, the MSS does not depend on the window the far end offered
	// (which bounds an unclamped loopback MSS on Linux).
	e.Rec("connect to the listener", c.Connect(n.dutAddr(e, e.BasePort+2)))
	e.GetInt("MAXSEG 1200 connected", c, unix.SOL_TCP, unix.TCP_MAXSEG)
	e.GetInt("IP_MTU connected", c, unix.SOL_IP, unix.IP_MTU)
	// tcpi_pmtu and tcpi_advmss: the route's MTU less the family's
	// headers, clamped.
	info := make([]byte, 88)
	_, err := c.GetSockOpt(unix.SOL_TCP, unix.TCP_INFO, info)
	e.Rec("TCP_INFO pmtu, advmss", err, binary.NativeEndian.Uint32(info[60:]), binary.NativeEndian.Uint32(info[84:]))
}

// corkBasic holds a small write back while corked and lets it go on
// uncork (the AF_INET scenario goes on with the connection).
func (n tcpoptNet) corkBasic(e *harness.Env) (s, far harness.Sock) {
	f := n.socket(e)
	tcpoptSetGet(e, "CORK", f, unix.SOL_TCP, unix.TCP_CORK, 1, 0, 5, -1, 0)
	tcpoptLens(e, "CORK", f, unix.SOL_TCP, unix.TCP_CORK, 1)
	s, a := n.pairAt(e, e.BasePort)
	e.SetInt("CORK 1", s, unix.SOL_TCP, unix.TCP_CORK, 1)
	send(e, "send corked", s, []byte("abc"), nil, 0)
	r, _ := a.Poll(unix.EPOLLIN, 100*time.Millisecond)
	e.Rec("far end readable within 100ms", r&unix.EPOLLIN != 0)
	e.SetInt("CORK 0", s, unix.SOL_TCP, unix.TCP_CORK, 0)
	e.Rec("far end got after uncork", streamBytes(a, 3, time.Second))
	e.GetInt("CORK", s, unix.SOL_TCP, unix.TCP_CORK)
	return s, a
}

// inq is TCP_INQ's control message: the bytes still queued after a read,
// and at the end of the stream.
func (n tcpoptNet) inq(e *harness.Env) {
	f := n.socket(e)
	tcpoptSetGet(e, "INQ", f, unix.SOL_TCP, unix.TCP_INQ, 1, 0, 2, -1, 1)
	tcpoptLens(e, "INQ", f, unix.SOL_TCP, unix.TCP_INQ, 1)
	s, a := n.pairAt(e, e.BasePort)
	send(e, "peer send", a, []byte("hello world"), nil, 0)
	tcpoptCmsgRecv(e, "recv without INQ", s, 2, 64, 0)
	e.SetInt("INQ 1", s, unix.SOL_TCP, unix.TCP_INQ, 1)
	tcpoptCmsgRecv(e, "peek 3", s, 3, 64, unix.MSG_PEEK)
	tcpoptCmsgRecv(e, "recv 4", s, 4, 64, 0)
	tcpoptCmsgRecv(e, "recv 4 short cmsg buffer", s, 4, 12, 0)
	tcpoptCmsgRecv(e, "recv rest", s, 64, 64, 0)
	tcpoptCmsgRecv(e, "recv nothing queued", s, 64, 64, 0)
	e.Check("peer shutdown", a.Shutdown(unix.SHUT_WR))
	tcpoptCmsgRecv(e, "recv at end of stream", s, 64, 64, 0)
	tcpoptCmsgRecv(e, "recv at end of stream again", s, 64, 64, 0)
}

// deferAccept: a connection that brings no data is not offered to accept
// before the deferral ends; data makes it acceptable at once.
func (n tcpoptNet) deferAccept(e *harness.Env) {
	f := n.socket(e)
	tcpoptSetGet(e, "DEFER_ACCEPT", f, unix.SOL_TCP, unix.TCP_DEFER_ACCEPT,
		0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 31, 100, 1000, 1<<20, 0x7fffffff, -1, 0)
	tcpoptLens(e, "DEFER_ACCEPT", f, unix.SOL_TCP, unix.TCP_DEFER_ACCEPT, 10)
	l := n.socket(e)
	e.SetInt("DEFER_ACCEPT 1", l, unix.SOL_TCP, unix.TCP_DEFER_ACCEPT, 1)
	e.Check("bind", l.Bind(n.dutAddr(e, e.BasePort)))
	e.Check("listen", l.Listen(4))
	e.GetInt("listening DEFER_ACCEPT", l, unix.SOL_TCP, unix.TCP_DEFER_ACCEPT)
	p := n.client(e)
	e.Check("peer connect", p.Connect(n.dutAddr(e, e.BasePort)))
	r, _ := l.Poll(unix.EPOLLIN, 400*time.Millisecond)
	e.Rec("acceptable without data", r&unix.EPOLLIN != 0)
	send(e, "peer send", p, []byte("x"), nil, 0)
	r, _ = l.Poll(unix.EPOLLIN, time.Second)
	e.Rec("acceptable with data", r&unix.EPOLLIN != 0)
	a, _, err := l.Accept(unix.SOCK_NONBLOCK)
	e.Rec("accept", err)
	if err != nil {
		return
	}
	e.Rec("got", streamBytes(a, 1, time.Second))
	e.GetInt("accepted DEFER_ACCEPT", a, unix.SOL_TCP, unix.TCP_DEFER_ACCEPT)
}

// acceptInherits is what an accepted socket keeps of its listener's
// options.
func (n tcpoptNet) acceptInherits(e *harness.Env) {
	l := n.socket(e)
	for _, kv := range []struct {
		opt int
		v   int32
	}{
		{unix.TCP_NODELAY, 1}, {unix.TCP_KEEPIDLE, 100}, {unix.TCP_KEEPINTVL, 20}, {unix.TCP_KEEPCNT, 4},
		{unix.TCP_SYNCNT, 3}, {unix.TCP_LINGER2, 30}, {unix.TCP_WINDOW_CLAMP, 20000},
		{unix.TCP_QUICKACK, 0}, {unix.TCP_THIN_LINEAR_TIMEOUTS, 1}, {unix.TCP_USER_TIMEOUT, 3000},
		{unix.TCP_NOTSENT_LOWAT, 5000}, {unix.TCP_INQ, 1},
	} {
		e.SetInt(fmt.Sprintf("listener set %d", kv.opt), l, unix.SOL_TCP, kv.opt, kv.v)
	}
	e.Rec("listener CONGESTION cubic", l.SetSockOpt(unix.SOL_TCP, unix.TCP_CONGESTION, []byte("cubic")))
	e.Check("bind", l.Bind(n.dutAddr(e, e.BasePort)))
	e.Check("listen", l.Listen(4))
	tcpoptGetAll(e, "listener", l)
	p := n.client(e)
	e.Check("peer connect", p.Connect(n.dutAddr(e, e.BasePort)))
	harness.WaitReadable(l, 2*time.Second)
	a, _, err := l.Accept(0)
	e.Check("accept", err)
	for _, o := range tcpoptIntOpts {
		if o.opt == unix.TCP_WINDOW_CLAMP {
			continue // the child's clamp is its window's (tcp_openreq_init_rwin)
		}
		e.GetInt("accepted "+o.name, a, unix.SOL_TCP, o.opt)
	}
	getOptBytes(e, "accepted TCP_CONGESTION", a, unix.SOL_TCP, unix.TCP_CONGESTION, 16)
	// A corked listener's child is corked.
	l2 := n.socket(e)
	e.SetInt("listener 2 CORK", l2, unix.SOL_TCP, unix.TCP_CORK, 1)
	e.SetInt("listener 2 DEFER_ACCEPT 1", l2, unix.SOL_TCP, unix.TCP_DEFER_ACCEPT, 1)
	e.Check("bind 2", l2.Bind(n.dutAddr(e, e.BasePort+1)))
	e.Check("listen 2", l2.Listen(4))
	p2 := n.client(e)
	e.Check("peer connect 2", p2.Connect(n.dutAddr(e, e.BasePort+1)))
	send(e, "peer send", p2, []byte("y"), nil, 0)
	harness.WaitReadable(l2, 2*time.Second)
	a2, _, err := l2.Accept(0)
	e.Check("accept 2", err)
	e.GetInt("accepted 2 CORK", a2, unix.SOL_TCP, unix.TCP_CORK)
	e.GetInt("accepted 2 DEFER_ACCEPT", a2, unix.SOL_TCP, unix.TCP_DEFER_ACCEPT)
}

// farListener listens at port on the far end (the peer, or the DUT's
// ::1) and returns the address to connect to.
func (n tcpoptNet) farListener(e *harness.Env, port int) []byte {
	n.farListenerSock(e, port)
	if n.family != unix.AF_INET6 || n.mapped {
		return n.sa(e.PeerAddr, port)
	}
	return n.dutAddr(e, port)
}

// foreignAddr is an address at port that is not the DUT's.
func (n tcpoptNet) foreignAddr(e *harness.Env, port int) []byte {
	if n.family == unix.AF_INET6 {
		return sa6(netip.MustParseAddr("2001:db8::1"), port)
	}
	return harness.Sockaddr(e.PeerAddr, port)
}

// bindAddressNoPort is IP_BIND_ADDRESS_NO_PORT on TCP: bind(addr, 0)
// keeps the address and leaves the port to connect or listen.
func (n tcpoptNet) bindAddressNoPort(e *harness.Env) {
	far := n.farListener(e, e.BasePort)
	s := n.socket(e)
	e.SetInt("IP_BIND_ADDRESS_NO_PORT", s, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	e.Rec("bind foreign", s.Bind(n.foreignAddr(e, 0)))
	e.Rec("bind addr:0", s.Bind(n.dutAddr(e, 0)))
	recName(e, "getsockname", s)
	e.Rec("bind again", s.Bind(n.dutAddr(e, 0)))
	e.Rec("connect", s.Connect(far))
	recName(e, "getsockname", s)
	e.Rec("bind after connect", s.Bind(n.dutAddr(e, 0)))
	l := n.socket(e)
	e.SetInt("IP_BIND_ADDRESS_NO_PORT", l, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	e.Rec("bind addr:0", l.Bind(n.dutAddr(e, 0)))
	e.Rec("listen", l.Listen(4))
	recName(e, "getsockname", l)
	x := n.socket(e)
	e.SetInt("IP_BIND_ADDRESS_NO_PORT", x, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	e.Rec("bind with a port", x.Bind(n.dutAddr(e, e.BasePort+1)))
	recName(e, "getsockname", x)
}

// localPortRange is IP_LOCAL_PORT_RANGE on TCP: the port of a bind to
// port 0, of a connect and of a listen comes from the socket's range.
func (n tcpoptNet) localPortRange(e *harness.Env) {
	far := n.farListener(e, e.BasePort)
	inRange := func(op string, s harness.Sock) {
		p := sockPort(s)
		e.Rec(op, p >= 40100 && p <= 40104)
	}
	s := n.socket(e)
	e.Rec("set", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_LOCAL_PORT_RANGE, portRange(40100, 40104)))
	getOptBytes(e, "get", s, unix.IPPROTO_IP, unix.IP_LOCAL_PORT_RANGE, 4)
	e.Rec("bind port 0", s.Bind(n.dutAddr(e, 0)))
	inRange("bound in range", s)
	c := n.socket(e)
	e.Rec("set", c.SetSockOpt(unix.IPPROTO_IP, unix.IP_LOCAL_PORT_RANGE, portRange(40100, 40104)))
	e.Rec("connect unbound", c.Connect(far))
	inRange("connected from range", c)
	l := n.socket(e)
	e.Rec("set", l.SetSockOpt(unix.IPPROTO_IP, unix.IP_LOCAL_PORT_RANGE, portRange(40100, 40104)))
	e.Rec("listen unbound", l.Listen(4))
	inRange("listening in range", l)
}
