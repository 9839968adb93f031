package endpoint

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/options"
	"netsandbox/stack"
)

const allEvents = uint32(unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLHUP | unix.EPOLLERR | unix.EPOLLPRI | unix.EPOLLRDNORM | unix.EPOLLWRNORM | unix.EPOLLWRBAND)

// TestUDPErrnosMatchKernel: the argument and state checks of bind,
// connect, sendmsg, recvmsg, shutdown and getpeername on UDP.
func TestUDPErrnosMatchKernel(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	diffWorlds(t, s, func(w *world, l *logger) {
		u := w.sock(unix.SOCK_DGRAM, 0)
		u.SetNonblock(true)
		l.add("readiness fresh: %#x", u.Readiness(allEvents))
		_, err := u.GetPeerName()
		l.add("getpeername: %s", errStr(err))
		name, _ := u.GetSockName()
		l.add("getsockname unbound: %v", name)
		_, _, _, _, err = u.RecvMsg(make([]byte, 8), nil, 0)
		l.add("recv unbound: %s", errStr(err))
		_, _, _, _, err = u.RecvMsg(make([]byte, 8), nil, unix.MSG_ERRQUEUE)
		l.add("recv errqueue: %s", errStr(err))
		_, _, _, _, err = u.RecvMsg(make([]byte, 8), nil, unix.MSG_OOB)
		l.add("recv oob: %s", errStr(err))
		send := func(what string, p, to []byte, flags int) {
			n, err := u.SendMsg(p, nil, to, flags)
			l.add("send %s: %d %s", what, n, errStr(err))
		}
		send("no addr", []byte("x"), nil, 0)
		name, _ = u.GetSockName()
		l.add("getsockname after send: %s", addrOf(name))
		send("oob", []byte("x"), sa("127.0.0.1:9"), unix.MSG_OOB)
		send("short addr", []byte("x"), sa("127.0.0.1:9")[:15], 0)
		send("inet6 family", []byte("x"), rawSA(unix.AF_INET6, "127.0.0.1:9", 16), 0)
		send("unspec family", []byte("x"), rawSA(unix.AF_UNSPEC, "127.0.0.1:9", 16), 0)
		send("port 0", []byte("x"), sa("127.0.0.1:0"), 0)
		// 255.255.255.255 depends on the routing table (the host has a
		// default route, the stack only lo): see TestUDPBroadcastNeedsRoute.
		send("lo broadcast", []byte("x"), sa("127.255.255.255:9"), 0)
		send("65507", make([]byte, 65507), sa("127.0.0.1:9"), 0)
		send("65508", make([]byte, 65508), sa("127.0.0.1:9"), 0)
		send("65536 oob", make([]byte, 65536), sa("127.0.0.1:9"), unix.MSG_OOB)
		send("65508 no addr", make([]byte, 65508), nil, 0)
		send("nosignal dontwait", []byte("x"), sa("127.0.0.1:9"), unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT)
		send("bad ttl cmsg", []byte("x"), sa("127.0.0.1:9"), 0)
		for _, c := range []struct {
			name string
			oob  []byte
		}{
			{"ttl 0", options.AppendCmsg(nil, unix.SOL_IP, unix.IP_TTL, intOpt(0))},
			{"ttl 9", options.AppendCmsg(nil, unix.SOL_IP, unix.IP_TTL, intOpt(9))},
			{"ttl short", options.AppendCmsg(nil, unix.SOL_IP, unix.IP_TTL, []byte{9})},
			{"tos byte", options.AppendCmsg(nil, unix.SOL_IP, unix.IP_TOS, []byte{4})},
			{"tos 256", options.AppendCmsg(nil, unix.SOL_IP, unix.IP_TOS, intOpt(256))},
			{"tos 2 bytes", options.AppendCmsg(nil, unix.SOL_IP, unix.IP_TOS, []byte{1, 2})},
			{"unknown SOL_IP", options.AppendCmsg(nil, unix.SOL_IP, 9999, intOpt(1))},
			{"other level", options.AppendCmsg(nil, unix.SOL_TCP, 1, intOpt(1))},
			{"truncated", options.AppendCmsg(nil, unix.SOL_IP, unix.IP_TTL, intOpt(9))[:17]},
		} {
			n, err := u.SendMsg([]byte("x"), c.oob, sa("127.0.0.1:9"), 0)
			l.add("send cmsg %s: %d %s", c.name, n, errStr(err))
		}

		l.add("connect len 1: %s", errStr(u.Connect([]byte{2})))
		l.add("connect short: %s", errStr(u.Connect(sa("127.0.0.1:9")[:15])))
		l.add("connect inet6: %s", errStr(u.Connect(rawSA(unix.AF_INET6, "127.0.0.1:9", 16))))
		l.add("connect unspec short: %s", errStr(u.Connect(rawSA(unix.AF_UNSPEC, "0.0.0.0:0", 2))))
		l.add("shutdown unconnected: %s", errStr(u.Shutdown(unix.SHUT_RD)))
		l.add("shutdown bad: %s", errStr(u.Shutdown(3)))
		l.add("shutdown -1: %s", errStr(u.Shutdown(-1)))
		l.add("readiness after shut rd: %#x", u.Readiness(allEvents))
		_, _, _, _, err = u.RecvMsg(make([]byte, 8), nil, 0)
		l.add("recv nonblocking after shut rd: %s", errStr(err))
		u.SetNonblock(false)
		n, _, _, _, err := u.RecvMsg(make([]byte, 8), nil, 0)
		l.add("recv blocking after shut rd: %d %s", n, errStr(err))

		c := w.sock(unix.SOCK_DGRAM, 0)
		l.add("connect broadcast: %s", errStr(c.Connect(sa("127.255.255.255:9"))))
		name, _ = c.GetSockName()
		l.add("getsockname after failed connect: %s", addrOf(name))
		l.add("connect: %s", errStr(c.Connect(sa("127.0.0.1:9"))))
		name, _ = c.GetSockName()
		l.add("getsockname connected: %s", addrOf(name))
		peer, err := c.GetPeerName()
		l.add("getpeername connected: %s %v", errStr(err), peer)
		n, err = c.SendMsg([]byte("x"), nil, nil, 0)
		l.add("send connected no addr: %d %s", n, errStr(err))
		l.add("connect unspec: %s", errStr(c.Connect(rawSA(unix.AF_UNSPEC, "0.0.0.0:0", 16))))
		name, _ = c.GetSockName()
		l.add("getsockname after disconnect: %v", name)
		_, err = c.GetPeerName()
		l.add("getpeername after disconnect: %s", errStr(err))

		b := w.sock(unix.SOCK_DGRAM, 0)
		l.add("bind short: %s", errStr(b.Bind(sa("127.0.0.1:0")[:15])))
		l.add("bind inet6: %s", errStr(b.Bind(rawSA(unix.AF_INET6, "127.0.0.1:0", 16))))
		l.add("bind unspec loopback: %s", errStr(b.Bind(rawSA(unix.AF_UNSPEC, "127.0.0.1:0", 16))))
		l.add("bind foreign: %s", errStr(b.Bind(sa("10.99.99.99:0"))))
		l.add("bind unspec any: %s", errStr(b.Bind(rawSA(unix.AF_UNSPEC, "0.0.0.0:0", 16))))
		l.add("bind again: %s", errStr(b.Bind(sa("127.0.0.1:0"))))
		name, _ = b.GetSockName()
		l.add("bound: %s", addrOf(name))
		l.add("connect bound: %s", errStr(b.Connect(sa("127.0.0.1:9"))))
		l.add("connect unspec bound: %s", errStr(b.Connect(rawSA(unix.AF_UNSPEC, "0.0.0.0:0", 16))))
		name2, _ := b.GetSockName()
		l.add("explicit port kept: %v %s", portOf(name) == portOf(name2), addrOf(name2))

		d := w.sock(unix.SOCK_DGRAM, 0)
		d.Connect(sa("127.0.0.1:9"))
		l.add("shutdown connected wr: %s", errStr(d.Shutdown(unix.SHUT_WR)))
		l.add("readiness shut wr: %#x", d.Readiness(allEvents))
		n, err = d.SendMsg([]byte("x"), nil, nil, unix.MSG_NOSIGNAL)
		l.add("send after shut wr: %d %s", n, errStr(err))
		n, err = d.SendMsg(make([]byte, 65508), nil, nil, unix.MSG_NOSIGNAL)
		l.add("send big after shut wr: %d %s", n, errStr(err))
		l.add("shutdown connected rd: %s", errStr(d.Shutdown(unix.SHUT_RD)))
		l.add("readiness shut rdwr: %#x", d.Readiness(allEvents))
	})
}

