package endpoint

import (
	"encoding/binary"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/options"
	"netsandbox/stack"
)

// echoRequest builds an ICMP echo request with a valid checksum.
func echoRequest(id, seq uint16, payload string) []byte {
	b := make([]byte, 8+len(payload))
	b[0] = 8
	binary.BigEndian.PutUint16(b[4:6], id)
	binary.BigEndian.PutUint16(b[6:8], seq)
	copy(b[8:], payload)
	binary.BigEndian.PutUint16(b[2:4], inetChecksum(b))
	return b
}

func inetChecksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// TestRawMatchesKernel: a raw ICMP socket's errnos and its view of an
// echo exchange on loopback (the IP header included, port 0 in the source).
func TestRawMatchesKernel(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	id := uint16(os.Getpid())
	diffWorldsIn(t, privateNetnsWorld(t, nil), s, func(w *world, l *logger) {
		r := w.sock(unix.SOCK_RAW, unix.IPPROTO_ICMP)
		l.add("readiness fresh: %#x", r.Readiness(allEvents&^unix.EPOLLIN))
		req := echoRequest(id, 7, "nsbx-raw-probe")
		send := func(what string, p, to []byte, flags int) {
			n, err := r.SendMsg(p, nil, to, flags)
			l.add("send %s: %d %s", what, n, errStr(err))
		}
		send("no addr", req, nil, 0)
		send("short addr", req, sa("127.0.0.1:0")[:15], 0)
		send("inet6", req, rawSA(unix.AF_INET6, "127.0.0.1:0", 16), 0)
		send("oob", req, sa("127.0.0.1:0"), unix.MSG_OOB)
		send("too big", make([]byte, 0x10000), sa("127.0.0.1:0"), 0)
		send("broadcast", req, sa("127.255.255.255:0"), 0)
		for _, c := range []struct {
			name string
			oob  []byte
		}{
			{"ttl 0", options.AppendCmsg(nil, unix.SOL_IP, unix.IP_TTL, intOpt(0))},
			{"ttl 5", options.AppendCmsg(nil, unix.SOL_IP, unix.IP_TTL, intOpt(5))},
			{"unknown SOL_IP", options.AppendCmsg(nil, unix.SOL_IP, 9999, intOpt(1))},
			{"other level", options.AppendCmsg(nil, unix.SOL_TCP, 1, intOpt(1))},
			{"truncated", options.AppendCmsg(nil, unix.SOL_IP, unix.IP_TTL, intOpt(9))[:17]},
		} {
			n, err := r.SendMsg(req, c.oob, sa("127.0.0.1:0"), 0)
			l.add("send cmsg %s: %d %s", c.name, n, errStr(err))
		}
		_, _, _, _, err := r.RecvMsg(make([]byte, 8), nil, unix.MSG_OOB)
		l.add("recv oob: %s", errStr(err))
		l.add("listen: %s", errStr(r.Listen(1)))
		l.add("shutdown unconnected: %s", errStr(r.Shutdown(unix.SHUT_RDWR)))
		l.add("bind short: %s", errStr(r.Bind(sa("127.0.0.1:0")[:15])))
		l.add("bind foreign: %s", errStr(r.Bind(sa("10.99.99.99:0"))))

		r2 := w.sock(unix.SOCK_RAW, unix.IPPROTO_ICMP)
		r2.SetNonblock(true)
		send2 := func(to []byte) {
			n, err := r2.SendMsg(req, nil, to, 0)
			l.add("send echo: %d %s", n, errStr(err))
		}
		send2(rawSA(unix.AF_UNSPEC, "127.0.0.1:0", 16))
		// Look for our reply among whatever else arrives.
		p := make([]byte, 256)
		found := false
		deadline := time.Now().Add(2 * time.Second)
		for !found && time.Now().Before(deadline) {
			w.wait(r2, unix.EPOLLIN, 100*time.Millisecond)
			n, _, rf, from, err := r2.RecvMsg(p, nil, 0)
			if err != nil {
				continue
			}
			if n < 28 || p[20] != 0 || binary.BigEndian.Uint16(p[24:26]) != id {
				continue
			}
			found = true
			l.add("reply: len %d version/ihl %#x proto %d type %d payload %q flags %#x from %v", n, p[0], p[9], p[20], p[28:n], rf, from)
		}
		l.add("found reply: %v", found)

		l.add("connect broadcast: %s", errStr(r2.Connect(sa("127.255.255.255:0"))))
		l.add("connect: %s", errStr(r2.Connect(sa("127.0.0.1:0"))))
		_, err = r2.GetPeerName()
		l.add("getpeername port 0: %s", errStr(err))
		n, err := r2.SendMsg(req, nil, nil, 0)
		l.add("send connected: %d %s", n, errStr(err))
		l.add("shutdown connected: %s", errStr(r2.Shutdown(unix.SHUT_WR)))
		l.add("readiness shut wr: %#x", r2.Readiness(allEvents&^unix.EPOLLIN))
		n, err = r2.SendMsg(req, nil, nil, 0)
		l.add("send after shut wr: %d %s", n, errStr(err))
		l.add("shutdown rd: %s", errStr(r2.Shutdown(unix.SHUT_RD)))
		l.add("readiness shut rdwr: %#x", r2.Readiness(allEvents))
	})
}

