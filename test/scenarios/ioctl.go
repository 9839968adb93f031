package scenarios

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// Socket ioctls (SIOCGSTAMP, FIONREAD/SIOCINQ, SIOCOUTQ, netdevice(7)'s
// SIOCGIF*) and SO_PRIORITY. Interface names, indexes, addresses and MTUs
// are the same on both DUTs (lo and eth0, see harness.NewTopology); the
// veth MAC differs per run, so eth0's hardware address is compared with
// the peer's ARP entry for the DUT instead of recorded. Timestamps are
// recorded as properties: set, not before the packet was sent, not in the
// future.

// Requests x/sys/unix does not name.
const (
	siocgstampNew   = 0x80108906
	siocgstampnsNew = 0x80108907
	fionbio         = 0x5421
	siocGARP        = 0x8954
	siocUnknown89   = 0x89c0 // a socket-type request nobody implements
	siocGIFMem      = 0x891f
	sizeofIfreq     = 40
	sizeofIfconf    = 16
)

// fill returns n bytes of a recognisable pattern, so bytes a call leaves
// alone show in the record.
func fill(n int) []byte { return bytes.Repeat([]byte{0xee}, n) }

// ioctlInt records an int-valued ioctl (FIONREAD, SIOCOUTQ, ...) with a
// 4-byte argument pre-filled with a pattern.
func ioctlInt(e *harness.Env, op string, s harness.Sock, req uint) int32 {
	b := fill(4)
	err := s.Ioctl(req, b)
	v := int32(binary.NativeEndian.Uint32(b))
	e.Rec(op, err, v)
	return v
}

// ioctlBytes records an ioctl with the given argument bytes and what they
// hold afterwards.
func ioctlBytes(e *harness.Env, op string, s harness.Sock, req uint, arg []byte) error {
	err := s.Ioctl(req, arg)
	e.Rec(op, err, arg)
	return err
}

// ifreq builds a struct ifreq: the name (not NUL-terminated if it fills
// the field), then the union pre-filled with the pattern, or with rest.
func ifreq(name string, rest []byte) []byte {
	b := make([]byte, sizeofIfreq)
	copy(b[:16], name)
	copy(b[16:], fill(24))
	copy(b[16:], rest)
	return b
}

// stampAfter records SIOCGSTAMP-style results: errno, or whether the
// time is set, no earlier than since and not in the future, plus its raw
// value for later comparisons.
func stampAfter(e *harness.Env, op string, s harness.Sock, req uint, since time.Time) (time.Time, bool) {
	b := fill(16)
	err := s.Ioctl(req, b)
	if err != nil {
		e.Rec(op, err, b)
		return time.Time{}, false
	}
	sec := int64(binary.NativeEndian.Uint64(b))
	frac := int64(binary.NativeEndian.Uint64(b[8:]))
	unit, since2 := time.Nanosecond, since
	if req == unix.SIOCGSTAMP || req == siocgstampNew {
		unit, since2 = time.Microsecond, since.Truncate(time.Microsecond)
	}
	t := time.Unix(sec, frac*int64(unit))
	e.Rec(op, "ok", fmt.Sprintf("set=%v frac-in-range=%v not-before-send=%v not-future=%v",
		sec > 0, frac >= 0 && frac < int64(time.Second/unit), !t.Before(since2), !t.After(time.Now())))
	return t, true
}

// peerSendUDP has the peer send p to the DUT's port.
func peerSendUDP(e *harness.Env, op string, peerPort, dutPort int, p []byte) harness.Sock {
	ps := peerUDP(e, peerPort)
	send(e, op, ps, p, harness.Sockaddr(e.DUTAddr, dutPort), 0)
	return ps
}

func ioctlScenarios() []harness.Scenario {
	var scs []harness.Scenario
	scs = append(scs, stampScenarios()...)
	scs = append(scs, queueScenarios()...)
	scs = append(scs, ifScenarios()...)
	scs = append(scs, unknownIoctlScenarios()...)
	scs = append(scs, priorityScenarios()...)
	return scs
}