// TestUDPDataMatchesKernel: datagrams between two sockets: addresses,
// MSG_PEEK, MSG_TRUNC both ways, readiness, and broadcast with SO_BROADCAST.
func TestUDPDataMatchesKernel(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	diffWorlds(t, s, func(w *world, l *logger) {
		r := w.sock(unix.SOCK_DGRAM, 0)
		r.SetNonblock(true)
		l.add("bind: %s", errStr(r.Bind(sa("127.0.0.1:0"))))
		rname, _ := r.GetSockName()
		snd := w.sock(unix.SOCK_DGRAM, 0)
		snd.Bind(sa("127.0.0.1:0"))
		sname, _ := snd.GetSockName()
		for _, msg := range []string{"hello", "", "0123456789abcdef"} {
			n, err := snd.SendMsg([]byte(msg), nil, rname, 0)
			l.add("send %q: %d %s", msg, n, errStr(err))
		}
		w.wait(r, unix.EPOLLIN, time.Second)
		l.add("readiness: %#x", r.Readiness(allEvents))
		p := make([]byte, 32)
		n, oobn, rf, from, err := r.RecvMsg(p, nil, unix.MSG_PEEK)
		l.add("peek: %d %q oobn %d flags %#x from-matches %v %s", n, p[:n], oobn, rf, string(from) == string(sname), errStr(err))
		n, _, rf, from, err = r.RecvMsg(p[:2], nil, 0)
		l.add("recv short: %d %q flags %#x len(from) %d %s", n, p[:n], rf, len(from), errStr(err))
		n, _, rf, _, err = r.RecvMsg(p, nil, 0)
		l.add("recv empty datagram: %d flags %#x %s", n, rf, errStr(err))
		n, _, rf, _, err = r.RecvMsg(p[:4], nil, unix.MSG_TRUNC|unix.MSG_PEEK)
		l.add("recv trunc peek: %d %q flags %#x %s", n, p[:4], rf, errStr(err))
		n, _, rf, _, err = r.RecvMsg(p[:4], nil, unix.MSG_TRUNC)
		l.add("recv trunc: %d flags %#x %s", n, rf, errStr(err))
		n, _, _, _, err = r.RecvMsg(p, nil, 0)
		l.add("recv drained: %d %s", n, errStr(err))
		l.add("readiness drained: %#x", r.Readiness(allEvents))

		// INADDR_ANY as a destination means this host.
		anyDst := append([]byte(nil), rname...)
		copy(anyDst[4:8], []byte{0, 0, 0, 0})
		n, err = snd.SendMsg([]byte("to any"), nil, anyDst, 0)
		l.add("send to 0.0.0.0: %d %s", n, errStr(err))
		w.wait(r, unix.EPOLLIN, time.Second)
		n, _, _, _, err = r.RecvMsg(p, nil, 0)
		l.add("got: %q %s", p[:n], errStr(err))
		ca := w.sock(unix.SOCK_DGRAM, 0)
		l.add("connect 0.0.0.0: %s", errStr(ca.Connect(anyDst)))
		peer, err := ca.GetPeerName()
		l.add("peer: %s %s", errStr(err), addrOf(peer))

		// Sendto on a connected socket is allowed, to any address.
		c := w.sock(unix.SOCK_DGRAM, 0)
		c.Connect(sa("127.0.0.1:9"))
		n, err = c.SendMsg([]byte("via sendto"), nil, rname, 0)
		l.add("sendto while connected: %d %s", n, errStr(err))
		w.wait(r, unix.EPOLLIN, time.Second)
		n, _, _, _, err = r.RecvMsg(p, nil, 0)
		l.add("got: %q %s", p[:n], errStr(err))

		// A connected receiver only accepts its peer.
		cr := w.sock(unix.SOCK_DGRAM, 0)
		cr.SetNonblock(true)
		cr.Bind(sa("127.0.0.1:0"))
		crname, _ := cr.GetSockName()
		cr.Connect(sname)
		c.SendMsg([]byte("stranger"), nil, crname, 0)
		snd.SendMsg([]byte("peer"), nil, crname, 0)
		w.wait(cr, unix.EPOLLIN, time.Second)
		n, _, _, _, err = cr.RecvMsg(p, nil, 0)
		l.add("connected receiver got: %q %s", p[:n], errStr(err))
		n, _, _, _, err = cr.RecvMsg(p, nil, 0)
		l.add("connected receiver then: %d %s", n, errStr(err))

		one := []byte{1, 0, 0, 0}
		l.add("so_broadcast: %s", errStr(snd.SetSockOpt(unix.SOL_SOCKET, unix.SO_BROADCAST, one)))
		bc := w.sock(unix.SOCK_DGRAM, 0)
		bc.SetSockOpt(unix.SOL_SOCKET, unix.SO_BROADCAST, one)
		n, err = bc.SendMsg([]byte("b"), nil, sa("127.255.255.255:9"), 0)
		l.add("send directed broadcast lo: %d %s", n, errStr(err))
	})
}

