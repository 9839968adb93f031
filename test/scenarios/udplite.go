package scenarios

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// UDP-Lite (RFC 3828, Linux net/ipv4/udplite.c): SOCK_DGRAM with
// IPPROTO_UDPLITE, whose header's length field is the checksum coverage.
const (
	ipprotoUDPLite   = 136 // IPPROTO_UDPLITE, also SOL_UDPLITE
	udpliteSendCscov = 10
	udpliteRecvCscov = 11
)

// liteSock returns a UDP-Lite socket on h bound to addr:port (port 0 and
// an invalid addr = not bound).
func liteSock(e *harness.Env, h harness.Host, addr netip.Addr, port int) harness.Sock {
	s := e.Socket(h, unix.AF_INET, unix.SOCK_DGRAM, ipprotoUDPLite)
	if addr.IsValid() {
		e.Check("bind", s.Bind(harness.Sockaddr(addr, port)))
	}
	return s
}

// liteDatagram builds a UDP-Lite header and payload from src:sport to
// dst:dport with the given length field; the checksum covers cov bytes
// (0 = field, a zero field the whole datagram) and is replaced by csum
// when csum >= 0.
func liteDatagram(src, dst netip.Addr, sport, dport int, field, cov int, payload []byte, csum int) []byte {
	b := make([]byte, 8+len(payload))
	binary.BigEndian.PutUint16(b[0:], uint16(sport))
	binary.BigEndian.PutUint16(b[2:], uint16(dport))
	binary.BigEndian.PutUint16(b[4:], uint16(field))
	copy(b[8:], payload)
	if cov == 0 {
		cov = field
	}
	if cov == 0 || cov > len(b) {
		cov = len(b)
	}
	s4, d4 := src.As4(), dst.As4()
	pseudo := append(append(append([]byte{}, s4[:]...), d4[:]...), 0, ipprotoUDPLite, byte(len(b)>>8), byte(len(b)))
	c := checksum(append(pseudo, b[:cov]...))
	if c == 0 {
		c = 0xffff
	}
	if csum >= 0 {
		c = uint16(csum)
	}
	binary.BigEndian.PutUint16(b[6:], c)
	return b
}

// liteWire reads the peer's UDP-Lite tap (bounded) for the next datagram
// to port and records its IP header, its UDP-Lite header and payload, and
// whether the checksum over the coverage holds.
func liteWire(e *harness.Env, op string, tap harness.Sock, port int) {
	deadline := time.Now().Add(2 * time.Second)
	buf := make([]byte, 70000)
	for i := 0; i < 32 && time.Now().Before(deadline); i++ {
		harness.WaitReadable(tap, time.Until(deadline))
		n, _, _, _, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil {
			continue
		}
		p := buf[:n]
		ihl := int(p[0]&0xf) * 4
		if n < ihl+8 || int(binary.BigEndian.Uint16(p[ihl+2:])) != port {
			continue
		}
		l := p[ihl:]
		cov := int(binary.BigEndian.Uint16(l[4:]))
		if cov == 0 || cov > len(l) {
			cov = len(l)
		}
		pseudo := append(append([]byte{}, p[12:20]...), 0, ipprotoUDPLite, byte(len(l)>>8), byte(len(l)))
		ok := checksum(append(pseudo, l[:cov]...)) == 0
		e.Rec(op, ipHeader(p), fmt.Sprintf("sport=%s dport=%d cscov=%d csum=%#04x csumok=%v", e.Port(int(binary.BigEndian.Uint16(l))),
			port, binary.BigEndian.Uint16(l[4:]), binary.BigEndian.Uint16(l[6:]), ok), l[8:])
		return
	}
	e.Rec(op, "nothing captured")
}

// liteOpts records both coverage options at both option levels.
func liteOpts(e *harness.Env, op string, s harness.Sock) {
	for _, level := range []int{unix.SOL_UDP, ipprotoUDPLite} {
		e.GetInt(fmt.Sprintf("%s level %d SEND_CSCOV", op, level), s, level, udpliteSendCscov)
		e.GetInt(fmt.Sprintf("%s level %d RECV_CSCOV", op, level), s, level, udpliteRecvCscov)
	}
}

func udpliteScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "udplite/socket", Run: func(e *harness.Env) {
			for _, typ := range []int{unix.SOCK_DGRAM, unix.SOCK_STREAM, unix.SOCK_SEQPACKET, unix.SOCK_DGRAM | unix.SOCK_NONBLOCK} {
				s, err := e.DUT.Socket(unix.AF_INET, typ, ipprotoUDPLite)
				e.Rec(fmt.Sprintf("socket type %#x", typ), err)
				if err == nil {
					e.GetInt("SO_PROTOCOL", s, unix.SOL_SOCKET, unix.SO_PROTOCOL)
					e.GetInt("SO_TYPE", s, unix.SOL_SOCKET, unix.SO_TYPE)
					e.GetInt("IP_PROTOCOL", s, unix.SOL_IP, unix.IP_PROTOCOL)
					recName(e, "getsockname", s)
					liteOpts(e, "fresh", s)
					e.Rec("close", s.Close())
				}
			}
			// A UDP socket reads the coverage options as 0 at either level
			// and cannot set them.
			u := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			liteOpts(e, "udp", u)
			for _, level := range []int{unix.SOL_UDP, ipprotoUDPLite} {
				for _, name := range []int{udpliteSendCscov, udpliteRecvCscov} {
					e.Rec(fmt.Sprintf("udp set level %d opt %d", level, name), u.SetSockOpt(level, name, harness.Int32(16)))
					e.Rec(fmt.Sprintf("udp set short level %d opt %d", level, name), u.SetSockOpt(level, name, []byte{16}))
				}
			}
			buf := make([]byte, 4)
			n, err := u.GetSockOpt(ipprotoUDPLite, 99, buf)
			e.Rec("udp get level 136 opt 99", err, n)
		}},
		{Name: "udplite/options-bounds", Run: func(e *harness.Env) {
			s := liteSock(e, e.DUT, netip.Addr{}, 0)
			for _, name := range []int{udpliteSendCscov, udpliteRecvCscov} {
				for _, v := range []int32{0, 1, 7, 8, 9, 100, 65535, 65536, 1 << 30, -1, -100000} {
					e.SetInt(fmt.Sprintf("set %d = %d", name, v), s, ipprotoUDPLite, name, v)
					e.GetInt("get", s, ipprotoUDPLite, name)
				}
				e.SetInt("set via SOL_UDP", s, unix.SOL_UDP, name, 20)
				e.GetInt("get", s, ipprotoUDPLite, name)
				e.Rec("set 3 bytes", s.SetSockOpt(ipprotoUDPLite, name, []byte{30, 0, 0}))
				e.Rec("set empty", s.SetSockOpt(ipprotoUDPLite, name, nil))
				e.Rec("set 8 bytes", s.SetSockOpt(ipprotoUDPLite, name, []byte{40, 0, 0, 0, 1, 0, 0, 0}))
				for _, l := range []int{0, 1, 2, 8} {
					buf := make([]byte, l)
					n, err := s.GetSockOpt(ipprotoUDPLite, name, buf)
					e.Rec(fmt.Sprintf("get with %d bytes", l), err, n, buf[:max(n, 0)])
				}
			}
			for _, name := range []int{0, 9, 12, 99} {
				e.Rec(fmt.Sprintf("set unknown %d", name), s.SetSockOpt(ipprotoUDPLite, name, harness.Int32(1)))
				e.Rec(fmt.Sprintf("set unknown %d short", name), s.SetSockOpt(ipprotoUDPLite, name, []byte{1}))
				buf := make([]byte, 4)
				n, err := s.GetSockOpt(ipprotoUDPLite, name, buf)
				e.Rec(fmt.Sprintf("get unknown %d", name), err, n)
			}
		}},
		{Name: "udplite/send-coverage-to-peer", Run: func(e *harness.Env) {
			tap := peerTap(e, ipprotoUDPLite)
			p := liteSock(e, e.Peer, e.PeerAddr, e.BasePort)
			s := liteSock(e, e.DUT, e.DUTAddr, e.BasePort+1)
			to := harness.Sockaddr(e.PeerAddr, e.BasePort)
			payload := []byte("0123456789abcdefghij") // 28 bytes with the header
			send(e, "send default", s, payload, to, 0)
			liteWire(e, "peer saw", tap, e.BasePort)
			e.RecvDgram("peer recv", p, 64, 0)
			for _, cov := range []int32{0, 8, 12, 20, 27, 28, 29, 1000, 3} {
				e.SetInt(fmt.Sprintf("SEND_CSCOV %d", cov), s, ipprotoUDPLite, udpliteSendCscov, cov)
				send(e, "send", s, payload, to, 0)
				liteWire(e, "peer saw", tap, e.BasePort)
				e.RecvDgram("peer recv", p, 64, 0)
			}
			// An empty datagram: coverage 8 is the whole of it.
			e.SetInt("SEND_CSCOV 8", s, ipprotoUDPLite, udpliteSendCscov, 8)
			send(e, "send empty", s, nil, to, 0)
			liteWire(e, "peer saw", tap, e.BasePort)
			e.RecvDgram("peer recv", p, 64, 0)
			// Connected, and SO_NO_CHECK, which UDP-Lite ignores.
			e.Rec("connect", s.Connect(to))
			e.SetInt("SO_NO_CHECK", s, unix.SOL_SOCKET, unix.SO_NO_CHECK, 1)
			e.SetInt("SEND_CSCOV 16", s, ipprotoUDPLite, udpliteSendCscov, 16)
			send(e, "send connected", s, payload, nil, 0)
			liteWire(e, "peer saw", tap, e.BasePort)
			e.RecvDgram("peer recv", p, 64, 0)
		}},
		{Name: "udplite/recv-coverage-from-peer", Run: func(e *harness.Env) {
			p := liteSock(e, e.Peer, e.PeerAddr, e.BasePort)
			s := liteSock(e, e.DUT, e.DUTAddr, e.BasePort+1)
			e.SetInt("SO_RXQ_OVFL", s, unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1)
			e.SetInt("IP_RECVTTL", s, unix.SOL_IP, unix.IP_RECVTTL, 1)
			to := harness.Sockaddr(e.DUTAddr, e.BasePort+1)
			payload := []byte("0123456789abcdefghijklmnopqrstuv") // 40 with the header
			round := func(label string) {
				for _, cov := range []int32{0, 8, 16, 24, 39, 40, 100} {
					e.SetInt(fmt.Sprintf("peer SEND_CSCOV %d", cov), p, ipprotoUDPLite, udpliteSendCscov, cov)
					send(e, "peer send", p, payload, to, 0)
				}
				// A marker with full coverage closes the round: every
				// datagram before it has arrived or was dropped.
				e.SetInt("peer SEND_CSCOV 0", p, ipprotoUDPLite, udpliteSendCscov, 0)
				send(e, "peer send marker", p, []byte("end "+label), to, 0)
				for i := 0; i < 10; i++ {
					harness.WaitReadable(s, 2*time.Second)
					buf, oob := make([]byte, 64), make([]byte, 128)
					n, oobn, fl, from, err := s.RecvMsg(buf, oob, unix.MSG_DONTWAIT)
					e.Rec(label+" recv", err, n, fl, e.SA(from), harness.Cmsgs(oob[:oobn]), buf[:max(n, 0)])
					if err != nil || string(buf[:n]) == "end "+label {
						break
					}
				}
			}
			round("unset")
			e.SetInt("RECV_CSCOV 20", s, ipprotoUDPLite, udpliteRecvCscov, 20)
			round("min20")
			e.SetInt("RECV_CSCOV 0", s, ipprotoUDPLite, udpliteRecvCscov, 0)
			round("full")
			e.SetInt("RECV_CSCOV 3", s, ipprotoUDPLite, udpliteRecvCscov, 3)
			round("min8")
		}},
		{Name: "udplite/bad-datagrams-dropped", Run: func(e *harness.Env) {
			raw := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_RAW, ipprotoUDPLite)
			s := liteSock(e, e.DUT, e.DUTAddr, e.BasePort+1)
			e.SetInt("SO_RXQ_OVFL", s, unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1)
			to := harness.Sockaddr(e.DUTAddr, e.BasePort+1)
			dg := func(field, cov int, payload string, csum int) []byte {
				return liteDatagram(e.PeerAddr, e.DUTAddr, e.BasePort, e.BasePort+1, field, cov, []byte(payload), csum)
			}
			// 12 payload bytes: 20 with the header.
			for _, c := range []struct {
				name string
				b    []byte
			}{
				{"good full", dg(0, 0, "good-full-01", -1)},
				{"good len", dg(20, 0, "good-len-001", -1)},
				{"good cov 12", dg(12, 0, "good-cov-012", -1)},
				{"zero checksum", dg(0, 0, "zero-csum-01", 0)},
				{"bad checksum", dg(0, 0, "bad-csum-001", 0x1234)},
				{"cov 12 corrupt uncovered", func() []byte { b := dg(12, 0, "uncovered-01", -1); b[19] ^= 0xff; return b }()},
				{"cov 12 corrupt covered", func() []byte { b := dg(12, 0, "covered-0001", -1); b[9] ^= 0xff; return b }()},
				{"cov 4", dg(4, 20, "cov-four-001", -1)},
				{"cov 7", dg(7, 20, "cov-seven-01", -1)},
				{"cov past end", dg(21, 20, "cov-past-001", -1)},
				{"short", dg(0, 0, "", -1)[:6]},
				{"marker", dg(0, 0, "marker-00001", -1)},
			} {
				n, err := raw.SendMsg(c.b, nil, to, 0)
				e.Rec("peer raw send "+c.name, err, n)
			}
			for i := 0; i < 10; i++ {
				harness.WaitReadable(s, 2*time.Second)
				buf, oob := make([]byte, 64), make([]byte, 64)
				n, oobn, fl, from, err := s.RecvMsg(buf, oob, unix.MSG_DONTWAIT)
				e.Rec("recv", err, n, fl, e.SA(from), harness.Cmsgs(oob[:oobn]), buf[:max(n, 0)])
				if err != nil || string(buf[:n]) == "marker-00001" {
					break
				}
			}
		}},
		{Name: "udplite/multicast-and-broadcast", Run: func(e *harness.Env) {
			group := netip.MustParseAddr("239.1.1.136") // this scenario's own
			s := liteSock(e, e.DUT, anyAddr, e.BasePort)
			e.SetInt("IP_PKTINFO", s, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
			e.Rec("IP_ADD_MEMBERSHIP", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq(group, e.DUTAddr, -1)))
			time.Sleep(100 * time.Millisecond) // let the join reach the wire first
			p := liteSock(e, e.Peer, e.PeerAddr, e.BasePort+1)
			e.Rec("peer IP_MULTICAST_IF", p.SetSockOpt(unix.IPPROTO_IP, unix.IP_MULTICAST_IF, mreq(anyAddr, e.PeerAddr, -1)[4:8]))
			e.SetInt("peer SEND_CSCOV 12", p, ipprotoUDPLite, udpliteSendCscov, 12)
			send(e, "peer send to group", p, []byte("to group"), harness.Sockaddr(group, e.BasePort), 0)
			recvRaw(e, "recv", s, 64, 0)
			e.SetInt("peer SO_BROADCAST", p, unix.SOL_SOCKET, unix.SO_BROADCAST, 1)
			send(e, "peer send to broadcast", p, []byte("to all"), harness.Sockaddr(subnetBC, e.BasePort), 0)
			recvRaw(e, "recv", s, 64, 0)
			// The DUT sends to a group the peer's tap sees (TTL 1).
			tap := peerTap(e, ipprotoUDPLite)
			e.Check("peer tap join", tap.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq(group, e.PeerAddr, -1)))
			time.Sleep(100 * time.Millisecond)
			e.Rec("IP_MULTICAST_IF", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_MULTICAST_IF, mreq(anyAddr, e.DUTAddr, -1)[4:8]))
			send(e, "send to group", s, []byte("from dut"), harness.Sockaddr(group, e.BasePort+2), 0)
			liteWire(e, "peer saw", tap, e.BasePort+2)
			e.Rec("IP_DROP_MEMBERSHIP", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_DROP_MEMBERSHIP, mreq(group, e.DUTAddr, -1)))
		}},
		{Name: "udplite/ports-loopback-and-errors", Run: func(e *harness.Env) {
			// UDP-Lite has its own port table: a UDP socket on the same
			// port does not conflict, a second UDP-Lite one does.
			u := dutUDP(e, e.BasePort)
			s := liteSock(e, e.DUT, e.DUTAddr, e.BasePort)
			t := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, ipprotoUDPLite)
			e.Rec("second lite bind", t.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort)))
			// A UDP datagram to the port reaches the UDP socket only.
			send(e, "udp to self", u, []byte("to-udp"), harness.Sockaddr(e.DUTAddr, e.BasePort), 0)
			send(e, "lite to self", s, []byte("to-lite"), harness.Sockaddr(e.DUTAddr, e.BasePort), 0)
			e.RecvDgram("udp recv", u, 64, 0)
			e.RecvDgram("lite recv", s, 64, 0)
			// Over lo with partial coverage, and with a receive minimum
			// above it.
			l := liteSock(e, e.DUT, loopback, e.BasePort+1)
			e.SetInt("SEND_CSCOV 10", l, ipprotoUDPLite, udpliteSendCscov, 10)
			send(e, "lo send cov 10", l, []byte("partial on lo"), harness.Sockaddr(loopback, e.BasePort+1), 0)
			e.RecvDgram("lo recv", l, 64, 0)
			e.SetInt("RECV_CSCOV 12", l, ipprotoUDPLite, udpliteRecvCscov, 12)
			send(e, "lo send cov 10 again", l, []byte("dropped"), harness.Sockaddr(loopback, e.BasePort+1), 0)
			e.SetInt("SEND_CSCOV 12", l, ipprotoUDPLite, udpliteSendCscov, 12)
			send(e, "lo send cov 12", l, []byte("kept on lo"), harness.Sockaddr(loopback, e.BasePort+1), 0)
			e.RecvDgram("lo recv", l, 64, 0)
			// No UDP-Lite socket on the peer's port: port unreachable,
			// on the error queue with IP_RECVERR and as ECONNREFUSED.
			c := liteSock(e, e.DUT, e.DUTAddr, e.BasePort+2)
			e.SetInt("IP_RECVERR", c, unix.SOL_IP, unix.IP_RECVERR, 1)
			e.Rec("connect", c.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort+3)))
			send(e, "send to closed port", c, []byte("nobody"), nil, 0)
			harness.WaitReadable(c, 2*time.Second)
			buf, oob := make([]byte, 64), make([]byte, 256)
			n, oobn, fl, from, err := c.RecvMsg(buf, oob, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
			e.Rec("errqueue", err, n, fl, e.SA(from), harness.Cmsgs(oob[:oobn]), buf[:max(n, 0)])
			_, _, _, _, err = c.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			e.Rec("recv after error", err)
			e.GetInt("SO_ERROR", c, unix.SOL_SOCKET, unix.SO_ERROR)
		}},
		{Name: "udplite/multicast-fan-out", Run: func(e *harness.Env) {
			// Every socket on the port gets its copy, each with its own
			// minimum coverage; a UDP socket on the port gets none.
			group := netip.MustParseAddr("239.1.1.137") // this scenario's own
			var socks []harness.Sock
			for i, addr := range []netip.Addr{anyAddr, group, anyAddr, e.DUTAddr} {
				s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, ipprotoUDPLite)
				e.SetInt("SO_REUSEADDR", s, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
				e.Rec(fmt.Sprintf("bind %d", i), s.Bind(harness.Sockaddr(addr, e.BasePort)))
				e.Rec("join", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq(group, e.DUTAddr, -1)))
				socks = append(socks, s)
			}
			e.SetInt("RECV_CSCOV 16 on 2", socks[2], ipprotoUDPLite, udpliteRecvCscov, 16)
			u := dutUDP(e, 0)
			e.Rec("udp join", u.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq(group, e.DUTAddr, -1)))
			time.Sleep(100 * time.Millisecond) // let the joins reach the wire first
			p := liteSock(e, e.Peer, e.PeerAddr, e.BasePort+1)
			e.Rec("peer IP_MULTICAST_IF", p.SetSockOpt(unix.IPPROTO_IP, unix.IP_MULTICAST_IF, mreq(anyAddr, e.PeerAddr, -1)[4:8]))
			e.SetInt("peer SEND_CSCOV 12", p, ipprotoUDPLite, udpliteSendCscov, 12)
			send(e, "peer send cov 12", p, []byte("cov 12"), harness.Sockaddr(group, e.BasePort), 0)
			e.SetInt("peer SEND_CSCOV 0", p, ipprotoUDPLite, udpliteSendCscov, 0)
			send(e, "peer send full", p, []byte("full"), harness.Sockaddr(group, e.BasePort), 0)
			for i, s := range socks {
				for j := 0; j < 2; j++ {
					harness.WaitReadable(s, 500*time.Millisecond)
					buf := make([]byte, 64)
					n, _, _, from, err := s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
					e.Rec(fmt.Sprintf("sock %d recv", i), err, n, e.SA(from), buf[:max(n, 0)])
				}
			}
			r, err := u.Poll(unix.EPOLLIN, 100*time.Millisecond)
			e.Rec("udp poll", err, r)
		}},
	}
}
