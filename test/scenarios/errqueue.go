package scenarios

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// icmpForger is a raw ICMP socket on the peer that sends the DUT ICMP
// errors quoting datagrams the DUT could have sent: every type and code,
// parameter problems and MTUs a real router would rarely produce.
type icmpForger struct {
	e   *harness.Env
	s   harness.Sock
	seq uint16 // of the barrier pings
}

func newForger(e *harness.Env) *icmpForger {
	return &icmpForger{e: e, s: e.Socket(e.Peer, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)}
}

// quote is an IPv4+UDP datagram from src to dst carrying payload, as an
// ICMP error quotes it.
func quote(src, dst netip.AddrPort, payload []byte) []byte {
	n := 28 + len(payload)
	b := make([]byte, n)
	b[0], b[8], b[9] = 0x45, 63, unix.IPPROTO_UDP
	binary.BigEndian.PutUint16(b[2:], uint16(n))
	binary.BigEndian.PutUint16(b[4:], 0x4242)
	binary.BigEndian.PutUint16(b[6:], 0x4000)
	s, d := src.Addr().As4(), dst.Addr().As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	binary.BigEndian.PutUint16(b[10:], checksum(b[:20]))
	binary.BigEndian.PutUint16(b[20:], src.Port())
	binary.BigEndian.PutUint16(b[22:], dst.Port())
	binary.BigEndian.PutUint16(b[24:], uint16(8+len(payload)))
	copy(b[28:], payload)
	return b
}

// send sends an ICMP message of type/code with the 4 bytes after the
// checksum set to rest, quoting q; badSum corrupts the checksum.
func (f *icmpForger) send(typ, code byte, rest uint32, q []byte, badSum bool) {
	b := make([]byte, 8+len(q))
	b[0], b[1] = typ, code
	binary.BigEndian.PutUint32(b[4:], rest)
	copy(b[8:], q)
	sum := checksum(b)
	if badSum {
		sum ^= 0x5555
	}
	binary.BigEndian.PutUint16(b[2:], sum)
	if _, err := f.s.SendMsg(b, nil, harness.Sockaddr(f.e.DUTAddr, 0), 0); err != nil {
		f.e.Rec("forge send", err)
	}
	f.barrier()
}

// barrier returns once the DUT has handled everything forged so far: it
// pings the DUT and waits for the reply, which both stacks send only after
// the frames before the request (one link, handled in order). A fixed
// sleep instead lost messages on a loaded machine. Bounded at 2 s; a lost
// reply only leaves the scenario's own settle time.
func (f *icmpForger) barrier() {
	f.seq++
	req := []byte{8, 0, 0, 0, 0xfb, 0x5e, byte(f.seq >> 8), byte(f.seq)}
	binary.BigEndian.PutUint16(req[2:], checksum(req))
	if _, err := f.s.SendMsg(req, nil, harness.Sockaddr(f.e.DUTAddr, 0), 0); err != nil {
		return
	}
	deadline := time.Now().Add(2 * time.Second)
	buf := make([]byte, 1500)
	for i := 0; i < 64 && time.Now().Before(deadline); i++ {
		if r, _ := f.s.Poll(unix.EPOLLIN, time.Until(deadline)); r == 0 {
			return
		}
		n, _, _, _, err := f.s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil || n < 20 {
			continue
		}
		ihl := int(buf[0]&0xf) * 4
		if icmp := buf[ihl:n]; len(icmp) >= 8 && icmp[0] == 0 &&
			icmp[4] == 0xfb && icmp[5] == 0x5e && binary.BigEndian.Uint16(icmp[6:]) == f.seq {
			return
		}
	}
}

// fragNeeded is the "rest" of a frag-needed carrying mtu.
func fragNeeded(mtu uint16) uint32 { return uint32(mtu) }

// settle gives an injected ICMP message time to arrive (bounded).
func settle() { time.Sleep(100 * time.Millisecond) }

// errAddrs returns the DUT's fixed test address and the quoted
// destination: an address on the peer link that no host owns, different
// per scenario, because both DUTs keep a learnt path MTU for the whole run.
func errAddrs(e *harness.Env) (src, dst netip.AddrPort) {
	host := byte(100 + (e.BasePort/10)%100)
	return netip.AddrPortFrom(e.DUTAddr, uint16(e.BasePort)), netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, 0, host}), uint16(e.BasePort+1))
}

