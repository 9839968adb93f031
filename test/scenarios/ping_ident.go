package scenarios

import (
	"encoding/binary"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// Ping socket identifiers (net/ipv4/ping.c): ping_get_port lets sockets
// share an identifier unless one of them turned SO_REUSEADDR off (it is on
// by default, INET_PROTOSW_REUSE), whatever their bound addresses and
// devices; ping_lookup gives a reply to the newest socket holding the
// identifier whose bound address and device fit; __udp_disconnect gives
// up an identifier bind(2) did not name. Identifiers below are fixed and
// private to each scenario; auto-picked ones come from a counter Linux
// shares between namespaces, so only whether they are set or changed is
// recorded.

// newPingSock is a ping socket on the DUT (ping_group_range opened first).
func newPingSock(e *harness.Env) harness.Sock {
	return e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
}

// openPingGroup lets root make ping sockets.
func openPingGroup(e *harness.Env) {
	e.Check("set ping_group_range", e.SetSysctl(e.DUT, pingGroupRange, "0 0"))
}

// pingIdentOf is the identifier getsockname reports (0 on error).
func pingIdentOf(s harness.Sock) uint16 {
	sa, err := s.GetSockName()
	if err != nil || len(sa) < 4 {
		return 0
	}
	return binary.BigEndian.Uint16(sa[2:4])
}

// recPingName records getsockname with the identifier reduced to whether
// it is set, for identifiers the kernel picked.
func recPingName(e *harness.Env, op string, s harness.Sock) {
	sa, err := s.GetSockName()
	if err != nil || len(sa) < 8 {
		e.Rec(op, err, len(sa))
		return
	}
	e.Rec(op, err, "addr", sa[4:8], "ident set", sa[2] != 0 || sa[3] != 0)
}

// pingReplies waits for a reply on any of socks, then records for each,
// by name, what it holds: the echo's sequence and payload, or EAGAIN.
func pingReplies(e *harness.Env, op string, names []string, socks ...harness.Sock) {
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		got := false
		for _, s := range socks {
			if r, _ := s.Poll(unix.EPOLLIN, 0); r&unix.EPOLLIN != 0 {
				got = true
			}
		}
		if got {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // a second, wrongly delivered copy
	buf := make([]byte, 128)
	for i, s := range socks {
		for k := 0; k < 3; k++ {
			n, _, _, from, err := s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			if err != nil {
				e.Rec(fmt.Sprintf("%s: %s", op, names[i]), err)
				break
			}
			if n < 8 {
				e.Rec(fmt.Sprintf("%s: %s", op, names[i]), "short", n)
				continue
			}
			e.Rec(fmt.Sprintf("%s: %s", op, names[i]), e.SA(from), "type", buf[0], "seq", buf[6:8], buf[8:n])
		}
	}
}

func pingIdentScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "ping/ident-shared-by-default", Run: func(e *harness.Env) {
			openPingGroup(e)
			a := newPingSock(e)
			e.GetInt("SO_REUSEADDR default", a, unix.SOL_SOCKET, unix.SO_REUSEADDR)
			raw := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			e.GetInt("raw SO_REUSEADDR default", raw, unix.SOL_SOCKET, unix.SO_REUSEADDR)
			e.Rec("a bind dut:4401", a.Bind(harness.Sockaddr(e.DUTAddr, 4401)))
			b := newPingSock(e)
			e.Rec("b bind dut:4401", b.Bind(harness.Sockaddr(e.DUTAddr, 4401)))
			c := newPingSock(e)
			e.Rec("c bind any:4401", c.Bind(harness.Sockaddr(anyAddr, 4401)))
			d := newPingSock(e)
			e.Rec("d bind lo:4401", d.Bind(harness.Sockaddr(loopback, 4401)))
			for i, s := range []harness.Sock{a, b, c, d} {
				recName(e, fmt.Sprintf("getsockname %c", 'a'+i), s)
			}
			e.Rec("a bind again", a.Bind(harness.Sockaddr(e.DUTAddr, 4402)))
			f := newPingSock(e)
			e.Rec("f bind multicast", f.Bind(harness.Sockaddr(mcastAll, 4401)))
			e.Rec("f bind foreign", f.Bind(harness.Sockaddr(harness.PeerAddr, 4401)))
		}},
		{Name: "ping/ident-reuseaddr-off", Run: func(e *harness.Env) {
			openPingGroup(e)
			a := newPingSock(e)
			e.SetInt("a SO_REUSEADDR 0", a, unix.SOL_SOCKET, unix.SO_REUSEADDR, 0)
			e.Rec("a bind dut:4411", a.Bind(harness.Sockaddr(e.DUTAddr, 4411)))
			b := newPingSock(e)
			e.Rec("b bind dut:4411", b.Bind(harness.Sockaddr(e.DUTAddr, 4411)))
			recName(e, "b after failed bind", b)
			e.Rec("b bind lo:4411 (other address)", b.Bind(harness.Sockaddr(loopback, 4411)))
			e.Rec("b bind any:4411", b.Bind(harness.Sockaddr(anyAddr, 4411)))
			c := newPingSock(e)
			e.SetInt("c SO_REUSEADDR 0", c, unix.SOL_SOCKET, unix.SO_REUSEADDR, 0)
			e.Rec("c bind any:4412", c.Bind(harness.Sockaddr(anyAddr, 4412)))
			d := newPingSock(e)
			e.Rec("d bind lo:4412", d.Bind(harness.Sockaddr(loopback, 4412)))
			d2 := newPingSock(e)
			e.Rec("d2 SO_BINDTOIFINDEX lo", d2.SetSockOpt(unix.SOL_SOCKET, unix.SO_BINDTOIFINDEX, harness.Int32(1)))
			e.Rec("d2 bind lo:4412 (bound device)", d2.Bind(harness.Sockaddr(loopback, 4412)))
			e.SetInt("a SO_REUSEADDR 1", a, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			e.Rec("b bind dut:4411 after a allows", b.Bind(harness.Sockaddr(e.DUTAddr, 4411)))
			recName(e, "b", b)
			e.Check("close a", a.Close())
			e.Check("close c", c.Close())
			e.Rec("d bind lo:4412 after c closed", d.Bind(harness.Sockaddr(loopback, 4412)))
			// An auto-picked identifier is never one in use, but one
			// picked may be bound by a sharing socket.
			x := newPingSock(e)
			e.Rec("x connect peer", x.Connect(harness.Sockaddr(e.PeerAddr, 0)))
			id := pingIdentOf(x)
			y := newPingSock(e)
			e.Rec("y bind x's identifier", y.Bind(harness.Sockaddr(anyAddr, int(id))))
			e.Rec("y identifier is x's", pingIdentOf(y) == id && id != 0)
		}},
		{Name: "ping/ident-shared-reply-newest", Run: func(e *harness.Env) {
			openPingGroup(e)
			names := []string{"s1", "s2", "s3"}
			var socks []harness.Sock
			for _, n := range names {
				s := newPingSock(e)
				e.Rec(n+" bind any:4421", s.Bind(harness.Sockaddr(anyAddr, 4421)))
				socks = append(socks, s)
			}
			send(e, "s1 echo to peer", socks[0], echoRequest(0, 1, []byte("from s1")), harness.Sockaddr(e.PeerAddr, 0), 0)
			pingReplies(e, "after s1 send", names, socks...)
			send(e, "s2 echo to lo", socks[1], echoRequest(0, 2, []byte("from s2")), harness.Sockaddr(loopback, 0), 0)
			pingReplies(e, "after s2 send", names, socks...)
			e.Check("close s3", socks[2].Close())
			send(e, "s1 echo to peer", socks[0], echoRequest(0, 3, []byte("s3 closed")), harness.Sockaddr(e.PeerAddr, 0), 0)
			pingReplies(e, "after s3 closed", names[:2], socks[:2]...)
		}},
		{Name: "ping/ident-shared-reply-by-address", Run: func(e *harness.Env) {
			openPingGroup(e)
			onDUT := newPingSock(e)
			e.Rec("onDUT bind dut:4431", onDUT.Bind(harness.Sockaddr(e.DUTAddr, 4431)))
			onLo := newPingSock(e)
			e.Rec("onLo bind lo:4431", onLo.Bind(harness.Sockaddr(loopback, 4431)))
			names := []string{"onDUT", "onLo"}
			send(e, "onDUT echo to peer", onDUT, echoRequest(0, 1, []byte("to dut")), harness.Sockaddr(e.PeerAddr, 0), 0)
			pingReplies(e, "reply to dut address", names, onDUT, onLo)
			send(e, "onLo echo to lo", onLo, echoRequest(0, 2, []byte("to lo")), harness.Sockaddr(loopback, 0), 0)
			pingReplies(e, "reply to loopback", names, onDUT, onLo)
			// A newer wildcard socket comes first in the chain and takes
			// replies to either address.
			wild := newPingSock(e)
			e.Rec("wild bind any:4431", wild.Bind(harness.Sockaddr(anyAddr, 4431)))
			names = append(names, "wild")
			send(e, "onDUT echo to peer", onDUT, echoRequest(0, 3, []byte("wild newest")), harness.Sockaddr(e.PeerAddr, 0), 0)
			pingReplies(e, "reply with wildcard newest", names, onDUT, onLo, wild)
			// A socket bound to lo's device is passed over for a reply
			// that came in on the DUT's interface.
			dev := newPingSock(e)
			e.Rec("dev SO_BINDTOIFINDEX lo", dev.SetSockOpt(unix.SOL_SOCKET, unix.SO_BINDTOIFINDEX, harness.Int32(1)))
			e.Rec("dev bind any:4431", dev.Bind(harness.Sockaddr(anyAddr, 4431)))
			names = append(names, "dev")
			send(e, "onDUT echo to peer", onDUT, echoRequest(0, 4, []byte("dev skipped")), harness.Sockaddr(e.PeerAddr, 0), 0)
			pingReplies(e, "reply with lo-bound newest", names, onDUT, onLo, wild, dev)
			send(e, "onLo echo to lo", onLo, echoRequest(0, 5, []byte("dev takes")), harness.Sockaddr(loopback, 0), 0)
			pingReplies(e, "reply on lo with lo-bound newest", names, onDUT, onLo, wild, dev)
		}},
		{Name: "ping/reconnect-after-unspec", Run: func(e *harness.Env) {
			openPingGroup(e)
			unspec := make([]byte, 16) // AF_UNSPEC
			s := newPingSock(e)
			e.Rec("connect peer", s.Connect(harness.Sockaddr(e.PeerAddr, 0)))
			recPingName(e, "getsockname", s)
			first := pingIdentOf(s)
			e.Rec("disconnect", s.Connect(unspec))
			recName(e, "getsockname after disconnect", s)
			recPeer(e, "getpeername after disconnect", s)
			send(e, "send without address", s, echoRequest(0, 1, nil), nil, 0)
			e.Rec("connect peer again", s.Connect(harness.Sockaddr(e.PeerAddr, 0)))
			recPingName(e, "getsockname", s)
			e.Rec("identifier changed", pingIdentOf(s) != first)
			send(e, "echo", s, echoRequest(0, 2, []byte("reconnected")), nil, 0)
			pingReplies(e, "reply", []string{"s"}, s)
			e.Rec("disconnect", s.Connect(unspec))
			e.Rec("bind any:4441 after disconnect", s.Bind(harness.Sockaddr(anyAddr, 4441)))
			e.Rec("connect peer", s.Connect(harness.Sockaddr(e.PeerAddr, 0)))
			recName(e, "getsockname", s)
			e.Rec("disconnect", s.Connect(unspec))
			recName(e, "getsockname keeps bound identifier", s)
			e.Rec("bind again", s.Bind(harness.Sockaddr(anyAddr, 4442)))
			e.Rec("connect peer", s.Connect(harness.Sockaddr(e.PeerAddr, 0)))
			send(e, "echo", s, echoRequest(0, 4, []byte("bound id")), nil, 0)
			pingReplies(e, "reply", []string{"s"}, s)

			// Bound address without identifier: the address stays, the
			// identifier goes.
			t := newPingSock(e)
			e.Rec("t bind dut:0", t.Bind(harness.Sockaddr(e.DUTAddr, 0)))
			recPingName(e, "t getsockname", t)
			e.Rec("t disconnect", t.Connect(unspec))
			recName(e, "t getsockname after disconnect", t)
			e.Rec("t connect peer", t.Connect(harness.Sockaddr(e.PeerAddr, 0)))
			recPingName(e, "t getsockname", t)
			e.Rec("t bind again", t.Bind(harness.Sockaddr(e.DUTAddr, 0)))
			e.Rec("t disconnect", t.Connect(unspec))
			send(e, "t sendto peer (autobind)", t, echoRequest(0, 5, []byte("sendto")), harness.Sockaddr(e.PeerAddr, 0), 0)
			recPingName(e, "t getsockname after sendto", t)
			pingReplies(e, "t reply", []string{"t"}, t)

			// Disconnecting a socket never bound or connected.
			u := newPingSock(e)
			e.Rec("u disconnect", u.Connect(unspec))
			recName(e, "u getsockname", u)
			e.Rec("u connect short address", u.Connect([]byte{2, 0, 0, 0}))
			recPingName(e, "u getsockname after failed connect", u)
		}},
		{Name: "ping/disconnect-keeps-queue", Run: func(e *harness.Env) {
			openPingGroup(e)
			unspec := make([]byte, 16) // AF_UNSPEC
			for _, bound := range []bool{false, true} {
				s := newPingSock(e)
				if bound {
					e.Rec("bind any:4451", s.Bind(harness.Sockaddr(anyAddr, 4451)))
				}
				e.Rec("connect peer", s.Connect(harness.Sockaddr(e.PeerAddr, 0)))
				send(e, "echo 1", s, echoRequest(0, 1, []byte("one")), nil, 0)
				send(e, "echo 2", s, echoRequest(0, 2, []byte("two")), nil, 0)
				harness.WaitReadable(s, 2*time.Second)
				time.Sleep(100 * time.Millisecond)
				e.Rec("disconnect", s.Connect(unspec))
				e.Rec("readable after disconnect", harness.WaitReadable(s, 0)&unix.EPOLLIN != 0)
				buf := make([]byte, 64)
				n, _, _, from, err := s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
				e.Rec("recv after disconnect", err, e.SA(from), buf[6:8], buf[8:max(n, 8)])
				e.Rec("connect lo", s.Connect(harness.Sockaddr(loopback, 0)))
				n, _, _, from, err = s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
				e.Rec("recv after connect again", err, e.SA(from), buf[6:8], buf[8:max(n, 8)])
				_, _, _, _, err = s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
				e.Rec("queue empty", err)
			}
		}},
	}
}

