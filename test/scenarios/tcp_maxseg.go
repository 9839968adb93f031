package scenarios

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// TCP_MAXSEG: the send MSS, user_mss and their effect on the wire.
//
// gVisor's TCP keeps room for SACK blocks in every segment, so on its own
// it sends 28 bytes less per segment than Linux (1420 where Linux sends
// 1448 on a 1500 MTU); the scenarios that count payload bytes on the wire
// use a TCP_MAXSEG that lies below that, where both send Linux's size.
func tcpMaxsegScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "tcp/maxseg-get-set", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.GetInt("fresh", s, unix.SOL_TCP, unix.TCP_MAXSEG)
			getMaxsegLens(e, "fresh", s)
			for _, v := range []int32{1000, 0, 87, 88, 32767, 32768, -1, 65535, 536, 1 << 20} {
				e.SetInt(fmt.Sprintf("set %d", v), s, unix.SOL_TCP, unix.TCP_MAXSEG, v)
				e.GetInt("get", s, unix.SOL_TCP, unix.TCP_MAXSEG)
			}
			getMaxsegLens(e, "set", s)
			e.Rec("set optlen 2", s.SetSockOpt(unix.SOL_TCP, unix.TCP_MAXSEG, []byte{0xe8, 0x03}))
			e.Rec("set optlen 0", s.SetSockOpt(unix.SOL_TCP, unix.TCP_MAXSEG, nil))
			e.Rec("set optlen 8", s.SetSockOpt(unix.SOL_TCP, unix.TCP_MAXSEG, append(harness.Int32(700), harness.Int32(-1)...)))
			e.GetInt("get", s, unix.SOL_TCP, unix.TCP_MAXSEG)
			e.Check("bind", s.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort)))
			e.GetInt("bound", s, unix.SOL_TCP, unix.TCP_MAXSEG)
			e.Check("listen", s.Listen(4))
			e.GetInt("listening", s, unix.SOL_TCP, unix.TCP_MAXSEG)
			e.SetInt("listening set 0", s, unix.SOL_TCP, unix.TCP_MAXSEG, 0)
			e.GetInt("listening", s, unix.SOL_TCP, unix.TCP_MAXSEG)

			l := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("bind 2", l.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort+1)))
			e.Check("listen 2", l.Listen(4))
			e.GetInt("listener without", l, unix.SOL_TCP, unix.TCP_MAXSEG)

			u := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.SetInt("udp set", u, unix.SOL_TCP, unix.TCP_MAXSEG, 1000)
			e.GetInt("udp get", u, unix.SOL_TCP, unix.TCP_MAXSEG)
		}},
		{Name: "tcp/maxseg-connected", Run: func(e *harness.Env) {
			l := peerListener(e, e.BasePort)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Rec("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			a, _, err := l.Accept(0)
			e.Check("peer accept", err)
			e.GetInt("connected", s, unix.SOL_TCP, unix.TCP_MAXSEG)
			getMaxsegLens(e, "connected", s)
			recTCPInfoMSS(e, "connected", s)
			e.GetInt("peer accepted", a, unix.SOL_TCP, unix.TCP_MAXSEG)
			// Stored, but the connection keeps its MSS.
			e.SetInt("set 600 when established", s, unix.SOL_TCP, unix.TCP_MAXSEG, 600)
			e.GetInt("established", s, unix.SOL_TCP, unix.TCP_MAXSEG)
			e.SetInt("set 87 when established", s, unix.SOL_TCP, unix.TCP_MAXSEG, 87)
			send(e, "send", s, []byte("hello"), nil, 0)
			e.Rec("peer got", streamBytes(a, 5, 2*time.Second))
			e.GetInt("after send", s, unix.SOL_TCP, unix.TCP_MAXSEG)
			// A reset closes it: CLOSE answers user_mss.
			e.Rec("peer SO_LINGER 0", a.SetSockOpt(unix.SOL_SOCKET, unix.SO_LINGER, append(harness.Int32(1), harness.Int32(0)...)))
			e.Check("peer close", a.Close())
			harness.WaitReadable(s, 2*time.Second)
			_, _, _, _, err = s.RecvMsg(make([]byte, 16), nil, unix.MSG_DONTWAIT)
			e.Rec("recv after reset", err)
			e.GetInt("closed by reset", s, unix.SOL_TCP, unix.TCP_MAXSEG)
		}},
		{Name: "tcp/maxseg-loopback", Run: func(e *harness.Env) {
			// Without a clamp the loopback MSS is not compared: Linux
			// bounds it by half the largest window the peer offered by
			// the handshake's end (tcp_sync_mss, tcp_bound_to_half_wnd:
			// 32741 for the client, 32768 for the accepted socket), and
			// gVisor's windows are not Linux's.
			l := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("bind", l.Bind(harness.Sockaddr(loopback, e.BasePort)))
			e.Check("listen", l.Listen(4))
			for _, v := range []int32{1000, 30000} {
				s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
				e.SetInt(fmt.Sprintf("set %d", v), s, unix.SOL_TCP, unix.TCP_MAXSEG, v)
				e.Rec("connect", s.Connect(harness.Sockaddr(loopback, e.BasePort)))
				harness.WaitReadable(l, 2*time.Second)
				a, _, err := l.Accept(0)
				e.Check("accept", err)
				e.GetInt("client", s, unix.SOL_TCP, unix.TCP_MAXSEG)
				e.GetInt("accepted", a, unix.SOL_TCP, unix.TCP_MAXSEG)
				s.Close()
				a.Close()
			}
		}},
		{Name: "tcp/maxseg-syn-option", Run: func(e *harness.Env) {
			l := peerListener(e, e.BasePort)
			tap := peerTap(e, unix.IPPROTO_TCP)
			for _, v := range []int32{0, 1000, 88, 1460, 1461, 32767} {
				s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
				if v != 0 {
					e.SetInt(fmt.Sprintf("set %d", v), s, unix.SOL_TCP, unix.TCP_MAXSEG, v)
				}
				e.Rec("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
				a, _, err := l.Accept(0)
				e.Check("peer accept", err)
				e.Rec("SYN MSS option", synMSSFrom(tap, sockPort(s), e.BasePort))
				e.GetInt("client", s, unix.SOL_TCP, unix.TCP_MAXSEG)
				recTCPInfoMSS(e, "client", s)
				e.GetInt("peer accepted", a, unix.SOL_TCP, unix.TCP_MAXSEG)
				s.Close()
				a.Close()
			}
		}},
		{Name: "tcp/maxseg-segment-sizes", Run: func(e *harness.Env) {
			l := peerListener(e, e.BasePort)
			tap := peerTap(e, unix.IPPROTO_TCP)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.SetInt("set 600", s, unix.SOL_TCP, unix.TCP_MAXSEG, 600)
			e.Rec("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			a, _, err := l.Accept(0)
			e.Check("peer accept", err)
			const n = 10240
			send(e, "send 10 KB", s, make([]byte, n), nil, 0)
			e.Rec("payload sizes", payloadSizes(tap, sockPort(s), e.BasePort, n))
			e.Rec("peer got", streamBytes(a, n, 3*time.Second))
			e.GetInt("client", s, unix.SOL_TCP, unix.TCP_MAXSEG)
			recTCPInfoMSS(e, "client", s)
		}},
		{Name: "tcp/maxseg-listener", Run: func(e *harness.Env) {
			l := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.SetInt("set 700", l, unix.SOL_TCP, unix.TCP_MAXSEG, 700)
			e.Check("bind", l.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort)))
			e.Check("listen", l.Listen(4))
			e.GetInt("listener", l, unix.SOL_TCP, unix.TCP_MAXSEG)
			tap := peerTap(e, unix.IPPROTO_TCP)
			p := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("peer bind", p.Bind(harness.Sockaddr(e.PeerAddr, e.BasePort+1)))
			e.Rec("peer connect", p.Connect(harness.Sockaddr(e.DUTAddr, e.BasePort)))
			harness.WaitReadable(l, 2*time.Second)
			a, _, err := l.Accept(0)
			e.Rec("accept", err)
			if err != nil {
				return
			}
			e.Rec("SYN-ACK MSS option", synMSSFrom(tap, e.BasePort, e.BasePort+1))
			e.GetInt("accepted", a, unix.SOL_TCP, unix.TCP_MAXSEG)
			recTCPInfoMSS(e, "accepted", a)
			e.GetInt("peer", p, unix.SOL_TCP, unix.TCP_MAXSEG)
			const n = 5000
			send(e, "accepted send", a, make([]byte, n), nil, 0)
			e.Rec("payload sizes", payloadSizes(tap, e.BasePort, e.BasePort+1, n))
			e.Rec("peer got", streamBytes(p, n, 3*time.Second))
			// The accepted socket carries the listener's user_mss.
			e.Rec("accepted shutdown", a.Shutdown(unix.SHUT_RDWR))
			e.Check("peer close", p.Close())
			settle()
			e.SetInt("listener set 0", l, unix.SOL_TCP, unix.TCP_MAXSEG, 0)
			e.GetInt("listener", l, unix.SOL_TCP, unix.TCP_MAXSEG)
		}},
		{Name: "tcp/maxseg-syn-sent", Run: func(e *harness.Env) {
			// Nobody owns the address: the SYN goes unanswered while
			// the scenario looks.
			dst := netip.AddrFrom4([4]byte{198, 19, 0, byte(200 + (e.BasePort/10)%50)})
			for _, v := range []int32{0, 1000, 300} {
				s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
				if v != 0 {
					e.SetInt(fmt.Sprintf("set %d", v), s, unix.SOL_TCP, unix.TCP_MAXSEG, v)
				}
				e.Rec("connect", s.Connect(harness.Sockaddr(dst, e.BasePort)))
				e.GetInt("syn sent", s, unix.SOL_TCP, unix.TCP_MAXSEG)
				s.Close()
			}
		}},
		{Name: "tcp/maxseg-with-ip-options", Run: func(e *harness.Env) {
			l := peerListener(e, e.BasePort)
			tap := peerTap(e, unix.IPPROTO_TCP)
			const n = 10240
			for _, c := range []struct {
				mss  int32
				opts []byte
			}{{600, rrSlots(1)}, {1000, rrSlots(9)}, {1300, rrSlots(9)}, {1450, nil}} {
				s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
				e.SetInt(fmt.Sprintf("set %d", c.mss), s, unix.SOL_TCP, unix.TCP_MAXSEG, c.mss)
				if c.opts != nil {
					e.Rec(fmt.Sprintf("set %d option bytes", len(c.opts)), s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, c.opts))
				}
				e.Rec("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
				a, _, err := l.Accept(0)
				e.Check("peer accept", err)
				e.GetInt("client", s, unix.SOL_TCP, unix.TCP_MAXSEG)
				send(e, "send 10 KB", s, make([]byte, n), nil, 0)
				if c.opts != nil {
					e.Rec("payload sizes", payloadSizes(tap, sockPort(s), e.BasePort, n))
				} else {
					// A clamp between gVisor's size for the path (1420)
					// and Linux's (1448): gVisor keeps its own, smaller
					// size; only the bound is compared.
					_, biggest, _ := segmentSizes(tap, sockPort(s), n)
					e.Rec("largest payload within the clamp", biggest <= int(c.mss)-12 && biggest > 1400)
				}
				e.Rec("peer got", streamBytes(a, n, 3*time.Second))
				e.GetInt("client after send", s, unix.SOL_TCP, unix.TCP_MAXSEG)
				s.Close()
				a.Close()
			}
		}},
	}
}