// recvErrOOB reads one error with a payload buffer of n bytes and an oob
// buffer of oobLen bytes, without waiting.
func recvErrOOB(e *harness.Env, op string, s harness.Sock, n, oobLen int) {
	buf, oob := make([]byte, n), make([]byte, oobLen)
	got, oobn, fl, from, err := s.RecvMsg(buf, oob, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
	if err != nil {
		e.Rec(op, err)
		return
	}
	e.Rec(op, got, fmt.Sprintf("flags=%#x", fl), e.SA(from), harness.Cmsgs(oob[:oobn]), buf[:min(got, len(buf))])
}

// pollNow records the socket's readiness without waiting.
func pollNow(e *harness.Env, op string, s harness.Sock) {
	r, err := s.Poll(unix.EPOLLIN|unix.EPOLLOUT, time.Millisecond)
	e.Rec(op, err, r)
}

// unreachCode checks one destination-unreachable code on an unconnected
// IP_RECVERR socket (queued with its errno) and on a connected socket
// without it (pending error only when the code is fatal).
func unreachCode(code byte) harness.Scenario {
	return harness.Scenario{Name: fmt.Sprintf("errqueue/unreach-code-%d", code), Run: func(e *harness.Env) {
		src, dst := errAddrs(e)
		f := newForger(e)
		s := dutUDP(e, e.BasePort)
		e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
		f.send(3, code, 0, quote(src, dst, []byte("unreach")), false)
		settle()
		pollNow(e, "poll", s)
		recvErrOOB(e, "errqueue", s, 64, 128)
		e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
		s.Close()

		c := dutUDP(e, e.BasePort)
		e.Rec("connect", c.Connect(harness.Sockaddr(dst.Addr(), int(dst.Port()))))
		f.send(3, code, 0, quote(src, dst, []byte("unreach")), false)
		settle()
		pollNow(e, "connected poll", c)
		e.GetInt("connected SO_ERROR", c, unix.SOL_SOCKET, unix.SO_ERROR)
		recvErrOOB(e, "connected errqueue", c, 64, 128)
	}}
}

// forgedOne sends one forged message to an IP_RECVERR socket and records
// what the socket got.
func forgedOne(name string, typ, code byte, rest uint32, badSum bool) harness.Scenario {
	return harness.Scenario{Name: "errqueue/" + name, Run: func(e *harness.Env) {
		src, dst := errAddrs(e)
		f := newForger(e)
		s := dutUDP(e, e.BasePort)
		e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
		e.Rec("connect", s.Connect(harness.Sockaddr(dst.Addr(), int(dst.Port()))))
		f.send(typ, code, rest, quote(src, dst, []byte("forged payload")), badSum)
		settle()
		pollNow(e, "poll", s)
		recvErrOOB(e, "errqueue", s, 64, 128)
		e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
		send(e, "send", s, []byte("x"), nil, 0)
	}}
}

func errQueueScenarios() []harness.Scenario {
	var scs []harness.Scenario
	for code := byte(0); code <= 16; code++ {
		scs = append(scs, unreachCode(code))
	}
	scs = append(scs,
		forgedOne("param-problem", 12, 0, 0x17000000, false),
		forgedOne("param-problem-code-1", 12, 1, 0x00000000, false),
		forgedOne("time-exceeded-ttl", 11, 0, 0, false),
		forgedOne("time-exceeded-reassembly", 11, 1, 0, false),
		forgedOne("source-quench-ignored", 4, 0, 0, false),
		forgedOne("redirect-ignored", 5, 1, 0xc6120063, false),
		forgedOne("bad-checksum-dropped", 3, 3, 0, true),
		forgedOne("unknown-type-ignored", 40, 0, 0, false),
		forgedOne("frag-needed-1000", 3, 4, fragNeeded(1000), false),
		forgedOne("frag-needed-mtu-0", 3, 4, 0, false),
	)
	scs = append(scs, moreErrQueueScenarios()...)
	scs = append(scs, pmtuScenarios()...)
	scs = append(scs, rawPingScenarios()...)
	scs = append(scs, rfc4884Scenarios()...)
	scs = append(scs, localRawPingScenarios()...)
	return scs
}

func moreErrQueueScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "errqueue/empty-and-flags", Run: func(e *harness.Env) {
			s := dutUDP(e, e.BasePort)
			recvErrOOB(e, "no IP_RECVERR", s, 8, 64)
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			recvErrOOB(e, "empty", s, 8, 64)
			_, _, _, _, err := s.RecvMsg(make([]byte, 8), nil, unix.MSG_ERRQUEUE|unix.MSG_PEEK|unix.MSG_DONTWAIT)
			e.Rec("peek empty", err)
			pollNow(e, "poll", s)
		}},
		{Name: "errqueue/option-lengths", Run: func(e *harness.Env) {
			s := dutUDP(e, e.BasePort)
			e.Rec("set 1 byte", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_RECVERR, []byte{1}))
			buf := make([]byte, 1)
			n, err := s.GetSockOpt(unix.IPPROTO_IP, unix.IP_RECVERR, buf)
			e.Rec("get 1 byte", err, n, buf[:max(n, 0)])
			e.Rec("set empty", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_RECVERR, nil))
			e.GetInt("get", s, unix.IPPROTO_IP, unix.IP_RECVERR)
			e.SetInt("set 7", s, unix.IPPROTO_IP, unix.IP_RECVERR, 7)
			e.GetInt("get", s, unix.IPPROTO_IP, unix.IP_RECVERR)
			e.GetInt("RFC4884 default", s, unix.IPPROTO_IP, unix.IP_RECVERR_RFC4884)
			e.SetInt("RFC4884 1", s, unix.IPPROTO_IP, unix.IP_RECVERR_RFC4884, 1)
			e.SetInt("RFC4884 2", s, unix.IPPROTO_IP, unix.IP_RECVERR_RFC4884, 2)
			e.SetInt("RFC4884 -1", s, unix.IPPROTO_IP, unix.IP_RECVERR_RFC4884, -1)
			e.GetInt("RFC4884", s, unix.IPPROTO_IP, unix.IP_RECVERR_RFC4884)
		}},
		{Name: "errqueue/cmsgs-with-error", Run: func(e *harness.Env) {
			src, dst := errAddrs(e)
			f := newForger(e)
			s := dutUDP(e, e.BasePort)
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			for _, o := range []struct {
				l string
				n int
			}{{"IP_PKTINFO", unix.IP_PKTINFO}, {"IP_RECVTTL", unix.IP_RECVTTL}, {"IP_RECVTOS", unix.IP_RECVTOS}} {
				e.SetInt(o.l, s, unix.IPPROTO_IP, o.n, 1)
			}
			e.SetInt("peer IP_TTL", f.s, unix.IPPROTO_IP, unix.IP_TTL, 37)
			e.SetInt("peer IP_TOS", f.s, unix.IPPROTO_IP, unix.IP_TOS, 0x20)
			f.send(3, 1, 0, quote(src, dst, []byte("cmsgs")), false)
			settle()
			recvErrOOB(e, "errqueue", s, 64, 256)
		}},
		{Name: "errqueue/cmsgs-timestamp-origdst", Run: func(e *harness.Env) {
			src, dst := errAddrs(e)
			f := newForger(e)
			s := dutUDP(e, e.BasePort)
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			e.SetInt("SO_TIMESTAMP", s, unix.SOL_SOCKET, unix.SO_TIMESTAMP, 1)
			e.SetInt("IP_RECVORIGDSTADDR", s, unix.IPPROTO_IP, unix.IP_RECVORIGDSTADDR, 1)
			f.send(11, 0, 0, quote(src, dst, []byte("\x00\x01\x02\x03stamp")), false)
			f.send(11, 0, 0, quote(src, dst, []byte("ab")), false)
			settle()
			recvErrOOB(e, "errqueue", s, 64, 256)
			recvErrOOB(e, "errqueue short payload", s, 64, 256)
		}},
		{Name: "errqueue/local-error-cmsgs", Run: func(e *harness.Env) {
			s := dutUDP(e, e.BasePort)
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			e.SetInt("IP_PKTINFO", s, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
			e.SetInt("IP_RECVTTL", s, unix.IPPROTO_IP, unix.IP_RECVTTL, 1)
			e.SetInt("IP_MTU_DISCOVER do", s, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DO)
			send(e, "sendto 2000", s, make([]byte, 2000), harness.Sockaddr(e.PeerAddr, e.BasePort+1), 0)
			pollNow(e, "poll", s)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
			recvErrOOB(e, "errqueue", s, 64, 256)
		}},
		{Name: "errqueue/local-error-modes", Run: func(e *harness.Env) {
			peerUDP(e, e.BasePort+1) // no port unreachable racing the local errors
			s := dutUDP(e, e.BasePort)
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			to := harness.Sockaddr(e.PeerAddr, e.BasePort+1)
			for _, mode := range []int32{unix.IP_PMTUDISC_DONT, unix.IP_PMTUDISC_WANT, unix.IP_PMTUDISC_DO, unix.IP_PMTUDISC_PROBE, unix.IP_PMTUDISC_INTERFACE, unix.IP_PMTUDISC_OMIT} {
				e.SetInt(fmt.Sprintf("IP_MTU_DISCOVER %d", mode), s, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, mode)
				send(e, "send 1600", s, make([]byte, 1600), to, 0)
				recvErrOOB(e, "errqueue", s, 8, 128)
				send(e, "send 65508", s, make([]byte, 65508), to, 0)
				recvErrOOB(e, "errqueue", s, 8, 128)
				send(e, "send 65536", s, make([]byte, 65536), to, 0)
				recvErrOOB(e, "errqueue", s, 8, 128)
			}
		}},
		{Name: "errqueue/local-error-loopback", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			e.SetInt("IP_MTU_DISCOVER do", s, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DO)
			e.Rec("connect", s.Connect(harness.Sockaddr(loopback, e.BasePort)))
			e.GetInt("IP_MTU", s, unix.IPPROTO_IP, unix.IP_MTU)
			send(e, "send 65508", s, make([]byte, 65508), nil, 0)
			recvErrOOB(e, "errqueue", s, 8, 128)
		}},
		{Name: "errqueue/truncation", Run: func(e *harness.Env) {
			src, dst := errAddrs(e)
			f := newForger(e)
			s := dutUDP(e, e.BasePort)
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			for i := 0; i < 4; i++ {
				f.send(3, 1, 0, quote(src, dst, []byte("0123456789abcdef")), false)
			}
			settle()
			recvErrOOB(e, "payload cut", s, 5, 128)
			recvErrOOB(e, "no payload buffer", s, 0, 128)
			recvErrOOB(e, "oob cut", s, 64, 40)
			n, oobn, fl, _, err := s.RecvMsg(make([]byte, 4), make([]byte, 64), unix.MSG_ERRQUEUE|unix.MSG_TRUNC|unix.MSG_DONTWAIT)
			e.Rec("MSG_TRUNC", err, n, oobn, fmt.Sprintf("flags=%#x", fl))
			recvErrOOB(e, "drained", s, 64, 128)
		}},
		{Name: "errqueue/order-and-so-error", Run: func(e *harness.Env) {
			src, dst := errAddrs(e)
			f := newForger(e)
			s := dutUDP(e, e.BasePort)
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			f.send(3, 1, 0, quote(src, dst, []byte("first")), false)
			f.send(3, 3, 0, quote(src, dst, []byte("second")), false)
			f.send(11, 0, 0, quote(src, dst, []byte("third")), false)
			settle()
			pollNow(e, "poll", s)
			recvErrOOB(e, "errqueue 1", s, 64, 128)
			pollNow(e, "poll", s)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
			recvErrOOB(e, "errqueue 2", s, 64, 128)
			pollNow(e, "poll", s)
			recvErrOOB(e, "errqueue 3", s, 64, 128)
			pollNow(e, "poll", s)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
		}},
		{Name: "errqueue/pending-error-next-calls", Run: func(e *harness.Env) {
			src, _ := errAddrs(e)
			dst := netip.AddrPortFrom(e.PeerAddr, uint16(e.BasePort+1))
			f := newForger(e)
			p := peerUDP(e, e.BasePort+1)
			s := dutUDP(e, e.BasePort)
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			f.send(3, 1, 0, quote(src, dst, []byte("soft")), false)
			settle()
			_, _, _, _, err := s.RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT)
			e.Rec("recv", err)
			_, _, _, _, err = s.RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT)
			e.Rec("recv again", err)
			f.send(3, 3, 0, quote(src, dst, []byte("hard")), false)
			settle()
			send(e, "sendto", s, []byte("x"), harness.Sockaddr(dst.Addr(), int(dst.Port())), 0)
			send(e, "sendto again", s, []byte("y"), harness.Sockaddr(dst.Addr(), int(dst.Port())), 0)
			e.RecvDgram("peer recv", p, 8, 0)
			recvErrOOB(e, "errqueue 1", s, 64, 128)
			recvErrOOB(e, "errqueue 2", s, 64, 128)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
		}},
		{Name: "errqueue/no-recverr-unconnected-ignored", Run: func(e *harness.Env) {
			src, dst := errAddrs(e)
			f := newForger(e)
			s := dutUDP(e, e.BasePort)
			f.send(3, 3, 0, quote(src, dst, []byte("hard")), false)
			f.send(12, 0, 0, quote(src, dst, []byte("param")), false)
			settle()
			pollNow(e, "poll", s)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
			recvErrOOB(e, "errqueue", s, 64, 128)
		}},
		{Name: "errqueue/connected-other-peer-ignored", Run: func(e *harness.Env) {
			src, dst := errAddrs(e)
			f := newForger(e)
			s := dutUDP(e, e.BasePort)
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			e.Rec("connect", s.Connect(harness.Sockaddr(dst.Addr(), int(dst.Port())+1)))
			f.send(3, 3, 0, quote(src, dst, []byte("not mine")), false)
			other := netip.AddrPortFrom(e.DUTAddr, uint16(e.BasePort+2))
			f.send(3, 3, 0, quote(other, dst, []byte("other port")), false)
			settle()
			pollNow(e, "poll", s)
			recvErrOOB(e, "errqueue", s, 64, 128)
		}},
		{Name: "errqueue/wildcard-bound", Run: func(e *harness.Env) {
			src, dst := errAddrs(e)
			f := newForger(e)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("bind", s.Bind(harness.Sockaddr(anyAddr, e.BasePort)))
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			f.send(3, 10, 0, quote(src, dst, []byte("wild")), false)
			settle()
			recvErrOOB(e, "errqueue", s, 64, 128)
		}},
		{Name: "errqueue/purge-on-off", Run: func(e *harness.Env) {
			src, dst := errAddrs(e)
			f := newForger(e)
			s := dutUDP(e, e.BasePort)
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			f.send(3, 1, 0, quote(src, dst, []byte("a")), false)
			f.send(3, 1, 0, quote(src, dst, []byte("b")), false)
			settle()
			pollNow(e, "poll", s)
			e.SetInt("IP_RECVERR 0", s, unix.IPPROTO_IP, unix.IP_RECVERR, 0)
			pollNow(e, "poll after off", s)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
			recvErrOOB(e, "errqueue", s, 64, 128)
			e.SetInt("IP_RECVERR 1", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			recvErrOOB(e, "errqueue", s, 64, 128)
		}},
		{Name: "errqueue/rcvbuf-bound", Run: func(e *harness.Env) {
			src, dst := errAddrs(e)
			f := newForger(e)
			s := dutUDP(e, e.BasePort)
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			e.SetInt("SO_RCVBUF", s, unix.SOL_SOCKET, unix.SO_RCVBUF, 1)
			for i := 0; i < 12; i++ {
				f.send(3, 1, 0, quote(src, dst, bytes.Repeat([]byte{byte(i)}, 100)), false)
			}
			settle()
			count := 0
			for i := 0; i < 16; i++ {
				if _, _, _, _, err := s.RecvMsg(make([]byte, 8), nil, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT); err != nil {
					break
				}
				count++
			}
			e.Rec("queued", count)
		}},
		{Name: "errqueue/tcp", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			e.GetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR)
			recvErrOOB(e, "errqueue unconnected", s, 8, 64)
			e.Rec("connect closed port", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort+1)))
			recvErrOOB(e, "errqueue", s, 8, 64)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
		}},
		{Name: "errqueue/real-port-unreachable-cmsgs", Run: func(e *harness.Env) {
			s := dutUDP(e, 0)
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			e.SetInt("IP_PKTINFO", s, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
			e.SetInt("IP_RECVTTL", s, unix.IPPROTO_IP, unix.IP_RECVTTL, 1)
			e.SetInt("IP_RECVTOS", s, unix.IPPROTO_IP, unix.IP_RECVTOS, 1)
			e.SetInt("IP_TOS", s, unix.IPPROTO_IP, unix.IP_TOS, 0x10)
			send(e, "send far closed port", s, []byte("knock"), harness.Sockaddr(e.FarAddrs[0], e.BasePort), 0)
			recvErrQueue(e, "errqueue", s)
		}},
		{Name: "errqueue/ttl-expiry-on-connected-no-recverr-then-on", Run: func(e *harness.Env) {
			s := dutUDP(e, 0)
			e.SetInt("IP_TTL 1", s, unix.IPPROTO_IP, unix.IP_TTL, 1)
			e.Rec("connect far", s.Connect(harness.Sockaddr(e.FarAddrs[1], e.BasePort)))
			send(e, "send", s, []byte("ttl"), nil, 0)
			time.Sleep(200 * time.Millisecond)
			pollNow(e, "poll", s)
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			send(e, "send", s, []byte("ttl2"), nil, 0)
			recvErrQueue(e, "errqueue", s)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
			send(e, "send again", s, []byte("ttl3"), nil, 0)
			time.Sleep(200 * time.Millisecond)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
			recvErrQueue(e, "errqueue", s)
		}},
	}
}

