package endpoint

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// TestUDPLiteMatchesKernel: UDP-Lite sockets over lo, against the kernel:
// the socket, its coverage options, send and receive with partial
// coverage, and the receive minimum dropping (SO_RXQ_OVFL counts it).
func TestUDPLiteMatchesKernel(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	diffWorlds(t, s, func(w *world, l *logger) {
		a := w.sock(unix.SOCK_DGRAM, unix.IPPROTO_UDPLITE)
		buf := make([]byte, 4)
		n, err := a.GetSockOpt(unix.SOL_SOCKET, unix.SO_PROTOCOL, buf)
		l.add("SO_PROTOCOL: %d %s %v", n, errStr(err), buf[:n])
		for _, v := range []int32{0, 5, 9, 70000, -3} {
			l.add("set send %d: %s", v, errStr(a.SetSockOpt(solUDPLite, udpliteSendCscov, intOpt(v))))
			n, err := a.GetSockOpt(solUDPLite, udpliteSendCscov, buf)
			l.add("get send: %d %s %v", n, errStr(err), buf[:n])
		}
		l.add("set short: %s", errStr(a.SetSockOpt(unix.SOL_UDP, udpliteRecvCscov, []byte{1, 0})))
		l.add("bind: %s", errStr(a.Bind(sa("127.0.0.1:0"))))
		to, _ := a.GetSockName()
		l.add("SO_RXQ_OVFL: %s", errStr(a.SetSockOpt(unix.SOL_SOCKET, unix.SO_RXQ_OVFL, intOpt(1))))
		b := w.sock(unix.SOCK_DGRAM, unix.IPPROTO_UDPLITE)
		recv := func() {
			w.wait(a, unix.EPOLLIN, time.Second)
			p, oob := make([]byte, 64), make([]byte, 64)
			n, oobn, fl, _, err := a.RecvMsg(p, oob, unix.MSG_DONTWAIT)
			l.add("recv: %d %d %#x %s %q", n, oobn, fl, errStr(err), p[:max(n, 0)])
			if oobn > 0 {
				l.add("oob: %x", oob[:oobn])
			}
		}
		for _, c := range []struct {
			send, recv int32
			setRecv    bool
		}{{0, 0, false}, {12, 0, false}, {12, 16, true}, {16, 16, true}, {12, 0, true}, {0, 0, true}} {
			if c.setRecv {
				l.add("set recv %d: %s", c.recv, errStr(a.SetSockOpt(solUDPLite, udpliteRecvCscov, intOpt(c.recv))))
			}
			l.add("set send %d: %s", c.send, errStr(b.SetSockOpt(solUDPLite, udpliteSendCscov, intOpt(c.send))))
			n, err := b.SendMsg([]byte(fmt.Sprintf("cov %d min %d", c.send, c.recv)), nil, to, 0)
			l.add("send: %d %s", n, errStr(err))
		}
		for i := 0; i < 4; i++ {
			recv()
		}
	})
}