// TestUDPReceiveBufferMatchesKernel: how many datagrams of a size fit
// in SO_RCVBUF, counted the kernel's way (truesize against sk_rcvbuf).
func TestUDPReceiveBufferMatchesKernel(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	for _, size := range []int{0, 100, 500, 1000, 3000, 9000, 20000} {
		for _, rcvbuf := range []int32{0, 1152, 2500, 5000, 20000} {
			t.Run(fmt.Sprintf("size%d_rcvbuf%d", size, rcvbuf), func(t *testing.T) {
				diffWorlds(t, s, func(w *world, l *logger) {
					r := w.sock(unix.SOCK_DGRAM, 0)
					r.SetNonblock(true)
					r.SetSockOpt(unix.SOL_SOCKET, unix.SO_RCVBUF, intOpt(rcvbuf))
					r.Bind(sa("127.0.0.1:0"))
					rname, _ := r.GetSockName()
					snd := w.sock(unix.SOCK_DGRAM, 0)
					for range 12 {
						snd.SendMsg(make([]byte, size), nil, rname, 0)
					}
					got := 0
					p := make([]byte, size+1)
					for range 20 {
						if _, _, _, _, err := r.RecvMsg(p, nil, 0); err != nil {
							break
						}
						got++
					}
					l.add("queued %d", got)
				})
			})
		}
	}
}

