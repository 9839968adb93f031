package scenarios

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// AF_INET6 over the DUT's loopback (::1; the harness enables IPv6 on the
// kernel DUT's lo only) and dual-stack to 127.0.0.1: ipv6(7)'s basic
// options, sockaddr_in6 rules, control messages and IPV6_V6ONLY, as
// issue 14's first phase serves them (TCP and UDP).

var (
	v6Loopback = netip.IPv6Loopback()
	v4Loopback = netip.MustParseAddr("127.0.0.1")
	v4Mapped   = netip.MustParseAddr("::ffff:127.0.0.1")
)

// sa6 is a sockaddr_in6 without scope.
func sa6(a netip.Addr, port int) []byte { return harness.Sockaddr6(a, port, 0) }

// v6Opts are the SOL_IPV6 options the first phase serves.
var v6Opts = []struct {
	name string
	opt  int
}{
	{"IPV6_V6ONLY", unix.IPV6_V6ONLY},
	{"IPV6_UNICAST_HOPS", unix.IPV6_UNICAST_HOPS},
	{"IPV6_MULTICAST_HOPS", unix.IPV6_MULTICAST_HOPS},
	{"IPV6_MULTICAST_LOOP", unix.IPV6_MULTICAST_LOOP},
	{"IPV6_MULTICAST_IF", unix.IPV6_MULTICAST_IF},
	{"IPV6_TCLASS", unix.IPV6_TCLASS},
	{"IPV6_RECVPKTINFO", unix.IPV6_RECVPKTINFO},
	{"IPV6_RECVHOPLIMIT", unix.IPV6_RECVHOPLIMIT},
	{"IPV6_RECVTCLASS", unix.IPV6_RECVTCLASS},
	{"IPV6_RECVORIGDSTADDR", unix.IPV6_RECVORIGDSTADDR},
	{"IPV6_RECVERR", unix.IPV6_RECVERR},
	{"IPV6_MTU_DISCOVER", unix.IPV6_MTU_DISCOVER},
}

// v6Kinds are the AF_INET6 socket kinds served.
var v6Kinds = []struct {
	name string
	typ  int
}{{"udp", unix.SOCK_DGRAM}, {"tcp", unix.SOCK_STREAM}}

// v6Recv waits (bounded) for a datagram and records it with its control
// messages.
func v6Recv(e *harness.Env, op string, s harness.Sock, ctl int) {
	harness.WaitReadable(s, 2*time.Second)
	buf, oob := make([]byte, 64), make([]byte, ctl)
	n, oobn, fl, from, err := s.RecvMsg(buf, oob, unix.MSG_DONTWAIT)
	if err != nil {
		e.Rec(op, err)
		return
	}
	e.Rec(op, n, fmt.Sprintf("flags=%#x", fl), e.SA(from), buf[:min(n, len(buf))], harness.Cmsgs(oob[:oobn]))
}