func stampScenarios() []harness.Scenario {
	stampBoth := func(e *harness.Env, s harness.Sock, op string, since time.Time) {
		tv, ok1 := stampAfter(e, op+" SIOCGSTAMP", s, unix.SIOCGSTAMP, since)
		ts, ok2 := stampAfter(e, op+" SIOCGSTAMPNS", s, unix.SIOCGSTAMPNS, since)
		stampAfter(e, op+" SIOCGSTAMP_NEW", s, siocgstampNew, since)
		stampAfter(e, op+" SIOCGSTAMPNS_NEW", s, siocgstampnsNew, since)
		if ok1 && ok2 {
			e.Rec(op+" timeval is the timespec cut to microseconds", tv.Equal(ts.Truncate(time.Microsecond)))
		}
	}
	return []harness.Scenario{
		{Name: "ioctl/siocgstamp-udp", Run: func(e *harness.Env) {
			s := dutUDP(e, e.BasePort)
			stampBoth(e, s, "fresh", time.Now())
			e.Rec("fresh, NULL arg", s.Ioctl(unix.SIOCGSTAMP, nil))
			t0 := time.Now()
			peerSendUDP(e, "peer send", e.BasePort+1, e.BasePort, []byte("one"))
			harness.WaitReadable(s, 2*time.Second)
			stampBoth(e, s, "queued, not read", t0)
			e.RecvDgram("recv", s, 16, 0)
			stampBoth(e, s, "after recv", t0)
			first, _ := stampAfter(e, "again", s, unix.SIOCGSTAMPNS, t0)
			e.Rec("NULL arg", s.Ioctl(unix.SIOCGSTAMP, nil))
			// An 8-byte argument takes tv_sec before the copy of tv_usec
			// faults; the value is the clock's, so whether it is the
			// stamp's seconds is what is compared.
			b8 := fill(8)
			err8 := s.Ioctl(unix.SIOCGSTAMP, b8)
			e.Rec("8-byte arg", err8, fmt.Sprintf("holds the stamp's seconds: %v", int64(binary.NativeEndian.Uint64(b8)) == first.Unix()))
			t1 := time.Now()
			peerSendUDP(e, "peer send", e.BasePort+2, e.BasePort, []byte("two"))
			e.RecvDgram("recv peek", s, 16, unix.MSG_PEEK)
			second, _ := stampAfter(e, "after peek", s, unix.SIOCGSTAMPNS, t1)
			e.Rec("second later than first", second.After(first))
			e.RecvDgram("recv", s, 16, 0)
			stampAfter(e, "after recv", s, unix.SIOCGSTAMPNS, t1)
		}},
		{Name: "ioctl/siocgstamp-udp-first-after-recv", Run: func(e *harness.Env) {
			// No SIOCGSTAMP before the datagram arrived: Linux may not
			// have stamped it and then answers the time of the ioctl.
			s := dutUDP(e, e.BasePort)
			t0 := time.Now()
			peerSendUDP(e, "peer send", e.BasePort+1, e.BasePort, []byte("x"))
			e.RecvDgram("recv", s, 16, 0)
			stampBoth(e, s, "after recv", t0)
		}},
		{Name: "ioctl/siocgstamp-udp-with-so-timestamp", Run: func(e *harness.Env) {
			s := dutUDP(e, e.BasePort)
			e.SetInt("SO_TIMESTAMP", s, unix.SOL_SOCKET, unix.SO_TIMESTAMP, 1)
			t0 := time.Now()
			peerSendUDP(e, "peer send", e.BasePort+1, e.BasePort, []byte("x"))
			e.RecvDgram("recv", s, 16, 0)
			stampAfter(e, "after recv", s, unix.SIOCGSTAMP, t0)
			e.SetInt("SO_TIMESTAMP off", s, unix.SOL_SOCKET, unix.SO_TIMESTAMP, 0)
			peerSendUDP(e, "peer send", e.BasePort+2, e.BasePort, []byte("y"))
			e.RecvDgram("recv", s, 16, 0)
			stampAfter(e, "after recv, SO_TIMESTAMP off", s, unix.SIOCGSTAMP, t0)
		}},
		{Name: "ioctl/siocgstamp-udp-rxq-ovfl", Run: func(e *harness.Env) {
			s := dutUDP(e, e.BasePort)
			e.SetInt("SO_RXQ_OVFL", s, unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1)
			t0 := time.Now()
			peerSendUDP(e, "peer send", e.BasePort+1, e.BasePort, []byte("x"))
			e.RecvDgram("recv", s, 16, 0)
			stampAfter(e, "after recv", s, unix.SIOCGSTAMP, t0)
		}},
		{Name: "ioctl/siocgstamp-tcp", Run: func(e *harness.Env) {
			s, a := tcpPair(e)
			stampBoth(e, s, "connected", time.Now())
			send(e, "peer send", a, []byte("data"), nil, 0)
			recvStream(e, "recv", s, 4)
			stampBoth(e, s, "after recv", time.Now())
			l := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			stampAfter(e, "unconnected", l, unix.SIOCGSTAMP, time.Now())
		}},
		{Name: "ioctl/siocgstamp-raw", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			stampBoth(e, s, "fresh", time.Now())
			t0 := time.Now()
			send(e, "echo request", s, echoRequest(0x4a4a, 1, []byte("stamp")), harness.Sockaddr(e.PeerAddr, 0), 0)
			recvRawNoID(e, "recv reply", s)
			stampBoth(e, s, "after recv", t0)
		}},
		{Name: "ioctl/siocgstamp-ping", Run: func(e *harness.Env) {
			s := pingSock(e, 0x4b4b)
			stampBoth(e, s, "fresh", time.Now())
			t0 := time.Now()
			send(e, "echo request", s, echoRequest(0, 1, []byte("stamp")), harness.Sockaddr(e.PeerAddr, 0), 0)
			pingReply(e, "recv reply", s)
			stampBoth(e, s, "after recv", t0)
		}},
	}
}

func queueScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "ioctl/fionread-udp", Run: func(e *harness.Env) {
			s := dutUDP(e, e.BasePort)
			ioctlInt(e, "empty FIONREAD", s, unix.SIOCINQ)
			e.Rec("NULL arg", s.Ioctl(unix.SIOCINQ, nil))
			ioctlBytes(e, "2-byte arg", s, unix.SIOCINQ, fill(2))
			ps := peerSendUDP(e, "peer send 5", e.BasePort+1, e.BasePort, []byte("hello"))
			send(e, "peer send 300", ps, bytes.Repeat([]byte("b"), 300), harness.Sockaddr(e.DUTAddr, e.BasePort), 0)
			send(e, "peer send 0", ps, []byte{}, harness.Sockaddr(e.DUTAddr, e.BasePort), 0)
			harness.WaitReadable(s, 2*time.Second)
			ioctlInt(e, "first queued", s, unix.SIOCINQ)
			e.RecvDgram("recv peek", s, 2, unix.MSG_PEEK)
			ioctlInt(e, "after peek", s, unix.SIOCINQ)
			e.RecvDgram("recv", s, 2, 0)
			harness.WaitReadable(s, 2*time.Second)
			ioctlInt(e, "second queued", s, unix.SIOCINQ)
			e.RecvDgram("recv", s, 400, 0)
			harness.WaitReadable(s, 2*time.Second)
			ioctlInt(e, "empty datagram queued", s, unix.SIOCINQ)
			e.Rec("poll", harness.WaitReadable(s, 0))
			e.RecvDgram("recv", s, 16, 0)
			ioctlInt(e, "drained", s, unix.SIOCINQ)
		}},
		{Name: "ioctl/fionread-tcp", Run: func(e *harness.Env) {
			fresh := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			ioctlInt(e, "unconnected", fresh, unix.SIOCINQ)
			l := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("bind", l.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort+5)))
			e.Check("listen", l.Listen(1))
			ioctlInt(e, "listener", l, unix.SIOCINQ)
			s, a := tcpPair(e)
			ioctlInt(e, "connected", s, unix.SIOCINQ)
			send(e, "peer send", a, []byte("0123456789"), nil, 0)
			harness.WaitReadable(s, 2*time.Second)
			ioctlInt(e, "10 queued", s, unix.SIOCINQ)
			n, _, _, _, err := s.RecvMsg(make([]byte, 4), nil, unix.MSG_PEEK)
			e.Rec("peek 4", err, n)
			ioctlInt(e, "after peek", s, unix.SIOCINQ)
			n, _, _, _, err = s.RecvMsg(make([]byte, 4), nil, 0)
			e.Rec("read 4", err, n)
			ioctlInt(e, "after read", s, unix.SIOCINQ)
			e.Rec("peer shutdown", a.Shutdown(unix.SHUT_WR))
			r, _ := s.Poll(unix.EPOLLRDHUP, 2*time.Second)
			e.Rec("rdhup", r&unix.EPOLLRDHUP != 0)
			ioctlInt(e, "after FIN", s, unix.SIOCINQ)
			recvStream(e, "read rest", s, 6)
			ioctlInt(e, "drained", s, unix.SIOCINQ)
			e.Rec("NULL arg", s.Ioctl(unix.SIOCINQ, nil))
		}},
		{Name: "ioctl/fionread-raw", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			ioctlInt(e, "empty", s, unix.SIOCINQ)
			send(e, "echo request", s, echoRequest(0x4c4c, 1, []byte("twelve bytes")), harness.Sockaddr(e.PeerAddr, 0), 0)
			harness.WaitReadable(s, 2*time.Second)
			ioctlInt(e, "reply queued (IP header + 8 + 12)", s, unix.SIOCINQ)
			recvRawNoID(e, "recv", s)
			ioctlInt(e, "drained", s, unix.SIOCINQ)
			ioctlInt(e, "SIOCOUTQ", s, unix.SIOCOUTQ)
		}},
		{Name: "ioctl/fionread-ping", Run: func(e *harness.Env) {
			// ping has no protocol ioctl: FIONREAD and SIOCOUTQ are
			// not socket-type requests, so ENOTTY.
			s := pingSock(e, 0x4d4d)
			ioctlInt(e, "FIONREAD", s, unix.SIOCINQ)
			ioctlInt(e, "SIOCOUTQ", s, unix.SIOCOUTQ)
			ioctlBytes(e, "SIOCOUTQNSD (4-byte arg)", s, unix.SIOCOUTQNSD, fill(4))
			ioctlBytes(e, "SIOCOUTQNSD", s, unix.SIOCOUTQNSD, ifreq("lo", nil))
		}},
		{Name: "ioctl/siocoutq-udp", Run: func(e *harness.Env) {
			s := dutUDP(e, e.BasePort)
			ioctlInt(e, "fresh", s, unix.SIOCOUTQ)
			p := peerUDP(e, e.BasePort+1)
			send(e, "send", s, []byte("to peer"), harness.Sockaddr(e.PeerAddr, e.BasePort+1), 0)
			from := e.RecvDgram("peer recv", p, 64, 0)
			_ = from
			send(e, "peer reply", p, []byte("back"), harness.Sockaddr(e.DUTAddr, e.BasePort), 0)
			e.RecvDgram("recv", s, 64, 0)
			ioctlInt(e, "after round trip", s, unix.SIOCOUTQ)
			e.Rec("NULL arg", s.Ioctl(unix.SIOCOUTQ, nil))
			// SIOCOUTQNSD is TCP's: on UDP it falls through to the
			// netdevice requests, which read a whole struct ifreq first.
			ioctlBytes(e, "SIOCOUTQNSD (4-byte arg)", s, unix.SIOCOUTQNSD, fill(4))
			ioctlBytes(e, "SIOCOUTQNSD", s, unix.SIOCOUTQNSD, ifreq("lo", nil))
		}},
		{Name: "ioctl/siocoutq-tcp", Run: func(e *harness.Env) {
			fresh := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			ioctlInt(e, "unconnected SIOCOUTQ", fresh, unix.SIOCOUTQ)
			ioctlInt(e, "unconnected SIOCOUTQNSD", fresh, unix.SIOCOUTQNSD)
			l := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("bind", l.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort+5)))
			e.Check("listen", l.Listen(1))
			ioctlInt(e, "listener SIOCOUTQ", l, unix.SIOCOUTQ)
			ioctlInt(e, "listener SIOCOUTQNSD", l, unix.SIOCOUTQNSD)
			s, a := tcpPair(e)
			ioctlInt(e, "connected SIOCOUTQ", s, unix.SIOCOUTQ)
			ioctlInt(e, "connected SIOCOUTQNSD", s, unix.SIOCOUTQNSD)
			send(e, "send", s, bytes.Repeat([]byte("q"), 100), nil, 0)
			v := ioctlIntQuiet(s, unix.SIOCOUTQ)
			e.Rec("right after send: 0 or 100", v == 0 || v == 100)
			recvStream(e, "peer recv", a, 100)
			send(e, "peer reply", a, []byte("ack"), nil, 0)
			recvStream(e, "recv reply", s, 3)
			ioctlInt(e, "acknowledged SIOCOUTQ", s, unix.SIOCOUTQ)
			ioctlInt(e, "acknowledged SIOCOUTQNSD", s, unix.SIOCOUTQNSD)
			e.Rec("NULL arg", s.Ioctl(unix.SIOCOUTQ, nil))
		}},
		{Name: "ioctl/siocoutq-tcp-window-full", Run: func(e *harness.Env) {
			// The peer does not read: what the DUT wrote beyond the
			// peer's window stays queued, unsent and unacknowledged.
			// A small receive buffer set before the handshake keeps the
			// peer's window small from the start.
			l := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.SetInt("peer SO_RCVBUF", l, unix.SOL_SOCKET, unix.SO_RCVBUF, 2048)
			e.Check("peer bind", l.Bind(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			e.Check("peer listen", l.Listen(8))
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			_, _, err := l.Accept(0)
			e.Check("peer accept", err)
			e.Rec("nonblock", s.Ioctl(fionbio, harness.Int32(1)))
			total := 0
			chunk := bytes.Repeat([]byte("w"), 65536)
			for i := 0; i < 200; i++ { // bounded: a full send buffer stops it
				n, err := s.SendMsg(chunk, nil, nil, 0)
				if err != nil {
					break
				}
				total += n
			}
			time.Sleep(200 * time.Millisecond)
			outq := ioctlIntQuiet(s, unix.SIOCOUTQ)
			nsd := ioctlIntQuiet(s, unix.SIOCOUTQNSD)
			e.Rec("wrote something", total > 0)
			e.Rec("SIOCOUTQ in (0, written]", outq > 0 && int(outq) <= total)
			e.Rec("SIOCOUTQNSD in (0, SIOCOUTQ]", nsd > 0 && nsd <= outq)
		}},
		{Name: "ioctl/siocoutq-raw", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			ioctlInt(e, "fresh", s, unix.SIOCOUTQ)
			send(e, "echo request", s, echoRequest(0x4e4e, 1, nil), harness.Sockaddr(e.PeerAddr, 0), 0)
			recvRawNoID(e, "recv reply", s)
			ioctlInt(e, "after round trip", s, unix.SIOCOUTQ)
			ioctlBytes(e, "SIOCOUTQNSD", s, unix.SIOCOUTQNSD, ifreq("lo", nil))
		}},
		{Name: "ioctl/fionbio-udp", Run: func(e *harness.Env) {
			s := dutUDP(e, e.BasePort)
			e.Rec("NULL arg", s.Ioctl(fionbio, nil))
			e.Rec("FIONBIO 1", s.Ioctl(fionbio, harness.Int32(1)))
			_, _, _, _, err := s.RecvMsg(make([]byte, 8), nil, 0)
			e.Rec("recv without MSG_DONTWAIT", err)
		}},
	}
}