// TestUDPBlockingRecv: a blocking receive waits for a datagram, and
// SO_RCVTIMEO bounds the wait.
func TestUDPBlockingRecv(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	r, _ := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	defer r.Close()
	r.Bind(sa("127.0.0.1:0"))
	rname, _ := r.GetSockName()
	w, _ := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	defer w.Close()
	go func() {
		time.Sleep(20 * time.Millisecond)
		w.SendMsg([]byte("late"), nil, rname, 0)
	}()
	p := make([]byte, 8)
	n, _, _, _, err := r.RecvMsg(p, nil, 0)
	if err != nil || string(p[:n]) != "late" {
		t.Fatalf("blocking recv: %d %q %v", n, p[:n], err)
	}
	tv := make([]byte, 16)
	tv[8], tv[9] = 0x20, 0x4e // 20000 us
	r.SetSockOpt(unix.SOL_SOCKET, unix.SO_RCVTIMEO_OLD, tv)
	start := time.Now()
	if _, _, _, _, err := r.RecvMsg(p, nil, 0); err != unix.EAGAIN {
		t.Errorf("recv timeout: %v, want EAGAIN", err)
	}
	if d := time.Since(start); d < 15*time.Millisecond || d > 2*time.Second {
		t.Errorf("waited %v, want ~20ms", d)
	}
	if _, _, _, _, err := r.RecvMsg(p, nil, unix.MSG_DONTWAIT); err != unix.EAGAIN {
		t.Errorf("MSG_DONTWAIT on empty queue: %v, want EAGAIN", err)
	}
	if _, err := r.Wait(unix.EPOLLIN, time.Now().Add(10*time.Millisecond)); err != unix.EAGAIN {
		t.Errorf("Wait timeout: %v, want EAGAIN", err)
	}
	if got, err := r.Wait(unix.EPOLLOUT, time.Time{}); err != nil || got&unix.EPOLLOUT == 0 {
		t.Errorf("Wait EPOLLOUT: %#x %v", got, err)
	}
}