// getMaxsegLens reads TCP_MAXSEG with short and long buffers.
func getMaxsegLens(e *harness.Env, op string, s harness.Sock) {
	for _, l := range []int{0, 1, 2, 3, 8} {
		b := make([]byte, l)
		n, err := s.GetSockOpt(unix.SOL_TCP, unix.TCP_MAXSEG, b)
		e.Rec(fmt.Sprintf("%s optlen %d", op, l), err, n, b[:max(0, min(n, l))])
	}
}

// synMSSFrom reads the tap (bounded) for a SYN from port to dport and
// returns its MSS option (0 = none, -1 = no SYN seen).
func synMSSFrom(tap harness.Sock, port, dport int) int {
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
		if n < ihl+20 || int(binary.BigEndian.Uint16(p[ihl:])) != port || int(binary.BigEndian.Uint16(p[ihl+2:])) != dport {
			continue
		}
		thl := int(p[ihl+12]>>4) * 4
		if p[ihl+13]&0x02 != 0 && n >= ihl+thl && thl >= 20 {
			return tcpMSSOption(p[ihl+20 : ihl+thl])
		}
	}
	return -1
}

// recTCPInfoMSS records TCP_INFO's snd_mss and advmss.
func recTCPInfoMSS(e *harness.Env, op string, s harness.Sock) {
	b := make([]byte, 280)
	n, err := s.GetSockOpt(unix.SOL_TCP, unix.TCP_INFO, b)
	if err != nil || n < 88 {
		e.Rec(op+" TCP_INFO", err, n)
		return
	}
	e.Rec(op+" TCP_INFO", "snd_mss", binary.NativeEndian.Uint32(b[16:]), "advmss", binary.NativeEndian.Uint32(b[84:]))
}