// ioctlIntQuiet runs an int-valued ioctl without recording it (values
// that depend on timing are recorded as properties).
func ioctlIntQuiet(s harness.Sock, req uint) int32 {
	b := fill(4)
	if err := s.Ioctl(req, b); err != nil {
		return -1
	}
	return int32(binary.NativeEndian.Uint32(b))
}

// ifReqs are the netdevice(7) get requests that take a name.
var ifReqs = []struct {
	name string
	req  uint
}{
	{"SIOCGIFFLAGS", unix.SIOCGIFFLAGS},
	{"SIOCGIFMTU", unix.SIOCGIFMTU},
	{"SIOCGIFINDEX", unix.SIOCGIFINDEX},
	{"SIOCGIFMETRIC", unix.SIOCGIFMETRIC},
	{"SIOCGIFMAP", unix.SIOCGIFMAP},
	{"SIOCGIFTXQLEN", unix.SIOCGIFTXQLEN},
	{"SIOCGIFSLAVE", unix.SIOCGIFSLAVE},
	{"SIOCGIFADDR", unix.SIOCGIFADDR},
	{"SIOCGIFNETMASK", unix.SIOCGIFNETMASK},
	{"SIOCGIFBRDADDR", unix.SIOCGIFBRDADDR},
	{"SIOCGIFDSTADDR", unix.SIOCGIFDSTADDR},
	{"SIOCGIFPFLAGS", unix.SIOCGIFPFLAGS},
}

