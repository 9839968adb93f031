package endpoint

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/options"
	"netsandbox/stack"
)

// TestTCPMatchesKernel walks a TCP connection through its life and checks
// every answer against the kernel's.
func TestTCPMatchesKernel(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	diffWorlds(t, s, func(w *world, l *logger) {
		ln := w.sock(unix.SOCK_STREAM, 0)
		l.add("bind short: %s", errStr(ln.Bind(sa("127.0.0.1:0")[:15])))
		l.add("bind inet6: %s", errStr(ln.Bind(rawSA(unix.AF_INET6, "127.0.0.1:0", 16))))
		l.add("bind unspec nonany: %s", errStr(ln.Bind(rawSA(unix.AF_UNSPEC, "127.0.0.1:0", 16))))
		l.add("bind foreign: %s", errStr(ln.Bind(sa("10.99.99.99:0"))))
		l.add("bind: %s", errStr(ln.Bind(sa("127.0.0.1:0"))))
		l.add("bind again: %s", errStr(ln.Bind(sa("127.0.0.1:0"))))
		_, _, err := w.accept(ln, 0)
		l.add("accept before listen: %s", errStr(err))
		l.add("listen: %s", errStr(ln.Listen(-1)))
		buf := make([]byte, 4)
		n, _ := ln.GetSockOpt(unix.SOL_SOCKET, unix.SO_ACCEPTCONN, buf)
		l.add("acceptconn: %v", buf[:n])
		_, _, err = w.accept(ln, 0x1000)
		l.add("accept bad flags: %s", errStr(err))
		ln.SetNonblock(true)
		l.add("readiness idle listener: %#x", ln.Readiness(allEvents))
		_, _, err = w.accept(ln, 0)
		l.add("accept empty nonblocking: %s", errStr(err))
		lname, _ := ln.GetSockName()

		c := w.sock(unix.SOCK_STREAM, 0)
		all := uint32(unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLHUP | unix.EPOLLERR | unix.EPOLLPRI | unix.EPOLLRDNORM | unix.EPOLLWRNORM)
		l.add("readiness fresh: %#x", c.Readiness(all))
		for _, v := range [][]byte{intOpt(1), intOpt(0), intOpt(7), {1}} {
			err := c.SetSockOpt(unix.SOL_TCP, unix.TCP_NODELAY, v)
			buf := make([]byte, 4)
			n, gerr := c.GetSockOpt(unix.SOL_TCP, unix.TCP_NODELAY, buf)
			l.add("nodelay %v: %s get %s %v", v, errStr(err), errStr(gerr), buf[:n])
		}
		_, err = c.GetPeerName()
		l.add("getpeername unconnected: %s", errStr(err))
		_, err = c.SendMsg([]byte("x"), nil, nil, unix.MSG_NOSIGNAL)
		l.add("send unconnected: %s", errStr(err))
		_, _, _, _, err = c.RecvMsg(make([]byte, 4), nil, unix.MSG_DONTWAIT)
		l.add("recv unconnected: %s", errStr(err))
		l.add("shutdown bad: %s", errStr(c.Shutdown(7)))
		l.add("listen connect short: %s", errStr(c.Connect(lname[:8])))
		l.add("connect broadcast: %s", errStr(c.Connect(sa("127.255.255.255:80"))))
		l.add("connect multicast: %s", errStr(c.Connect(sa("224.0.0.1:80"))))
		l.add("connect: %s", errStr(c.Connect(lname)))
		l.add("connect again: %s", errStr(c.Connect(lname)))
		peer, err := c.GetPeerName()
		l.add("getpeername: %s %s same port %v", errStr(err), addrOf(peer), portOf(peer) == portOf(lname))
		cname, _ := c.GetSockName()
		l.add("getsockname: %s", addrOf(cname))

		w.wait(ln, unix.EPOLLIN, time.Second)
		l.add("readiness listener with pending: %#x", ln.Readiness(allEvents))
		a, from, err := w.accept(ln, unix.SOCK_NONBLOCK)
		l.add("accept: %s %s", errStr(err), addrOf(from))
		if err != nil {
			return
		}
		l.add("accepted peer matches: %v", portOf(from) == portOf(cname))
		for _, oob := range [][]byte{
			options.AppendCmsg(nil, unix.SOL_IP, unix.IP_TTL, intOpt(0)),
			options.AppendCmsg(nil, unix.SOL_SOCKET, 9999, intOpt(0)),
			options.AppendCmsg(nil, unix.SOL_IP, unix.IP_TTL, intOpt(9))[:17],
		} {
			n, err = c.SendMsg(nil, oob, nil, 0)
			l.add("send cmsg only: %d %s", n, errStr(err))
		}
		n, err = c.SendMsg([]byte("hello"), nil, nil, 0)
		l.add("send: %d %s", n, errStr(err))
		w.wait(a, unix.EPOLLIN, time.Second)
		l.add("readiness a: %#x", a.Readiness(unix.EPOLLIN|unix.EPOLLOUT|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR))
		p := make([]byte, 16)
		n, _, rf, from, err := a.RecvMsg(p, nil, unix.MSG_PEEK)
		l.add("peek: %d %q flags %#x from %v %s", n, p[:n], rf, from, errStr(err))
		n, _, _, _, err = a.RecvMsg(p[:3], nil, 0)
		l.add("recv 3: %d %q %s", n, p[:n], errStr(err))
		n, _, _, _, err = a.RecvMsg(p, nil, 0)
		l.add("recv rest: %d %q %s", n, p[:n], errStr(err))
		n, _, _, _, err = a.RecvMsg(p, nil, 0)
		l.add("recv empty nonblocking: %d %s", n, errStr(err))
		_, _, _, _, err = a.RecvMsg(p, nil, unix.MSG_OOB)
		l.add("recv oob: %s", errStr(err))

		l.add("shutdown a wr: %s", errStr(a.Shutdown(unix.SHUT_WR)))
		w.wait(c, unix.EPOLLRDHUP, time.Second)
		l.add("readiness c: %#x", c.Readiness(unix.EPOLLIN|unix.EPOLLOUT|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR))
		n, _, _, _, err = c.RecvMsg(p, nil, 0)
		l.add("recv eof: %d %s", n, errStr(err))
		_, err = a.SendMsg([]byte("x"), nil, nil, unix.MSG_NOSIGNAL)
		l.add("send after shut wr: %s", errStr(err))
		l.add("shutdown c rdwr: %s", errStr(c.Shutdown(unix.SHUT_RDWR)))
		w.wait(a, unix.EPOLLHUP, time.Second)
		l.add("readiness a after both: %#x", a.Readiness(all))

		// A bound port without a listener refuses connections.
		closed := w.sock(unix.SOCK_STREAM, 0)
		closed.Bind(sa("127.0.0.1:0"))
		cl, _ := closed.GetSockName()
		r := w.sock(unix.SOCK_STREAM, 0)
		l.add("connect refused: %s", errStr(r.Connect(cl)))
		l.add("readiness refused: %#x", r.Readiness(all))
		n, _ = r.GetSockOpt(unix.SOL_SOCKET, unix.SO_ERROR, buf)
		l.add("so_error after refused: %v", buf[:n])
		r2 := w.sock(unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
		err = r2.Connect(cl)
		if err == unix.EINPROGRESS {
			w.wait(r2, unix.EPOLLOUT, time.Second)
			l.add("nonblocking refused: readiness %#x", r2.Readiness(all))
			n, _ := r2.GetSockOpt(unix.SOL_SOCKET, unix.SO_ERROR, buf)
			l.add("nonblocking refused: so_error %v", buf[:n])
			l.add("nonblocking refused: readiness after %#x", r2.Readiness(all))
		} else {
			l.add("nonblocking refused: %s", errStr(err))
		}
		n, _ = r2.GetSockOpt(unix.SOL_SOCKET, unix.SO_ERROR, buf)
		l.add("so_error cleared: %v", buf[:n])

		// A listener on INADDR_ANY, reached through destination 0.0.0.0.
		any := w.sock(unix.SOCK_STREAM, 0)
		l.add("bind any: %s", errStr(any.Bind(sa("0.0.0.0:0"))))
		l.add("listen any: %s", errStr(any.Listen(1)))
		anyName, _ := any.GetSockName()
		l.add("any name: %s", addrOf(anyName))
		ac := w.sock(unix.SOCK_STREAM, 0)
		l.add("connect 0.0.0.0: %s", errStr(ac.Connect(anyName)))
		peer, err = ac.GetPeerName()
		l.add("peer: %s %s", errStr(err), addrOf(peer))

		u := w.sock(unix.SOCK_DGRAM, 0)
		l.add("listen udp: %s", errStr(u.Listen(1)))
		_, _, err = w.accept(u, 0)
		l.add("accept udp: %s", errStr(err))
	})
}

// TestTCPBlocking covers the blocking paths: accept and connect waiting,
// MSG_WAITALL gathering two writes, a receive timeout.
func TestTCPBlocking(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	ln, err := New(s, unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := ln.Bind(sa("127.0.0.1:0")); err != nil {
		t.Fatal(err)
	}
	if err := ln.Listen(4); err != nil {
		t.Fatal(err)
	}
	lname, _ := ln.GetSockName()
	type acc struct {
		s   Socket
		err error
	}
	ch := make(chan acc, 1)
	go func() {
		a, _, err := ln.Accept(0)
		ch <- acc{a, err}
	}()
	c, _ := New(s, unix.AF_INET, unix.SOCK_STREAM, 0)
	defer c.Close()
	if err := c.Connect(lname); err != nil {
		t.Fatalf("blocking connect: %v", err)
	}
	var a Socket
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("blocking accept: %v", r.err)
		}
		a = r.s
	case <-time.After(5 * time.Second):
		t.Fatal("accept did not return")
	}
	defer a.Close()

	go func() {
		c.SendMsg([]byte("abc"), nil, nil, 0)
		time.Sleep(20 * time.Millisecond)
		c.SendMsg([]byte("defg"), nil, nil, 0)
	}()
	p := make([]byte, 7)
	n, _, _, _, err := a.RecvMsg(p, nil, unix.MSG_WAITALL)
	if err != nil || string(p[:n]) != "abcdefg" {
		t.Errorf("MSG_WAITALL: %d %q %v, want abcdefg", n, p[:n], err)
	}

	tv := make([]byte, 16)
	tv[8] = 0x20 // 0x4e20 = 20000 us
	tv[9] = 0x4e
	if err := a.SetSockOpt(unix.SOL_SOCKET, unix.SO_RCVTIMEO_OLD, tv); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, _, _, _, err := a.RecvMsg(p, nil, 0); err != unix.EAGAIN {
		t.Errorf("recv with SO_RCVTIMEO: %v, want EAGAIN", err)
	}
	if d := time.Since(start); d < 15*time.Millisecond || d > 2*time.Second {
		t.Errorf("SO_RCVTIMEO waited %v, want about 20ms", d)
	}

	// Close wakes a blocked reader.
	done := make(chan error, 1)
	b, _ := New(s, unix.AF_INET, unix.SOCK_STREAM, 0)
	go func() {
		_, _, _, _, err := b.RecvMsg(p, nil, 0)
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	b.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake a blocked RecvMsg")
	}
}

func TestTCPPrivilegedPort(t *testing.T) {
	s := newStack(t, 0, nil)
	so, _ := New(s, unix.AF_INET, unix.SOCK_STREAM, 0)
	defer so.Close()
	if err := so.Bind(sa("127.0.0.1:80")); err != unix.EACCES {
		t.Errorf("bind :80 without CAP_NET_BIND_SERVICE: %v, want EACCES", err)
	}
}
