package scenarios

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// The tcp(7) and socket(7) options real programs set: each option's
// bounds, errno and defaults, what an accepted socket inherits, and one
// check per mechanism seen from the peer (keepalive probes, aborts after
// TCP_USER_TIMEOUT, TCP_KEEPCNT and TCP_SYNCNT, a corked write, the
// FIN-WAIT-2 lifetime, a deferred accept, the advertised window under
// TCP_WINDOW_CLAMP, writability under TCP_NOTSENT_LOWAT, TCP_CM_INQ).
//
// A peer that "stops answering" is the far host behind the peer with the
// peer's forwarding switched off on its DUT side: the peer then drops the
// DUT's packets without an ICMP error (ip_error on a non-forwarding
// device). Timings are recorded in coarse buckets around Linux's value.

// Linux option numbers golang.org/x/sys/unix does not name.
const (
	tcpCmInq       = 36 // TCP_CM_INQ (== TCP_INQ)
	soPassPidfd    = 76 // SO_PASSPIDFD
	soPeerPidfd    = 77 // SO_PEERPIDFD
	soPassRights   = 83 // SO_PASSRIGHTS
	soBusyPollBudg = 70 // SO_BUSY_POLL_BUDGET
	tcpIsMPTCP     = 43 // TCP_IS_MPTCP
)

// tcpoptSeg is one TCP segment seen on the peer's tap.
type tcpoptSeg struct {
	at         time.Time
	src, dst   int
	seq, ack   uint32
	flags      byte
	win        int
	wscale     int // the window scale option, -1 when absent
	payloadLen int
}

// tcpoptParse reads a captured IPv4 packet as a TCP segment.
func tcpoptParse(p []byte, at time.Time) (tcpoptSeg, bool) {
	if len(p) < 20 || p[9] != unix.IPPROTO_TCP {
		return tcpoptSeg{}, false
	}
	ihl := int(p[0]&0xf) * 4
	total := int(binary.BigEndian.Uint16(p[2:4]))
	if len(p) < ihl+20 || total > len(p) {
		return tcpoptSeg{}, false
	}
	t := p[ihl:total]
	doff := int(t[12]>>4) * 4
	if doff < 20 || doff > len(t) {
		return tcpoptSeg{}, false
	}
	s := tcpoptSeg{
		at:  at,
		src: int(binary.BigEndian.Uint16(t[0:])), dst: int(binary.BigEndian.Uint16(t[2:])),
		seq: binary.BigEndian.Uint32(t[4:]), ack: binary.BigEndian.Uint32(t[8:]),
		flags: t[13], win: int(binary.BigEndian.Uint16(t[14:])), wscale: -1,
		payloadLen: len(t) - doff,
	}
	for o := t[20:doff]; len(o) > 0; {
		switch o[0] {
		case 0:
			o = nil
			continue
		case 1:
			o = o[1:]
			continue
		}
		if len(o) < 2 || int(o[1]) < 2 || int(o[1]) > len(o) {
			break
		}
		if o[0] == 3 && o[1] == 3 {
			s.wscale = int(o[2])
		}
		o = o[o[1]:]
	}
	return s, true
}

// tcpoptCapture collects the segments from port src to port dst that the
// tap sees until stop says enough or the time is up.
func tcpoptCapture(tap harness.Sock, src, dst int, wait time.Duration, stop func([]tcpoptSeg) bool) []tcpoptSeg {
	var got []tcpoptSeg
	deadline := time.Now().Add(wait)
	buf := make([]byte, 70000)
	for i := 0; i < 4096 && time.Now().Before(deadline); i++ {
		if r, _ := tap.Poll(unix.EPOLLIN, time.Until(deadline)); r == 0 {
			break
		}
		n, _, _, _, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil {
			continue
		}
		s, ok := tcpoptParse(buf[:n], time.Now())
		if !ok || s.src != src || s.dst != dst {
			continue
		}
		got = append(got, s)
		if stop != nil && stop(got) {
			break
		}
	}
	return got
}

// tcpoptDrain reads everything the tap holds now, so that a capture after
// it sees only later segments; it returns the segments from src to dst.
func tcpoptDrain(tap harness.Sock, src, dst int) []tcpoptSeg {
	var got []tcpoptSeg
	buf := make([]byte, 70000)
	for i := 0; i < 4096; i++ {
		n, _, _, _, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil {
			break
		}
		if s, ok := tcpoptParse(buf[:n], time.Now()); ok && s.src == src && s.dst == dst {
			got = append(got, s)
		}
	}
	return got
}

// tcpoptFlags names a segment's flags.
func tcpoptFlags(f byte) string {
	var n []string
	for _, x := range []struct {
		bit  byte
		name string
	}{{0x02, "SYN"}, {0x01, "FIN"}, {0x04, "RST"}, {0x08, "PSH"}, {0x10, "ACK"}} {
		if f&x.bit != 0 {
			n = append(n, x.name)
		}
	}
	return strings.Join(n, "|")
}

// tcpoptBucket renders a duration as the interval of edges it falls in.
func tcpoptBucket(d time.Duration, edges ...time.Duration) string {
	lo := "0"
	for _, e := range edges {
		if d < e {
			return fmt.Sprintf("[%s,%s)", lo, e)
		}
		lo = e.String()
	}
	return fmt.Sprintf("[%s,inf)", lo)
}

// tcpoptFarPair connects a DUT TCP socket, made by mk, to a kernel
// listener on the far host behind the peer and exchanges one byte each
// way, so both ends have an RTT.
func tcpoptFarPair(e *harness.Env, port int, mk func() harness.Sock) (dut, far harness.Sock) {
	l := e.Socket(e.Far, unix.AF_INET, unix.SOCK_STREAM, 0)
	e.Check("far bind", l.Bind(harness.Sockaddr(e.FarAddrs[0], port)))
	e.Check("far listen", l.Listen(4))
	s := mk()
	e.Check("connect far", s.Connect(harness.Sockaddr(e.FarAddrs[0], port)))
	a, _, err := l.Accept(0)
	e.Check("far accept", err)
	send(e, "send", s, []byte("a"), nil, 0)
	e.Rec("far got", streamBytes(a, 1, 2*time.Second))
	send(e, "far send", a, []byte("b"), nil, 0)
	e.Rec("got", streamBytes(s, 1, 2*time.Second))
	return s, a
}

// tcpoptBlackhole makes the peer drop, silently, everything the DUT sends
// towards the far host.
func tcpoptBlackhole(e *harness.Env) {
	e.Check("peer stops forwarding from the DUT", e.SetSysctl(e.Peer, "net.ipv4.conf.eth0.forwarding", "0"))
}