// pingBoundIdentScenarios pin the identifier a bound ping socket sends.
func pingBoundIdentScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "ping/bound-identifier", Run: func(e *harness.Env) {
			e.Check("set ping_group_range", e.SetSysctl(e.DUT, pingGroupRange, "0 0"))
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
			e.Rec("bind id 4321", s.Bind(harness.Sockaddr(e.DUTAddr, 4321)))
			recName(e, "getsockname", s)
			send(e, "echo to peer", s, echoRequest(0, 9, []byte("id")), harness.Sockaddr(e.PeerAddr, 0), 0)
			harness.WaitReadable(s, 2*time.Second)
			buf := make([]byte, 64)
			n, _, _, from, err := s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			if err == nil && n >= 8 {
				e.Rec("reply", n, e.SA(from), buf[:n])
			} else {
				e.Rec("reply", err, n)
			}
			send(e, "send non-echo type", s, []byte{13, 0, 0, 0, 0, 0, 0, 0}, harness.Sockaddr(e.PeerAddr, 0), 0)
			send(e, "send echo with code 1", s, []byte{8, 1, 0, 0, 0, 0, 0, 0}, harness.Sockaddr(e.PeerAddr, 0), 0)
			send(e, "send short", s, []byte{8, 0, 0}, harness.Sockaddr(e.PeerAddr, 0), 0)
			t := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
			e.Rec("second socket same id", t.Bind(harness.Sockaddr(e.DUTAddr, 4321)))
		}},
	}
}
