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

// IP_OPTIONS on TCP and ping sockets: set/get as on UDP, and what a kernel
// peer receives (options on the SYN, on data, on echo requests; the
// payload size of full segments shrinking by the option length).

// tcpPingIPOptionScenarios is appended to cmsgSendScenarios.
func tcpPingIPOptionScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "ipopt/tcp-ip-options-set-get", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			ipOptionsSetGet(e, s)
			peerListener(e, e.BasePort)
			c := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Rec("connect", c.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			e.Rec("connected: set rr", c.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, rrSlots(2)))
			getOptBytes(e, "connected: get", c, unix.IPPROTO_IP, unix.IP_OPTIONS, 48)
			e.Rec("connected: set lsrr", c.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, lsrrTo(e, 1)))
			getOptBytes(e, "connected: get", c, unix.IPPROTO_IP, unix.IP_OPTIONS, 48)
		}},
		{Name: "ipopt/ping-ip-options-set-get", Run: func(e *harness.Env) {
			e.Check("set ping_group_range", e.SetSysctl(e.DUT, pingGroupRange, "0 0"))
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
			ipOptionsSetGet(e, s)
		}},
		{Name: "wire/tcp-ip-options-syn-and-data", Run: func(e *harness.Env) {
			l := peerListener(e, e.BasePort)
			tap := peerTap(e, unix.IPPROTO_TCP)
			for _, opts := range wireOptionCases(e) {
				s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
				e.Rec(fmt.Sprintf("set %x", opts), s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, opts))
				e.Rec("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
				captureTCP(e, "peer saw SYN", tap, e.BasePort, tcpSYNOnly)
				a, _, err := l.Accept(0)
				e.Rec("peer accept", err)
				send(e, "send", s, []byte("data"), nil, 0)
				captureTCPData(e, "peer saw data", tap, e.BasePort, "data")
				if err == nil {
					e.Rec("peer got", streamBytes(a, 4, 2*time.Second))
					a.Close()
				}
				s.Close()
			}
		}},
		{Name: "wire/tcp6-ip-options", Run: func(e *harness.Env) {
			// An AF_INET6 socket's IP_OPTIONS go on its IPv4 (v4-mapped)
			// connection's segments; an IPv6 connection keeps them unsent
			// and reads them back.
			l := peerListener(e, e.BasePort)
			tap := peerTap(e, unix.IPPROTO_TCP)
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_STREAM, 0)
			e.Rec("set rr", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, rrSlots(2)))
			e.Rec("connect v4-mapped", s.Connect(sa6(netip.AddrFrom16(e.PeerAddr.As16()), e.BasePort)))
			captureTCP(e, "peer saw SYN", tap, e.BasePort, tcpSYNOnly)
			a, _, err := l.Accept(0)
			e.Rec("peer accept", err)
			send(e, "send", s, []byte("data"), nil, 0)
			captureTCPData(e, "peer saw data", tap, e.BasePort, "data")
			e.Rec("set ra", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, []byte{0x94, 4, 0, 0}))
			send(e, "send", s, []byte("ra"), nil, 0)
			captureTCPData(e, "peer saw", tap, e.BasePort, "ra")
			if err == nil {
				e.Rec("peer got", streamBytes(a, 6, 2*time.Second))
			}

			l6 := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_STREAM, 0)
			e.Check("bind ::1", l6.Bind(sa6(v6Loopback, e.BasePort+1)))
			e.Rec("listener set rr", l6.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, rrSlots(1)))
			e.Check("listen", l6.Listen(4))
			c := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_STREAM, 0)
			e.Rec("set rr", c.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, rrSlots(2)))
			e.Rec("connect ::1", c.Connect(sa6(v6Loopback, e.BasePort+1)))
			buf := make([]byte, 40)
			n, err := c.GetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, buf)
			e.Rec("get IP_OPTIONS", err, n, buf[:max(0, min(n, len(buf)))])
			acc, _, err := l6.Accept(0)
			e.Rec("accept", err)
			if err == nil {
				n, err := acc.GetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, buf)
				e.Rec("accepted IP_OPTIONS", err, n)
				send(e, "send", c, []byte("v6"), nil, 0)
				e.Rec("accepted got", streamBytes(acc, 2, 2*time.Second))
			}
		}},
		{Name: "wire/tcp-ip-options-set-when-established", Run: func(e *harness.Env) {
			l := peerListener(e, e.BasePort)
			tap := peerTap(e, unix.IPPROTO_TCP)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Rec("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			a, _, err := l.Accept(0)
			e.Rec("peer accept", err)
			send(e, "send", s, []byte("plain"), nil, 0)
			captureTCPData(e, "peer saw", tap, e.BasePort, "plain")
			e.Rec("set rr", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, rrSlots(2)))
			send(e, "send", s, []byte("rr"), nil, 0)
			captureTCPData(e, "peer saw", tap, e.BasePort, "rr")
			e.Rec("set ra", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, []byte{0x94, 4, 0, 0}))
			send(e, "send", s, []byte("ra"), nil, 0)
			captureTCPData(e, "peer saw", tap, e.BasePort, "ra")
			e.Rec("clear", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, nil))
			send(e, "send", s, []byte("none"), nil, 0)
			captureTCPData(e, "peer saw", tap, e.BasePort, "none")
			if err == nil {
				e.Rec("peer got", streamBytes(a, 13, 2*time.Second))
			}
		}},
		{Name: "wire/tcp-ip-options-segment-size", Run: func(e *harness.Env) {
			// Linux cuts the segment payload by the option length
			// (icsk_ext_hdr_len) but still advertises the route's MSS.
			// The absolute payload differs between the stacks (gVisor
			// reserves room for SACK blocks), so the scenario compares
			// the cut and the largest packet.
			l := peerListener(e, e.BasePort)
			tap := peerTap(e, unix.IPPROTO_TCP)
			const n = 6000
			var base int
			for _, opts := range [][]byte{nil, rrSlots(2), rrSlots(9)} {
				s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
				if opts != nil {
					e.Rec(fmt.Sprintf("set %d option bytes", len(opts)), s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, opts))
				}
				e.Rec("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
				a, _, err := l.Accept(0)
				e.Rec("peer accept", err)
				send(e, "send", s, make([]byte, n), nil, 0)
				syn, biggest, total := segmentSizes(tap, sockPort(s), n)
				if opts == nil {
					base = biggest
				}
				e.Rec("SYN MSS option", syn, "payload cut", base-biggest, "largest packet within 1500", total <= 1500 && total > 1400)
				if err == nil {
					e.Rec("peer got", streamBytes(a, n, 3*time.Second))
					a.Close()
				}
				s.Close()
			}
		}},
		{Name: "wire/ping-ip-options", Run: func(e *harness.Env) {
			tap := peerTap(e, unix.IPPROTO_ICMP)
			s := pingSock(e, e.BasePort)
			to := harness.Sockaddr(e.PeerAddr, 0)
			for i, opts := range wireOptionCases(e) {
				e.Rec(fmt.Sprintf("set %x", opts), s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, opts))
				send(e, "send", s, echoRequest(0, uint16(i), []byte("opt")), to, 0)
				captureEcho(e, "peer saw", tap)
				optsPingReply(e, "reply", s)
			}
			e.Rec("clear", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, nil))
			send(e, "send", s, echoRequest(0, 99, []byte("none")), to, 0)
			captureEcho(e, "peer saw", tap)
			optsPingReply(e, "reply", s)
		}},
		{Name: "wire/tcp-ping-ip-options-source-route", Run: func(e *harness.Env) {
			// The peer forwards a loose source route to the far host once
			// both accept source-routed packets.
			for _, c := range []struct {
				h    harness.Host
				name string
			}{{e.Peer, "all"}, {e.Peer, "eth0"}, {e.Peer, "eth1"}, {e.Far, "all"}, {e.Far, "eth0"}} {
				e.Check("accept_source_route", e.SetSysctl(c.h, "net.ipv4.conf."+c.name+".accept_source_route", "1"))
			}
			// The DUT must take the answers, which come back source-routed;
			// netsandbox has no such sysctl (its IPv4 takes them anyway).
			for _, name := range []string{"all", "eth0"} {
				_ = e.SetSysctl(e.DUT, "net.ipv4.conf."+name+".accept_source_route", "1")
			}
			far := e.FarAddrs[0]
			l := e.Socket(e.Far, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("far bind", l.Bind(harness.Sockaddr(far, e.BasePort)))
			e.Check("far listen", l.Listen(4))
			tap := e.Socket(e.Far, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_TCP)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Rec("set lsrr via peer", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, lsrrTo(e, 1)))
			getOptBytes(e, "get", s, unix.IPPROTO_IP, unix.IP_OPTIONS, 40)
			e.Rec("connect far", s.Connect(harness.Sockaddr(far, e.BasePort)))
			captureTCP(e, "far saw SYN", tap, e.BasePort, tcpSYNOnly)
			recPeer(e, "getpeername", s)
			a, _, err := l.Accept(0)
			e.Rec("far accept", err)
			send(e, "send", s, []byte("srr"), nil, 0)
			captureTCPData(e, "far saw data", tap, e.BasePort, "srr")
			if err == nil {
				e.Rec("far got", streamBytes(a, 3, 2*time.Second))
				send(e, "far send", a, []byte("back"), nil, 0)
				e.Rec("DUT got", streamBytes(s, 4, 2*time.Second))
			}
			ftap := e.Socket(e.Far, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			p := pingSock(e, e.BasePort)
			e.Rec("ping set lsrr via peer", p.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, lsrrTo(e, 1)))
			send(e, "ping far", p, echoRequest(0, 1, []byte("srr")), harness.Sockaddr(far, 0), 0)
			captureEcho(e, "far saw", ftap)
			optsPingReply(e, "reply", p)
		}},
		{Name: "ipopt/tcp-listener-ip-options", Run: func(e *harness.Env) {
			// A listener's options never leave it: the SYN-ACK carries
			// none and the accepted socket starts without any.
			l := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Rec("set rr", l.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, rrSlots(2)))
			e.Check("bind", l.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort)))
			e.Check("listen", l.Listen(4))
			getOptBytes(e, "listener get", l, unix.IPPROTO_IP, unix.IP_OPTIONS, 40)
			tap := peerTap(e, unix.IPPROTO_TCP)
			p := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("peer bind", p.Bind(harness.Sockaddr(e.PeerAddr, e.BasePort+1)))
			e.Rec("peer connect", p.Connect(harness.Sockaddr(e.DUTAddr, e.BasePort)))
			captureTCP(e, "peer saw SYN-ACK", tap, e.BasePort+1, tcpSYNACK)
			a, _, err := l.Accept(0)
			e.Rec("accept", err)
			if err != nil {
				return
			}
			getOptBytes(e, "accepted get", a, unix.IPPROTO_IP, unix.IP_OPTIONS, 40)
			send(e, "accepted send", a, []byte("child"), nil, 0)
			captureTCPData(e, "peer saw", tap, e.BasePort+1, "child")
			e.Rec("accepted set ra", a.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, []byte{0x94, 4, 0, 0}))
			send(e, "accepted send", a, []byte("ra"), nil, 0)
			captureTCPData(e, "peer saw", tap, e.BasePort+1, "ra")
		}},
		{Name: "ipopt/tcp-accept-syn-ip-options", Run: func(e *harness.Env) {
			// A connection accepted from a SYN with options answers with
			// them reversed (ip_options_echo), SYN-ACK included, and its
			// socket reads them back.
			l := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("bind", l.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort)))
			e.Check("listen", l.Listen(8))
			tap := peerTap(e, unix.IPPROTO_TCP)
			for i, opts := range [][]byte{
				rrSlots(2),
				rrSlots(1),
				{0x44, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0},
				{0x44, 20, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
				{0x94, 4, 0, 0},
				{1, 1, 1, 1},
			} {
				port := e.BasePort + 1 + i
				p := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_STREAM, 0)
				e.Check("peer bind", p.Bind(harness.Sockaddr(e.PeerAddr, port)))
				e.Rec(fmt.Sprintf("peer set %x", opts), p.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, opts))
				e.Rec("peer connect", p.Connect(harness.Sockaddr(e.DUTAddr, e.BasePort)))
				captureTCP(e, "peer saw SYN-ACK", tap, port, tcpSYNACK)
				a, _, err := l.Accept(0)
				e.Rec("accept", err)
				if err != nil {
					continue
				}
				getOptsMasked(e, "accepted get", a)
				send(e, "accepted send", a, []byte("echo"), nil, 0)
				captureTCPData(e, "peer saw", tap, port, "echo")
				e.Rec("peer got", streamBytes(p, 4, 2*time.Second))
				a.Close()
				p.Close()
			}
		}},
		{Name: "wire/tcp-accept-syn-ip-options-segment-size", Run: func(e *harness.Env) {
			// The accepted socket's segments shrink by the echoed options.
			l := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("bind", l.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort)))
			e.Check("listen", l.Listen(8))
			tap := peerTap(e, unix.IPPROTO_TCP)
			const n = 6000
			var base int
			for i, opts := range [][]byte{nil, rrSlots(5)} {
				port := e.BasePort + 1 + i
				p := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_STREAM, 0)
				e.Check("peer bind", p.Bind(harness.Sockaddr(e.PeerAddr, port)))
				if opts != nil {
					e.Rec("peer set rr", p.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, opts))
				}
				e.Rec("peer connect", p.Connect(harness.Sockaddr(e.DUTAddr, e.BasePort)))
				a, _, err := l.Accept(0)
				e.Rec("accept", err)
				if err != nil {
					continue
				}
				send(e, "accepted send", a, make([]byte, n), nil, 0)
				_, biggest, total := segmentSizesFrom(tap, e.BasePort, port, n)
				if opts == nil {
					base = biggest
				}
				e.Rec("payload cut", base-biggest, "largest packet within 1500", total <= 1500 && total > 1400)
				e.Rec("peer got", streamBytes(p, n, 3*time.Second))
				a.Close()
				p.Close()
			}
		}},
		{Name: "wire/ping-ip-options-fragments", Run: func(e *harness.Env) {
			// An echo larger than the MTU leaves in fragments; Linux keeps
			// only the options with the copy bit (source route, router
			// alert) in the later ones (ip_options_fragment).
			tap := e.Socket(e.Peer, unix.AF_PACKET, unix.SOCK_DGRAM, int(htons(unix.ETH_P_IP)))
			s := pingSock(e, e.BasePort)
			for i, opts := range [][]byte{rrSlots(2), append([]byte{0x94, 4, 0, 0}, 0x44, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0)} {
				e.Rec(fmt.Sprintf("set %x", opts), s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, opts))
				send(e, "send 3000", s, echoRequest(0, uint16(i), make([]byte, 3000)), harness.Sockaddr(e.PeerAddr, 0), 0)
				captureICMPFrags(e, "peer saw", tap, e.DUTAddr, 3)
				optsPingReply(e, "reply", s)
			}
		}},
		{Name: "wire/tcp-ip-options-frag-needed", Run: func(e *harness.Env) {
			// After a "fragmentation needed", Linux sizes segments for the
			// new path MTU less the options (tcp_sync_mss). The far
			// address is one no later scenario uses: the learnt MTU stays.
			far := e.FarAddrs[2]
			l := e.Socket(e.Far, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("far bind", l.Bind(harness.Sockaddr(far, e.BasePort)))
			e.Check("far listen", l.Listen(4))
			tap := e.Socket(e.Far, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_TCP)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Rec("set 40 option bytes", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, rrSlots(9)))
			e.Rec("connect far", s.Connect(harness.Sockaddr(far, e.BasePort)))
			a, _, err := l.Accept(0)
			e.Rec("far accept", err)
			if err != nil {
				return
			}
			port := sockPort(s)
			send(e, "send x", s, []byte("x"), nil, 0)
			seq, ok := dataSeq(tap, port)
			e.Rec("far saw x", ok, "far got", streamBytes(a, 1, 2*time.Second))
			settle()
			th := make([]byte, 20)
			binary.BigEndian.PutUint16(th[0:], uint16(port))
			binary.BigEndian.PutUint16(th[2:], uint16(e.BasePort))
			binary.BigEndian.PutUint32(th[4:], seq+1)
			th[12] = 5 << 4
			newForger(e).send(3, 4, fragNeeded(1000), quoteProto(unix.IPPROTO_TCP, e.DUTAddr, far, th), false)
			settle()
			const n = 6000
			send(e, "send", s, make([]byte, n), nil, 0)
			_, _, total := segmentSizesFrom(tap, port, e.BasePort, n)
			e.Rec("largest packet within 1000", total <= 1000 && total > 900)
			e.Rec("far got", streamBytes(a, n, 3*time.Second))
		}},
		{Name: "wire/tcp-ip-options-fin", Run: func(e *harness.Env) {
			// The FIN of a closed socket still carries its options.
			l := peerListener(e, e.BasePort)
			tap := peerTap(e, unix.IPPROTO_TCP)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Rec("set rr", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, rrSlots(2)))
			e.Rec("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			a, _, err := l.Accept(0)
			e.Rec("peer accept", err)
			e.Rec("close", s.Close())
			captureTCP(e, "peer saw FIN", tap, e.BasePort, tcpFIN)
			if err == nil {
				e.Rec("peer read EOF", streamBytes(a, 1, 500*time.Millisecond))
			}
		}},
		{Name: "wire/tcp-ip-options-strict-route-off-link", Run: func(e *harness.Env) {
			// A strict source route whose first hop is behind a gateway
			// has no route (ip_queue_xmit): the SYN never leaves (the far
			// host, its first hop, would see it).
			// The peer forwards source-routed packets only when allowed.
			for _, name := range []string{"all", "eth0"} {
				e.Check("accept_source_route", e.SetSysctl(e.Peer, "net.ipv4.conf."+name+".accept_source_route", "1"))
			}
			far := e.FarAddrs[0].As4()
			// A packet socket: the far host forwards a source-routed SYN
			// on rather than delivering it to a raw socket.
			tap := e.Socket(e.Far, unix.AF_PACKET, unix.SOCK_DGRAM, int(htons(unix.ETH_P_IP)))
			peerListener(e, e.BasePort)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
			e.Rec("set ssrr via far", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, append([]byte{0x89, 7, 4}, far[:]...)))
			e.Rec("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			r, err := s.Poll(unix.EPOLLOUT, 300*time.Millisecond)
			e.Rec("poll", r, err)
			captureTCP(e, "far saw SYN", tap, e.BasePort, tcpSYNOnly)
			getOptBytes(e, "SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR, 4)
			l := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
			e.Rec("set lsrr via far", l.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, append([]byte{0x83, 7, 4}, far[:]...)))
			e.Rec("connect", l.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			captureTCP(e, "far saw SYN", tap, e.BasePort, tcpSYNOnly)
		}},
		{Name: "ipopt/tcp-ip-options-to-self", Run: func(e *harness.Env) {
			// A connection to one of this host's own addresses: the
			// accepted socket reads back the SYN's options as they
			// arrived through lo, this host's address recorded.
			for i, dst := range []netip.Addr{loopback, e.DUTAddr} {
				l := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
				e.Check("bind", l.Bind(harness.Sockaddr(dst, e.BasePort+i)))
				e.Check("listen", l.Listen(4))
				c := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
				e.Rec("set rr", c.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, rrSlots(3)))
				e.Rec("connect "+dst.String(), c.Connect(harness.Sockaddr(dst, e.BasePort+i)))
				a, _, err := l.Accept(0)
				e.Rec("accept", err)
				if err != nil {
					continue
				}
				getOptsMasked(e, "accepted get", a)
				send(e, "send", c, []byte("self"), nil, 0)
				e.Rec("accepted got", streamBytes(a, 4, 2*time.Second))
				send(e, "accepted send", a, []byte("back"), nil, 0)
				e.Rec("client got", streamBytes(c, 4, 2*time.Second))
			}
		}},
	}
}