// TestPingSocket: an ICMP datagram socket gets its echo reply, with the
// identifier rewritten to its port; malformed requests are refused as
// ping_common_sendmsg refuses them.
func TestPingSocket(t *testing.T) {
	s := newStack(t, 0, map[string]string{"net.ipv4.ping_group_range": "0 0"})
	p, err := New(s, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, c := range []struct {
		name  string
		msg   []byte
		to    []byte
		flags int
		want  error
	}{
		{"short", []byte{8, 0, 0}, sa("127.0.0.1:0"), 0, unix.EINVAL},
		{"not echo", []byte{13, 0, 0, 0, 0, 0, 0, 0}, sa("127.0.0.1:0"), 0, unix.EINVAL},
		{"too big", make([]byte, 0x10000), sa("127.0.0.1:0"), 0, unix.EMSGSIZE},
		{"oob", echoRequest(1, 1, ""), sa("127.0.0.1:0"), unix.MSG_OOB, unix.EOPNOTSUPP},
		{"unspec", echoRequest(1, 1, ""), rawSA(unix.AF_UNSPEC, "127.0.0.1:0", 16), 0, unix.EAFNOSUPPORT},
		{"short addr", echoRequest(1, 1, ""), sa("127.0.0.1:0")[:8], 0, unix.EINVAL},
		{"no addr", echoRequest(1, 1, ""), nil, 0, unix.EDESTADDRREQ},
	} {
		if _, err := p.SendMsg(c.msg, nil, c.to, c.flags); err != c.want {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := p.SendMsg(echoRequest(0x1234, 3, "ping!"), nil, sa("127.0.0.1:0"), 0); err != nil {
		t.Fatalf("send echo: %v", err)
	}
	if _, err := p.Wait(unix.EPOLLIN, time.Now().Add(2*time.Second)); err != nil {
		t.Fatalf("no reply: %v", err)
	}
	buf := make([]byte, 64)
	n, _, rf, from, err := p.RecvMsg(buf, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	name, _ := p.GetSockName()
	if n != 13 || buf[0] != 0 || string(buf[8:n]) != "ping!" || rf != 0 {
		t.Errorf("reply %d bytes %v flags %#x", n, buf[:n], rf)
	}
	if got := binary.BigEndian.Uint16(buf[4:6]); got != portOf(name) {
		t.Errorf("reply ident %d, socket port %d", got, portOf(name))
	}
	if string(from) != string(sa("127.0.0.1:0")) {
		t.Errorf("from %v", from)
	}
}

// TestPingMatchesKernel runs the ping socket scenario against a kernel ping
// socket in a private network namespace whose ping_group_range admits us.
func TestPingMatchesKernel(t *testing.T) {
	const groups = "0 0"
	s := newStack(t, 0, map[string]string{"net.ipv4.ping_group_range": groups})
	kw := privateNetnsWorld(t, map[string]string{"net.ipv4.ping_group_range": groups})
	diffWorldsIn(t, kw, s, func(w *world, l *logger) {
		p := w.sock(unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
		p.SetNonblock(true)
		l.add("readiness fresh: %#x", p.Readiness(allEvents))
		name, _ := p.GetSockName()
		l.add("getsockname fresh: %v", name)
		for _, c := range []struct {
			name  string
			msg   []byte
			to    []byte
			flags int
		}{
			{"short", []byte{8, 0, 0}, sa("127.0.0.1:0"), 0},
			{"not echo", []byte{13, 0, 0, 0, 0, 0, 0, 0}, sa("127.0.0.1:0"), 0},
			{"echo code 1", []byte{8, 1, 0, 0, 0, 0, 0, 0}, sa("127.0.0.1:0"), 0},
			{"too big", make([]byte, 0x10000), sa("127.0.0.1:0"), 0},
			{"oob", echoRequest(1, 1, ""), sa("127.0.0.1:0"), unix.MSG_OOB},
			{"oob short", []byte{8}, sa("127.0.0.1:0"), unix.MSG_OOB},
			{"unspec", echoRequest(1, 1, ""), rawSA(unix.AF_UNSPEC, "127.0.0.1:0", 16), 0},
			{"inet6", echoRequest(1, 1, ""), rawSA(unix.AF_INET6, "127.0.0.1:0", 16), 0},
			{"short addr", echoRequest(1, 1, ""), sa("127.0.0.1:0")[:8], 0},
			{"no addr", echoRequest(1, 1, ""), nil, 0},
			{"broadcast", echoRequest(1, 1, ""), sa("127.255.255.255:0"), 0},
		} {
			n, err := p.SendMsg(c.msg, nil, c.to, c.flags)
			l.add("send %s: %d %s", c.name, n, errStr(err))
		}
		_, _, _, _, err := p.RecvMsg(make([]byte, 8), nil, unix.MSG_OOB)
		l.add("recv oob: %s", errStr(err))
		l.add("bind short: %s", errStr(p.Bind(sa("127.0.0.1:0")[:15])))
		l.add("bind foreign: %s", errStr(p.Bind(sa("10.99.99.99:0"))))
		l.add("bind: %s", errStr(p.Bind(sa("127.0.0.1:4242"))))
		name, _ = p.GetSockName()
		l.add("getsockname bound: %s", addrOf(name))
		n, err := p.SendMsg(echoRequest(0x1234, 3, "ping!"), nil, sa("127.0.0.1:0"), 0)
		l.add("send echo: %d %s", n, errStr(err))
		w.wait(p, unix.EPOLLIN, 2*time.Second)
		l.add("readiness reply: %#x", p.Readiness(allEvents))
		buf := make([]byte, 64)
		n, _, rf, _, err := p.RecvMsg(buf[:10], nil, unix.MSG_PEEK)
		l.add("peek short: %d flags %#x %s", n, rf, errStr(err))
		n, _, rf, from, err := p.RecvMsg(buf, nil, 0)
		l.add("reply: %d type %d code %d id=port %v seq %d data %q flags %#x from %v %s", n, buf[0], buf[1], binary.BigEndian.Uint16(buf[4:6]) == portOf(name), binary.BigEndian.Uint16(buf[6:8]), buf[8:n], rf, from, errStr(err))
		l.add("connect broadcast: %s", errStr(p.Connect(sa("127.255.255.255:0"))))
		l.add("connect: %s", errStr(p.Connect(sa("127.0.0.1:0"))))
		_, err = p.GetPeerName()
		l.add("getpeername: %s", errStr(err))
		n, err = p.SendMsg(echoRequest(0x1234, 4, "again"), nil, nil, 0)
		l.add("send connected: %d %s", n, errStr(err))
		l.add("shutdown: %s", errStr(p.Shutdown(unix.SHUT_RDWR)))
		l.add("readiness shut: %#x", p.Readiness(allEvents))
	})
}
