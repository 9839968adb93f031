package scenarios

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// IP IDs as Linux gives them (ip_select_ident_segs): a socket with a peer
// address numbers its packets from its own counter, started at a random
// value by connect or accept, one step per packet; unconnected sockets
// send ID 0 only with DF in IP_PMTUDISC_DO/PROBE mode; TCP segments of no
// full socket (RST, SYN-ACK) leave with DF and ID 0. The random parts are
// rendered as what is fixed about them: zero or not, and the step from
// the previous packet of the same socket.

// idPkt is what the ID scenarios keep of one captured packet.
type idPkt struct {
	what string // what the packet is (TCP flags, echo sequence)
	id   uint16
	df   bool
}

// render is p as recorded: DF, whether the ID is 0 and, with a previous
// packet of the same counter, the step from its ID.
func (p idPkt) render(prev *idPkt) string {
	s := fmt.Sprintf("%s df=%v id0=%v", p.what, p.df, p.id == 0)
	if prev != nil {
		if d := p.id - prev.id; d < 16 {
			s += fmt.Sprintf(" step=+%d", d)
		} else {
			s += " step=other"
		}
	}
	return s
}

// captureIDs reads the peer's tap (bounded in count and time) until want
// packets that match arrived, and returns them in order of arrival.
func captureIDs(tap harness.Sock, want int, match func(ip, l4 []byte) (string, bool)) []idPkt {
	var got []idPkt
	deadline := time.Now().Add(2 * time.Second)
	buf := make([]byte, 4096)
	for i := 0; i < 64 && len(got) < want && time.Now().Before(deadline); i++ {
		harness.WaitReadable(tap, time.Until(deadline))
		n, _, _, _, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil || n < 20 {
			continue
		}
		ihl := int(buf[0]&0xf) * 4
		if ihl < 20 || n < ihl+8 {
			continue
		}
		what, ok := match(buf[:ihl], buf[ihl:n])
		if !ok {
			continue
		}
		got = append(got, idPkt{what: what, id: binary.BigEndian.Uint16(buf[4:6]), df: buf[6]&0x40 != 0})
	}
	return got
}

// recIDs records pkts, each with its step from the one before when
// counted (the packets of one counter).
func recIDs(e *harness.Env, op string, pkts []idPkt, counted bool) {
	e.Rec(op+" count", len(pkts))
	for i := range pkts {
		var prev *idPkt
		if counted && i > 0 {
			prev = &pkts[i-1]
		}
		e.Rec(op, pkts[i].render(prev))
	}
}

// tcpFrom matches the TCP segments src sends to dport (0 = any) from
// sport (0 = any) and names them by their flags and payload.
func tcpFrom(e *harness.Env, sport, dport int) func(ip, l4 []byte) (string, bool) {
	src := e.DUTAddr.As4()
	return func(ip, l4 []byte) (string, bool) {
		if [4]byte(ip[12:16]) != src || len(l4) < 20 {
			return "", false
		}
		if (sport != 0 && int(binary.BigEndian.Uint16(l4)) != sport) || (dport != 0 && int(binary.BigEndian.Uint16(l4[2:])) != dport) {
			return "", false
		}
		total := int(binary.BigEndian.Uint16(ip[2:4]))
		payload := total - len(ip) - int(l4[12]>>4)*4
		f := l4[13]
		switch {
		case f&0x04 != 0:
			return "rst", true
		case f&0x12 == 0x12:
			return "syn-ack", true
		case f&0x02 != 0:
			return "syn", true
		case f&0x01 != 0:
			return "fin", true
		case payload > 0:
			return fmt.Sprintf("data(%d)", payload), true
		}
		return "ack", true
	}
}

// echoFrom matches the echo requests the DUT sends with identifier id and
// names them by their sequence number.
func echoFrom(e *harness.Env, id int) func(ip, l4 []byte) (string, bool) {
	src := e.DUTAddr.As4()
	return func(ip, l4 []byte) (string, bool) {
		if [4]byte(ip[12:16]) != src || l4[0] != 8 || int(binary.BigEndian.Uint16(l4[4:])) != id {
			return "", false
		}
		return fmt.Sprintf("echo seq=%d", binary.BigEndian.Uint16(l4[6:])), true
	}
}