// payloadSizes reads the tap (bounded) for the data segments from port
// to dport until want payload bytes were seen, and renders how many
// segments had each payload length. Retransmissions are left out: gVisor
// may send a tail loss probe (the last full segment again) where Linux
// waits for the ACKs that release the short tail Nagle holds.
func payloadSizes(tap harness.Sock, port, dport, want int) string {
	deadline := time.Now().Add(3 * time.Second)
	buf := make([]byte, 70000)
	count := map[int]int{}
	sent := map[uint32]bool{} // a retransmission repeats a sequence number
	seen := 0
	for i := 0; i < 512 && seen < want && time.Now().Before(deadline); i++ {
		harness.WaitReadable(tap, time.Until(deadline))
		n, _, _, _, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil || n < 20 {
			continue
		}
		p := buf[:n]
		ihl := int(p[0]&0xf) * 4
		if n < ihl+20 || int(binary.BigEndian.Uint16(p[ihl:])) != port || int(binary.BigEndian.Uint16(p[ihl+2:])) != dport {
			continue
		}
		thl := int(p[ihl+12]>>4) * 4
		seq := binary.BigEndian.Uint32(p[ihl+4:])
		if d := n - ihl - thl; d > 0 && !sent[seq] {
			sent[seq] = true
			seen += d
			count[d]++
		}
	}
	sizes := make([]int, 0, len(count))
	for d := range count {
		sizes = append(sizes, d)
	}
	sort.Ints(sizes)
	var parts []string
	for _, d := range sizes {
		parts = append(parts, fmt.Sprintf("%dx%d", count[d], d))
	}
	return fmt.Sprintf("seen=%d %s", seen, strings.Join(parts, " "))
}