func TestUDPDropsCounted(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	r, _ := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	defer r.Close()
	r.SetSockOpt(unix.SOL_SOCKET, unix.SO_RCVBUF, intOpt(0))
	r.Bind(sa("127.0.0.1:0"))
	rname, _ := r.GetSockName()
	w, _ := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	defer w.Close()
	for range 5 {
		w.SendMsg(make([]byte, 1000), nil, rname, 0)
	}
	u := r.(*udpSock)
	u.mu.Lock()
	drops, q := u.drops, u.queue.len()
	u.mu.Unlock()
	if q != 1 || drops != 4 {
		t.Errorf("queued %d dropped %d, want 1 and 4", q, drops)
	}
	if got := s.Stats().UDPRcvbufErrors.Load(); got != 4 {
		t.Errorf("UDPRcvbufErrors %d, want 4", got)
	}
}

func TestUDPTruesizeModel(t *testing.T) {
	// Measured with SO_MEMINFO on Linux 6.18 for datagrams sent over lo.
	for n, want := range map[int]int{0: 832, 1: 832, 100: 832, 500: 1280, 1000: 2304, 1500: 2304, 4000: 8448, 10000: 16640, 65507: 66339} {
		if got := udpTruesize(n); got != want {
			t.Errorf("udpTruesize(%d) = %d, want %d", n, got, want)
		}
	}
}

// TestUDPBroadcastNeedsRoute: without a route to 255.255.255.255 (only lo
// exists) the send fails with ENETUNREACH before the SO_BROADCAST check,
// as ip_route_output_flow fails before udp_sendmsg's RTCF_BROADCAST test.
func TestUDPBroadcastNeedsRoute(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	u, _ := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	defer u.Close()
	if _, err := u.SendMsg([]byte("x"), nil, sa("255.255.255.255:9"), 0); err != unix.ENETUNREACH {
		t.Errorf("limited broadcast without route: %v, want ENETUNREACH", err)
	}
	if _, err := u.SendMsg([]byte("x"), nil, sa("127.255.255.255:9"), 0); err != unix.EACCES {
		t.Errorf("lo broadcast without SO_BROADCAST: %v, want EACCES", err)
	}
}

// TestUDPConcurrent: several senders, one reader and a closer racing, for
// the race detector; every datagram is either received or counted as
// dropped.
func TestUDPConcurrent(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	r, _ := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	r.Bind(sa("127.0.0.1:0"))
	rname, _ := r.GetSockName()
	const senders, each = 4, 200
	done := make(chan struct{})
	for range senders {
		go func() {
			defer func() { done <- struct{}{} }()
			w, _ := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
			defer w.Close()
			for range each {
				w.SendMsg([]byte("data"), nil, rname, 0)
			}
		}()
	}
	got := 0
	p := make([]byte, 8)
	finished := 0
	deadline := time.Now().Add(10 * time.Second)
	for finished < senders && time.Now().Before(deadline) {
		select {
		case <-done:
			finished++
		default:
		}
		if _, _, _, _, err := r.RecvMsg(p, nil, unix.MSG_DONTWAIT); err == nil {
			got++
		}
	}
	for {
		if _, _, _, _, err := r.RecvMsg(p, nil, unix.MSG_DONTWAIT); err != nil {
			break
		}
		got++
	}
	u := r.(*udpSock)
	u.mu.Lock()
	drops := u.drops
	u.mu.Unlock()
	if got+int(drops) != senders*each {
		t.Errorf("received %d + dropped %d != sent %d", got, drops, senders*each)
	}
	r.Close()
	if err := r.Close(); err != unix.EBADF {
		t.Errorf("second Close: %v, want EBADF", err)
	}
}