// tcpoptWaitErr waits (bounded) for EPOLLERR or EPOLLHUP on s and records
// the events and how long it took.
func tcpoptWaitErr(e *harness.Env, op string, s harness.Sock, since time.Time, wait time.Duration, edges ...time.Duration) {
	deadline := time.Now().Add(wait)
	var r uint32
	for time.Now().Before(deadline) {
		r, _ = s.Poll(unix.EPOLLERR|unix.EPOLLHUP, time.Until(deadline))
		if r&(unix.EPOLLERR|unix.EPOLLHUP) != 0 {
			break
		}
	}
	e.Rec(op, fmt.Sprintf("events=%#x", r&(unix.EPOLLERR|unix.EPOLLHUP)), tcpoptBucket(time.Since(since), edges...))
}

// tcpoptRecAfterAbort records what a socket whose connection timed out
// answers.
func tcpoptRecAfterAbort(e *harness.Env, s harness.Sock) {
	_, _, _, _, err := s.RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT)
	e.Rec("recv", err)
	e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
	_, _, _, _, err = s.RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT)
	e.Rec("recv again", err)
	_, err = s.SendMsg([]byte("z"), nil, nil, unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
	e.Rec("send", err)
	info := make([]byte, 8)
	_, err = s.GetSockOpt(unix.SOL_TCP, unix.TCP_INFO, info)
	e.Rec("TCP_INFO state", err, info[0])
}

// tcpoptSetGet sets each value and reads the option back.
func tcpoptSetGet(e *harness.Env, op string, s harness.Sock, level, name int, vals ...int32) {
	for _, v := range vals {
		e.SetInt(fmt.Sprintf("%s set %d", op, v), s, level, name, v)
		e.GetInt(fmt.Sprintf("%s get", op), s, level, name)
	}
}

// tcpoptLens sets an int option with short and long optlens and reads it
// with every buffer length up to 8.
func tcpoptLens(e *harness.Env, op string, s harness.Sock, level, name int, v int32) {
	e.Rec(op+" set optlen 0", s.SetSockOpt(level, name, nil))
	e.Rec(op+" set optlen 3", s.SetSockOpt(level, name, harness.Int32(v)[:3]))
	e.Rec(op+" set optlen 8", s.SetSockOpt(level, name, append(harness.Int32(v), harness.Int32(-1)...)))
	for _, n := range []int{0, 1, 2, 3, 4, 8} {
		getOptBytes(e, fmt.Sprintf("%s get %d", op, n), s, level, name, n)
	}
}

// tcpoptIntOpts are the int-valued TCP options this group pins.
var tcpoptIntOpts = []struct {
	name string
	opt  int
}{
	{"TCP_NODELAY", unix.TCP_NODELAY}, {"TCP_CORK", unix.TCP_CORK},
	{"TCP_KEEPIDLE", unix.TCP_KEEPIDLE}, {"TCP_KEEPINTVL", unix.TCP_KEEPINTVL}, {"TCP_KEEPCNT", unix.TCP_KEEPCNT},
	{"TCP_SYNCNT", unix.TCP_SYNCNT}, {"TCP_LINGER2", unix.TCP_LINGER2}, {"TCP_DEFER_ACCEPT", unix.TCP_DEFER_ACCEPT},
	{"TCP_WINDOW_CLAMP", unix.TCP_WINDOW_CLAMP}, {"TCP_QUICKACK", unix.TCP_QUICKACK},
	{"TCP_THIN_LINEAR_TIMEOUTS", unix.TCP_THIN_LINEAR_TIMEOUTS}, {"TCP_THIN_DUPACK", unix.TCP_THIN_DUPACK},
	{"TCP_USER_TIMEOUT", unix.TCP_USER_TIMEOUT}, {"TCP_NOTSENT_LOWAT", unix.TCP_NOTSENT_LOWAT},
	{"TCP_INQ", unix.TCP_INQ},
}

// tcpoptGetAll records every option of tcpoptIntOpts and TCP_CONGESTION.
func tcpoptGetAll(e *harness.Env, op string, s harness.Sock) {
	for _, o := range tcpoptIntOpts {
		e.GetInt(op+" "+o.name, s, unix.SOL_TCP, o.opt)
	}
	getOptBytes(e, op+" TCP_CONGESTION", s, unix.SOL_TCP, unix.TCP_CONGESTION, 16)
}

// tcpoptCmsgRecv receives up to n bytes with a control buffer of oobLen
// and records the data, flags and control messages.
func tcpoptCmsgRecv(e *harness.Env, op string, s harness.Sock, n, oobLen, flags int) {
	harness.WaitReadable(s, 2*time.Second)
	buf := make([]byte, n)
	oob := make([]byte, oobLen)
	got, oobn, rf, _, err := s.RecvMsg(buf, oob, flags|unix.MSG_DONTWAIT)
	if err != nil {
		e.Rec(op, err)
		return
	}
	e.Rec(op, got, fmt.Sprintf("flags=%#x", rf), string(buf[:got]), harness.Cmsgs(oob[:oobn]))
}

func tcpOptScenarios() []harness.Scenario {
	var scs []harness.Scenario
	scs = append(scs, tcpoptKeepaliveScenarios()...)
	scs = append(scs, tcpoptTimeoutScenarios()...)
	scs = append(scs, tcpoptSendScenarios()...)
	scs = append(scs, tcpoptListenScenarios()...)
	scs = append(scs, tcpoptMiscScenarios()...)
	scs = append(scs, tcpoptSocketScenarios()...)
	scs = append(scs, tcpoptIPScenarios()...)
	scs = append(scs, tcpoptBufsizeScenarios()...)
	scs = append(scs, tcpoptFamilyScenarios()...) // tcpopt_family.go
	return scs
}

func tcpoptKeepaliveScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "tcpopt/keepalive-get-set", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			tcpoptSetGet(e, "KEEPIDLE", s, unix.SOL_TCP, unix.TCP_KEEPIDLE, 0, 1, 32767, 32768, -1, 100, 7200, 1<<30)
			tcpoptLens(e, "KEEPIDLE", s, unix.SOL_TCP, unix.TCP_KEEPIDLE, 30)
			tcpoptSetGet(e, "KEEPINTVL", s, unix.SOL_TCP, unix.TCP_KEEPINTVL, 0, 1, 32767, 32768, -1, 20)
			tcpoptLens(e, "KEEPINTVL", s, unix.SOL_TCP, unix.TCP_KEEPINTVL, 40)
			tcpoptSetGet(e, "KEEPCNT", s, unix.SOL_TCP, unix.TCP_KEEPCNT, 0, 1, 127, 128, -1, 5)
			tcpoptLens(e, "KEEPCNT", s, unix.SOL_TCP, unix.TCP_KEEPCNT, 7)
			u := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.SetInt("udp set KEEPIDLE", u, unix.SOL_TCP, unix.TCP_KEEPIDLE, 10)
			e.GetInt("udp get KEEPIDLE", u, unix.SOL_TCP, unix.TCP_KEEPIDLE)
			// Kept across bind and listen, and on a connected socket.
			e.Check("bind", s.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort)))
			e.Check("listen", s.Listen(4))
			e.GetInt("listening KEEPIDLE", s, unix.SOL_TCP, unix.TCP_KEEPIDLE)
			c, _ := tcpPairAt(e, e.BasePort+1)
			tcpoptSetGet(e, "connected KEEPIDLE", c, unix.SOL_TCP, unix.TCP_KEEPIDLE, 50, 0)
			tcpoptSetGet(e, "connected KEEPCNT", c, unix.SOL_TCP, unix.TCP_KEEPCNT, 2)
		}},
		{Name: "tcpopt/keepalive-probes", Run: func(e *harness.Env) {
			// Probes after one idle second, one second apart, each a bare
			// ACK one below the next byte to send, answered by the peer.
			l := peerListener(e, e.BasePort)
			tap := peerTap(e, unix.IPPROTO_TCP)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.SetInt("KEEPIDLE 1", s, unix.SOL_TCP, unix.TCP_KEEPIDLE, 1)
			e.SetInt("KEEPINTVL 1", s, unix.SOL_TCP, unix.TCP_KEEPINTVL, 1)
			e.SetInt("KEEPCNT 3", s, unix.SOL_TCP, unix.TCP_KEEPCNT, 3)
			e.SetInt("SO_KEEPALIVE 1", s, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1)
			e.Check("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			a, _, err := l.Accept(0)
			e.Check("peer accept", err)
			send(e, "send", s, []byte("hello"), nil, 0)
			e.Rec("peer got", streamBytes(a, 5, 2*time.Second))
			port := sockPort(s)
			time.Sleep(20 * time.Millisecond) // the peer's ACK of the data
			var isn uint32
			for _, x := range tcpoptDrain(tap, port, e.BasePort) {
				if x.flags&0x02 != 0 {
					isn = x.seq
				}
			}
			t0 := time.Now()
			isProbe := func(x tcpoptSeg) bool { return x.payloadLen == 0 && x.flags == 0x10 }
			var probes []tcpoptSeg
			for _, x := range tcpoptCapture(tap, port, e.BasePort, 3500*time.Millisecond, func(g []tcpoptSeg) bool {
				n := 0
				for _, x := range g {
					if isProbe(x) {
						n++
					}
				}
				return n >= 2
			}) {
				if isProbe(x) {
					probes = append(probes, x)
				}
			}
			e.Rec("probes seen", len(probes))
			last := t0
			for i, p := range probes {
				e.Rec(fmt.Sprintf("probe %d", i+1), "rel seq", p.seq-isn, tcpoptFlags(p.flags),
					tcpoptBucket(p.at.Sub(last), 600*time.Millisecond, 1600*time.Millisecond))
				last = p.at
			}
			_, _, _, _, err = s.RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT)
			e.Rec("recv while probing", err)
			send(e, "send after probes", s, []byte("again"), nil, 0)
			e.Rec("peer got", streamBytes(a, 5, 2*time.Second))
		}},
		{Name: "tcpopt/keepalive-abort", Run: func(e *harness.Env) {
			// Two unanswered probes and the connection is dropped with
			// ETIMEDOUT, three seconds after the last answer.
			s, _ := tcpoptFarPair(e, e.BasePort, func() harness.Sock {
				s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
				e.SetInt("KEEPIDLE 1", s, unix.SOL_TCP, unix.TCP_KEEPIDLE, 1)
				e.SetInt("KEEPINTVL 1", s, unix.SOL_TCP, unix.TCP_KEEPINTVL, 1)
				e.SetInt("KEEPCNT 2", s, unix.SOL_TCP, unix.TCP_KEEPCNT, 2)
				e.SetInt("SO_KEEPALIVE 1", s, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1)
				return s
			})
			t0 := time.Now()
			tcpoptBlackhole(e)
			tcpoptWaitErr(e, "aborted", s, t0, 5*time.Second, 2300*time.Millisecond, 4200*time.Millisecond)
			tcpoptRecAfterAbort(e, s)
		}},
	}
}

// tcpPairAt is tcpPair with the peer's listener on port.
func tcpPairAt(e *harness.Env, port int) (dut, peer harness.Sock) {
	l := peerListener(e, port)
	s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
	e.Check("connect", s.Connect(harness.Sockaddr(e.PeerAddr, port)))
	a, _, err := l.Accept(0)
	e.Check("peer accept", err)
	return s, a
}

func tcpoptTimeoutScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "tcpopt/user-timeout-get-set", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			tcpoptSetGet(e, "USER_TIMEOUT", s, unix.SOL_TCP, unix.TCP_USER_TIMEOUT, 1000, 0, -1, 1, 0x7fffffff, 30000)
			tcpoptLens(e, "USER_TIMEOUT", s, unix.SOL_TCP, unix.TCP_USER_TIMEOUT, 500)
			c, _ := tcpPairAt(e, e.BasePort)
			tcpoptSetGet(e, "connected USER_TIMEOUT", c, unix.SOL_TCP, unix.TCP_USER_TIMEOUT, 250, -5)
		}},
		{Name: "tcpopt/user-timeout-abort", Run: func(e *harness.Env) {
			// Unacknowledged data for longer than TCP_USER_TIMEOUT ends
			// the connection with ETIMEDOUT.
			s, _ := tcpoptFarPair(e, e.BasePort, func() harness.Sock {
				s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
				e.SetInt("USER_TIMEOUT 500", s, unix.SOL_TCP, unix.TCP_USER_TIMEOUT, 500)
				return s
			})
			tcpoptBlackhole(e)
			t0 := time.Now()
			send(e, "send into the void", s, []byte("lost"), nil, 0)
			tcpoptWaitErr(e, "aborted", s, t0, 4*time.Second, 300*time.Millisecond, 1500*time.Millisecond)
			tcpoptRecAfterAbort(e, s)
		}},
		{Name: "tcpopt/user-timeout-connect", Run: func(e *harness.Env) {
			// TCP_USER_TIMEOUT bounds the SYN retransmissions too.
			tcpoptBlackhole(e)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.SetInt("USER_TIMEOUT 1500", s, unix.SOL_TCP, unix.TCP_USER_TIMEOUT, 1500)
			t0 := time.Now()
			err := s.Connect(harness.Sockaddr(e.FarAddrs[0], e.BasePort))
			e.Rec("connect", err, tcpoptBucket(time.Since(t0), 1200*time.Millisecond, 2400*time.Millisecond))
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
			recPeer(e, "getpeername", s)
		}},
		{Name: "tcpopt/syncnt", Run: func(e *harness.Env) {
			// TCP_SYNCNT 1: the SYN is given up three seconds after it
			// was first sent (tcp_model_timeout for one retry).
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			tcpoptSetGet(e, "SYNCNT", s, unix.SOL_TCP, unix.TCP_SYNCNT, 0, 1, 127, 128, -1, 3)
			tcpoptLens(e, "SYNCNT", s, unix.SOL_TCP, unix.TCP_SYNCNT, 2)
			tcpoptBlackhole(e)
			c := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.SetInt("SYNCNT 1", c, unix.SOL_TCP, unix.TCP_SYNCNT, 1)
			t0 := time.Now()
			err := c.Connect(harness.Sockaddr(e.FarAddrs[0], e.BasePort))
			e.Rec("connect", err, tcpoptBucket(time.Since(t0), 2500*time.Millisecond, 4000*time.Millisecond))
			e.GetInt("SO_ERROR", c, unix.SOL_SOCKET, unix.SO_ERROR)
			e.GetInt("SYNCNT after", c, unix.SOL_TCP, unix.TCP_SYNCNT)
		}},
	}
}

func tcpoptSendScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "tcpopt/cork", Run: func(e *harness.Env) {
			s, a := tcpoptV4.corkBasic(e) // tcpopt_family.go
			// A full segment leaves at once even corked.
			e.SetInt("CORK 1", s, unix.SOL_TCP, unix.TCP_CORK, 1)
			send(e, "send 3000 corked", s, make([]byte, 3000), nil, 0)
			n := streamBytes(a, 3000, 150*time.Millisecond)
			e.Rec("peer got at least a segment within 150ms", n > 0 && n < 3000)
			e.SetInt("CORK 0", s, unix.SOL_TCP, unix.TCP_CORK, 0)
			e.Rec("peer got the rest", n+streamBytes(a, 3000-n, time.Second))
			e.GetInt("CORK", s, unix.SOL_TCP, unix.TCP_CORK)
			// A header and a body written corked leave in full segments
			// only; the partial tail waits for the uncork.
			tap := peerTap(e, unix.IPPROTO_TCP)
			e.SetInt("CORK 1", s, unix.SOL_TCP, unix.TCP_CORK, 1)
			send(e, "send header", s, make([]byte, 200), nil, 0)
			send(e, "send body", s, make([]byte, 3000), nil, 0)
			var sizes []int
			sum := 0
			for _, x := range tcpoptCapture(tap, sockPort(s), e.BasePort, 150*time.Millisecond, nil) {
				if x.payloadLen > 0 {
					sizes = append(sizes, x.payloadLen)
					sum += x.payloadLen
				}
			}
			same := len(sizes) > 0
			for _, z := range sizes {
				same = same && z == sizes[0]
			}
			e.Rec("corked segments equal in size", same, "held back some", sum < 3200)
			e.SetInt("CORK 0", s, unix.SOL_TCP, unix.TCP_CORK, 0)
			e.Rec("peer got all", streamBytes(a, 3200, time.Second))
			// TCP_NODELAY pushes what a cork holds.
			e.SetInt("CORK 1", s, unix.SOL_TCP, unix.TCP_CORK, 1)
			send(e, "send corked", s, []byte("xyz"), nil, 0)
			e.SetInt("NODELAY 1", s, unix.SOL_TCP, unix.TCP_NODELAY, 1)
			e.Rec("peer got within 100ms", streamBytes(a, 3, 100*time.Millisecond))
			e.GetInt("CORK", s, unix.SOL_TCP, unix.TCP_CORK)
		}},
		{Name: "tcpopt/notsent-lowat", Run: func(e *harness.Env) {
			f := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			tcpoptSetGet(e, "NOTSENT_LOWAT", f, unix.SOL_TCP, unix.TCP_NOTSENT_LOWAT, 100, -1, 0, 1<<30)
			tcpoptLens(e, "NOTSENT_LOWAT", f, unix.SOL_TCP, unix.TCP_NOTSENT_LOWAT, 4096)
			// Writable only while fewer than TCP_NOTSENT_LOWAT bytes wait
			// to be sent; a corked write keeps 100 unsent.
			s, a := tcpPairAt(e, e.BasePort)
			r, _ := s.Poll(unix.EPOLLOUT, 0)
			e.Rec("writable", fmt.Sprintf("%#x", r))
			e.SetInt("NOTSENT_LOWAT 50", s, unix.SOL_TCP, unix.TCP_NOTSENT_LOWAT, 50)
			e.SetInt("CORK 1", s, unix.SOL_TCP, unix.TCP_CORK, 1)
			send(e, "send 100 corked", s, make([]byte, 100), nil, 0)
			r, _ = s.Poll(unix.EPOLLOUT, 0)
			e.Rec("writable with 100 unsent, lowat 50", fmt.Sprintf("%#x", r))
			e.SetInt("NOTSENT_LOWAT 200", s, unix.SOL_TCP, unix.TCP_NOTSENT_LOWAT, 200)
			r, _ = s.Poll(unix.EPOLLOUT, 0)
			e.Rec("writable with 100 unsent, lowat 200", fmt.Sprintf("%#x", r))
			e.SetInt("NOTSENT_LOWAT 201", s, unix.SOL_TCP, unix.TCP_NOTSENT_LOWAT, 201)
			r, _ = s.Poll(unix.EPOLLOUT, 0)
			e.Rec("writable with 100 unsent, lowat 201", fmt.Sprintf("%#x", r))
			send(e, "send 10 more", s, make([]byte, 10), nil, unix.MSG_DONTWAIT)
			r, _ = s.Poll(unix.EPOLLOUT, 0)
			e.Rec("writable with 110 unsent, lowat 201", fmt.Sprintf("%#x", r))
			e.SetInt("NOTSENT_LOWAT 50", s, unix.SOL_TCP, unix.TCP_NOTSENT_LOWAT, 50)
			e.SetInt("CORK 0", s, unix.SOL_TCP, unix.TCP_CORK, 0)
			r, _ = s.Poll(unix.EPOLLOUT, time.Second)
			e.Rec("writable once sent", fmt.Sprintf("%#x", r))
			e.Rec("peer got", streamBytes(a, 110, time.Second))
		}},
		{Name: "tcpopt/window-clamp", Run: func(e *harness.Env) {
			f := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			tcpoptSetGet(e, "WINDOW_CLAMP", f, unix.SOL_TCP, unix.TCP_WINDOW_CLAMP, 100, 1151, 1152, 5000, 0, -1, 0x7fffffff, 0)
			tcpoptLens(e, "WINDOW_CLAMP", f, unix.SOL_TCP, unix.TCP_WINDOW_CLAMP, 9000)
			e.Check("bind", f.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort+1)))
			e.Check("listen", f.Listen(4))
			tcpoptSetGet(e, "listening WINDOW_CLAMP", f, unix.SOL_TCP, unix.TCP_WINDOW_CLAMP, 0, 3000)
			// Linux 6.18 keeps the clamp until data arrives: the first
			// segment that changes its rmem-to-window ratio sets the clamp
			// to the window its buffer allows (tcp_measure_rcv_mss calls
			// tcp_set_window_clamp), and the value read then depends on
			// the driver's skb truesize; so only the clamp before data is
			// compared, and that a clamped connection carries data.
			s, a := tcpPairAt(e, e.BasePort)
			e.SetInt("connected WINDOW_CLAMP 4000", s, unix.SOL_TCP, unix.TCP_WINDOW_CLAMP, 4000)
			e.GetInt("connected WINDOW_CLAMP", s, unix.SOL_TCP, unix.TCP_WINDOW_CLAMP)
			e.SetInt("connected set 0", s, unix.SOL_TCP, unix.TCP_WINDOW_CLAMP, 0)
			e.SetInt("connected set 100", s, unix.SOL_TCP, unix.TCP_WINDOW_CLAMP, 100)
			e.GetInt("connected WINDOW_CLAMP", s, unix.SOL_TCP, unix.TCP_WINDOW_CLAMP)
			send(e, "peer send 8000", a, make([]byte, 8000), nil, 0)
			e.Rec("got", streamBytes(s, 8000, 3*time.Second))
		}},
	}
}

func tcpoptListenScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "tcpopt/linger2", Run: func(e *harness.Env) {
			f := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			tcpoptSetGet(e, "LINGER2", f, unix.SOL_TCP, unix.TCP_LINGER2, 0, 1, 59, 120, 121, 1000000, -1, -5, 0x7fffffff, 0)
			tcpoptLens(e, "LINGER2", f, unix.SOL_TCP, unix.TCP_LINGER2, 30)
			// A closed socket waits in FIN-WAIT-2 for TCP_LINGER2 seconds:
			// the peer's late FIN finds it (ACK) with the default, and
			// finds nothing (RST) after one second.
			l := peerListener(e, e.BasePort)
			tap := peerTap(e, unix.IPPROTO_TCP)
			var dut, peer []harness.Sock
			for _, v := range []int32{0, 1} {
				s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
				if v != 0 {
					e.SetInt(fmt.Sprintf("LINGER2 %d", v), s, unix.SOL_TCP, unix.TCP_LINGER2, v)
				}
				e.Check("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
				a, _, err := l.Accept(0)
				e.Check("peer accept", err)
				dut, peer = append(dut, s), append(peer, a)
			}
			ports := []int{sockPort(dut[0]), sockPort(dut[1])}
			for i, s := range dut {
				e.Check(fmt.Sprintf("close %d", i), s.Close())
				harness.WaitReadable(peer[i], time.Second)
				n, _, _, _, err := peer[i].RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT)
				e.Rec("peer sees end of stream", n, err)
			}
			time.Sleep(1500 * time.Millisecond)
			for i, a := range peer {
				tcpoptDrain(tap, ports[i], e.BasePort)
				e.Check(fmt.Sprintf("peer close %d", i), a.Close())
				answer := "nothing"
				for _, x := range tcpoptCapture(tap, ports[i], e.BasePort, time.Second, func([]tcpoptSeg) bool { return true }) {
					answer = tcpoptFlags(x.flags)
				}
				e.Rec(fmt.Sprintf("answer to the late FIN %d", i), answer)
			}
		}},
	}
}

func tcpoptMiscScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "tcpopt/quickack", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.GetInt("fresh", s, unix.SOL_TCP, unix.TCP_QUICKACK)
			tcpoptSetGet(e, "QUICKACK", s, unix.SOL_TCP, unix.TCP_QUICKACK, 0, 1, 2, 0, -1, 3, 0)
			tcpoptLens(e, "QUICKACK", s, unix.SOL_TCP, unix.TCP_QUICKACK, 1)
			c, _ := tcpPairAt(e, e.BasePort)
			e.GetInt("connected", c, unix.SOL_TCP, unix.TCP_QUICKACK)
			tcpoptSetGet(e, "connected QUICKACK", c, unix.SOL_TCP, unix.TCP_QUICKACK, 0, 1)
		}},
		{Name: "tcpopt/congestion", Run: func(e *harness.Env) {
			// The default is the host's (a namespace inherits it), so
			// only names set here are compared; both know reno and cubic.
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			for _, name := range []string{"reno", "cubic", "nosuchcc", "", "\x00", "reno\x00junk", "cubicXXXXXXXXXXXXXXXX",
				"reno\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", "Reno", " reno", "reno "} {
				var v []byte
				if name != "" {
					v = []byte(name)
				}
				e.Rec(fmt.Sprintf("set %q", name), s.SetSockOpt(unix.SOL_TCP, unix.TCP_CONGESTION, v))
				getOptBytes(e, "get", s, unix.SOL_TCP, unix.TCP_CONGESTION, 16)
				getOptBytes(e, "TCP_CC_INFO", s, unix.SOL_TCP, unix.TCP_CC_INFO, 64)
			}
			e.SetInt("set TCP_CC_INFO", s, unix.SOL_TCP, unix.TCP_CC_INFO, 1)
			e.Rec("set reno", s.SetSockOpt(unix.SOL_TCP, unix.TCP_CONGESTION, []byte("reno")))
			for _, n := range []int{0, 1, 4, 5, 15, 16, 17, 64} {
				getOptBytes(e, fmt.Sprintf("get %d", n), s, unix.SOL_TCP, unix.TCP_CONGESTION, n)
			}
			c, _ := tcpPairAt(e, e.BasePort)
			e.Rec("connected set cubic", c.SetSockOpt(unix.SOL_TCP, unix.TCP_CONGESTION, []byte("cubic")))
			getOptBytes(e, "connected get", c, unix.SOL_TCP, unix.TCP_CONGESTION, 16)
			send(e, "send", c, make([]byte, 2000), nil, 0)
			e.Rec("connected set reno", c.SetSockOpt(unix.SOL_TCP, unix.TCP_CONGESTION, []byte("reno")))
			getOptBytes(e, "connected get", c, unix.SOL_TCP, unix.TCP_CONGESTION, 16)
			u := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("udp set", u.SetSockOpt(unix.SOL_TCP, unix.TCP_CONGESTION, []byte("reno")))
			getOptBytes(e, "udp get", u, unix.SOL_TCP, unix.TCP_CONGESTION, 16)
		}},
		{Name: "tcpopt/thin-streams", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			tcpoptSetGet(e, "THIN_LINEAR_TIMEOUTS", s, unix.SOL_TCP, unix.TCP_THIN_LINEAR_TIMEOUTS, 1, 0, 2, -1, 1)
			tcpoptLens(e, "THIN_LINEAR_TIMEOUTS", s, unix.SOL_TCP, unix.TCP_THIN_LINEAR_TIMEOUTS, 1)
			tcpoptSetGet(e, "THIN_DUPACK", s, unix.SOL_TCP, unix.TCP_THIN_DUPACK, 1, 0, 2, -1)
			tcpoptLens(e, "THIN_DUPACK", s, unix.SOL_TCP, unix.TCP_THIN_DUPACK, 1)
			getOptBytes(e, "IS_MPTCP", s, unix.SOL_TCP, tcpIsMPTCP, 4)
			e.SetInt("set IS_MPTCP", s, unix.SOL_TCP, tcpIsMPTCP, 1)
		}},
	}
}

// tcpoptIPScenarios pin IP_PROTOCOL (inet_num: the local port of TCP and
// UDP, the protocol of raw sockets, the identifier of ping sockets) and
// TCP's IP_PKTOPTIONS (the IP_PKTINFO, IP_TTL and IP_TOS control
// messages a TCP socket would have received, built from the socket).
func tcpoptIPScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "tcpopt/ip-protocol", Run: func(e *harness.Env) {
			e.Check("set ping_group_range", e.SetSysctl(e.DUT, pingGroupRange, "0 0"))
			for i, k := range []struct {
				name       string
				typ, proto int
			}{{"tcp", unix.SOCK_STREAM, 0}, {"udp", unix.SOCK_DGRAM, 0}, {"ping", unix.SOCK_DGRAM, unix.IPPROTO_ICMP},
				{"raw-icmp", unix.SOCK_RAW, unix.IPPROTO_ICMP}, {"raw-255", unix.SOCK_RAW, unix.IPPROTO_RAW}} {
				s := e.Socket(e.DUT, unix.AF_INET, k.typ, k.proto)
				for _, n := range []int{0, 1, 2, 4, 8} {
					getOptBytes(e, fmt.Sprintf("%s fresh %d", k.name, n), s, unix.IPPROTO_IP, unix.IP_PROTOCOL, n)
				}
				e.SetInt(k.name+" set", s, unix.IPPROTO_IP, unix.IP_PROTOCOL, 6)
				e.Rec(k.name+" bind", s.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort+i)))
				for _, n := range []int{1, 2, 4} {
					getOptBytes(e, fmt.Sprintf("%s bound %d", k.name, n), s, unix.IPPROTO_IP, unix.IP_PROTOCOL, n)
				}
				u := e.Socket(e.DUT, unix.AF_INET, k.typ, k.proto)
				if k.typ == unix.SOCK_STREAM {
					e.Rec(k.name+" unbound listen", u.Listen(1))
				} else {
					e.Rec(k.name+" unbound connect", u.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
				}
				tcpoptRecNum(e, k.name+" autobound", u, k.name == "ping")
			}
			c, _ := tcpPairAt(e, e.BasePort+7)
			tcpoptRecNum(e, "connected", c, false)
			e.Rec("connected port", e.Port(sockPort(c)))
		}},
		{Name: "tcpopt/ip-pktoptions", Run: func(e *harness.Env) {
			l := peerListener(e, e.BasePort)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			for _, n := range []int{0, 16, 64} {
				getOptBytes(e, fmt.Sprintf("fresh %d", n), s, unix.IPPROTO_IP, unix.IP_PKTOPTIONS, n)
			}
			u := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			getOptBytes(e, "udp", u, unix.IPPROTO_IP, unix.IP_PKTOPTIONS, 64)
			e.SetInt("udp set", u, unix.IPPROTO_IP, unix.IP_PKTOPTIONS, 0)
			e.SetInt("set", s, unix.IPPROTO_IP, unix.IP_PKTOPTIONS, 0)
			for _, o := range []int{unix.IP_PKTINFO, unix.IP_RECVTTL, unix.IP_RECVTOS} {
				e.SetInt(fmt.Sprintf("set %d", o), s, unix.IPPROTO_IP, o, 1)
				getOptBytes(e, "unconnected", s, unix.IPPROTO_IP, unix.IP_PKTOPTIONS, 128)
			}
			e.SetInt("IP_MULTICAST_TTL 9", s, unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, 9)
			e.Check("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			a, _, err := l.Accept(0)
			e.Check("peer accept", err)
			e.SetInt("peer IP_TOS 0x28", a, unix.IPPROTO_IP, unix.IP_TOS, 0x28)
			send(e, "peer send", a, []byte("tos"), nil, 0)
			e.Rec("got", streamBytes(s, 3, time.Second))
			for _, n := range []int{128, 40, 39, 24, 16, 12} {
				buf := make([]byte, n)
				got, err := s.GetSockOpt(unix.IPPROTO_IP, unix.IP_PKTOPTIONS, buf)
				e.Rec(fmt.Sprintf("connected %d", n), err, got, harness.Cmsgs(buf[:max(0, min(got, n))]))
			}
		}},
		{Name: "tcpopt/ip-pktoptions-tcp6", Run: func(e *harness.Env) {
			// An AF_INET6 socket's IP_PKTINFO address is inet_rcv_saddr:
			// 0.0.0.0 unbound or on ::, the IPv4 address of a v4-mapped
			// binding or connection, LOOPBACK4_IPV6 (127.0.0.6) for an
			// IPv6 one.
			pktopts := func(op string, s harness.Sock) {
				buf := make([]byte, 128)
				got, err := s.GetSockOpt(unix.IPPROTO_IP, unix.IP_PKTOPTIONS, buf)
				e.Rec(op, err, got, harness.Cmsgs(buf[:max(0, min(got, len(buf)))]))
			}
			open := func() harness.Sock {
				s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_STREAM, 0)
				e.SetInt("IP_PKTINFO 1", s, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
				e.SetInt("IP_RECVTTL 1", s, unix.IPPROTO_IP, unix.IP_RECVTTL, 1)
				return s
			}
			pktopts("fresh", open())
			any6 := open()
			e.Check("bind ::", any6.Bind(sa6(netip.IPv6Unspecified(), e.BasePort)))
			pktopts("bound ::", any6)
			lo6 := open()
			e.Check("bind ::1", lo6.Bind(sa6(v6Loopback, e.BasePort+1)))
			pktopts("bound ::1", lo6)
			m := open()
			e.Check("bind v4-mapped", m.Bind(sa6(netip.AddrFrom16(e.DUTAddr.As16()), e.BasePort+2)))
			pktopts("bound v4-mapped", m)

			peerListener(e, e.BasePort+3)
			c := open()
			e.Check("connect v4-mapped", c.Connect(sa6(netip.AddrFrom16(e.PeerAddr.As16()), e.BasePort+3)))
			pktopts("connected v4-mapped", c)
			e.Check("listen ::1", lo6.Listen(4))
			c6 := open()
			e.Check("connect ::1", c6.Connect(sa6(v6Loopback, e.BasePort+1)))
			pktopts("connected ::1", c6)
			a, _, err := lo6.Accept(0)
			e.Check("accept", err)
			pktopts("accepted ::1", a)
		}},
	}
}

