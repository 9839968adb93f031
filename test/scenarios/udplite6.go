package scenarios

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// UDP-Lite over IPv6 (Linux net/ipv6/udplite.c): socket(AF_INET6,
// SOCK_DGRAM, IPPROTO_UDPLITE) over ::1 and dual-stack to 127.0.0.1,
// with the coverage options, the IPv6 pseudo-header checksum (seen and
// forged through a raw IPv6 socket of protocol 136) and the IPv6
// control messages.

// lite6 returns an AF_INET6 UDP-Lite socket on the DUT.
func lite6(e *harness.Env) harness.Sock {
	return e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, ipprotoUDPLite)
}

// lite6Datagram builds a UDP-Lite datagram from src:sport to dst:dport
// with the given length field, its checksum over the IPv6 pseudo-header
// and the coverage (the whole datagram for a zero field); csum >= 0
// replaces the checksum.
func lite6Datagram(src, dst netip.Addr, sport, dport, field int, payload []byte, csum int) []byte {
	b := make([]byte, 8+len(payload))
	binary.BigEndian.PutUint16(b[0:], uint16(sport))
	binary.BigEndian.PutUint16(b[2:], uint16(dport))
	binary.BigEndian.PutUint16(b[4:], uint16(field))
	copy(b[8:], payload)
	cov := field
	if cov == 0 || cov > len(b) {
		cov = len(b)
	}
	c := checksum(append(lite6Pseudo(src, dst, len(b)), b[:cov]...))
	if c == 0 {
		c = 0xffff
	}
	if csum >= 0 {
		c = uint16(csum)
	}
	binary.BigEndian.PutUint16(b[6:], c)
	return b
}

// lite6Pseudo is the IPv6 pseudo-header (RFC 8200 8.1) of a UDP-Lite
// datagram of n bytes.
func lite6Pseudo(src, dst netip.Addr, n int) []byte {
	s, d := src.As16(), dst.As16()
	p := append(append([]byte{}, s[:]...), d[:]...)
	return append(p, byte(n>>24), byte(n>>16), byte(n>>8), byte(n), 0, 0, 0, ipprotoUDPLite)
}

// lite6Wire reads the raw IPv6 UDP-Lite tap (bounded) for the next
// datagram to port and records its header and whether the checksum over
// the IPv6 pseudo-header and the coverage holds.
func lite6Wire(e *harness.Env, op string, tap harness.Sock, port int) {
	deadline := time.Now().Add(2 * time.Second)
	buf := make([]byte, 70000)
	for i := 0; i < 32 && time.Now().Before(deadline); i++ {
		harness.WaitReadable(tap, time.Until(deadline))
		n, _, _, _, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil || n < 8 || int(binary.BigEndian.Uint16(buf[2:])) != port {
			continue
		}
		l := buf[:n]
		cov := int(binary.BigEndian.Uint16(l[4:]))
		if cov == 0 || cov > len(l) {
			cov = len(l)
		}
		ok := checksum(append(lite6Pseudo(v6Loopback, v6Loopback, len(l)), l[:cov]...)) == 0
		e.Rec(op, fmt.Sprintf("cscov=%d csum-nonzero=%v csumok=%v", binary.BigEndian.Uint16(l[4:]), binary.BigEndian.Uint16(l[6:]) != 0, ok), l[8:])
		return
	}
	e.Rec(op, "nothing captured")
}