// pmtuScenarios check the path-MTU cache: what frag-needed does to
// IP_MTU, DF and fragment sizes per IP_MTU_DISCOVER mode.
func pmtuScenarios() []harness.Scenario {
	learn := func(e *harness.Env, f *icmpForger, mtu uint16) {
		src, dst := errAddrs(e)
		f.send(3, 4, fragNeeded(mtu), quote(src, dst, []byte("big")), false)
		settle()
	}
	withLearnt := func(name string, mtu uint16, body func(e *harness.Env, s harness.Sock)) harness.Scenario {
		return harness.Scenario{Name: "pmtu/" + name, Run: func(e *harness.Env) {
			_, dst := errAddrs(e)
			f := newForger(e)
			s := dutUDP(e, e.BasePort)
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			e.Rec("connect", s.Connect(harness.Sockaddr(dst.Addr(), int(dst.Port()))))
			e.GetInt("IP_MTU before", s, unix.IPPROTO_IP, unix.IP_MTU)
			learn(e, f, mtu)
			e.GetInt("IP_MTU after", s, unix.IPPROTO_IP, unix.IP_MTU)
			recvErrOOB(e, "errqueue", s, 8, 128)
			body(e, s)
		}}
	}
	sizes := func(e *harness.Env, s harness.Sock) {
		tap := peerTap(e, unix.IPPROTO_UDP)
		_ = tap
		for _, mode := range []int32{unix.IP_PMTUDISC_DONT, unix.IP_PMTUDISC_WANT, unix.IP_PMTUDISC_DO, unix.IP_PMTUDISC_PROBE, unix.IP_PMTUDISC_INTERFACE, unix.IP_PMTUDISC_OMIT} {
			e.SetInt(fmt.Sprintf("IP_MTU_DISCOVER %d", mode), s, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, mode)
			for _, n := range []int{900, 1100, 1400, 1472, 1473} {
				send(e, fmt.Sprintf("send %d", n), s, make([]byte, n), nil, 0)
			}
			recvErrOOB(e, "errqueue", s, 8, 128)
			recvErrOOB(e, "errqueue", s, 8, 128)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
		}
	}
	return []harness.Scenario{
		withLearnt("learn-1000-modes", 1000, sizes),
		withLearnt("learn-below-min", 300, sizes),
		withLearnt("learn-above-route", 9000, sizes),
		withLearnt("learn-then-raise-ignored", 1000, func(e *harness.Env, s harness.Sock) {
			learn(e, newForger(e), 1200)
			e.GetInt("IP_MTU after raise", s, unix.IPPROTO_IP, unix.IP_MTU)
			learn(e, newForger(e), 800)
			e.GetInt("IP_MTU after lower", s, unix.IPPROTO_IP, unix.IP_MTU)
		}),
		withLearnt("shared-by-destination", 1000, func(e *harness.Env, s harness.Sock) {
			_, dst := errAddrs(e)
			o := dutUDP(e, e.BasePort+3)
			e.Rec("other connect same host", o.Connect(harness.Sockaddr(dst.Addr(), e.BasePort+7)))
			e.GetInt("other IP_MTU", o, unix.IPPROTO_IP, unix.IP_MTU)
			t := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("connect far", t.Connect(harness.Sockaddr(e.FarAddrs[4], e.BasePort)))
			e.GetInt("far IP_MTU", t, unix.IPPROTO_IP, unix.IP_MTU)
		}),
		{Name: "pmtu/dont-mode-frag-needed", Run: func(e *harness.Env) {
			_, dst := errAddrs(e)
			f := newForger(e)
			s := dutUDP(e, e.BasePort)
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			e.SetInt("IP_MTU_DISCOVER dont", s, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DONT)
			e.Rec("connect", s.Connect(harness.Sockaddr(dst.Addr(), int(dst.Port()))))
			learn(e, f, 1100)
			pollNow(e, "poll", s)
			recvErrOOB(e, "errqueue", s, 8, 128)
			e.GetInt("IP_MTU", s, unix.IPPROTO_IP, unix.IP_MTU)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
		}},
		{Name: "pmtu/no-socket-no-learning", Run: func(e *harness.Env) {
			_, dst := errAddrs(e)
			f := newForger(e)
			learn(e, f, 1000)
			s := dutUDP(e, e.BasePort+4)
			e.Rec("connect", s.Connect(harness.Sockaddr(dst.Addr(), int(dst.Port()))))
			e.GetInt("IP_MTU", s, unix.IPPROTO_IP, unix.IP_MTU)
		}},
		{Name: "pmtu/wire-fragments-after-learning", Run: func(e *harness.Env) {
			src, _ := errAddrs(e)
			dst := netip.AddrPortFrom(e.FarAddrs[5], uint16(e.BasePort+1))
			f := newForger(e)
			tap := e.Socket(e.Peer, unix.AF_PACKET, unix.SOCK_DGRAM, int(htons(unix.ETH_P_IP)))
			s := dutUDP(e, e.BasePort)
			e.Rec("connect", s.Connect(harness.Sockaddr(dst.Addr(), int(dst.Port()))))
			f.send(3, 4, fragNeeded(1000), quote(src, dst, []byte("big")), false)
			settle()
			e.GetInt("IP_MTU", s, unix.IPPROTO_IP, unix.IP_MTU)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
			far := farUDP(e, 5, e.BasePort+1)
			for _, mode := range []int32{unix.IP_PMTUDISC_WANT, unix.IP_PMTUDISC_DONT, unix.IP_PMTUDISC_PROBE, unix.IP_PMTUDISC_OMIT} {
				e.SetInt(fmt.Sprintf("IP_MTU_DISCOVER %d", mode), s, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, mode)
				send(e, "send 1400", s, make([]byte, 1400), nil, 0)
				captureFrags(e, "wire", tap, e.DUTAddr, 4)
				e.RecvDgram("far recv", far, 0, unix.MSG_TRUNC)
			}
			e.GetInt("IP_MTU", s, unix.IPPROTO_IP, unix.IP_MTU)
		}},
	}
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// captureFrags reads up to n IPv4 packets from src off an AF_PACKET tap
// (bounded) and records their headers.
func captureFrags(e *harness.Env, op string, tap harness.Sock, src netip.Addr, n int) {
	deadline := time.Now().Add(300 * time.Millisecond)
	buf := make([]byte, 70000)
	got := 0
	for i := 0; i < 64 && got < n && time.Now().Before(deadline); i++ {
		r, _ := tap.Poll(unix.EPOLLIN, time.Until(deadline))
		if r == 0 {
			break
		}
		m, _, _, from, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		// sockaddr_ll's sll_pkttype (byte 10): only packets coming in
		// (PACKET_HOST), not the forwarded copies going out.
		if err != nil || m < 20 || len(from) < 11 || from[10] != unix.PACKET_HOST ||
			buf[9] != unix.IPPROTO_UDP || netip.AddrFrom4([4]byte(buf[12:16])) != src {
			continue
		}
		e.Rec(op, ipHeader(buf[:m]))
		got++
	}
}

// quoteProto is an IPv4 datagram of protocol proto from src to dst with
// transport bytes th, as an ICMP error quotes it.
func quoteProto(proto byte, src, dst netip.Addr, th []byte) []byte {
	b := make([]byte, 20+len(th))
	b[0], b[8], b[9] = 0x45, 1, proto
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	s, d := src.As4(), dst.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	binary.BigEndian.PutUint16(b[10:], checksum(b[:20]))
	copy(b[20:], th)
	return b
}

// pingSock is a DUT ping socket bound to DUTAddr with identifier id.
func pingSock(e *harness.Env, id int) harness.Sock {
	e.Check("set ping_group_range", e.SetSysctl(e.DUT, pingGroupRange, "0 0"))
	s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
	e.Rec("bind ident", s.Bind(harness.Sockaddr(e.DUTAddr, id)))
	return s
}

func rawPingScenarios() []harness.Scenario {
	forgedPing := func(name string, typ, code byte, rest uint32, recverr, connect bool) harness.Scenario {
		return harness.Scenario{Name: "errqueue/ping-" + name, Run: func(e *harness.Env) {
			_, dst := errAddrs(e)
			f := newForger(e)
			s := pingSock(e, e.BasePort)
			if recverr {
				e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			}
			if connect {
				e.Rec("connect", s.Connect(harness.Sockaddr(dst.Addr(), 0)))
			}
			send(e, "send echo", s, echoRequest(0, 1, []byte("ping!")), harness.Sockaddr(dst.Addr(), 0), 0)
			q := quoteProto(unix.IPPROTO_ICMP, e.DUTAddr, dst.Addr(), echoRequest(uint16(e.BasePort), 1, []byte("ping!")))
			f.send(typ, code, rest, q, false)
			settle()
			pollNow(e, "poll", s)
			recvErrOOB(e, "errqueue", s, 64, 128)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
			f.send(typ, code, rest, q, false)
			settle()
			_, _, _, _, err := s.RecvMsg(make([]byte, 64), nil, unix.MSG_DONTWAIT)
			e.Rec("recv", err)
			send(e, "send echo again", s, echoRequest(0, 2, []byte("ping!")), harness.Sockaddr(dst.Addr(), 0), 0)
			other := quoteProto(unix.IPPROTO_ICMP, e.DUTAddr, dst.Addr(), echoRequest(uint16(e.BasePort+1), 1, []byte("other")))
			f.send(typ, code, rest, other, false)
			settle()
			recvErrOOB(e, "errqueue other ident", s, 64, 128)
		}}
	}
	forgedRaw := func(name string, proto int, hdrincl, recverr, connect bool, typ, code byte) harness.Scenario {
		return harness.Scenario{Name: "errqueue/raw-" + name, Run: func(e *harness.Env) {
			src, dst := errAddrs(e)
			f := newForger(e)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, proto)
			if hdrincl {
				e.SetInt("IP_HDRINCL", s, unix.IPPROTO_IP, unix.IP_HDRINCL, 1)
			}
			if recverr {
				e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			}
			if connect {
				e.Rec("connect", s.Connect(harness.Sockaddr(dst.Addr(), 0)))
			}
			var q []byte
			if proto == unix.IPPROTO_UDP {
				q = quote(src, dst, []byte("raw udp"))
			} else {
				q = quoteProto(byte(proto), e.DUTAddr, dst.Addr(), echoRequest(0x1234, 9, []byte("raw icmp")))
			}
			f.send(typ, code, 0, q, false)
			otherDst := quoteProto(byte(proto), e.DUTAddr, netip.AddrFrom4([4]byte{198, 18, 0, 99}), q[20:])
			f.send(typ, code, 0, otherDst, false)
			settle()
			pollNow(e, "poll", s)
			recvErrOOB(e, "errqueue", s, 64, 128)
			recvErrOOB(e, "errqueue", s, 64, 128)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
		}}
	}
	return []harness.Scenario{
		forgedPing("unreach-host", 3, 1, 0, true, false),
		forgedPing("unreach-port-connected", 3, 3, 0, false, true),
		forgedPing("unreach-port-unconnected", 3, 3, 0, false, false),
		forgedPing("param-problem", 12, 0, 0x05000000, true, false),
		forgedPing("source-quench", 4, 0, 0, true, false),
		forgedPing("redirect", 5, 1, 0xc6120001, true, false),
		forgedPing("frag-needed", 3, 4, 1100, true, true),
		forgedPing("time-exceeded-connected", 11, 0, 0, false, true),
		forgedRaw("udp-recverr", unix.IPPROTO_UDP, false, true, false, 3, 3),
		forgedRaw("udp-hdrincl-recverr", unix.IPPROTO_UDP, true, true, false, 3, 1),
		forgedRaw("udp-no-recverr", unix.IPPROTO_UDP, false, false, false, 3, 3),
		forgedRaw("icmp-connected-hard", unix.IPPROTO_ICMP, false, false, true, 3, 2),
		forgedRaw("icmp-connected-soft", unix.IPPROTO_ICMP, false, false, true, 3, 0),
		forgedRaw("icmp-recverr-param", unix.IPPROTO_ICMP, false, true, false, 12, 0),
		forgedRaw("icmp-recverr-frag-needed", unix.IPPROTO_ICMP, false, true, true, 3, 4),
		{Name: "errqueue/ping-time-exceeded-real", Run: func(e *harness.Env) {
			s := pingSock(e, e.BasePort)
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			e.SetInt("IP_RECVTTL", s, unix.IPPROTO_IP, unix.IP_RECVTTL, 1)
			e.SetInt("IP_TTL 1", s, unix.IPPROTO_IP, unix.IP_TTL, 1)
			send(e, "echo far", s, echoRequest(0, 7, []byte("ttl1")), harness.Sockaddr(e.FarAddrs[0], 0), 0)
			recvErrQueue(e, "errqueue", s)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
		}},
		{Name: "errqueue/raw-icmp-time-exceeded-real", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			e.SetInt("IP_TTL 1", s, unix.IPPROTO_IP, unix.IP_TTL, 1)
			send(e, "echo far", s, echoRequest(0x4321, 7, []byte("ttl1")), harness.Sockaddr(e.FarAddrs[0], 0), 0)
			recvErrQueue(e, "errqueue", s)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
		}},
	}
}

