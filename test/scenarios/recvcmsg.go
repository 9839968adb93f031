package scenarios

import (
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// recvFlagOpts are the SOL_IP booleans that switch recvmsg control messages on.
var recvFlagOpts = []struct {
	label string
	name  int
}{
	{"IP_PKTINFO", unix.IP_PKTINFO}, {"IP_RECVTTL", unix.IP_RECVTTL}, {"IP_RECVTOS", unix.IP_RECVTOS},
	{"IP_RECVOPTS", unix.IP_RECVOPTS}, {"IP_RETOPTS", unix.IP_RETOPTS}, {"IP_PASSSEC", unix.IP_PASSSEC},
	{"IP_RECVORIGDSTADDR", unix.IP_RECVORIGDSTADDR}, {"IP_CHECKSUM", unix.IP_CHECKSUM},
	{"IP_RECVFRAGSIZE", unix.IP_RECVFRAGSIZE},
}

// enableAllRecvCmsgs turns on every receive control message a UDP socket has.
func enableAllRecvCmsgs(e *harness.Env, s harness.Sock) {
	for _, o := range recvFlagOpts {
		e.SetInt(o.label, s, unix.IPPROTO_IP, o.name, 1)
	}
	e.SetInt("SO_TIMESTAMP", s, unix.SOL_SOCKET, unix.SO_TIMESTAMP, 1)
	e.SetInt("SO_RXQ_OVFL", s, unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1)
}

// recvWithOOB waits for a datagram and records it with an oob buffer of
// oobLen bytes (pre-filled so bytes the stack leaves alone show).
func recvWithOOB(e *harness.Env, op string, s harness.Sock, oobLen, flags int) {
	harness.WaitReadable(s, 2*time.Second)
	oob := make([]byte, oobLen)
	for i := range oob {
		oob[i] = 0xee
	}
	buf := make([]byte, 64)
	n, oobn, fl, from, err := s.RecvMsg(buf, oob, flags|unix.MSG_DONTWAIT)
	if err != nil {
		e.Rec(op, err)
		return
	}
	e.Rec(op, n, oobn, fmt.Sprintf("flags=%#x", fl), e.SA(from), harness.Cmsgs(oob[:oobn]))
}

func recvCmsgScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "cmsg/recv-all-order", Run: func(e *harness.Env) {
			// Every receive cmsg at once: Linux puts SOL_SOCKET ones first,
			// then ip_cmsg_recv_offset's; PASSSEC/CHECKSUM/FRAGSIZE add none.
			p := peerUDP(e, e.BasePort)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("bind", s.Bind(harness.Sockaddr(anyAddr, e.BasePort+1)))
			enableAllRecvCmsgs(e, s)
			e.SetInt("peer IP_TTL", p, unix.IPPROTO_IP, unix.IP_TTL, 33)
			e.SetInt("peer IP_TOS", p, unix.IPPROTO_IP, unix.IP_TOS, 0x28)
			to := harness.Sockaddr(e.DUTAddr, e.BasePort+1)
			send(e, "peer send", p, []byte("all"), to, 0)
			recvWithOOB(e, "recv", s, 512, 0)
			send(e, "self send via lo", s, []byte("lo"), harness.Sockaddr(loopback, e.BasePort+1), 0)
			recvWithOOB(e, "recv", s, 512, 0)
		}},
		{Name: "cmsg/recv-all-ctrunc", Run: func(e *harness.Env) {
			// The timestamp message is normalised, so the sizes that cut a
			// later message are the interesting ones.
			p := peerUDP(e, e.BasePort)
			s := dutUDP(e, e.BasePort+1)
			for _, o := range recvFlagOpts {
				e.SetInt(o.label, s, unix.IPPROTO_IP, o.name, 1)
			}
			to := harness.Sockaddr(e.DUTAddr, e.BasePort+1)
			for _, l := range []int{15, 16, 27, 28, 31, 32, 44, 47, 48, 56, 63, 64, 80, 96, 100, 112, 200} {
				send(e, "peer send", p, []byte("c"), to, 0)
				harness.WaitReadable(s, 2*time.Second)
				oob := make([]byte, l)
				for i := range oob {
					oob[i] = 0xee
				}
				n, oobn, fl, _, err := s.RecvMsg(make([]byte, 8), oob, unix.MSG_DONTWAIT)
				e.Rec("recv oob", l, err, n, oobn, fl, oob)
			}
		}},
		{Name: "cmsg/recv-pktinfo-broadcast", Run: func(e *harness.Env) {
			// ipi_spec_dst of a broadcast is the address this host would
			// answer from, ipi_addr the header destination.
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("bind", s.Bind(harness.Sockaddr(anyAddr, e.BasePort)))
			e.SetInt("IP_PKTINFO", s, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
			e.SetInt("IP_RECVORIGDSTADDR", s, unix.IPPROTO_IP, unix.IP_RECVORIGDSTADDR, 1)
			p := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.SetInt("peer SO_BROADCAST", p, unix.SOL_SOCKET, unix.SO_BROADCAST, 1)
			e.Check("peer bind", p.Bind(harness.Sockaddr(e.PeerAddr, e.BasePort+1)))
			for _, dst := range []netip.Addr{subnetBC, limitedBC} {
				send(e, "peer send to "+dst.String(), p, []byte("bc"), harness.Sockaddr(dst, e.BasePort), 0)
				recvWithOOB(e, "recv", s, 256, 0)
			}
		}},
		{Name: "cmsg/recv-pktinfo-self", Run: func(e *harness.Env) {
			// A datagram from this host to its own addresses comes in over lo.
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("bind", s.Bind(harness.Sockaddr(anyAddr, e.BasePort)))
			e.SetInt("IP_PKTINFO", s, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
			c := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			for _, dst := range []netip.Addr{e.DUTAddr, loopback, netip.MustParseAddr("127.0.0.9")} {
				send(e, "send to "+dst.String(), c, []byte("me"), harness.Sockaddr(dst, e.BasePort), 0)
				recvWithOOB(e, "recv", s, 64, 0)
			}
		}},
		{Name: "cmsg/recv-pktinfo-late", Run: func(e *harness.Env) {
			// ipv4_pktinfo_prepare runs when the datagram is queued: one
			// that arrived before IP_PKTINFO was set has ifindex and
			// spec_dst 0. TTL is read from the header when recvmsg runs.
			p := peerUDP(e, e.BasePort)
			s := dutUDP(e, e.BasePort+1)
			to := harness.Sockaddr(e.DUTAddr, e.BasePort+1)
			send(e, "peer send", p, []byte("early"), to, 0)
			send(e, "peer send", p, []byte("early2"), to, 0)
			time.Sleep(100 * time.Millisecond)
			e.SetInt("IP_PKTINFO", s, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
			e.SetInt("IP_RECVTTL", s, unix.IPPROTO_IP, unix.IP_RECVTTL, 1)
			recvWithOOB(e, "peek", s, 128, unix.MSG_PEEK)
			recvWithOOB(e, "recv", s, 128, 0)
			e.SetInt("IP_PKTINFO off", s, unix.IPPROTO_IP, unix.IP_PKTINFO, 0)
			recvWithOOB(e, "recv", s, 128, 0)
			send(e, "peer send", p, []byte("late"), to, 0)
			harness.WaitReadable(s, 2*time.Second)
			e.SetInt("IP_PKTINFO", s, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
			recvWithOOB(e, "recv", s, 128, 0)
		}},
		{Name: "cmsg/recv-no-oob-buffer", Run: func(e *harness.Env) {
			// With control messages on and no room at all, recvmsg sets
			// MSG_CTRUNC and still returns the data.
			p := peerUDP(e, e.BasePort)
			s := dutUDP(e, e.BasePort+1)
			e.SetInt("IP_RECVTOS", s, unix.IPPROTO_IP, unix.IP_RECVTOS, 1)
			send(e, "peer send", p, []byte("x"), harness.Sockaddr(e.DUTAddr, e.BasePort+1), 0)
			harness.WaitReadable(s, 2*time.Second)
			n, oobn, fl, _, err := s.RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT)
			e.Rec("recv nil oob", err, n, oobn, fl)
			e.SetInt("IP_RECVTOS off", s, unix.IPPROTO_IP, unix.IP_RECVTOS, 0)
			send(e, "peer send", p, []byte("y"), harness.Sockaddr(e.DUTAddr, e.BasePort+1), 0)
			harness.WaitReadable(s, 2*time.Second)
			n, oobn, fl, _, err = s.RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT)
			e.Rec("recv nil oob, nothing on", err, n, oobn, fl)
		}},
		{Name: "cmsg/rxq-ovfl", Run: func(e *harness.Env) {
			// SO_RXQ_OVFL reports the socket's drop count as it was when the
			// datagram was queued, and nothing while it is 0.
			p := peerUDP(e, e.BasePort)
			s := dutUDP(e, e.BasePort+1)
			e.SetInt("SO_RXQ_OVFL", s, unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1)
			e.SetInt("SO_RCVBUF", s, unix.SOL_SOCKET, unix.SO_RCVBUF, 1)
			to := harness.Sockaddr(e.DUTAddr, e.BasePort+1)
			for i := 0; i < 6; i++ {
				send(e, "peer send", p, []byte{byte('a' + i)}, to, 0)
			}
			time.Sleep(200 * time.Millisecond)
			for i := 0; i < 4; i++ {
				recvWithOOB(e, "recv", s, 64, 0)
			}
			e.SetInt("SO_RCVBUF big", s, unix.SOL_SOCKET, unix.SO_RCVBUF, 65536)
			send(e, "peer send", p, []byte("z"), to, 0)
			recvWithOOB(e, "recv after drops", s, 64, 0)
			e.SetInt("SO_RXQ_OVFL off", s, unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 0)
			send(e, "peer send", p, []byte("w"), to, 0)
			recvWithOOB(e, "recv", s, 64, 0)
		}},
		{Name: "sockopt/timestamp-flavours", Run: func(e *harness.Env) {
			// sock_set_timestamp: the last option set picks the flavour; any
			// of them set to 0 turns timestamps off.
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			names := []struct {
				label string
				name  int
			}{{"SO_TIMESTAMP", unix.SO_TIMESTAMP}, {"SO_TIMESTAMPNS", unix.SO_TIMESTAMPNS},
				{"SO_TIMESTAMP_NEW", unix.SO_TIMESTAMP_NEW}, {"SO_TIMESTAMPNS_NEW", unix.SO_TIMESTAMPNS_NEW}}
			steps := []struct {
				i int
				v int32
			}{{0, 1}, {1, 1}, {0, 1}, {1, 0}, {2, 1}, {3, 1}, {0, 7}, {3, -1}, {1, 1}, {2, 0}, {3, 1}, {3, 0}}
			for _, st := range steps {
				e.SetInt(fmt.Sprintf("set %s %d", names[st.i].label, st.v), s, unix.SOL_SOCKET, names[st.i].name, st.v)
				for _, n := range names {
					e.GetInt("  get "+n.label, s, unix.SOL_SOCKET, n.name)
				}
			}
			for _, l := range []int{0, 3} {
				e.Rec(fmt.Sprintf("set SO_TIMESTAMP optlen %d", l), s.SetSockOpt(unix.SOL_SOCKET, unix.SO_TIMESTAMP, make([]byte, l)))
			}
		}},
		{Name: "ipopt/recv-flag-lengths", Run: func(e *harness.Env) {
			// Each recv flag with every optlen: int, byte, empty (= 0).
			for _, typ := range []int{unix.SOCK_DGRAM, unix.SOCK_STREAM} {
				s := e.Socket(e.DUT, unix.AF_INET, typ, 0)
				for _, o := range recvFlagOpts {
					for _, val := range [][]byte{{1, 0, 0, 0}, {0}, {2}, {0, 1}, {}, {0, 0, 0, 1, 9}, {0xff, 0xff, 0xff, 0xff}} {
						e.Rec(fmt.Sprintf("%s set %x", o.label, val), s.SetSockOpt(unix.IPPROTO_IP, o.name, val))
						for _, l := range []int{0, 1, 2, 4, 8} {
							buf := make([]byte, l)
							n, err := s.GetSockOpt(unix.IPPROTO_IP, o.name, buf)
							e.Rec(fmt.Sprintf("  get optlen %d", l), err, n, buf[:min(max(n, 0), l)])
						}
					}
				}
			}
		}},
		{Name: "sockopt/recv-flag-lengths", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			for _, o := range []struct {
				label string
				name  int
			}{{"SO_TIMESTAMP", unix.SO_TIMESTAMP}, {"SO_TIMESTAMPNS", unix.SO_TIMESTAMPNS}, {"SO_RXQ_OVFL", unix.SO_RXQ_OVFL}} {
				for _, val := range [][]byte{{1, 0, 0, 0}, {1}, {}, {0, 0, 0, 0, 1}, {0, 1, 0, 0, 0}} {
					e.Rec(fmt.Sprintf("%s set %x", o.label, val), s.SetSockOpt(unix.SOL_SOCKET, o.name, val))
					for _, l := range []int{0, 1, 4, 8} {
						buf := make([]byte, l)
						n, err := s.GetSockOpt(unix.SOL_SOCKET, o.name, buf)
						e.Rec(fmt.Sprintf("  get optlen %d", l), err, n, buf[:min(max(n, 0), l)])
					}
				}
			}
		}},
		{Name: "ipopt/multicast-ttl-loop-lengths", Run: func(e *harness.Env) {
			for _, typ := range []int{unix.SOCK_DGRAM, unix.SOCK_STREAM} {
				s := e.Socket(e.DUT, unix.AF_INET, typ, 0)
				for _, o := range []struct {
					label string
					name  int
				}{{"IP_MULTICAST_TTL", unix.IP_MULTICAST_TTL}, {"IP_MULTICAST_LOOP", unix.IP_MULTICAST_LOOP}} {
					for _, val := range [][]byte{{7, 0, 0, 0}, {0}, {200}, {}, {0xff, 0xff, 0xff, 0xff}, {0, 1, 0, 0}, {9, 9}} {
						e.Rec(fmt.Sprintf("%s set %x", o.label, val), s.SetSockOpt(unix.IPPROTO_IP, o.name, val))
						for _, l := range []int{0, 1, 4} {
							buf := make([]byte, l)
							n, err := s.GetSockOpt(unix.IPPROTO_IP, o.name, buf)
							e.Rec(fmt.Sprintf("  get optlen %d", l), err, n, buf[:min(max(n, 0), l)])
						}
					}
				}
			}
		}},
		{Name: "cmsg/send-pktinfo-source", Run: func(e *harness.Env) {
			// ipi_spec_dst overrides the bound address; 0.0.0.0 lets the
			// route choose; ifindex 0 keeps the route's choice.
			p := peerUDP(e, e.BasePort)
			s := dutUDP(e, e.BasePort+1)
			to := harness.Sockaddr(e.PeerAddr, e.BasePort)
			for _, tc := range []struct {
				op      string
				ifindex int
				spec    netip.Addr
			}{
				{"spec_dst any", 0, anyAddr},
				{"spec_dst DUT ifindex eth0", 2, e.DUTAddr},
				{"spec_dst broadcast", 0, subnetBC},
				{"spec_dst multicast", 0, mcastAll},
			} {
				n, err := s.SendMsg([]byte(tc.op), cmsgPktinfo(tc.ifindex, tc.spec), to, 0)
				e.Rec("send "+tc.op, err, n)
				if err == nil {
					e.RecvDgram("  peer recv", p, 64, 0)
				}
			}
			short := cmsgPktinfo(0, e.DUTAddr)
			short[0] = byte(unix.CmsgLen(8))
			n, err := s.SendMsg([]byte("short"), short, to, 0)
			e.Rec("send short pktinfo", err, n)
		}},
		{Name: "cmsg/raw-recv", Run: func(e *harness.Env) {
			// raw_recvmsg adds the same control messages as UDP; for a raw
			// socket the ORIGDSTADDR "port" is read after the IP header.
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			for _, o := range []int{unix.IP_PKTINFO, unix.IP_RECVTTL, unix.IP_RECVTOS, unix.IP_RECVORIGDSTADDR, unix.IP_RECVOPTS, unix.IP_RETOPTS} {
				e.SetInt(fmt.Sprintf("opt %d", o), s, unix.IPPROTO_IP, o, 1)
			}
			e.SetInt("SO_TIMESTAMP", s, unix.SOL_SOCKET, unix.SO_TIMESTAMP, 1)
			send(e, "sendto peer", s, echoRequest(0x4343, 2, []byte("raw cmsg")), harness.Sockaddr(e.PeerAddr, 0), 0)
			deadline := time.Now().Add(2 * time.Second)
			for i := 0; i < 8 && time.Now().Before(deadline); i++ {
				harness.WaitReadable(s, time.Until(deadline))
				buf, oob := make([]byte, 256), make([]byte, 256)
				n, oobn, fl, from, err := s.RecvMsg(buf, oob, unix.MSG_DONTWAIT)
				if err != nil {
					e.Rec("recv", err)
					break
				}
				if n < 28 || buf[20] != 0 {
					continue
				}
				e.Rec("reply", n, fl, e.SA(from), harness.Cmsgs(oob[:oobn]))
				break
			}
		}},
		{Name: "cmsg/raw-recv-ip-options", Run: func(e *harness.Env) {
			// A raw UDP socket sees the peer's datagram with a record route
			// option filled in by this hop.
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
			e.SetInt("IP_RECVOPTS", s, unix.IPPROTO_IP, unix.IP_RECVOPTS, 1)
			e.SetInt("IP_RETOPTS", s, unix.IPPROTO_IP, unix.IP_RETOPTS, 1)
			p := peerUDP(e, e.BasePort)
			e.Rec("peer IP_OPTIONS rr", p.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, []byte{7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0}))
			send(e, "peer send", p, []byte("rr"), harness.Sockaddr(e.DUTAddr, e.BasePort+1), 0)
			deadline := time.Now().Add(2 * time.Second)
			for i := 0; i < 8 && time.Now().Before(deadline); i++ {
				harness.WaitReadable(s, time.Until(deadline))
				buf, oob := make([]byte, 256), make([]byte, 256)
				n, oobn, _, _, err := s.RecvMsg(buf, oob, unix.MSG_DONTWAIT)
				if err != nil {
					e.Rec("recv", err)
					break
				}
				ihl := int(buf[0]&0xf) * 4
				if n < ihl+8 || string(buf[ihl+8:n]) != "rr" {
					continue
				}
				e.Rec("recv", n, ihl, buf[20:ihl], harness.Cmsgs(oob[:oobn]))
				break
			}
		}},
		{Name: "cmsg/tcp-timestamp", Run: func(e *harness.Env) {
			// tcp_recvmsg adds SCM_TIMESTAMP{,NS} for data it copied; the
			// SOL_IP receive flags add nothing on TCP.
			s, a := tcpPair(e)
			e.SetInt("IP_PKTINFO", s, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
			e.SetInt("IP_RECVTTL", s, unix.IPPROTO_IP, unix.IP_RECVTTL, 1)
			e.SetInt("SO_TIMESTAMP", s, unix.SOL_SOCKET, unix.SO_TIMESTAMP, 1)
			// Linux stamps TCP segments only once net_enable_timestamp's
			// deferred work has run: give it time.
			time.Sleep(200 * time.Millisecond)
			for i, sz := range []int{64, 8, 0} {
				if i == 1 {
					e.SetInt("SO_TIMESTAMPNS", s, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
				}
				send(e, "peer send", a, []byte("stamped"), nil, 0)
				harness.WaitReadable(s, 2*time.Second)
				oob := make([]byte, sz)
				n, oobn, fl, _, err := s.RecvMsg(make([]byte, 64), oob, unix.MSG_DONTWAIT)
				e.Rec(fmt.Sprintf("recv oob %d", sz), err, n, fl, harness.Cmsgs(oob[:oobn]))
			}
			n, oobn, fl, _, err := s.RecvMsg(make([]byte, 64), make([]byte, 64), unix.MSG_DONTWAIT)
			e.Rec("recv nothing", err, n, oobn, fl)
			e.Rec("peer shutdown", a.Shutdown(unix.SHUT_WR))
			harness.WaitReadable(s, 2*time.Second)
			n, oobn, fl, _, err = s.RecvMsg(make([]byte, 64), make([]byte, 64), unix.MSG_DONTWAIT)
			e.Rec("recv eof", err, n, oobn, fl)
		}},
		{Name: "cmsg/ping-recv", Run: func(e *harness.Env) {
			e.Check("set ping_group_range", e.SetSysctl(e.DUT, pingGroupRange, "0 0"))
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
			for _, o := range []int{unix.IP_PKTINFO, unix.IP_RECVTTL, unix.IP_RECVTOS} {
				e.SetInt(fmt.Sprintf("opt %d", o), s, unix.IPPROTO_IP, o, 1)
			}
			e.SetInt("SO_TIMESTAMPNS", s, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
			send(e, "send echo", s, echoRequest(0, 3, []byte("ping cmsg")), harness.Sockaddr(e.PeerAddr, 0), 0)
			harness.WaitReadable(s, 2*time.Second)
			buf, oob := make([]byte, 64), make([]byte, 256)
			n, oobn, fl, from, err := s.RecvMsg(buf, oob, unix.MSG_DONTWAIT)
			e.Rec("recv", err, n, fl, e.SA(from), harness.Cmsgs(oob[:oobn]))
		}},
		{Name: "cmsg/recv-checksum", Run: func(e *harness.Env) {
			// IP_CHECKSUM appears when Linux checksummed the datagram in
			// software: short ones on arrival, longer ones only when recvmsg
			// has to verify (short buffer, MSG_PEEK).
			p := peerUDP(e, e.BasePort)
			s := dutUDP(e, e.BasePort+1)
			e.SetInt("IP_CHECKSUM", s, unix.IPPROTO_IP, unix.IP_CHECKSUM, 1)
			to := harness.Sockaddr(e.DUTAddr, e.BasePort+1)
			pattern := func(n int) []byte {
				b := make([]byte, n)
				for i := range b {
					b[i] = byte(i*31 + 7)
				}
				return b
			}
			for _, tc := range []struct {
				op      string
				payload []byte
				buf     int
				flags   int
			}{
				{"empty", nil, 512, 0},
				{"zeros", make([]byte, 12), 512, 0},
				{"ones", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 512, 0},
				{"68 bytes", pattern(68), 512, 0},
				{"69 bytes", pattern(69), 512, 0},
				{"300 bytes", pattern(300), 512, 0},
				{"300 bytes short buffer", pattern(300), 100, 0},
				{"300 bytes peek", pattern(300), 512, unix.MSG_PEEK},
				{"300 zero bytes short buffer", make([]byte, 300), 10, 0},
			} {
				send(e, "peer send "+tc.op, p, tc.payload, to, 0)
				harness.WaitReadable(s, 2*time.Second)
				oob := make([]byte, 64)
				n, oobn, fl, _, err := s.RecvMsg(make([]byte, tc.buf), oob, tc.flags|unix.MSG_DONTWAIT)
				e.Rec("  recv", err, n, fl, harness.Cmsgs(oob[:oobn]))
				if tc.flags&unix.MSG_PEEK != 0 {
					n, oobn, fl, _, err = s.RecvMsg(make([]byte, tc.buf), oob, unix.MSG_DONTWAIT)
					e.Rec("  recv after peek", err, n, fl, harness.Cmsgs(oob[:oobn]))
				}
			}
		}},
	}
}

// recvOrigDstScenarios pin IP_ORIGDSTADDR with IP options on recvmsg.
func recvOrigDstScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "cmsg/recv-origdstaddr-and-opts", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("bind", s.Bind(harness.Sockaddr(anyAddr, e.BasePort)))
			e.SetInt("IP_RECVORIGDSTADDR", s, unix.IPPROTO_IP, unix.IP_RECVORIGDSTADDR, 1)
			e.SetInt("IP_RECVOPTS", s, unix.IPPROTO_IP, unix.IP_RECVOPTS, 1)
			e.SetInt("IP_RETOPTS", s, unix.IPPROTO_IP, unix.IP_RETOPTS, 1)
			p := peerUDP(e, e.BasePort+1)
			send(e, "peer send plain", p, []byte("plain"), harness.Sockaddr(e.DUTAddr, e.BasePort), 0)
			peerRecvCmsgs(e, "recv", s)
			e.Rec("peer IP_OPTIONS rr", p.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, []byte{7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0}))
			send(e, "peer send with record route", p, []byte("rr"), harness.Sockaddr(e.DUTAddr, e.BasePort), 0)
			peerRecvCmsgs(e, "recv", s)
		}},
	}
}