// tcpoptRecNum records IP_PROTOCOL: an ephemeral port as its token, a
// ping identifier (random, outside the port range) only as non-zero.
func tcpoptRecNum(e *harness.Env, op string, s harness.Sock, random bool) {
	buf := make([]byte, 4)
	n, err := s.GetSockOpt(unix.IPPROTO_IP, unix.IP_PROTOCOL, buf)
	v := int(binary.NativeEndian.Uint32(buf))
	if random {
		e.Rec(op, err, n, v != 0)
		return
	}
	e.Rec(op, err, n, e.Port(v))
}

// tcpoptKinds are the socket kinds the SOL_SOCKET options are probed on.
var tcpoptKinds = []struct {
	name       string
	typ, proto int
}{
	{"tcp", unix.SOCK_STREAM, 0},
	{"udp", unix.SOCK_DGRAM, 0},
	{"raw", unix.SOCK_RAW, unix.IPPROTO_ICMP},
}

func tcpoptSocketScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "tcpopt/so-peer-identity", Run: func(e *harness.Env) {
			for _, k := range tcpoptKinds {
				s := e.Socket(e.DUT, unix.AF_INET, k.typ, k.proto)
				for _, n := range []int{0, 4, 11, 12, 16} {
					getOptBytes(e, fmt.Sprintf("%s SO_PEERCRED %d", k.name, n), s, unix.SOL_SOCKET, unix.SO_PEERCRED, n)
				}
				getOptBytes(e, k.name+" SO_PEERGROUPS", s, unix.SOL_SOCKET, unix.SO_PEERGROUPS, 64)
				getOptBytes(e, k.name+" SO_PEERGROUPS 0", s, unix.SOL_SOCKET, unix.SO_PEERGROUPS, 0)
				getOptBytes(e, k.name+" SO_PEERPIDFD", s, unix.SOL_SOCKET, soPeerPidfd, 4)
				for _, o := range []int{unix.SO_PEERCRED, unix.SO_PEERGROUPS, soPeerPidfd} {
					e.SetInt(fmt.Sprintf("%s set %d", k.name, o), s, unix.SOL_SOCKET, o, 1)
				}
			}
			c, _ := tcpPairAt(e, e.BasePort)
			getOptBytes(e, "connected SO_PEERCRED", c, unix.SOL_SOCKET, unix.SO_PEERCRED, 12)
			getOptBytes(e, "connected SO_PEERGROUPS", c, unix.SOL_SOCKET, unix.SO_PEERGROUPS, 64)
		}},
		{Name: "tcpopt/so-flags", Run: func(e *harness.Env) {
			for _, k := range tcpoptKinds {
				s := e.Socket(e.DUT, unix.AF_INET, k.typ, k.proto)
				for _, o := range []struct {
					name string
					opt  int
				}{{"SO_BSDCOMPAT", unix.SO_BSDCOMPAT}, {"SO_PASSSEC", unix.SO_PASSSEC}, {"SO_PASSPIDFD", soPassPidfd},
					{"SO_PASSRIGHTS", soPassRights}, {"SO_TXREHASH", unix.SO_TXREHASH}, {"SO_BUSY_POLL", unix.SO_BUSY_POLL},
					{"SO_PREFER_BUSY_POLL", unix.SO_PREFER_BUSY_POLL}, {"SO_BUSY_POLL_BUDGET", soBusyPollBudg}} {
					op := k.name + " " + o.name
					getOptBytes(e, op+" fresh", s, unix.SOL_SOCKET, o.opt, 4)
					for _, v := range []int32{1, 0, -1, 2, 255, 100} {
						e.SetInt(fmt.Sprintf("%s set %d", op, v), s, unix.SOL_SOCKET, o.opt, v)
						getOptBytes(e, op+" get", s, unix.SOL_SOCKET, o.opt, 4)
					}
					e.Rec(op+" set optlen 2", s.SetSockOpt(unix.SOL_SOCKET, o.opt, []byte{1, 0}))
					getOptBytes(e, op+" get 2", s, unix.SOL_SOCKET, o.opt, 2)
				}
			}
		}},
		{Name: "tcpopt/so-select-err-queue", Run: func(e *harness.Env) {
			for _, k := range tcpoptKinds {
				s := e.Socket(e.DUT, unix.AF_INET, k.typ, k.proto)
				op := k.name + " SO_SELECT_ERR_QUEUE"
				getOptBytes(e, op+" fresh", s, unix.SOL_SOCKET, unix.SO_SELECT_ERR_QUEUE, 4)
				tcpoptSetGet(e, op, s, unix.SOL_SOCKET, unix.SO_SELECT_ERR_QUEUE, 1, 5, 0, -1)
				e.Rec(op+" set optlen 2", s.SetSockOpt(unix.SOL_SOCKET, unix.SO_SELECT_ERR_QUEUE, []byte{1, 0}))
			}
			// EPOLLPRI joins EPOLLERR for a pending error (a connected
			// socket's ECONNREFUSED) and for a queued one (IP_RECVERR).
			for i, c := range []struct {
				name    string
				recverr bool
				sel     int32
			}{{"pending", false, 0}, {"pending", false, 1}, {"queued", true, 0}, {"queued", true, 1}} {
				u := dutUDP(e, e.BasePort+i)
				if c.recverr {
					e.SetInt("IP_RECVERR", u, unix.SOL_IP, unix.IP_RECVERR, 1)
				}
				e.SetInt(fmt.Sprintf("SO_SELECT_ERR_QUEUE %d", c.sel), u, unix.SOL_SOCKET, unix.SO_SELECT_ERR_QUEUE, c.sel)
				e.Check("connect", u.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort+9)))
				send(e, "send to a closed port", u, []byte("x"), nil, 0)
				r, _ := u.Poll(unix.EPOLLIN|unix.EPOLLPRI, 2*time.Second)
				e.Rec(fmt.Sprintf("%s error, flag %d: events", c.name, c.sel), fmt.Sprintf("%#x", r))
			}
		}},
		{Name: "tcpopt/so-buf-lock", Run: func(e *harness.Env) {
			for _, k := range tcpoptKinds {
				s := e.Socket(e.DUT, unix.AF_INET, k.typ, k.proto)
				op := k.name + " SO_BUF_LOCK"
				getOptBytes(e, op+" fresh", s, unix.SOL_SOCKET, unix.SO_BUF_LOCK, 4)
				for _, v := range []int32{1, 2, 3, 0, 4, -1} {
					e.SetInt(fmt.Sprintf("%s set %d", op, v), s, unix.SOL_SOCKET, unix.SO_BUF_LOCK, v)
					getOptBytes(e, op+" get", s, unix.SOL_SOCKET, unix.SO_BUF_LOCK, 4)
				}
				e.SetInt(k.name+" SO_SNDBUF", s, unix.SOL_SOCKET, unix.SO_SNDBUF, 65536)
				getOptBytes(e, op+" after SO_SNDBUF", s, unix.SOL_SOCKET, unix.SO_BUF_LOCK, 4)
				e.SetInt(k.name+" SO_RCVBUF", s, unix.SOL_SOCKET, unix.SO_RCVBUF, 65536)
				getOptBytes(e, op+" after SO_RCVBUF", s, unix.SOL_SOCKET, unix.SO_BUF_LOCK, 4)
				e.SetInt(op+" set 0", s, unix.SOL_SOCKET, unix.SO_BUF_LOCK, 0)
				getOptBytes(e, op+" get", s, unix.SOL_SOCKET, unix.SO_BUF_LOCK, 4)
				e.GetInt(k.name+" SO_RCVBUF", s, unix.SOL_SOCKET, unix.SO_RCVBUF)
			}
			l := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.SetInt("listener SO_BUF_LOCK 2", l, unix.SOL_SOCKET, unix.SO_BUF_LOCK, 2)
			e.Check("bind", l.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort)))
			e.Check("listen", l.Listen(4))
			p := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("peer connect", p.Connect(harness.Sockaddr(e.DUTAddr, e.BasePort)))
			harness.WaitReadable(l, 2*time.Second)
			a, _, err := l.Accept(0)
			e.Check("accept", err)
			getOptBytes(e, "accepted SO_BUF_LOCK", a, unix.SOL_SOCKET, unix.SO_BUF_LOCK, 4)
		}},
		{Name: "tcpopt/so-timeo-new", Run: func(e *harness.Env) {
			tv := func(sec, usec int64) []byte {
				b := make([]byte, 16)
				binary.NativeEndian.PutUint64(b, uint64(sec))
				binary.NativeEndian.PutUint64(b[8:], uint64(usec))
				return b
			}
			for _, k := range tcpoptKinds {
				s := e.Socket(e.DUT, unix.AF_INET, k.typ, k.proto)
				for _, o := range []struct {
					name     string
					set, alt int
				}{{"RCVTIMEO_NEW", unix.SO_RCVTIMEO_NEW, unix.SO_RCVTIMEO_OLD}, {"SNDTIMEO_NEW", unix.SO_SNDTIMEO_NEW, unix.SO_SNDTIMEO_OLD}} {
					op := k.name + " " + o.name
					getOptBytes(e, op+" fresh", s, unix.SOL_SOCKET, o.set, 16)
					for _, v := range [][2]int64{{1, 500000}, {0, 1}, {2, 1000000}, {-1, 0}, {0, 0}, {3, -1}, {0, 4001}} {
						e.Rec(fmt.Sprintf("%s set %d.%06d", op, v[0], v[1]), s.SetSockOpt(unix.SOL_SOCKET, o.set, tv(v[0], v[1])))
						getOptBytes(e, op+" get", s, unix.SOL_SOCKET, o.set, 16)
						getOptBytes(e, op+" get old", s, unix.SOL_SOCKET, o.alt, 16)
					}
					e.Rec(op+" set optlen 8", s.SetSockOpt(unix.SOL_SOCKET, o.set, tv(1, 0)[:8]))
					e.Rec(op+" set optlen 24", s.SetSockOpt(unix.SOL_SOCKET, o.set, append(tv(7, 0), make([]byte, 8)...)))
					for _, n := range []int{0, 8, 15, 16, 32} {
						getOptBytes(e, fmt.Sprintf("%s get %d", op, n), s, unix.SOL_SOCKET, o.set, n)
					}
					e.Rec(op+" set via old", s.SetSockOpt(unix.SOL_SOCKET, o.alt, tv(5, 250000)))
					getOptBytes(e, op+" get", s, unix.SOL_SOCKET, o.set, 16)
				}
			}
			// A blocking read gives up after the new-style timeout.
			u := dutUDP(e, e.BasePort)
			e.Rec("set RCVTIMEO_NEW 0.2s", u.SetSockOpt(unix.SOL_SOCKET, unix.SO_RCVTIMEO_NEW, tv(0, 200000)))
			t0 := time.Now()
			_, _, _, _, err := u.RecvMsg(make([]byte, 8), nil, 0)
			e.Rec("blocking recv", err, tcpoptBucket(time.Since(t0), 150*time.Millisecond, 800*time.Millisecond))
		}},
	}
}