// ifNames are names tried with each request: both interfaces, an alias,
// unknown names, garbage after the NUL, and a name filling all 16 bytes
// (the kernel forces the last to NUL).
var ifNames = []string{"lo", "eth0", "eth0:1", "lo:", "nosuch0", "", "eth0\x00junk", "eth0xxxxxxxxxxxx"}

// allSockets makes one DUT socket of each type (ping included, which
// needs ping_group_range), for ioctls every socket answers.
func allSockets(e *harness.Env, pingID int) []struct {
	typ string
	s   harness.Sock
} {
	return []struct {
		typ string
		s   harness.Sock
	}{
		{"udp", e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)},
		{"tcp", e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)},
		{"raw", e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)},
		{"ping", pingSock(e, pingID)},
	}
}

// oneSocket makes the DUT socket of one type.
func oneSocket(e *harness.Env, typ string, pingID int) harness.Sock {
	switch typ {
	case "udp":
		return e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
	case "tcp":
		return e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
	case "raw":
		return e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
	}
	return pingSock(e, pingID)
}

func ifScenarios() []harness.Scenario {
	var scs []harness.Scenario
	for _, r := range ifReqs {
		r := r
		scs = append(scs, harness.Scenario{Name: "ioctl/" + lower(r.name), Run: func(e *harness.Env) {
			for _, so := range allSockets(e, 0x4f4f) {
				s, op := so.s, so.typ+" "+r.name
				for _, n := range ifNames {
					ioctlBytes(e, fmt.Sprintf("%s %q", op, n), s, r.req, ifreq(n, nil))
				}
				// devinet matches the address too when ifr_addr is AF_INET.
				ioctlBytes(e, op+" eth0 with its address", s, r.req, ifreq("eth0", harness.Sockaddr(e.DUTAddr, 0)))
				ioctlBytes(e, op+" eth0 with another address", s, r.req, ifreq("eth0", harness.Sockaddr(e.PeerAddr, 0)))
				ioctlBytes(e, op+" 20-byte arg", s, r.req, ifreq("lo", nil)[:20])
				e.Rec(op+" NULL arg", s.Ioctl(r.req, nil))
			}
		}})
	}
	scs = append(scs, harness.Scenario{Name: "ioctl/siocgifname", Run: func(e *harness.Env) {
		for _, so := range allSockets(e, 0x4f4f) {
			for _, idx := range []int32{1, 2, 3, 0, -1} {
				arg := append([]byte("garbage-garbage!"), fill(24)...)
				binary.NativeEndian.PutUint32(arg[16:], uint32(idx))
				ioctlBytes(e, fmt.Sprintf("%s SIOCGIFNAME %d", so.typ, idx), so.s, unix.SIOCGIFNAME, arg)
			}
			ioctlBytes(e, so.typ+" SIOCGIFNAME 20-byte arg", so.s, unix.SIOCGIFNAME, make([]byte, 20))
		}
	}})
	scs = append(scs, harness.Scenario{Name: "ioctl/siocgifhwaddr", Run: func(e *harness.Env) {
		socks := allSockets(e, 0x4f4f)
		for _, so := range socks {
			for _, n := range []string{"lo", "nosuch0", "lo:1", ""} {
				ioctlBytes(e, fmt.Sprintf("%s SIOCGIFHWADDR %q", so.typ, n), so.s, unix.SIOCGIFHWADDR, ifreq(n, nil))
			}
		}
		hw := ifreq("eth0", nil)
		err := socks[0].s.Ioctl(unix.SIOCGIFHWADDR, hw)
		e.Rec("SIOCGIFHWADDR eth0", err, binary.NativeEndian.Uint16(hw[16:]), hw[:16], hw[24:])
		// The peer learns the DUT's MAC from its ARP request.
		u := socks[0].s
		p := peerUDP(e, e.BasePort)
		send(e, "send to peer", u, []byte("arp"), harness.Sockaddr(e.PeerAddr, e.BasePort), 0)
		e.RecvDgram("peer recv", p, 16, 0)
		arp := make([]byte, 68)
		copy(arp, harness.Sockaddr(e.DUTAddr, 0))
		copy(arp[52:], "eth0")
		e.Rec("peer SIOCGARP", p.Ioctl(siocGARP, arp))
		e.Rec("eth0 MAC is the one on the wire", bytes.Equal(hw[18:24], arp[18:24]))
		e.Rec("unicast, locally administered", hw[18]&1 == 0, hw[18]&2 != 0)
		for _, so := range socks[1:] {
			hw2 := ifreq("eth0", nil)
			e.Rec(so.typ+" SIOCGIFHWADDR eth0 same", so.s.Ioctl(unix.SIOCGIFHWADDR, hw2), bytes.Equal(hw, hw2))
		}
	}})
	scs = append(scs, harness.Scenario{Name: "ioctl/siocgifconf", Run: func(e *harness.Env) {
		s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
		ifconf := func(op string, ifcLen int32, bufNonNull bool, dataLen, argLen int) {
			arg := fill(sizeofIfconf + dataLen)
			binary.NativeEndian.PutUint32(arg, uint32(ifcLen))
			binary.NativeEndian.PutUint32(arg[4:], 0)
			var p uint64
			if bufNonNull {
				p = 1
			}
			binary.NativeEndian.PutUint64(arg[8:], p)
			if argLen >= 0 {
				arg = arg[:argLen]
			}
			err := s.Ioctl(unix.SIOCGIFCONF, arg)
			if len(arg) >= 4 {
				e.Rec(op, err, int32(binary.NativeEndian.Uint32(arg)), arg[min(len(arg), sizeofIfconf):])
			} else {
				e.Rec(op, err, arg)
			}
		}
		ifconf("NULL buffer, len 0", 0, false, 0, -1)
		ifconf("NULL buffer, len 12345", 12345, false, 0, -1)
		ifconf("NULL buffer, len -1", -1, false, 0, -1)
		ifconf("room for all", 80, true, 80, -1)
		ifconf("room for more", 200, true, 200, -1)
		ifconf("room for one", 60, true, 80, -1)
		ifconf("39 bytes", 39, true, 80, -1)
		ifconf("len 0", 0, true, 80, -1)
		ifconf("len -40", -40, true, 80, -1)
		ifconf("len 80, 50 bytes of buffer", 80, true, 50, -1)
		ifconf("len 80, 30 bytes of buffer", 80, true, 30, -1)
		ifconf("8-byte ifconf", 80, true, 0, 8)
		e.Rec("NULL arg", s.Ioctl(unix.SIOCGIFCONF, nil))
		t := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
		arg := make([]byte, sizeofIfconf+80)
		binary.NativeEndian.PutUint32(arg, 80)
		binary.NativeEndian.PutUint64(arg[8:], 1)
		ioctlBytes(e, "on TCP", t, unix.SIOCGIFCONF, arg)
	}})
	return scs
}