func udplite6Scenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "udplite6/socket", Run: func(e *harness.Env) {
			for _, typ := range []int{unix.SOCK_DGRAM, unix.SOCK_STREAM, unix.SOCK_DGRAM | unix.SOCK_NONBLOCK} {
				s, err := e.DUT.Socket(unix.AF_INET6, typ, ipprotoUDPLite)
				e.Rec(fmt.Sprintf("socket type %#x", typ), err)
				if err != nil {
					continue
				}
				e.GetInt("SO_PROTOCOL", s, unix.SOL_SOCKET, unix.SO_PROTOCOL)
				e.GetInt("SO_DOMAIN", s, unix.SOL_SOCKET, unix.SO_DOMAIN)
				e.GetInt("SO_TYPE", s, unix.SOL_SOCKET, unix.SO_TYPE)
				recName(e, "getsockname", s)
				liteOpts(e, "fresh", s)
				for _, o := range v6Opts {
					if o.opt == unix.IPV6_RECVORIGDSTADDR || o.opt == unix.IPV6_RECVERR {
						continue // missing on UDP-Lite v6
					}
					e.GetInt(o.name, s, unix.SOL_IPV6, o.opt)
				}
				e.Rec("close", s.Close())
			}
		}},
		{Name: "udplite6/sockopt-ranges", Run: func(e *harness.Env) {
			s := lite6(e)
			for _, c := range []struct {
				name string
				opt  int
				vals []int32
			}{
				{"IPV6_UNICAST_HOPS", unix.IPV6_UNICAST_HOPS, []int32{-2, 0, 256, 7, -1}},
				{"IPV6_MULTICAST_HOPS", unix.IPV6_MULTICAST_HOPS, []int32{-2, 256, 9, -1}},
				{"IPV6_TCLASS", unix.IPV6_TCLASS, []int32{-2, 256, 0x2e, -1}},
				{"IPV6_RECVHOPLIMIT", unix.IPV6_RECVHOPLIMIT, []int32{-3, 0}},
				{"IPV6_V6ONLY", unix.IPV6_V6ONLY, []int32{2, 0}},
				{"IPV6_MTU_DISCOVER", unix.IPV6_MTU_DISCOVER, []int32{-1, 6, 2, 0}},
			} {
				for _, v := range c.vals {
					if e.SetInt(fmt.Sprintf("set %s %d", c.name, v), s, unix.SOL_IPV6, c.opt, v) == nil {
						e.GetInt("get "+c.name, s, unix.SOL_IPV6, c.opt)
					}
				}
				e.Rec(c.name+" optlen 1", s.SetSockOpt(unix.SOL_IPV6, c.opt, []byte{1}))
			}
			for _, v := range []int32{-1, 0, 3, 7, 8, 20, 70000} {
				e.SetInt(fmt.Sprintf("SEND_CSCOV %d", v), s, ipprotoUDPLite, udpliteSendCscov, v)
				e.SetInt(fmt.Sprintf("RECV_CSCOV %d", v), s, unix.SOL_UDP, udpliteRecvCscov, v)
				liteOpts(e, fmt.Sprintf("after %d", v), s)
			}
			e.Rec("bind", s.Bind(sa6(v6Loopback, e.BasePort)))
			e.Rec("IPV6_V6ONLY after bind", s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_V6ONLY, harness.Int32(1)))
		}},
		// One control message kind at a time: no order to differ in.
		{Name: "udplite6/loopback-cmsgs", Run: func(e *harness.Env) {
			rx, tx := lite6(e), lite6(e)
			e.Check("bind", rx.Bind(sa6(v6Loopback, e.BasePort)))
			recName(e, "getsockname rx", rx)
			to := sa6(v6Loopback, e.BasePort)
			n, err := tx.SendMsg([]byte("plain"), nil, to, 0)
			e.Rec("send plain", n, err)
			v6Recv(e, "recv plain", rx, 256)
			for _, o := range []struct {
				name string
				opt  int
			}{{"IPV6_RECVPKTINFO", unix.IPV6_RECVPKTINFO}, {"IPV6_RECVHOPLIMIT", unix.IPV6_RECVHOPLIMIT}, {"IPV6_RECVTCLASS", unix.IPV6_RECVTCLASS}} {
				e.SetInt(o.name+" 1", rx, unix.SOL_IPV6, o.opt, 1)
				n, err = tx.SendMsg([]byte("defaults"), nil, to, 0)
				e.Rec("send defaults", n, err)
				v6Recv(e, "recv defaults "+o.name, rx, 256)
				e.SetInt("IPV6_UNICAST_HOPS 9", tx, unix.SOL_IPV6, unix.IPV6_UNICAST_HOPS, 9)
				e.SetInt("IPV6_TCLASS 0x20", tx, unix.SOL_IPV6, unix.IPV6_TCLASS, 0x20)
				n, err = tx.SendMsg([]byte("sockopts"), nil, to, 0)
				e.Rec("send sockopts", n, err)
				v6Recv(e, "recv sockopts "+o.name, rx, 256)
				oob := appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_HOPLIMIT, harness.Int32(3))
				oob = appendCmsg6(oob, unix.SOL_IPV6, unix.IPV6_TCLASS, harness.Int32(0x48))
				n, err = tx.SendMsg([]byte("cmsgs"), oob, to, 0)
				e.Rec("send cmsgs", n, err)
				v6Recv(e, "recv cmsgs "+o.name, rx, 256)
				n, err = tx.SendMsg([]byte("pktinfo"), appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_PKTINFO, pktinfo6(v6Loopback, 1)), to, 0)
				e.Rec("send IPV6_PKTINFO ::1 lo", n, err)
				v6Recv(e, "recv pktinfo "+o.name, rx, 256)
				e.SetInt("IPV6_UNICAST_HOPS -1", tx, unix.SOL_IPV6, unix.IPV6_UNICAST_HOPS, -1)
				e.SetInt("IPV6_TCLASS 0", tx, unix.SOL_IPV6, unix.IPV6_TCLASS, 0)
				e.SetInt(o.name+" 0", rx, unix.SOL_IPV6, o.opt, 0)
			}
			for _, c := range []struct {
				name string
				oob  []byte
			}{
				{"hoplimit 256", appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_HOPLIMIT, harness.Int32(256))},
				{"tclass 1 byte", appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_TCLASS, []byte{1})},
				{"pktinfo ifindex 999", appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_PKTINFO, pktinfo6(netip.IPv6Unspecified(), 999))},
				{"pktinfo non-local", appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_PKTINFO, pktinfo6(netip.MustParseAddr("2001:db8::1"), 0))},
			} {
				n, err := tx.SendMsg([]byte(c.name), c.oob, to, 0)
				e.Rec("send "+c.name, n, err)
			}
			v6Recv(e, "recv after errors", rx, 0)
		}},
		// All three at once: Linux's order, and MSG_CTRUNC when the
		// control buffer is too small for them.
		{Name: "udplite6/recv-cmsg-order", Run: func(e *harness.Env) {
			rx, tx := lite6(e), lite6(e)
			e.Check("bind", rx.Bind(sa6(v6Loopback, e.BasePort)))
			to := sa6(v6Loopback, e.BasePort)
			e.SetInt("IPV6_RECVPKTINFO", rx, unix.SOL_IPV6, unix.IPV6_RECVPKTINFO, 1)
			e.SetInt("IPV6_RECVHOPLIMIT", rx, unix.SOL_IPV6, unix.IPV6_RECVHOPLIMIT, 1)
			e.SetInt("IPV6_RECVTCLASS", rx, unix.SOL_IPV6, unix.IPV6_RECVTCLASS, 1)
			e.SetInt("IPV6_UNICAST_HOPS 9", tx, unix.SOL_IPV6, unix.IPV6_UNICAST_HOPS, 9)
			e.SetInt("IPV6_TCLASS 0x20", tx, unix.SOL_IPV6, unix.IPV6_TCLASS, 0x20)
			for _, ctl := range []int{256, 0, 20, 40, 60} {
				n, err := tx.SendMsg([]byte("trunc"), nil, to, 0)
				e.Rec("send", n, err)
				v6Recv(e, fmt.Sprintf("recv ctl %d", ctl), rx, ctl)
			}
		}},
		{Name: "udplite6/coverage", Run: func(e *harness.Env) {
			rx, tx := lite6(e), lite6(e)
			e.Check("bind", rx.Bind(sa6(v6Loopback, e.BasePort)))
			tap, err := e.DUT.Socket(unix.AF_INET6, unix.SOCK_RAW, ipprotoUDPLite)
			e.Check("raw socket", err)
			to := sa6(v6Loopback, e.BasePort)
			payload := []byte("0123456789abcdefghijklmnopqrstuvwxyz")
			for _, cov := range []int32{0, 8, 16, 200} {
				e.SetInt(fmt.Sprintf("SEND_CSCOV %d", cov), tx, ipprotoUDPLite, udpliteSendCscov, cov)
				n, err := tx.SendMsg(payload, nil, to, 0)
				e.Rec("send", n, err)
				lite6Wire(e, fmt.Sprintf("wire cov %d", cov), tap, e.BasePort)
				v6Recv(e, "recv", rx, 0)
			}
			// A receiver that wants 20 bytes covered drops less.
			e.SetInt("RECV_CSCOV 20", rx, ipprotoUDPLite, udpliteRecvCscov, 20)
			for _, cov := range []int32{16, 24, 0} {
				e.SetInt(fmt.Sprintf("SEND_CSCOV %d", cov), tx, ipprotoUDPLite, udpliteSendCscov, cov)
				n, err := tx.SendMsg([]byte(fmt.Sprintf("cov %d %s", cov, payload)), nil, to, 0)
				e.Rec("send", n, err)
				v6Recv(e, fmt.Sprintf("recv after cov %d", cov), rx, 0)
			}
		}},
		{Name: "udplite6/forged-checksums", Run: func(e *harness.Env) {
			rx := lite6(e)
			e.Check("bind", rx.Bind(sa6(v6Loopback, e.BasePort)))
			raw, err := e.DUT.Socket(unix.AF_INET6, unix.SOCK_RAW, ipprotoUDPLite)
			e.Check("raw socket", err)
			payload := []byte("forged over ipv6 with partial coverage")
			for _, c := range []struct {
				name  string
				field int
				csum  int
			}{
				{"good full", 0, -1},
				{"good partial 12", 12, -1},
				{"zero checksum", 0, 0},
				{"wrong checksum", 0, 0x1234},
				{"coverage 4", 4, -1},
				{"coverage past end", 200, -1},
				{"corrupt past coverage", 8, -2},
			} {
				d := lite6Datagram(v6Loopback, v6Loopback, e.BasePort+1, e.BasePort, c.field, payload, max(c.csum, -1))
				if c.csum == -2 {
					d[len(d)-1] ^= 0xff // outside the 8 covered bytes
				}
				n, err := raw.SendMsg(d, nil, sa6(v6Loopback, 0), 0)
				e.Rec("raw send "+c.name, n, err)
				harness.WaitReadable(rx, 300*time.Millisecond)
				buf := make([]byte, 128)
				n, _, _, from, err := rx.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
				if err != nil {
					e.Rec("recv "+c.name, err)
					continue
				}
				e.Rec("recv "+c.name, e.SA(from), buf[:n])
			}
		}},
		{Name: "udplite6/connect", Run: func(e *harness.Env) {
			rx := lite6(e)
			e.Check("bind", rx.Bind(sa6(v6Loopback, e.BasePort)))
			tx := lite6(e)
			e.Rec("connect short", tx.Connect(sa6(v6Loopback, e.BasePort)[:20]))
			e.Rec("connect ::1", tx.Connect(sa6(v6Loopback, e.BasePort)))
			recPeer(e, "getpeername", tx)
			recNameAddr(e, "getsockname", tx)
			n, err := tx.SendMsg([]byte("connected"), nil, nil, 0)
			e.Rec("send", n, err)
			v6Recv(e, "recv", rx, 0)
			e.Rec("connect AF_UNSPEC", tx.Connect([]byte{0, 0}))
			recPeer(e, "getpeername after AF_UNSPEC", tx)
			recName(e, "getsockname after AF_UNSPEC", tx)
			n, err = tx.SendMsg([]byte("x"), nil, nil, 0)
			e.Rec("send unconnected", n, err)
			e.Rec("connect ::", tx.Connect(sa6(netip.IPv6Unspecified(), e.BasePort)))
			recPeer(e, "getpeername ::", tx)
			n, err = tx.SendMsg([]byte("to ::"), nil, nil, 0)
			e.Rec("send", n, err)
			v6Recv(e, "recv", rx, 0)
			e.Rec("shutdown SHUT_WR", tx.Shutdown(unix.SHUT_WR))
			n, err = tx.SendMsg([]byte("after shutdown"), nil, nil, 0)
			e.Rec("send after shutdown", n, err)
			big := make([]byte, 65528)
			n, err = rx.SendMsg(big, nil, sa6(v6Loopback, e.BasePort), 0)
			e.Rec("send 65528", n, err)
			n, err = rx.SendMsg(big[:65527], nil, sa6(v6Loopback, e.BasePort), 0)
			e.Rec("send 65527", n, err)
			harness.WaitReadable(rx, 2*time.Second)
			n, _, fl, _, err := rx.RecvMsg(make([]byte, 70000), nil, unix.MSG_DONTWAIT)
			e.Rec("recv 65527", n, fl, err)
		}},
		{Name: "udplite6/dual-stack", Run: func(e *harness.Env) {
			rx := lite6(e)
			e.Check("bind", rx.Bind(sa6(netip.IPv6Unspecified(), e.BasePort)))
			e.SetInt("IPV6_RECVPKTINFO", rx, unix.SOL_IPV6, unix.IPV6_RECVPKTINFO, 1)
			e.SetInt("IPV6_RECVHOPLIMIT", rx, unix.SOL_IPV6, unix.IPV6_RECVHOPLIMIT, 1)
			v4 := liteSock(e, e.DUT, v4Loopback, e.BasePort+1)
			n, err := v4.SendMsg([]byte("from v4"), nil, harness.Sockaddr(v4Loopback, e.BasePort), 0)
			e.Rec("send v4", n, err)
			v6Recv(e, "recv v4 on v6", rx, 256)
			// The IPv4 UDP-Lite port is taken by the dual-stack socket,
			// not the UDP one.
			other := liteSock(e, e.DUT, netip.Addr{}, 0)
			e.Rec("bind v4 lite same port", other.Bind(harness.Sockaddr(v4Loopback, e.BasePort)))
			udp := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("bind v4 udp same port", udp.Bind(harness.Sockaddr(v4Loopback, e.BasePort)))
			only := lite6(e)
			e.SetInt("IPV6_V6ONLY", only, unix.SOL_IPV6, unix.IPV6_V6ONLY, 1)
			e.Rec("bind v6only", only.Bind(sa6(netip.IPv6Unspecified(), e.BasePort+2)))
			free := liteSock(e, e.DUT, netip.Addr{}, 0)
			e.Rec("bind v4 beside v6only", free.Bind(harness.Sockaddr(v4Loopback, e.BasePort+2)))
			n, err = rx.SendMsg([]byte("to v4"), nil, sa6(v4Mapped, e.BasePort+1), 0)
			e.Rec("send to v4-mapped", n, err)
			e.RecvDgram("recv on v4", v4, 64, 0)
			n, err = only.SendMsg([]byte("x"), nil, sa6(v4Mapped, e.BasePort+1), 0)
			e.Rec("v6only sendto v4-mapped", n, err)
			e.Rec("v6only bind v4-mapped", lite6(e).Bind(sa6(v4Mapped, 0)))
			mapped := lite6(e)
			e.Rec("bind v4-mapped", mapped.Bind(sa6(v4Mapped, e.BasePort+3)))
			recName(e, "getsockname v4-mapped", mapped)
			e.Rec("connect AF_INET", mapped.Connect(harness.Sockaddr(v4Loopback, e.BasePort+1)))
			recPeer(e, "getpeername AF_INET", mapped)
			n, err = mapped.SendMsg([]byte("mapped connected"), nil, nil, 0)
			e.Rec("send", n, err)
			e.RecvDgram("recv on v4", v4, 64, 0)
		}},
	}
}
