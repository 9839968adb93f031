package endpoint

import (
	"encoding/binary"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/options"
	"netsandbox/stack"
)

// TestTTLAndTOSOnTheWire: IP_TTL and IP_TOS, as options and as sendmsg
// control messages, reach the IP header; a raw IPPROTO_UDP socket watches
// the datagrams on both sides.
func TestTTLAndTOSOnTheWire(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	diffWorldsIn(t, privateNetnsWorld(t, nil), s, func(w *world, l *logger) {
		watch := w.sock(unix.SOCK_RAW, unix.IPPROTO_UDP)
		watch.SetNonblock(true)
		r := w.sock(unix.SOCK_DGRAM, 0)
		r.Bind(sa("127.0.0.1:0"))
		rname, _ := r.GetSockName()
		u := w.sock(unix.SOCK_DGRAM, 0)
		// header returns TTL and TOS of the next datagram to our receiver.
		header := func() (int, int) {
			p := make([]byte, 2048)
			deadline := time.Now().Add(2 * time.Second)
			for time.Now().Before(deadline) {
				w.wait(watch, unix.EPOLLIN, 100*time.Millisecond)
				n, _, _, _, err := watch.RecvMsg(p, nil, 0)
				if err != nil || n < 28 {
					continue
				}
				ihl := int(p[0]&0xf) * 4
				if n >= ihl+8 && binary.BigEndian.Uint16(p[ihl+2:ihl+4]) == portOf(rname) {
					return int(p[8]), int(p[1])
				}
			}
			return -1, -1
		}
		u.SendMsg([]byte("a"), nil, rname, 0)
		ttl, tos := header()
		l.add("default: ttl %d tos %#x", ttl, tos)
		u.SetSockOpt(unix.SOL_IP, unix.IP_TTL, intOpt(9))
		u.SetSockOpt(unix.SOL_IP, unix.IP_TOS, intOpt(0x28))
		u.SendMsg([]byte("b"), nil, rname, 0)
		ttl, tos = header()
		l.add("options: ttl %d tos %#x", ttl, tos)
		oob := options.AppendCmsg(nil, unix.SOL_IP, unix.IP_TTL, intOpt(3))
		oob = options.AppendCmsg(oob, unix.SOL_IP, unix.IP_TOS, []byte{0x10})
		n, err := u.SendMsg([]byte("c"), oob, rname, 0)
		l.add("send cmsg: %d %s", n, errStr(err))
		ttl, tos = header()
		l.add("cmsg: ttl %d tos %#x", ttl, tos)
		u.SetSockOpt(unix.SOL_IP, unix.IP_TTL, intOpt(-1))
		u.SendMsg([]byte("d"), nil, rname, 0)
		ttl, tos = header()
		l.add("ttl reset: ttl %d tos %#x", ttl, tos)
	})
}

// TestTCPTTLOnTheWire: IP_TTL and IP_TOS set before connect reach the SYN.
func TestTCPTTLOnTheWire(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	diffWorldsIn(t, privateNetnsWorld(t, nil), s, func(w *world, l *logger) {
		watch := w.sock(unix.SOCK_RAW, unix.IPPROTO_TCP)
		watch.SetNonblock(true)
		ln := w.sock(unix.SOCK_STREAM, 0)
		ln.Bind(sa("127.0.0.1:0"))
		ln.Listen(1)
		lname, _ := ln.GetSockName()
		c := w.sock(unix.SOCK_STREAM, 0)
		c.SetSockOpt(unix.SOL_IP, unix.IP_TTL, intOpt(7))
		c.SetSockOpt(unix.SOL_IP, unix.IP_TOS, intOpt(0x2b))
		l.add("connect: %s", errStr(c.Connect(lname)))
		p := make([]byte, 2048)
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) {
			w.wait(watch, unix.EPOLLIN, 100*time.Millisecond)
			n, _, _, _, err := watch.RecvMsg(p, nil, 0)
			if err != nil || n < 40 {
				continue
			}
			ihl := int(p[0]&0xf) * 4
			if binary.BigEndian.Uint16(p[ihl+2:ihl+4]) == portOf(lname) && p[ihl+13]&0x02 != 0 {
				l.add("syn: ttl %d tos %#x", p[8], p[1])
				return
			}
		}
		l.add("no syn seen")
	})
}