// lower is strings.ToLower for the ASCII request names.
func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func unknownIoctlScenarios() []harness.Scenario {
	var scs []harness.Scenario
	for _, typ := range []string{"udp", "tcp", "raw", "ping"} {
		typ := typ
		scs = append(scs, harness.Scenario{Name: "ioctl/unknown-" + typ, Run: func(e *harness.Env) {
			s := oneSocket(e, typ, 0x5050)
			ioctlBytes(e, "0x1234", s, 0x1234, fill(4))
			e.Rec("0x1234 NULL", s.Ioctl(0x1234, nil))
			ioctlBytes(e, "TIOCGWINSZ", s, unix.TIOCGWINSZ, fill(8))
			ioctlBytes(e, "unknown socket-type request", s, siocUnknown89, ifreq("lo", nil))
			ioctlBytes(e, "unknown socket-type request, 4-byte arg", s, siocUnknown89, fill(4))
			ioctlBytes(e, "SIOCGIFMEM", s, siocGIFMem, ifreq("lo", nil))
			ioctlBytes(e, "SIOCDEVPRIVATE lo", s, unix.SIOCDEVPRIVATE, ifreq("lo", nil))
			ioctlBytes(e, "SIOCDEVPRIVATE nosuch0", s, unix.SIOCDEVPRIVATE+3, ifreq("nosuch0", nil))
			ioctlBytes(e, "SIOCRTMSG", s, unix.SIOCRTMSG, fill(4))
			ioctlBytes(e, "SIOCATMARK", s, unix.SIOCATMARK, fill(sizeofIfreq))
			ioctlBytes(e, "high bits of cmd ignored", s, 1<<32|unix.SIOCINQ, fill(4))
		}})
	}
	return scs
}