// ipOptionsSetGet sets every kind of option and length edge on s and
// reads each back, then reads with short buffers.
func ipOptionsSetGet(e *harness.Env, s harness.Sock) {
	dut, peer := e.DUTAddr.As4(), e.PeerAddr.As4()
	nops := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = 1
		}
		return b
	}
	cases := [][]byte{
		nil, {1}, {1, 1}, nops(3), nops(4), nops(5), nops(39), nops(40), nops(41),
		make([]byte, 40), make([]byte, 41),
		rrSlots(1), rrSlots(2), rrSlots(9), {7, 7, 8, 1, 2, 3, 4}, {7, 2}, {7, 7, 3, 0, 0, 0, 0},
		{0x44, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {0x44, 12, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0},
		append(append([]byte{0x44, 12, 5, 3}, peer[:]...), 0, 0, 0, 0), append(append([]byte{0x44, 12, 5, 3}, dut[:]...), 0, 0, 0, 0),
		{0x44, 4, 5, 0xf0}, {0x44, 8, 5, 2, 0, 0, 0, 0},
		lsrrTo(e, 1), lsrrTo(e, 2), append([]byte{0x89, 7, 4}, peer[:]...), {0x83, 3, 4},
		{0x94, 4, 0, 0}, {0x94, 3, 0}, {0x82, 4, 0, 0}, {0x99, 2},
	}
	for _, opts := range cases {
		e.Rec(fmt.Sprintf("set %d bytes %x", len(opts), opts), s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, opts))
		getOptBytes(e, "get", s, unix.IPPROTO_IP, unix.IP_OPTIONS, 48)
	}
	e.Rec("set lsrr2", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, lsrrTo(e, 2)))
	for _, n := range []int{0, 1, 5, 11, 12, 40} {
		getOptBytes(e, fmt.Sprintf("get %d bytes", n), s, unix.IPPROTO_IP, unix.IP_OPTIONS, n)
	}
	e.Rec("set empty", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, nil))
	getOptBytes(e, "get", s, unix.IPPROTO_IP, unix.IP_OPTIONS, 48)
}

