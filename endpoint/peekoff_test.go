package endpoint

import (
	"encoding/binary"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// SO_PEEK_OFF on UDP and TCP, compared with the kernel: peeks walk forward
// through the data (across datagrams on UDP), reads move the offset back.
func TestPeekOffsetMatchesKernel(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	peekOff := func(so api) int32 {
		b := make([]byte, 4)
		if _, err := so.GetSockOpt(unix.SOL_SOCKET, unix.SO_PEEK_OFF, b); err != nil {
			return -100
		}
		return int32(binary.NativeEndian.Uint32(b))
	}
	diffWorlds(t, s, func(w *world, l *logger) {
		r := w.sock(unix.SOCK_DGRAM, 0)
		r.SetNonblock(true)
		r.Bind(sa("127.0.0.1:0"))
		rname, _ := r.GetSockName()
		snd := w.sock(unix.SOCK_DGRAM, 0)
		for _, m := range []string{"abc", "defgh", "ij"} {
			snd.SendMsg([]byte(m), nil, rname, 0)
		}
		w.wait(r, unix.EPOLLIN, time.Second)
		time.Sleep(20 * time.Millisecond)
		l.add("default: %d", peekOff(r))
		l.add("set 0: %s", errStr(r.SetSockOpt(unix.SOL_SOCKET, unix.SO_PEEK_OFF, intOpt(0))))
		p := make([]byte, 100)
		for range 6 {
			n, _, fl, _, err := r.RecvMsg(p[:2], nil, unix.MSG_PEEK)
			l.add("peek 2: %q flags %#x %s off %d", p[:n], fl, errStr(err), peekOff(r))
		}
		r.SetSockOpt(unix.SOL_SOCKET, unix.SO_PEEK_OFF, intOpt(1))
		n, _, fl, _, err := r.RecvMsg(p, nil, unix.MSG_PEEK)
		l.add("peek 100 at 1: %q flags %#x %s off %d", p[:n], fl, errStr(err), peekOff(r))
		n, _, fl, _, err = r.RecvMsg(p[:2], nil, unix.MSG_PEEK|unix.MSG_TRUNC)
		l.add("peek trunc: %d flags %#x %s off %d", n, fl, errStr(err), peekOff(r))
		n, _, fl, _, err = r.RecvMsg(p[:1], nil, 0)
		l.add("read 1: %q flags %#x %s off %d", p[:n], fl, errStr(err), peekOff(r))
		n, _, _, _, err = r.RecvMsg(p, nil, 0)
		l.add("read: %q %s off %d", p[:n], errStr(err), peekOff(r))

		// TCP.
		ln := w.sock(unix.SOCK_STREAM, 0)
		ln.Bind(sa("127.0.0.1:0"))
		ln.Listen(1)
		lname, _ := ln.GetSockName()
		c := w.sock(unix.SOCK_STREAM, 0)
		c.Connect(lname)
		a, _, _ := w.accept(ln, 0)
		a.SetNonblock(true)
		l.add("tcp default: %d", peekOff(a))
		a.SetSockOpt(unix.SOL_SOCKET, unix.SO_PEEK_OFF, intOpt(0))
		c.SendMsg([]byte("0123456789"), nil, nil, 0)
		w.wait(a, unix.EPOLLIN, time.Second)
		time.Sleep(20 * time.Millisecond)
		for range 3 {
			n, _, _, _, err := a.RecvMsg(p[:4], nil, unix.MSG_PEEK)
			l.add("tcp peek 4: %q %s off %d", p[:n], errStr(err), peekOff(a))
		}
		n, _, _, _, err = a.RecvMsg(p[:3], nil, 0)
		l.add("tcp read 3: %q %s off %d", p[:n], errStr(err), peekOff(a))
		n, _, _, _, err = a.RecvMsg(p[:4], nil, unix.MSG_PEEK)
		l.add("tcp peek 4: %q %s off %d", p[:n], errStr(err), peekOff(a))

		raw := w.sock(unix.SOCK_RAW, unix.IPPROTO_UDP)
		l.add("raw: %d %s", peekOff(raw), errStr(raw.SetSockOpt(unix.SOL_SOCKET, unix.SO_PEEK_OFF, intOpt(0))))
	})
}