func priorityScenarios() []harness.Scenario {
	var scs []harness.Scenario
	for _, typ := range []string{"udp", "tcp", "raw", "ping"} {
		typ := typ
		scs = append(scs, harness.Scenario{Name: "ioctl/so-priority-" + typ, Run: func(e *harness.Env) {
			s := oneSocket(e, typ, 0x5151)
			get := func(op string, n int) {
				buf := fill(n)
				l, err := s.GetSockOpt(unix.SOL_SOCKET, unix.SO_PRIORITY, buf)
				e.Rec(op, err, l, buf)
			}
			get("default", 4)
			for _, v := range []int32{0, 6, 7, -1, 255, 0x10000, 3} {
				e.SetInt(fmt.Sprintf("set %d", v), s, unix.SOL_SOCKET, unix.SO_PRIORITY, v)
				get(fmt.Sprintf("get after %d", v), 4)
			}
			for _, n := range []int{0, 1, 2, 3, 4, 8} {
				val := append(harness.Int32(5), 9, 9, 9, 9)[:n]
				e.Rec(fmt.Sprintf("set optlen %d", n), s.SetSockOpt(unix.SOL_SOCKET, unix.SO_PRIORITY, val))
				get(fmt.Sprintf("get after optlen %d", n), 4)
			}
			for _, n := range []int{0, 1, 2, 3, 8} {
				get(fmt.Sprintf("get optlen %d", n), n)
			}
		}})
		scs = append(scs, harness.Scenario{Name: "ioctl/so-priority-from-ip-tos-" + typ, Run: func(e *harness.Env) {
			s := oneSocket(e, typ, 0x5252)
			for _, tos := range []int32{0x10, 0x08, 0x04, 0x02, 0x1e, 0x13, 0xb8, 0} {
				e.SetInt(fmt.Sprintf("IP_TOS %#x", tos), s, unix.SOL_IP, unix.IP_TOS, tos)
				e.GetInt("SO_PRIORITY", s, unix.SOL_SOCKET, unix.SO_PRIORITY)
			}
			e.SetInt("SO_PRIORITY 3", s, unix.SOL_SOCKET, unix.SO_PRIORITY, 3)
			e.SetInt("IP_TOS 0 again (unchanged)", s, unix.SOL_IP, unix.IP_TOS, 0)
			e.GetInt("SO_PRIORITY kept", s, unix.SOL_SOCKET, unix.SO_PRIORITY)
			e.SetInt("IP_TOS 0x10", s, unix.SOL_IP, unix.IP_TOS, 0x10)
			e.GetInt("SO_PRIORITY from TOS", s, unix.SOL_SOCKET, unix.SO_PRIORITY)
			e.SetInt("IP_TOS 0x11 (ECN bits only on TCP)", s, unix.SOL_IP, unix.IP_TOS, 0x11)
			e.GetInt("IP_TOS", s, unix.SOL_IP, unix.IP_TOS)
			e.SetInt("SO_PRIORITY 1", s, unix.SOL_SOCKET, unix.SO_PRIORITY, 1)
			e.SetInt("IP_TOS 0x12", s, unix.SOL_IP, unix.IP_TOS, 0x12)
			e.GetInt("SO_PRIORITY", s, unix.SOL_SOCKET, unix.SO_PRIORITY)
		}})
	}
	return scs
}

// recvRawNoID receives a packet on a raw socket (bounded wait) and
// records it with the peer's IP ID and header checksum zeroed: the peer
// kernel picks the ID at random.
func recvRawNoID(e *harness.Env, op string, s harness.Sock) {
	harness.WaitReadable(s, 2*time.Second)
	buf := make([]byte, 256)
	n, _, _, from, err := s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
	if err != nil {
		e.Rec(op, err)
		return
	}
	p := buf[:min(n, len(buf))]
	if len(p) >= 12 {
		p[4], p[5], p[10], p[11] = 0, 0, 0, 0
	}
	e.Rec(op, n, e.SA(from), p)
}