// getOptsMasked records getsockopt(IP_OPTIONS) with the times of a
// timestamp option reduced as optHeader does.
func getOptsMasked(e *harness.Env, op string, s harness.Sock) {
	buf := make([]byte, 40)
	n, err := s.GetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, buf)
	e.Rec(op, err, n, maskTimes(buf[:min(max(n, 0), len(buf))]))
}

// rrSlots is a record route option with n empty slots.
func rrSlots(n int) []byte {
	return append([]byte{7, byte(3 + 4*n), 4}, make([]byte, 4*n)...)
}

// lsrrTo is a loose source route through the peer: one hop (the peer,
// then the final destination) or two (peer, far host).
func lsrrTo(e *harness.Env, hops int) []byte {
	peer := e.PeerAddr.As4()
	b := append([]byte{0x83, 7, 4}, peer[:]...)
	if hops > 1 {
		far := e.FarAddrs[0].As4()
		b = append(b, far[:]...)
		b[1] = 11
	}
	return b
}

// wireOptionCases are the options whose effect on the wire is compared.
func wireOptionCases(e *harness.Env) [][]byte {
	peer := e.PeerAddr.As4()
	dut := e.DUTAddr.As4()
	return [][]byte{
		rrSlots(2),
		{7, 7, 8, 1, 2, 3, 4},                    // full record route: sent as given
		{0x44, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0}, // timestamps
		{0x44, 20, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, // addresses and timestamps
		append(append([]byte{0x44, 12, 5, 3}, dut[:]...), 0, 0, 0, 0),    // prespecified, this host
		append(append([]byte{0x44, 12, 5, 3}, peer[:]...), 0, 0, 0, 0),   // prespecified, the peer
		{0x94, 4, 0, 0}, // router alert
		{1, 1, 1},       // NOPs
		nil,             // empty: no options
	}
}

const (
	tcpSYNOnly = iota
	tcpSYNACK
	tcpWithData
	tcpFIN
)

// captureTCP reads the tap (bounded) until a TCP segment to port of the
// wanted kind arrives and records its header as the options scenarios
// compare it.
func captureTCP(e *harness.Env, op string, tap harness.Sock, port, kind int) {
	captureTCPSeg(e, op, tap, port, kind, "")
}

// captureTCPData is captureTCP for the segment carrying payload: an
// earlier segment's retransmission (timing the scenarios do not pin)
// is passed over.
func captureTCPData(e *harness.Env, op string, tap harness.Sock, port int, payload string) {
	captureTCPSeg(e, op, tap, port, tcpWithData, payload)
}

func captureTCPSeg(e *harness.Env, op string, tap harness.Sock, port, kind int, payload string) {
	deadline := time.Now().Add(2 * time.Second)
	buf := make([]byte, 70000)
	for i := 0; i < 64 && time.Now().Before(deadline); i++ {
		harness.WaitReadable(tap, time.Until(deadline))
		n, _, _, _, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil || n < 20 {
			continue
		}
		p := buf[:n]
		ihl := int(p[0]&0xf) * 4
		if n < ihl+20 || int(binary.BigEndian.Uint16(p[ihl+2:])) != port {
			continue
		}
		flags := p[ihl+13]
		data := n - ihl - int(p[ihl+12]>>4)*4
		ok := false
		switch kind {
		case tcpSYNOnly:
			ok = flags&0x12 == 0x02
		case tcpSYNACK:
			ok = flags&0x12 == 0x12
		case tcpWithData:
			ok = data > 0 && (payload == "" || string(p[n-data:]) == payload)
		case tcpFIN:
			ok = flags&0x01 != 0
		}
		if ok {
			e.Rec(op, optHeader(p), fmt.Sprintf("tcpflags=%#x data=%d", flags, data))
			return
		}
	}
	e.Rec(op, "nothing captured")
}

// captureEcho records the next echo request the tap sees.
func captureEcho(e *harness.Env, op string, tap harness.Sock) {
	deadline := time.Now().Add(2 * time.Second)
	buf := make([]byte, 2048)
	for i := 0; i < 32 && time.Now().Before(deadline); i++ {
		harness.WaitReadable(tap, time.Until(deadline))
		n, _, _, _, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil || n < 20 {
			continue
		}
		ihl := int(buf[0]&0xf) * 4
		if n <= ihl || buf[ihl] != 8 {
			continue
		}
		e.Rec(op, optHeader(buf[:n]), fmt.Sprintf("icmp=%x", buf[ihl+8:n]))
		return
	}
	e.Rec(op, "nothing captured")
}

// segmentSizes reads the tap (bounded) for the segments from the DUT's
// port: the MSS option of its SYN, the largest payload and the largest IP
// length among the data segments, until want payload bytes were seen.
func segmentSizes(tap harness.Sock, port, want int) (synMSS, payload, total int) {
	return segmentSizesFrom(tap, port, -1, want)
}

// segmentSizesFrom is segmentSizes for the segments from port to dport
// (-1 = any).
func segmentSizesFrom(tap harness.Sock, port, dport, want int) (synMSS, payload, total int) {
	deadline := time.Now().Add(3 * time.Second)
	buf := make([]byte, 70000)
	seen := 0
	for i := 0; i < 256 && seen < want && time.Now().Before(deadline); i++ {
		harness.WaitReadable(tap, time.Until(deadline))
		n, _, _, _, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil || n < 20 {
			continue
		}
		p := buf[:n]
		ihl := int(p[0]&0xf) * 4
		if n < ihl+20 || int(binary.BigEndian.Uint16(p[ihl:])) != port || dport >= 0 && int(binary.BigEndian.Uint16(p[ihl+2:])) != dport {
			continue
		}
		thl := int(p[ihl+12]>>4) * 4
		if p[ihl+13]&0x02 != 0 && n >= ihl+thl {
			synMSS = tcpMSSOption(p[ihl+20 : ihl+thl])
		}
		if d := n - ihl - thl; d > 0 {
			seen += d
			payload = max(payload, d)
			total = max(total, int(binary.BigEndian.Uint16(p[2:])))
		}
	}
	return synMSS, payload, total
}

// tcpMSSOption is the MSS option's value (0 = none).
func tcpMSSOption(o []byte) int {
	for i := 0; i < len(o); {
		switch o[i] {
		case 0:
			return 0
		case 1:
			i++
			continue
		}
		if i+1 >= len(o) || o[i+1] < 2 {
			return 0
		}
		if o[i] == 2 && o[i+1] == 4 && i+4 <= len(o) {
			return int(binary.BigEndian.Uint16(o[i+2:]))
		}
		i += int(o[i+1])
	}
	return 0
}

// optHeader is what the options scenarios compare of an IPv4 header: no
// IP ID (gVisor's TCP sends 0 with DF, an expected difference of its own)
// and the times of a timestamp option reduced to "now" or not.
func optHeader(b []byte) string {
	var kept []string
	for _, f := range strings.Fields(ipHeader(b)) {
		switch {
		case strings.HasPrefix(f, "id0="):
		case strings.HasPrefix(f, "opts="):
			ihl := int(b[0]&0xf) * 4
			kept = append(kept, "opts="+maskTimes(b[20:ihl]))
		default:
			kept = append(kept, f)
		}
	}
	return strings.Join(kept, " ")
}

// maskTimes renders IP options in hex with each filled timestamp shown as
// <now> when it is within a minute of the current time of day.
func maskTimes(o []byte) string {
	var sb strings.Builder
	now := int64(time.Now().UTC().Sub(time.Now().UTC().Truncate(24*time.Hour)) / time.Millisecond)
	for i := 0; i < len(o); {
		if o[i] == 0 || o[i] == 1 || i+1 >= len(o) || o[i+1] < 2 || i+int(o[i+1]) > len(o) {
			fmt.Fprintf(&sb, "%02x", o[i])
			i++
			continue
		}
		opt := o[i : i+int(o[i+1])]
		if opt[0] != 0x44 || len(opt) < 4 {
			fmt.Fprintf(&sb, "%x", opt)
			i += len(opt)
			continue
		}
		fmt.Fprintf(&sb, "%x", opt[:4])
		ptr, flag := int(opt[2]), opt[3]&0xf
		for j, k := 4, 0; j+4 <= len(opt); j, k = j+4, k+1 {
			slot := opt[j : j+4]
			isTime := flag == 0 || k%2 == 1
			if isTime && j+1 < ptr {
				v := int64(binary.BigEndian.Uint32(slot))
				if d := v - now; d > -60000 && d < 60000 {
					sb.WriteString("<now>")
					continue
				}
			}
			fmt.Fprintf(&sb, "%x", slot)
		}
		i += len(opt)
	}
	return sb.String()
}

// optsPingReply records the echo reply a ping socket got, or that none
// came.
func optsPingReply(e *harness.Env, op string, s harness.Sock) {
	if r, _ := s.Poll(unix.EPOLLIN, 2*time.Second); r == 0 {
		e.Rec(op, "nothing")
		return
	}
	e.RecvDgram(op, s, 256, 0)
}

// captureICMPFrags reads up to n ICMP packets from src off an AF_PACKET
// tap (bounded) and records their headers and data lengths.
func captureICMPFrags(e *harness.Env, op string, tap harness.Sock, src netip.Addr, n int) {
	deadline := time.Now().Add(2 * time.Second)
	buf := make([]byte, 70000)
	got := 0
	for i := 0; i < 64 && got < n && time.Now().Before(deadline); i++ {
		if r, _ := tap.Poll(unix.EPOLLIN, time.Until(deadline)); r == 0 {
			break
		}
		m, _, _, from, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil || m < 20 || len(from) < 11 || from[10] != unix.PACKET_HOST ||
			buf[9] != unix.IPPROTO_ICMP || netip.AddrFrom4([4]byte(buf[12:16])) != src {
			continue
		}
		e.Rec(op, optHeader(buf[:m]))
		got++
	}
	if got == 0 {
		e.Rec(op, "nothing captured")
	}
}

// dataSeq reads the tap (bounded) for the next data segment from the DUT's
// port and returns its sequence number.
func dataSeq(tap harness.Sock, port int) (uint32, bool) {
	deadline := time.Now().Add(2 * time.Second)
	buf := make([]byte, 70000)
	for i := 0; i < 32 && time.Now().Before(deadline); i++ {
		harness.WaitReadable(tap, time.Until(deadline))
		n, _, _, _, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil || n < 20 {
			continue
		}
		ihl := int(buf[0]&0xf) * 4
		if n < ihl+20 || int(binary.BigEndian.Uint16(buf[ihl:])) != port || n-ihl-int(buf[ihl+12]>>4)*4 <= 0 {
			continue
		}
		return binary.BigEndian.Uint32(buf[ihl+4:]), true
	}
	return 0, false
}