// rfc4884Ext is an RFC 4884 extension structure (version ver) with one
// object of olen bytes, its checksum right unless badSum.
func rfc4884Ext(ver byte, olen uint16, badSum bool) []byte {
	b := []byte{ver << 4, 0, 0, 0, byte(olen >> 8), byte(olen), 1, 1, 0xde, 0xad, 0xbe, 0xef}
	sum := checksum(b)
	if badSum {
		sum ^= 0x1111
	}
	binary.BigEndian.PutUint16(b[2:], sum)
	return b
}

// rfc4884Scenarios send errors whose quote is padded to 128 bytes and
// followed by an extension structure, and record ee_data with
// IP_RECVERR_RFC4884 (offset of the extension in the data, INVALID flag).
func rfc4884Scenarios() []harness.Scenario {
	type variant struct {
		name      string
		kind      string // udp, ping, raw, rawhdr
		typ, code byte
		words     byte // RFC 4884 length field
		ext       []byte
		rfcOff    bool
		padTo     int
	}
	vs := []variant{
		{"udp-valid", "udp", 3, 1, 32, rfc4884Ext(2, 8, false), false, 128},
		{"udp-option-off", "udp", 3, 1, 32, rfc4884Ext(2, 8, false), true, 128},
		{"udp-bad-checksum", "udp", 3, 1, 32, rfc4884Ext(2, 8, true), false, 128},
		{"udp-bad-object-length", "udp", 11, 0, 32, rfc4884Ext(2, 2, false), false, 128},
		{"udp-object-overruns", "udp", 11, 0, 32, rfc4884Ext(2, 40, false), false, 128},
		{"udp-version-1", "udp", 3, 1, 32, rfc4884Ext(1, 2, true), false, 128},
		{"udp-length-below-128", "udp", 3, 1, 20, rfc4884Ext(2, 8, false), false, 80},
		{"udp-longer-original", "udp", 12, 0, 40, rfc4884Ext(2, 8, false), false, 160},
		{"udp-length-past-end", "udp", 3, 1, 60, rfc4884Ext(2, 8, false), false, 128},
		{"udp-frag-needed", "udp", 3, 4, 32, rfc4884Ext(2, 8, false), false, 128},
		{"ping-valid", "ping", 3, 1, 32, rfc4884Ext(2, 8, false), false, 128},
		{"raw-valid", "raw", 11, 0, 32, rfc4884Ext(2, 8, false), false, 128},
		{"raw-hdrincl-valid", "rawhdr", 11, 0, 32, rfc4884Ext(2, 8, false), false, 128},
	}
	var scs []harness.Scenario
	for _, v := range vs {
		v := v
		scs = append(scs, harness.Scenario{Name: "errqueue/rfc4884-" + v.name, Run: func(e *harness.Env) {
			src, dst := errAddrs(e)
			f := newForger(e)
			var s harness.Sock
			var q []byte
			switch v.kind {
			case "udp":
				s = dutUDP(e, e.BasePort)
				q = quote(src, dst, make([]byte, v.padTo-28))
			case "ping":
				s = pingSock(e, e.BasePort)
				send(e, "send echo", s, echoRequest(0, 1, nil), harness.Sockaddr(dst.Addr(), 0), 0)
				q = quoteProto(unix.IPPROTO_ICMP, e.DUTAddr, dst.Addr(), append(echoRequest(uint16(e.BasePort), 1, nil), make([]byte, v.padTo-28)...))
			default:
				s = e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
				if v.kind == "rawhdr" {
					e.SetInt("IP_HDRINCL", s, unix.IPPROTO_IP, unix.IP_HDRINCL, 1)
				}
				q = quote(src, dst, make([]byte, v.padTo-28))
			}
			e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
			if !v.rfcOff {
				e.SetInt("IP_RECVERR_RFC4884", s, unix.IPPROTO_IP, unix.IP_RECVERR_RFC4884, 1)
			}
			rest := uint32(v.words) << 16
			if v.typ == 3 && v.code == 4 {
				rest |= 1200
			}
			f.send(v.typ, v.code, rest, append(q, v.ext...), false)
			settle()
			recvErrOOB(e, "errqueue", s, 256, 128)
		}})
	}
	return scs
}