func ipv6Scenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "ipv6/socket-identity", Run: func(e *harness.Env) {
			trySocket(e, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			trySocket(e, unix.AF_INET6, unix.SOCK_DGRAM, unix.IPPROTO_UDP)
			trySocket(e, unix.AF_INET6, unix.SOCK_STREAM, 0)
			trySocket(e, unix.AF_INET6, unix.SOCK_STREAM, unix.IPPROTO_TCP)
			trySocket(e, unix.AF_INET6, unix.SOCK_DGRAM, unix.IPPROTO_TCP)
			trySocket(e, unix.AF_INET6, unix.SOCK_STREAM, unix.IPPROTO_UDP)
			trySocket(e, unix.AF_INET6, unix.SOCK_SEQPACKET, 0)
		}},
		{Name: "ipv6/sockopt-defaults", Run: func(e *harness.Env) {
			for _, k := range v6Kinds {
				s := e.Socket(e.DUT, unix.AF_INET6, k.typ, 0)
				for _, o := range v6Opts {
					e.GetInt(k.name+" "+o.name, s, unix.SOL_IPV6, o.opt)
				}
				// A short buffer gets the int's first bytes.
				buf := make([]byte, 2)
				n, err := s.GetSockOpt(unix.SOL_IPV6, unix.IPV6_UNICAST_HOPS, buf)
				e.Rec(k.name+" IPV6_UNICAST_HOPS optlen 2", err, n, buf)
				// Unserved names and levels.
				_, err = s.GetSockOpt(unix.SOL_IPV6, 1000, make([]byte, 4))
				e.Rec(k.name+" SOL_IPV6 1000", err)
				e.Rec(k.name+" set SOL_IPV6 1000", s.SetSockOpt(unix.SOL_IPV6, 1000, harness.Int32(1)))
			}
		}},
		{Name: "ipv6/sockopt-ranges", Run: func(e *harness.Env) {
			for _, k := range v6Kinds {
				s := e.Socket(e.DUT, unix.AF_INET6, k.typ, 0)
				for _, c := range []struct {
					name string
					opt  int
					vals []int32
				}{
					{"IPV6_UNICAST_HOPS", unix.IPV6_UNICAST_HOPS, []int32{-2, 0, 255, 256, 7, -1}},
					{"IPV6_MULTICAST_HOPS", unix.IPV6_MULTICAST_HOPS, []int32{-2, 0, 256, 9, -1}},
					{"IPV6_MULTICAST_LOOP", unix.IPV6_MULTICAST_LOOP, []int32{2, -1, 0, 1}},
					{"IPV6_TCLASS", unix.IPV6_TCLASS, []int32{-2, 256, 0x2e, -1, 0xb8}},
					{"IPV6_RECVPKTINFO", unix.IPV6_RECVPKTINFO, []int32{5, 0}},
					{"IPV6_RECVHOPLIMIT", unix.IPV6_RECVHOPLIMIT, []int32{-3, 0}},
					{"IPV6_RECVTCLASS", unix.IPV6_RECVTCLASS, []int32{1}},
					{"IPV6_V6ONLY", unix.IPV6_V6ONLY, []int32{2, 0}},
					{"IPV6_MTU_DISCOVER", unix.IPV6_MTU_DISCOVER, []int32{-1, 6, 2, 5, 0}},
				} {
					for _, v := range c.vals {
						if e.SetInt(fmt.Sprintf("%s set %s %d", k.name, c.name, v), s, unix.SOL_IPV6, c.opt, v) == nil {
							e.GetInt(fmt.Sprintf("%s get %s", k.name, c.name), s, unix.SOL_IPV6, c.opt)
						}
					}
					// Shorter than an int is EINVAL.
					e.Rec(k.name+" "+c.name+" optlen 1", s.SetSockOpt(unix.SOL_IPV6, c.opt, []byte{1}))
				}
				e.Rec(k.name+" IPV6_MULTICAST_IF 0", s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_MULTICAST_IF, harness.Int32(0)))
				e.Rec(k.name+" IPV6_MULTICAST_IF 1", s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_MULTICAST_IF, harness.Int32(1)))
				e.Rec(k.name+" IPV6_MULTICAST_IF 999", s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_MULTICAST_IF, harness.Int32(999)))
				e.GetInt(k.name+" get IPV6_MULTICAST_IF", s, unix.SOL_IPV6, unix.IPV6_MULTICAST_IF)
			}
		}},
		{Name: "ipv6/v6only-after-bind", Run: func(e *harness.Env) {
			for _, k := range v6Kinds {
				s := e.Socket(e.DUT, unix.AF_INET6, k.typ, 0)
				e.Rec(k.name+" bind", s.Bind(sa6(netip.IPv6Unspecified(), e.BasePort)))
				e.SetInt(k.name+" IPV6_V6ONLY 1 after bind", s, unix.SOL_IPV6, unix.IPV6_V6ONLY, 1)
				e.GetInt(k.name+" IPV6_V6ONLY", s, unix.SOL_IPV6, unix.IPV6_V6ONLY)
			}
		}},
		{Name: "ipv6/bind-rules", Run: func(e *harness.Env) {
			for _, k := range v6Kinds {
				try := func(op string, sa []byte, v6only bool) {
					s := e.Socket(e.DUT, unix.AF_INET6, k.typ, 0)
					if v6only {
						e.SetInt("IPV6_V6ONLY", s, unix.SOL_IPV6, unix.IPV6_V6ONLY, 1)
					}
					err := s.Bind(sa)
					e.Rec(k.name+" bind "+op, err)
					if err == nil {
						name, err := s.GetSockName()
						e.Rec(k.name+" getsockname "+op, err, e.SA(name))
					}
					s.Close()
				}
				try("::1", sa6(v6Loopback, e.BasePort+1), false)
				try(":: port 0", sa6(netip.IPv6Unspecified(), 0), false)
				try("v4-mapped 127.0.0.1", sa6(v4Mapped, e.BasePort+2), false)
				try("v4-mapped 127.0.0.1 v6only", sa6(v4Mapped, e.BasePort+2), true)
				try("v4-mapped 192.0.2.1", sa6(netip.MustParseAddr("::ffff:192.0.2.1"), e.BasePort+2), false)
				try("non-local 2001:db8::1", sa6(netip.MustParseAddr("2001:db8::1"), e.BasePort+3), false)
				try("link-local without scope", sa6(netip.MustParseAddr("fe80::1"), e.BasePort+3), false)
				try("short 23", sa6(v6Loopback, e.BasePort+3)[:23], false)
				try("rfc2133 24", sa6(v6Loopback, e.BasePort+4)[:24], false)
				try("AF_INET family", harness.Sockaddr(v4Loopback, e.BasePort+5), false)
				bad := sa6(v6Loopback, e.BasePort+5)
				bad[0] = unix.AF_INET
				try("AF_INET family 28 bytes", bad, false)
			}
		}},
		{Name: "ipv6/udp-loopback-cmsgs", Run: func(e *harness.Env) {
			rx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			tx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind", rx.Bind(sa6(v6Loopback, e.BasePort)))
			to := sa6(v6Loopback, e.BasePort)
			n, err := tx.SendMsg([]byte("plain"), nil, to, 0)
			e.Rec("send plain", n, err)
			v6Recv(e, "recv plain", rx, 256)
			for _, o := range []string{"IPV6_RECVPKTINFO", "IPV6_RECVHOPLIMIT", "IPV6_RECVTCLASS"} {
				for _, v := range v6Opts {
					if v.name == o {
						e.SetInt(o, rx, unix.SOL_IPV6, v.opt, 1)
					}
				}
			}
			n, err = tx.SendMsg([]byte("defaults"), nil, to, 0)
			e.Rec("send defaults", n, err)
			v6Recv(e, "recv defaults", rx, 256)
			e.SetInt("IPV6_UNICAST_HOPS 9", tx, unix.SOL_IPV6, unix.IPV6_UNICAST_HOPS, 9)
			e.SetInt("IPV6_TCLASS 0x20", tx, unix.SOL_IPV6, unix.IPV6_TCLASS, 0x20)
			n, err = tx.SendMsg([]byte("sockopts"), nil, to, 0)
			e.Rec("send sockopts", n, err)
			v6Recv(e, "recv sockopts", rx, 256)
			oob := appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_HOPLIMIT, harness.Int32(3))
			oob = appendCmsg6(oob, unix.SOL_IPV6, unix.IPV6_TCLASS, harness.Int32(0x48))
			n, err = tx.SendMsg([]byte("cmsgs"), oob, to, 0)
			e.Rec("send cmsgs", n, err)
			v6Recv(e, "recv cmsgs", rx, 256)
			// Too small a control buffer: MSG_CTRUNC.
			n, err = tx.SendMsg([]byte("trunc"), nil, to, 0)
			e.Rec("send trunc", n, err)
			v6Recv(e, "recv ctl 40", rx, 40)
		}},
		// One control message kind at a time: no order to differ in.
		{Name: "ipv6/udp-recv-cmsg-each", Run: func(e *harness.Env) {
			rx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			tx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind", rx.Bind(sa6(v6Loopback, e.BasePort)))
			to := sa6(v6Loopback, e.BasePort)
			e.SetInt("IPV6_UNICAST_HOPS 9", tx, unix.SOL_IPV6, unix.IPV6_UNICAST_HOPS, 9)
			e.SetInt("IPV6_TCLASS 0x20", tx, unix.SOL_IPV6, unix.IPV6_TCLASS, 0x20)
			for _, o := range []struct {
				name string
				opt  int
			}{{"IPV6_RECVPKTINFO", unix.IPV6_RECVPKTINFO}, {"IPV6_RECVHOPLIMIT", unix.IPV6_RECVHOPLIMIT}, {"IPV6_RECVTCLASS", unix.IPV6_RECVTCLASS}} {
				e.SetInt(o.name+" 1", rx, unix.SOL_IPV6, o.opt, 1)
				n, err := tx.SendMsg([]byte(o.name), nil, to, 0)
				e.Rec("send", n, err)
				v6Recv(e, "recv "+o.name, rx, 256)
				oob := appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_HOPLIMIT, harness.Int32(4))
				n, err = tx.SendMsg([]byte("hoplimit 4"), oob, to, 0)
				e.Rec("send IPV6_HOPLIMIT 4", n, err)
				v6Recv(e, "recv "+o.name, rx, 256)
				oob = appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_TCLASS, harness.Int32(0x10))
				n, err = tx.SendMsg([]byte("tclass 0x10"), oob, to, 0)
				e.Rec("send IPV6_TCLASS 0x10", n, err)
				v6Recv(e, "recv "+o.name, rx, 256)
				e.SetInt(o.name+" 0", rx, unix.SOL_IPV6, o.opt, 0)
			}
		}},
		{Name: "ipv6/udp-send-cmsg-minus-one", Run: func(e *harness.Env) {
			rx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			tx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind", rx.Bind(sa6(v6Loopback, e.BasePort)))
			e.SetInt("IPV6_RECVTCLASS", rx, unix.SOL_IPV6, unix.IPV6_RECVTCLASS, 1)
			e.SetInt("IPV6_TCLASS 0x20", tx, unix.SOL_IPV6, unix.IPV6_TCLASS, 0x20)
			to := sa6(v6Loopback, e.BasePort)
			oob := appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_TCLASS, harness.Int32(-1))
			n, err := tx.SendMsg([]byte("tclass -1"), oob, to, 0)
			e.Rec("send IPV6_TCLASS -1", n, err)
			v6Recv(e, "recv", rx, 256)
			e.SetInt("IPV6_RECVTCLASS 0", rx, unix.SOL_IPV6, unix.IPV6_RECVTCLASS, 0)
			e.SetInt("IPV6_RECVHOPLIMIT", rx, unix.SOL_IPV6, unix.IPV6_RECVHOPLIMIT, 1)
			oob = appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_HOPLIMIT, harness.Int32(-1))
			n, err = tx.SendMsg([]byte("hoplimit -1"), oob, to, 0)
			e.Rec("send IPV6_HOPLIMIT -1", n, err)
			v6Recv(e, "recv", rx, 256)
		}},
		{Name: "ipv6/udp-send-cmsg-lengths", Run: func(e *harness.Env) {
			rx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			tx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind", rx.Bind(sa6(v6Loopback, e.BasePort)))
			to := sa6(v6Loopback, e.BasePort)
			n, err := tx.SendMsg([]byte("tclass 8 bytes"), appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_TCLASS, make([]byte, 8)), to, 0)
			e.Rec("send IPV6_TCLASS with 8 bytes", n, err)
			n, err = tx.SendMsg([]byte("SOL_IP"), appendCmsg6(nil, unix.SOL_IP, unix.IP_TTL, harness.Int32(1000)), to, 0)
			e.Rec("send SOL_IP IP_TTL 1000", n, err)
			for i := 0; i < 2; i++ {
				v6Recv(e, "recv", rx, 0)
			}
		}},
		{Name: "ipv6/udp-send-cmsg-errors", Run: func(e *harness.Env) {
			rx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			tx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind", rx.Bind(sa6(v6Loopback, e.BasePort)))
			to := sa6(v6Loopback, e.BasePort)
			for _, c := range []struct {
				name string
				oob  []byte
			}{
				{"hoplimit 256", appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_HOPLIMIT, harness.Int32(256))},
				{"hoplimit -2", appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_HOPLIMIT, harness.Int32(-2))},
				{"hoplimit 1 byte", appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_HOPLIMIT, []byte{1})},
				{"tclass 256", appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_TCLASS, harness.Int32(256))},
				{"pktinfo short", appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_PKTINFO, make([]byte, 16))},
				{"pktinfo ifindex 999", appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_PKTINFO, pktinfo6(netip.IPv6Unspecified(), 999))},
				{"pktinfo non-local", appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_PKTINFO, pktinfo6(netip.MustParseAddr("2001:db8::1"), 0))},
				{"pktinfo ::1 lo", appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_PKTINFO, pktinfo6(v6Loopback, 1))},
			} {
				n, err := tx.SendMsg([]byte(c.name), c.oob, to, 0)
				e.Rec("send "+c.name, n, err)
			}
			for i := 0; i < 2; i++ {
				v6Recv(e, "recv", rx, 0)
			}
		}},
		{Name: "ipv6/udp-sendto-addresses", Run: func(e *harness.Env) {
			rx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind", rx.Bind(sa6(netip.IPv6Unspecified(), e.BasePort)))
			tx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			for _, c := range []struct {
				name string
				to   []byte
			}{
				{"short 23", sa6(v6Loopback, e.BasePort)[:23]},
				{"port 0", sa6(v6Loopback, 0)},
				{"AF_INET sockaddr", harness.Sockaddr(v4Loopback, e.BasePort)},
				{"v4-mapped", sa6(v4Mapped, e.BasePort)},
				{"::", sa6(netip.IPv6Unspecified(), e.BasePort)},
				{"::1 rfc2133 24", sa6(v6Loopback, e.BasePort)[:24]},
				{"family 99", func() []byte { b := sa6(v6Loopback, e.BasePort); b[0] = 99; return b }()},
			} {
				n, err := tx.SendMsg([]byte(c.name), nil, c.to, 0)
				e.Rec("sendto "+c.name, n, err)
			}
			n, err := tx.SendMsg([]byte("no address"), nil, nil, 0)
			e.Rec("send unconnected", n, err)
			for i := 0; i < 5; i++ {
				v6Recv(e, "recv", rx, 0)
			}
			v6only := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.SetInt("IPV6_V6ONLY", v6only, unix.SOL_IPV6, unix.IPV6_V6ONLY, 1)
			n, err = v6only.SendMsg([]byte("x"), nil, sa6(v4Mapped, e.BasePort), 0)
			e.Rec("v6only sendto v4-mapped", n, err)
			n, err = v6only.SendMsg([]byte("x"), nil, harness.Sockaddr(v4Loopback, e.BasePort), 0)
			e.Rec("v6only sendto AF_INET", n, err)
		}},
		{Name: "ipv6/udp-connect", Run: func(e *harness.Env) {
			rx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind", rx.Bind(sa6(v6Loopback, e.BasePort)))
			tx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Rec("connect short", tx.Connect(sa6(v6Loopback, e.BasePort)[:20]))
			e.Rec("connect ::1", tx.Connect(sa6(v6Loopback, e.BasePort)))
			peer, err := tx.GetPeerName()
			e.Rec("getpeername", err, e.SA(peer))
			n, err := tx.SendMsg([]byte("connected"), nil, nil, 0)
			e.Rec("send", n, err)
			v6Recv(e, "recv", rx, 0)
			e.Rec("connect AF_UNSPEC", tx.Connect([]byte{0, 0}))
			_, err = tx.GetPeerName()
			e.Rec("getpeername after AF_UNSPEC", err)
			e.Rec("connect AF_INET 127.0.0.1", tx.Connect(harness.Sockaddr(v4Loopback, e.BasePort+1)))
			peer, err = tx.GetPeerName()
			e.Rec("getpeername v4", err, e.SA(peer))
		}},
		{Name: "ipv6/udp-dual-stack", Run: func(e *harness.Env) {
			rx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind", rx.Bind(sa6(netip.IPv6Unspecified(), e.BasePort)))
			e.SetInt("IPV6_RECVPKTINFO", rx, unix.SOL_IPV6, unix.IPV6_RECVPKTINFO, 1)
			v4 := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("bind v4", v4.Bind(harness.Sockaddr(v4Loopback, e.BasePort+1)))
			n, err := v4.SendMsg([]byte("from v4"), nil, harness.Sockaddr(v4Loopback, e.BasePort), 0)
			e.Rec("send v4", n, err)
			v6Recv(e, "recv v4 on v6", rx, 256)
			// The IPv4 port is taken by the dual-stack socket.
			other := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("bind v4 same port", other.Bind(harness.Sockaddr(v4Loopback, e.BasePort)))
			// A v6-only socket leaves IPv4's port free.
			only := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.SetInt("IPV6_V6ONLY", only, unix.SOL_IPV6, unix.IPV6_V6ONLY, 1)
			e.Rec("bind v6only", only.Bind(sa6(netip.IPv6Unspecified(), e.BasePort+2)))
			free := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("bind v4 beside v6only", free.Bind(harness.Sockaddr(v4Loopback, e.BasePort+2)))
			// Reply from the v6 socket to the v4 peer.
			n, err = rx.SendMsg([]byte("to v4"), nil, sa6(v4Mapped, e.BasePort+1), 0)
			e.Rec("send to v4-mapped", n, err)
			e.RecvDgram("recv on v4", v4, 64, 0)
		}},
		{Name: "ipv6/tcp-loopback", Run: func(e *harness.Env) {
			l := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_STREAM, 0)
			e.SetInt("SO_REUSEADDR", l, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			e.Check("bind", l.Bind(sa6(netip.IPv6Unspecified(), e.BasePort)))
			e.Check("listen", l.Listen(8))
			e.GetInt("SO_ACCEPTCONN", l, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
			for _, c := range []struct {
				name   string
				family int
				to     []byte
			}{
				{"::1", unix.AF_INET6, sa6(v6Loopback, e.BasePort)},
				{"v4-mapped", unix.AF_INET6, sa6(v4Mapped, e.BasePort)},
				{"AF_INET client", unix.AF_INET, harness.Sockaddr(v4Loopback, e.BasePort)},
			} {
				cl := e.Socket(e.DUT, c.family, unix.SOCK_STREAM, 0)
				e.Rec(c.name+" connect", cl.Connect(c.to))
				a, peer, err := l.Accept(0)
				e.Rec(c.name+" accept", err, e.SA(peer))
				if err != nil {
					continue
				}
				name, err := a.GetSockName()
				e.Rec(c.name+" accepted getsockname", err, e.SA(name))
				peer, err = cl.GetPeerName()
				e.Rec(c.name+" client getpeername", err, e.SA(peer))
				e.GetInt(c.name+" accepted SO_DOMAIN", a, unix.SOL_SOCKET, unix.SO_DOMAIN)
				e.GetInt(c.name+" accepted IPV6_V6ONLY", a, unix.SOL_IPV6, unix.IPV6_V6ONLY)
				n, err := cl.SendMsg([]byte("hello"), nil, nil, 0)
				e.Rec(c.name+" send", n, err)
				harness.WaitReadable(a, 2*time.Second)
				buf := make([]byte, 16)
				n, _, _, from, err := a.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
				e.Rec(c.name+" recv", n, err, from == nil, buf[:max(n, 0)])
				e.Rec(c.name+" client close", cl.Close())
				e.Rec(c.name+" accepted close", a.Close())
			}
		}},
		{Name: "ipv6/tcp-v6only", Run: func(e *harness.Env) {
			l := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_STREAM, 0)
			e.SetInt("IPV6_V6ONLY", l, unix.SOL_IPV6, unix.IPV6_V6ONLY, 1)
			e.Check("bind", l.Bind(sa6(netip.IPv6Unspecified(), e.BasePort)))
			e.Check("listen", l.Listen(8))
			// IPv4's port stays free for another listener.
			l4 := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Rec("bind v4 beside v6only", l4.Bind(harness.Sockaddr(v4Loopback, e.BasePort)))
			cl := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_STREAM, 0)
			e.SetInt("client IPV6_V6ONLY", cl, unix.SOL_IPV6, unix.IPV6_V6ONLY, 1)
			e.Rec("v6only connect v4-mapped", cl.Connect(sa6(v4Mapped, e.BasePort)))
			e.Rec("connect short", cl.Connect(sa6(v6Loopback, e.BasePort)[:20]))
			e.Rec("connect AF_INET family", cl.Connect(harness.Sockaddr(v4Loopback, e.BasePort)))
			e.Rec("connect ::1", cl.Connect(sa6(v6Loopback, e.BasePort)))
			e.Rec("connect again", cl.Connect(sa6(v6Loopback, e.BasePort)))
			_, peer, err := l.Accept(0)
			e.Rec("accept", err, e.SA(peer))
			refused := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_STREAM, 0)
			e.Rec("connect closed port", refused.Connect(sa6(v6Loopback, e.BasePort+1)))
		}},
		{Name: "ipv6/tcp-backlog", Run: func(e *harness.Env) {
			for i, backlog := range []int{-1, 0, 1} {
				backlogFill(e, unix.AF_INET6, backlog, 3, sa6(v6Loopback, e.BasePort+i))
			}
		}},
		{Name: "ipv6/tcp-options", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_STREAM, 0)
			for _, o := range []struct {
				name string
				opt  int
				v    int32
			}{{"TCP_NODELAY", unix.TCP_NODELAY, 1}, {"TCP_KEEPIDLE", unix.TCP_KEEPIDLE, 30}, {"TCP_KEEPINTVL", unix.TCP_KEEPINTVL, 5}, {"TCP_KEEPCNT", unix.TCP_KEEPCNT, 4}} {
				e.GetInt("default "+o.name, s, unix.SOL_TCP, o.opt)
				e.SetInt("set "+o.name, s, unix.SOL_TCP, o.opt, o.v)
				e.GetInt("get "+o.name, s, unix.SOL_TCP, o.opt)
			}
			e.SetInt("TCP_KEEPIDLE 0", s, unix.SOL_TCP, unix.TCP_KEEPIDLE, 0)
			e.SetInt("TCP_KEEPCNT 128", s, unix.SOL_TCP, unix.TCP_KEEPCNT, 128)
			e.GetInt("SO_TYPE", s, unix.SOL_SOCKET, unix.SO_TYPE)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
			e.SetInt("SO_KEEPALIVE", s, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1)
			e.GetInt("SO_KEEPALIVE", s, unix.SOL_SOCKET, unix.SO_KEEPALIVE)
		}},
		{Name: "ipv6/udp-timestamp", Run: func(e *harness.Env) {
			rx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			tx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind", rx.Bind(sa6(v6Loopback, e.BasePort)))
			e.SetInt("SO_TIMESTAMP", rx, unix.SOL_SOCKET, unix.SO_TIMESTAMP, 1)
			to := sa6(v6Loopback, e.BasePort)
			n, err := tx.SendMsg([]byte("stamped"), nil, to, 0)
			e.Rec("send", n, err)
			v6Recv(e, "recv SO_TIMESTAMP", rx, 256)
			e.SetInt("IPV6_RECVHOPLIMIT", rx, unix.SOL_IPV6, unix.IPV6_RECVHOPLIMIT, 1)
			n, err = tx.SendMsg([]byte("stamped and hops"), nil, to, 0)
			e.Rec("send", n, err)
			v6Recv(e, "recv SO_TIMESTAMP and IPV6_HOPLIMIT", rx, 256)
			e.SetInt("SO_TIMESTAMP 0", rx, unix.SOL_SOCKET, unix.SO_TIMESTAMP, 0)
			n, err = tx.SendMsg([]byte("hops"), nil, to, 0)
			e.Rec("send", n, err)
			v6Recv(e, "recv IPV6_HOPLIMIT", rx, 256)
		}},
		{Name: "ipv6/udp-shutdown-and-queue", Run: func(e *harness.Env) {
			rx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			tx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind", rx.Bind(sa6(v6Loopback, e.BasePort)))
			e.Rec("shutdown unconnected", tx.Shutdown(unix.SHUT_RD))
			e.Check("connect", tx.Connect(sa6(v6Loopback, e.BasePort)))
			for _, m := range []string{"first", "second datagram"} {
				n, err := tx.SendMsg([]byte(m), nil, nil, 0)
				e.Rec("send "+m, n, err)
			}
			harness.WaitReadable(rx, 2*time.Second)
			time.Sleep(50 * time.Millisecond)
			arg := make([]byte, 4)
			e.Rec("SIOCINQ", rx.Ioctl(unix.SIOCINQ, arg), arg)
			// MSG_TRUNC gives the datagram's full length.
			buf := make([]byte, 2)
			n, _, fl, _, err := rx.RecvMsg(buf, nil, unix.MSG_DONTWAIT|unix.MSG_TRUNC)
			e.Rec("recv MSG_TRUNC", n, fmt.Sprintf("flags=%#x", fl), err, buf)
			n, _, fl, _, err = rx.RecvMsg(buf, nil, unix.MSG_DONTWAIT|unix.MSG_PEEK)
			e.Rec("recv MSG_PEEK", n, fmt.Sprintf("flags=%#x", fl), err, buf)
			v6Recv(e, "recv", rx, 0)
			e.Rec("shutdown SHUT_WR", tx.Shutdown(unix.SHUT_WR))
			n, err = tx.SendMsg([]byte("after"), nil, nil, 0)
			e.Rec("send after SHUT_WR", n, err)
			n, err = tx.SendMsg([]byte("after"), nil, sa6(v6Loopback, e.BasePort), 0)
			e.Rec("sendto after SHUT_WR", n, err)
			e.Rec("shutdown 3", tx.Shutdown(3))
		}},
		{Name: "ipv6/udp-port-unreachable", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("connect", s.Connect(sa6(v6Loopback, e.BasePort)))
			n, err := s.SendMsg([]byte("nobody"), nil, nil, 0)
			e.Rec("send", n, err)
			r, _ := s.Poll(unix.EPOLLIN|unix.EPOLLERR, 2*time.Second)
			e.Rec("poll", fmt.Sprintf("%#x", r))
			_, _, _, _, err = s.RecvMsg(make([]byte, 16), nil, unix.MSG_DONTWAIT)
			e.Rec("recv", err)
			e.GetInt("SO_ERROR after", s, unix.SOL_SOCKET, unix.SO_ERROR)
			// Unconnected: no error is reported.
			u := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			n, err = u.SendMsg([]byte("nobody"), nil, sa6(v6Loopback, e.BasePort), 0)
			e.Rec("sendto", n, err)
			time.Sleep(100 * time.Millisecond)
			_, _, _, _, err = u.RecvMsg(make([]byte, 16), nil, unix.MSG_DONTWAIT)
			e.Rec("unconnected recv", err)
			e.GetInt("unconnected SO_ERROR", u, unix.SOL_SOCKET, unix.SO_ERROR)
		}},
		{Name: "ipv6/udp-multicast-loopback", Run: func(e *harness.Env) {
			group := netip.MustParseAddr("ff02::1:5")
			rx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind", rx.Bind(sa6(netip.IPv6Unspecified(), e.BasePort)))
			e.Rec("join lo", rx.SetSockOpt(unix.SOL_IPV6, unix.IPV6_JOIN_GROUP, mreq6(group, 1)))
			e.SetInt("IPV6_RECVHOPLIMIT", rx, unix.SOL_IPV6, unix.IPV6_RECVHOPLIMIT, 1)
			e.SetInt("IPV6_RECVPKTINFO", rx, unix.SOL_IPV6, unix.IPV6_RECVPKTINFO, 1)
			tx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.SetInt("IPV6_MULTICAST_IF lo", tx, unix.SOL_IPV6, unix.IPV6_MULTICAST_IF, 1)
			to := harness.Sockaddr6(group, e.BasePort, 1)
			n, err := tx.SendMsg([]byte("default hops"), nil, to, 0)
			e.Rec("send", n, err)
			v6Recv(e, "recv", rx, 256)
			e.SetInt("IPV6_MULTICAST_HOPS 5", tx, unix.SOL_IPV6, unix.IPV6_MULTICAST_HOPS, 5)
			n, err = tx.SendMsg([]byte("hops 5"), nil, to, 0)
			e.Rec("send", n, err)
			v6Recv(e, "recv", rx, 256)
			e.SetInt("IPV6_MULTICAST_LOOP 0", tx, unix.SOL_IPV6, unix.IPV6_MULTICAST_LOOP, 0)
			n, err = tx.SendMsg([]byte("no loop"), nil, to, 0)
			e.Rec("send", n, err)
			time.Sleep(100 * time.Millisecond)
			_, _, _, _, err = rx.RecvMsg(make([]byte, 16), nil, unix.MSG_DONTWAIT)
			e.Rec("recv without loop", err)
			// No interface named: the route lookup decides.
			other := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			n, err = other.SendMsg([]byte("no interface"), nil, sa6(group, e.BasePort), 0)
			e.Rec("send without interface", n, err)
			e.Rec("connect lo", other.Connect(to))
			n, err = other.SendMsg([]byte("global group"), nil, sa6(netip.MustParseAddr("ff0e::1:5"), e.BasePort), 0)
			e.Rec("send global group", n, err)
		}},
		{Name: "ipv6/udp-original-destination", Run: func(e *harness.Env) {
			rx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind", rx.Bind(sa6(netip.IPv6Unspecified(), e.BasePort)))
			e.SetInt("IPV6_RECVORIGDSTADDR", rx, unix.SOL_IPV6, unix.IPV6_RECVORIGDSTADDR, 1)
			e.GetInt("IPV6_RECVORIGDSTADDR", rx, unix.SOL_IPV6, unix.IPV6_RECVORIGDSTADDR)
			tx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			n, err := tx.SendMsg([]byte("v6"), nil, sa6(v6Loopback, e.BasePort), 0)
			e.Rec("send v6", n, err)
			v6Recv(e, "recv v6", rx, 256)
			v4 := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			n, err = v4.SendMsg([]byte("v4"), nil, harness.Sockaddr(v4Loopback, e.BasePort), 0)
			e.Rec("send v4", n, err)
			v6Recv(e, "recv v4", rx, 256)
			e.SetInt("IPV6_RECVPKTINFO", rx, unix.SOL_IPV6, unix.IPV6_RECVPKTINFO, 1)
			n, err = tx.SendMsg([]byte("v6 with pktinfo"), nil, sa6(v6Loopback, e.BasePort), 0)
			e.Rec("send v6", n, err)
			v6Recv(e, "recv v6 with pktinfo", rx, 256)
			oob := appendCmsg6(nil, unix.SOL_IPV6, unix.IPV6_ORIGDSTADDR, sa6(v6Loopback, e.BasePort))
			n, err = tx.SendMsg([]byte("x"), oob, sa6(v6Loopback, e.BasePort), 0)
			e.Rec("send with IPV6_ORIGDSTADDR", n, err)
		}},
		{Name: "ipv6/udp-error-queue-connected", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.SetInt("IPV6_RECVERR", s, unix.SOL_IPV6, unix.IPV6_RECVERR, 1)
			e.Check("connect", s.Connect(sa6(v6Loopback, e.BasePort)))
			_, _, _, _, err := s.RecvMsg(make([]byte, 16), make([]byte, 128), unix.MSG_ERRQUEUE)
			e.Rec("errqueue empty", err)
			n, err := s.SendMsg([]byte("nobody home"), nil, nil, 0)
			e.Rec("send", n, err)
			r, _ := s.Poll(unix.EPOLLERR, 2*time.Second)
			e.Rec("poll", fmt.Sprintf("%#x", r))
			buf, oob := make([]byte, 64), make([]byte, 128)
			// MSG_PEEK does not keep the error: ipv6_recv_error dequeues.
			n, oobn, fl, from, err := s.RecvMsg(buf, oob, unix.MSG_ERRQUEUE|unix.MSG_PEEK)
			e.Rec("errqueue peek", n, fmt.Sprintf("flags=%#x", fl), e.SA(from), buf[:max(n, 0)], harness.Cmsgs(oob[:max(oobn, 0)]), err)
			_, _, _, _, err = s.RecvMsg(buf, oob, unix.MSG_ERRQUEUE)
			e.Rec("errqueue again", err)
			_, _, _, _, err = s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			e.Rec("recv", err)
			e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
			// A second error, then IPV6_RECVERR off purges the queue.
			n, err = s.SendMsg([]byte("again"), nil, nil, 0)
			e.Rec("send again", n, err)
			s.Poll(unix.EPOLLERR, 2*time.Second)
			e.SetInt("IPV6_RECVERR 0", s, unix.SOL_IPV6, unix.IPV6_RECVERR, 0)
			_, _, _, _, err = s.RecvMsg(buf, oob, unix.MSG_ERRQUEUE)
			e.Rec("errqueue after IPV6_RECVERR 0", err)
		}},
		{Name: "ipv6/udp-error-queue-ctrunc", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.SetInt("IPV6_RECVERR", s, unix.SOL_IPV6, unix.IPV6_RECVERR, 1)
			e.Check("connect", s.Connect(sa6(v6Loopback, e.BasePort)))
			n, err := s.SendMsg([]byte("nobody home"), nil, nil, 0)
			e.Rec("send", n, err)
			s.Poll(unix.EPOLLERR, 2*time.Second)
			// A short control buffer: the message is cut, MSG_CTRUNC.
			buf := make([]byte, 4)
			n, oobn, fl, _, err := s.RecvMsg(buf, make([]byte, 20), unix.MSG_ERRQUEUE)
			e.Rec("errqueue, 20-byte control, 4-byte buffer", n, oobn, fmt.Sprintf("flags=%#x", fl), err)
		}},
		{Name: "ipv6/path-mtu", Run: func(e *harness.Env) {
			u := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.GetInt("udp IPV6_MTU unconnected", u, unix.SOL_IPV6, unix.IPV6_MTU)
			e.Check("connect", u.Connect(sa6(v6Loopback, e.BasePort)))
			e.GetInt("udp IPV6_MTU to ::1", u, unix.SOL_IPV6, unix.IPV6_MTU)
			m := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("connect v4-mapped", m.Connect(sa6(v4Mapped, e.BasePort)))
			e.GetInt("udp IPV6_MTU to ::ffff:127.0.0.1", m, unix.SOL_IPV6, unix.IPV6_MTU)
			l := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_STREAM, 0)
			e.Check("bind", l.Bind(sa6(v6Loopback, e.BasePort+1)))
			e.Check("listen", l.Listen(4))
			e.GetInt("tcp IPV6_MTU listening", l, unix.SOL_IPV6, unix.IPV6_MTU)
			c := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_STREAM, 0)
			e.Check("tcp connect", c.Connect(sa6(v6Loopback, e.BasePort+1)))
			e.GetInt("tcp IPV6_MTU connected", c, unix.SOL_IPV6, unix.IPV6_MTU)
		}},
		{Name: "ipv6/bind-conflicts", Run: func(e *harness.Env) {
			for _, k := range v6Kinds {
				p := e.BasePort + 2*(k.typ-1)
				first := e.Socket(e.DUT, unix.AF_INET6, k.typ, 0)
				e.Rec(k.name+" bind [::]", first.Bind(sa6(netip.IPv6Unspecified(), p)))
				if k.typ == unix.SOCK_STREAM {
					e.Rec(k.name+" listen", first.Listen(4))
				}
				try := func(op string, family int, sa []byte, reuse bool) {
					s := e.Socket(e.DUT, family, k.typ, 0)
					if reuse {
						e.SetInt(op+" SO_REUSEADDR", s, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
					}
					e.Rec(k.name+" bind "+op, s.Bind(sa))
					s.Close()
				}
				try("AF_INET 0.0.0.0", unix.AF_INET, harness.Sockaddr(netip.IPv4Unspecified(), p), false)
				try("AF_INET 127.0.0.1", unix.AF_INET, harness.Sockaddr(v4Loopback, p), false)
				try("::1", unix.AF_INET6, sa6(v6Loopback, p), false)
				try("v4-mapped 127.0.0.1", unix.AF_INET6, sa6(v4Mapped, p), false)
				try("[::] again", unix.AF_INET6, sa6(netip.IPv6Unspecified(), p), false)
				try("::1 with SO_REUSEADDR", unix.AF_INET6, sa6(v6Loopback, p), true)
				// A v6-only socket on another port leaves IPv4's free.
				only := e.Socket(e.DUT, unix.AF_INET6, k.typ, 0)
				e.SetInt(k.name+" IPV6_V6ONLY", only, unix.SOL_IPV6, unix.IPV6_V6ONLY, 1)
				e.Rec(k.name+" bind v6only [::]", only.Bind(sa6(netip.IPv6Unspecified(), p+1)))
				try("AF_INET beside v6only", unix.AF_INET, harness.Sockaddr(netip.IPv4Unspecified(), p+1), false)
				try("::1 beside v6only", unix.AF_INET6, sa6(v6Loopback, p+1), false)
			}
		}},
		{Name: "ipv6/sol-ip-ttl-tos", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.GetInt("IP_TTL default", s, unix.SOL_IP, unix.IP_TTL)
			e.GetInt("IP_TOS default", s, unix.SOL_IP, unix.IP_TOS)
			e.SetInt("IP_TTL 33", s, unix.SOL_IP, unix.IP_TTL, 33)
			e.SetInt("IP_TTL 0", s, unix.SOL_IP, unix.IP_TTL, 0)
			e.Rec("IP_TOS one byte", s.SetSockOpt(unix.SOL_IP, unix.IP_TOS, []byte{0x28}))
			e.GetInt("IP_TTL", s, unix.SOL_IP, unix.IP_TTL)
			e.GetInt("IP_TOS", s, unix.SOL_IP, unix.IP_TOS)
			v4 := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("bind v4", v4.Bind(harness.Sockaddr(v4Loopback, e.BasePort)))
			// One control message per datagram: the sentry packs several
			// in its own order.
			for _, o := range []struct {
				name string
				opt  int
			}{{"IP_RECVTTL", unix.IP_RECVTTL}, {"IP_RECVTOS", unix.IP_RECVTOS}} {
				e.SetInt(o.name, v4, unix.SOL_IP, o.opt, 1)
				n, err := s.SendMsg([]byte("to v4"), nil, sa6(v4Mapped, e.BasePort), 0)
				e.Rec("send to v4-mapped", n, err)
				v6Recv(e, "recv on AF_INET with "+o.name, v4, 256)
				e.SetInt(o.name+" 0", v4, unix.SOL_IP, o.opt, 0)
			}
			v6 := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind v6", v6.Bind(sa6(v6Loopback, e.BasePort+1)))
			e.SetInt("IPV6_RECVTCLASS", v6, unix.SOL_IPV6, unix.IPV6_RECVTCLASS, 1)
			n, err := s.SendMsg([]byte("to v6"), nil, sa6(v6Loopback, e.BasePort+1), 0)
			e.Rec("send to ::1", n, err)
			v6Recv(e, "recv on AF_INET6 (IP_TOS does not apply)", v6, 256)
			t := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_STREAM, 0)
			e.SetInt("tcp IP_TOS 0x2b", t, unix.SOL_IP, unix.IP_TOS, 0x2b)
			e.GetInt("tcp IP_TOS", t, unix.SOL_IP, unix.IP_TOS)
		}},
		{Name: "ipv6/udp-rfc2292-cmsgs", Run: func(e *harness.Env) {
			// tracepath still asks for the RFC 2292 options.
			rx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind", rx.Bind(sa6(v6Loopback, e.BasePort)))
			e.GetInt("IPV6_2292HOPLIMIT default", rx, unix.SOL_IPV6, unix.IPV6_2292HOPLIMIT)
			e.Rec("IPV6_2292HOPLIMIT short", rx.SetSockOpt(unix.SOL_IPV6, unix.IPV6_2292HOPLIMIT, []byte{1}))
			e.SetInt("IPV6_2292HOPLIMIT", rx, unix.SOL_IPV6, unix.IPV6_2292HOPLIMIT, 1)
			e.SetInt("IPV6_2292PKTINFO", rx, unix.SOL_IPV6, unix.IPV6_2292PKTINFO, 1)
			e.GetInt("IPV6_2292HOPLIMIT", rx, unix.SOL_IPV6, unix.IPV6_2292HOPLIMIT)
			e.GetInt("IPV6_2292PKTINFO", rx, unix.SOL_IPV6, unix.IPV6_2292PKTINFO)
			e.GetInt("IPV6_HOPLIMIT (not an option)", rx, unix.SOL_IPV6, unix.IPV6_HOPLIMIT)
			tx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.SetInt("IPV6_UNICAST_HOPS 9", tx, unix.SOL_IPV6, unix.IPV6_UNICAST_HOPS, 9)
			n, err := tx.SendMsg([]byte("rfc2292"), nil, sa6(v6Loopback, e.BasePort), 0)
			e.Rec("send", n, err)
			v6Recv(e, "recv 2292 only", rx, 256)
			for _, o := range []int{unix.IPV6_RECVPKTINFO, unix.IPV6_RECVHOPLIMIT, unix.IPV6_RECVTCLASS, unix.IPV6_RECVORIGDSTADDR} {
				e.SetInt(fmt.Sprintf("SOL_IPV6 %d", o), rx, unix.SOL_IPV6, o, 1)
			}
			n, err = tx.SendMsg([]byte("all"), nil, sa6(v6Loopback, e.BasePort), 0)
			e.Rec("send", n, err)
			v6Recv(e, "recv all", rx, 512)
		}},
		{Name: "ipv6/mcast-membership", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			group := netip.MustParseAddr("ff02::1:3")
			e.Rec("join lo", s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_JOIN_GROUP, mreq6(group, 1)))
			e.Rec("join lo again", s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_JOIN_GROUP, mreq6(group, 1)))
			e.Rec("join any again", s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_JOIN_GROUP, mreq6(group, 0)))
			e.Rec("join unicast", s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_JOIN_GROUP, mreq6(v6Loopback, 1)))
			e.Rec("join short", s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_JOIN_GROUP, mreq6(group, 1)[:19]))
			e.Rec("join ifindex 999", s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_JOIN_GROUP, mreq6(netip.MustParseAddr("ff02::1:4"), 999)))
			e.Rec("leave lo", s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_LEAVE_GROUP, mreq6(group, 1)))
			e.Rec("leave lo again", s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_LEAVE_GROUP, mreq6(group, 1)))
			_, err := s.GetSockOpt(unix.SOL_IPV6, unix.IPV6_JOIN_GROUP, make([]byte, 20))
			e.Rec("getsockopt IPV6_JOIN_GROUP", err)
			t := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_STREAM, 0)
			e.Rec("tcp join", t.SetSockOpt(unix.SOL_IPV6, unix.IPV6_JOIN_GROUP, mreq6(group, 1)))
		}},
	}
}

// mreq6 is a struct ipv6_mreq.
func mreq6(group netip.Addr, ifindex int32) []byte {
	a := group.As16()
	return append(a[:], harness.Int32(ifindex)...)
}

// pktinfo6 is a struct in6_pktinfo.
func pktinfo6(a netip.Addr, ifindex int32) []byte {
	b := a.As16()
	return append(b[:], harness.Int32(ifindex)...)
}

// appendCmsg6 appends one control message (64-bit layout) to b.
func appendCmsg6(b []byte, level, typ int, data []byte) []byte {
	m := make([]byte, unix.CmsgSpace(len(data)))
	binary.NativeEndian.PutUint64(m, uint64(unix.CmsgLen(len(data))))
	binary.NativeEndian.PutUint32(m[8:], uint32(level))
	binary.NativeEndian.PutUint32(m[12:], uint32(typ))
	copy(m[unix.CmsgLen(0):], data)
	return append(b, m...)
}