// streamOneByOne writes each chunk on s and waits until peer has read it,
// so that every chunk is one segment.
func streamOneByOne(e *harness.Env, op string, s, peer harness.Sock, chunks ...string) {
	buf := make([]byte, 256)
	for _, c := range chunks {
		n, err := s.SendMsg([]byte(c), nil, nil, 0)
		got := 0
		deadline := time.Now().Add(2 * time.Second)
		for i := 0; i < 16 && got < len(c) && time.Now().Before(deadline); i++ {
			harness.WaitReadable(peer, time.Until(deadline))
			m, _, _, _, err := peer.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			if err == nil {
				got += m
			}
		}
		e.Rec(op, err, n, got)
	}
}

// dgramIDSteps sends echo requests from s (ping or raw ICMP socket, whose
// echoes carry identifier id) through a sequence of connect states and
// IP_MTU_DISCOVER modes, recording the IDs the peer saw.
func dgramIDSteps(e *harness.Env, s harness.Sock, id int, raw bool) {
	tap := peerProtoTap(e, unix.IPPROTO_ICMP)
	peer := harness.Sockaddr(e.PeerAddr, 0)
	seq := 0
	sendN := func(op string, n int, to []byte) {
		for i := 0; i < n; i++ {
			seq++
			p := echoRequest(uint16(id), uint16(seq), []byte("ipid-seq"))
			if !raw {
				p = echoRequest(0, uint16(seq), []byte("ipid-seq")) // the socket puts its identifier in
			}
			_, err := s.SendMsg(p, nil, to, 0)
			e.Rec(op, err)
		}
	}
	mode := func(m int32) {
		e.SetInt(fmt.Sprintf("IP_MTU_DISCOVER %d", m), s, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, m)
	}
	match := echoFrom(e, id)

	// Unconnected: WANT (the default) and DONT send a non-zero ID, DO
	// sends 0; the hashed IDs have no fixed step.
	sendN("sendto want", 2, peer)
	mode(unix.IP_PMTUDISC_DO)
	sendN("sendto do", 2, peer)
	mode(unix.IP_PMTUDISC_DONT)
	sendN("sendto dont", 2, peer)
	recIDs(e, "unconnected", captureIDs(tap, 6, match), false)

	// Connected: the socket's counter in every mode, one step each.
	e.Rec("connect", s.Connect(peer))
	sendN("send dont", 2, nil)
	mode(unix.IP_PMTUDISC_DO)
	sendN("send do", 2, nil)
	sendN("sendto do", 1, peer)
	first := captureIDs(tap, 5, match)
	recIDs(e, "connected", first, true)

	// Disconnected: unconnected rules again (DO: ID 0); connected again
	// (raw), a new counter.
	e.Rec("disconnect", s.Connect(make([]byte, 16)))
	sendN("sendto do", 1, peer)
	recIDs(e, "disconnected", captureIDs(tap, 1, match), false)
	if !raw {
		// netsandbox's ping socket cannot connect again after
		// connect(AF_UNSPEC) (EADDRINUSE for its own identifier), a
		// difference of its own.
		return
	}
	e.Rec("connect again", s.Connect(peer))
	sendN("send", 1, nil)
	again := captureIDs(tap, 1, match)
	if len(first) == 5 && len(again) == 1 {
		e.Rec("new counter continues the old", again[0].id == first[4].id+1)
	}
	recIDs(e, "reconnected", again, false)
}

func ipIDScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "ipid/tcp-connection-counter", Run: func(e *harness.Env) {
			l := peerListener(e, e.BasePort)
			tap := peerTap(e, unix.IPPROTO_TCP)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			// Bound to the wildcard address: a fixed port to tell the
			// connections apart.
			e.Check("bind", s.Bind(harness.Sockaddr(netip.IPv4Unspecified(), e.BasePort+4)))
			e.SetInt("TCP_NODELAY", s, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
			e.Rec("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			a, _, err := l.Accept(0)
			e.Check("peer accept", err)
			defer a.Close()
			streamOneByOne(e, "send", s, a, "one", "two", "three")
			e.Rec("shutdown", s.Shutdown(unix.SHUT_WR))
			harness.WaitReadable(a, 2*time.Second)
			n, _, _, _, err := a.RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT)
			e.Rec("peer read eof", n, err)
			// SYN, handshake ACK, three data segments, FIN. (What follows
			// depends on timing: netsandbox may probe with the FIN again.)
			first := captureIDs(tap, 6, tcpFrom(e, e.BasePort+4, e.BasePort))
			recIDs(e, "first connection", first, true)

			// A second connection: its own random start.
			s2 := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("bind second", s2.Bind(harness.Sockaddr(netip.IPv4Unspecified(), e.BasePort+5)))
			e.Rec("connect second", s2.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			second := captureIDs(tap, 2, tcpFrom(e, e.BasePort+5, e.BasePort))
			recIDs(e, "second connection", second, true)
			if len(first) > 0 && len(second) > 0 {
				e.Rec("second continues the first", second[0].id == first[len(first)-1].id+1)
			}
		}},
		{Name: "ipid/tcp-accepted-and-syn-ack", Run: func(e *harness.Env) {
			// The listener (and so the accepted socket) sends without DF;
			// the SYN-ACK, no socket's, still has DF and ID 0.
			l := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.SetInt("IP_MTU_DISCOVER dont", l, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DONT)
			e.Check("bind", l.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort)))
			e.Check("listen", l.Listen(4))
			tap := peerTap(e, unix.IPPROTO_TCP)
			c := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Rec("peer connect", c.Connect(harness.Sockaddr(e.DUTAddr, e.BasePort)))
			a, _, err := l.Accept(0)
			e.Check("accept", err)
			defer a.Close()
			e.SetInt("TCP_NODELAY", a, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
			streamOneByOne(e, "send", a, c, "alpha", "beta", "gamma")
			pkts := captureIDs(tap, 4, tcpFrom(e, e.BasePort, 0))
			if len(pkts) > 0 {
				recIDs(e, "syn-ack", pkts[:1], false)
				recIDs(e, "accepted", pkts[1:], true)
			}
		}},
		{Name: "ipid/tcp-rst-no-socket", Run: func(e *harness.Env) {
			tap := peerTap(e, unix.IPPROTO_TCP)
			for _, mode := range []int32{unix.IP_PMTUDISC_WANT, unix.IP_PMTUDISC_DONT} {
				// The peer's own mode does not matter: the DUT's RST comes
				// from its control socket.
				c := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_STREAM, 0)
				e.SetInt("peer IP_MTU_DISCOVER", c, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, mode)
				e.Rec("peer connect to closed port", c.Connect(harness.Sockaddr(e.DUTAddr, e.BasePort+1)))
				recIDs(e, "rst", captureIDs(tap, 1, tcpFrom(e, e.BasePort+1, 0)), false)
			}
		}},
		{Name: "ipid/udp-connected-counters", Run: func(e *harness.Env) {
			// Two connected sockets sending in turn: each counts on its
			// own (a stack-wide counter would step by two). The second
			// half leaves without DF.
			p1, p2 := peerUDP(e, e.BasePort), peerUDP(e, e.BasePort+1)
			_, _ = p1, p2
			tap := peerTap(e, unix.IPPROTO_UDP)
			s1, s2 := dutUDP(e, e.BasePort+2), dutUDP(e, e.BasePort+3)
			e.Rec("connect 1", s1.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			e.Rec("connect 2", s2.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort+1)))
			for i := 0; i < 6; i++ {
				if i == 3 {
					e.SetInt("IP_MTU_DISCOVER dont 1", s1, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DONT)
					e.SetInt("IP_MTU_DISCOVER dont 2", s2, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DONT)
				}
				send(e, "send 1", s1, []byte("one"), nil, 0)
				send(e, "send 2", s2, []byte("two"), nil, 0)
			}
			udpTo := func(port int) func(ip, l4 []byte) (string, bool) {
				return func(ip, l4 []byte) (string, bool) {
					return "udp", int(binary.BigEndian.Uint16(l4[2:])) == port
				}
			}
			// One tap read both: take the packets of each socket apart.
			all := captureIDs(tap, 12, func(ip, l4 []byte) (string, bool) {
				if _, ok := udpTo(e.BasePort)(ip, l4); ok {
					return "to 1", true
				}
				if _, ok := udpTo(e.BasePort+1)(ip, l4); ok {
					return "to 2", true
				}
				return "", false
			})
			var one, two []idPkt
			for _, p := range all {
				if p.what == "to 1" {
					one = append(one, p)
				} else {
					two = append(two, p)
				}
			}
			recIDs(e, "socket 1", one, true)
			recIDs(e, "socket 2", two, true)
		}},
		{Name: "ipid/ping-connected-unconnected", Run: func(e *harness.Env) {
			e.Check("set ping_group_range", e.SetSysctl(e.DUT, pingGroupRange, "0 0"))
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
			e.Rec("bind ident", s.Bind(harness.Sockaddr(netip.IPv4Unspecified(), e.BasePort)))
			dgramIDSteps(e, s, e.BasePort, false)
		}},
		{Name: "ipid/raw-connected-unconnected", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			dgramIDSteps(e, s, e.BasePort+2, true)
		}},
	}
}