// localRawPingScenarios send raw and ping datagrams above the MTU with
// each IP_MTU_DISCOVER mode and IP_RECVERR on: EMSGSIZE and the local error
// (ip_local_error) or fragmentation, as raw_sendmsg and ping_v4_sendmsg do.
func localRawPingScenarios() []harness.Scenario {
	run := func(e *harness.Env, s harness.Sock, payload func(n int) []byte, to []byte) {
		e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
		for _, mode := range []int32{unix.IP_PMTUDISC_DONT, unix.IP_PMTUDISC_WANT, unix.IP_PMTUDISC_DO, unix.IP_PMTUDISC_PROBE, unix.IP_PMTUDISC_INTERFACE, unix.IP_PMTUDISC_OMIT} {
			e.SetInt(fmt.Sprintf("IP_MTU_DISCOVER %d", mode), s, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, mode)
			for _, n := range []int{1480, 1481, 3000} {
				send(e, fmt.Sprintf("send %d", n), s, payload(n), to, 0)
				recvErrOOB(e, "errqueue", s, 8, 128)
			}
		}
	}
	return []harness.Scenario{
		{Name: "errqueue/local-ping-modes", Run: func(e *harness.Env) {
			p := pingSock(e, e.BasePort)
			run(e, p, func(n int) []byte { return echoRequest(0, 1, make([]byte, n-8)) }, harness.Sockaddr(e.PeerAddr, 0))
		}},
		{Name: "errqueue/local-raw-modes", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			run(e, s, func(n int) []byte { return echoRequest(0x55, 1, make([]byte, n-8)) }, harness.Sockaddr(e.PeerAddr, 0))
		}},
		{Name: "errqueue/local-raw-hdrincl", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
			e.SetInt("IP_HDRINCL", s, unix.IPPROTO_IP, unix.IP_HDRINCL, 1)
			src := netip.AddrPortFrom(e.DUTAddr, uint16(e.BasePort))
			dst := netip.AddrPortFrom(e.PeerAddr, uint16(e.BasePort+1))
			peerUDP(e, e.BasePort+1)
			run(e, s, func(n int) []byte { return quote(src, dst, make([]byte, n-8)) }, harness.Sockaddr(e.PeerAddr, 0))
		}},
	}
}
