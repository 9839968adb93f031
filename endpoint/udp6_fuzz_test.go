package endpoint

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"netsandbox/options"
	"netsandbox/stack"
)

// FuzzUDPLite6 hands untrusted option values, sockaddrs and control
// messages to an AF_INET6 UDP-Lite socket, and an untrusted datagram
// (header and coverage included) to its receive path through a raw
// IPv6 socket of protocol 136 to ::1: no call may panic, every error is
// an errno, and a datagram whose coverage or checksum is bad never
// reaches the socket.
func FuzzUDPLite6(f *testing.F) {
	lo := options.SockaddrIn6Bytes(netip.MustParseAddrPort("[::1]:7000"), 0)
	f.Add(int32(solUDPLite), int32(udpliteRecvCscov), []byte{20, 0, 0, 0}, lo,
		options.AppendCmsg(nil, unix.SOL_IPV6, unix.IPV6_TCLASS, []byte{0xff, 0xff, 0xff, 0xff}), []byte{0x1b, 0x58, 0x1b, 0x58, 0, 8, 0, 0, 'x'})
	f.Add(int32(unix.SOL_IPV6), int32(unix.IPV6_V6ONLY), []byte{1, 0, 0, 0},
		options.SockaddrIn(netip.MustParseAddrPort("127.0.0.1:7000")), []byte{1, 2, 3}, []byte{0, 1, 0x1b, 0x58, 0, 4, 0xff, 0xff})
	f.Add(int32(unix.SOL_IPV6), int32(unix.IPV6_RECVHOPLIMIT), []byte{1, 0, 0, 0}, lo[:24],
		options.AppendCmsg(nil, unix.SOL_IPV6, unix.IPV6_PKTINFO, options.In6Pktinfo(netip.IPv6Loopback(), 1)), []byte(nil))
	s := newStack(f, stack.AllCaps, nil)
	raw, err := New(s, unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_NONBLOCK, unix.IPPROTO_UDPLITE)
	if err != nil {
		f.Fatal(err)
	}
	defer raw.Close()
	f.Fuzz(func(t *testing.T, level, name int32, val, sa, oob, dgram []byte) {
		check := func(op string, err error) {
			var en unix.Errno
			if err != nil && !errors.As(err, &en) {
				t.Fatalf("%s: %v is not an errno", op, err)
			}
		}
		rx, err := New(s, unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK, unix.IPPROTO_UDPLITE)
		if err != nil {
			t.Fatal(err)
		}
		defer rx.Close()
		check("bind", rx.Bind(options.SockaddrIn6Bytes(netip.MustParseAddrPort("[::]:7000"), 0)))
		k, err := New(s, unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK, unix.IPPROTO_UDPLITE)
		if err != nil {
			t.Fatal(err)
		}
		defer k.Close()
		check("setsockopt", k.SetSockOpt(int(level), int(name), val))
		_, err = k.GetSockOpt(int(level), int(name), make([]byte, len(val)))
		check("getsockopt", err)
		check("bind", k.Bind(sa))
		check("connect", k.Connect(sa))
		_, err = k.SendMsg([]byte("x"), oob, sa, unix.MSG_DONTWAIT)
		check("sendmsg", err)
		_, _, _, _, err = k.RecvMsg(make([]byte, 8), make([]byte, len(oob)), unix.MSG_DONTWAIT|unix.MSG_PEEK)
		check("recvmsg", err)
		// Drain what the calls sent, then inject the datagram.
		for i := 0; i < 8; i++ {
			if _, _, _, _, err := rx.RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT); err != nil {
				break
			}
		}
		if _, err := raw.SendMsg(dgram, nil, options.SockaddrIn6Bytes(netip.MustParseAddrPort("[::1]:0"), 0), unix.MSG_DONTWAIT); err != nil {
			return
		}
		buf := make([]byte, len(dgram)+1)
		n, _, _, _, err := rx.RecvMsg(buf, make([]byte, 64), unix.MSG_DONTWAIT)
		check("recvmsg injected", err)
		if err == nil && !liteValid6(dgram) {
			t.Fatalf("a datagram with bad coverage or checksum was delivered (%d bytes)", n)
		}
	})
}

// liteValid6 is udplite_checksum_init's verdict on a datagram from ::1 to
// ::1 port 7000, computed independently of the stack.
func liteValid6(d []byte) bool {
	if len(d) < 8 || binary.BigEndian.Uint16(d[2:]) != 7000 || binary.BigEndian.Uint16(d[6:]) == 0 {
		return false
	}
	cov := int(binary.BigEndian.Uint16(d[4:]))
	switch {
	case cov == 0:
		cov = len(d)
	case cov < 8 || cov > len(d):
		return false
	}
	lo := netip.IPv6Loopback().As16()
	var sum uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(binary.BigEndian.Uint16(b[i:]))
		}
		if len(b)%2 == 1 {
			sum += uint32(b[len(b)-1]) << 8
		}
	}
	add(lo[:])
	add(lo[:])
	add([]byte{byte(len(d) >> 24), byte(len(d) >> 16), byte(len(d) >> 8), byte(len(d)), 0, 0, 0, unix.IPPROTO_UDPLITE})
	add(d[:cov])
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return sum == 0xffff
}

// FuzzICMP6Error sends untrusted ICMPv6 messages (the raw socket puts
// the checksum) to ::1, where an AF_INET6 UDP socket with IPV6_RECVERR
// is connected and the raw socket itself takes errors quoting ICMPv6
// packets: the ICMPv6 tap must never panic, and only an error
// message (type below 128) quoting an IPv6 header and 8 bytes of this
// socket's UDP datagram may reach its error queue.
func FuzzICMP6Error(f *testing.F) {
	quote := func(typ byte, sport, dport uint16) []byte {
		b := []byte{typ, 0, 0, 0, 0, 0, 0, 0, 0x60, 0, 0, 0, 0, 8, unix.IPPROTO_UDP, 64}
		lo := netip.IPv6Loopback().As16()
		b = append(b, lo[:]...)
		b = append(b, lo[:]...)
		return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(b, sport), dport)
	}
	f.Add(append(quote(1, 7000, 7001), 0, 8, 0, 0))
	f.Add(append(quote(3, 7000, 7001), 0, 8, 0, 0, 'x'))
	f.Add(quote(128, 7000, 7001))
	f.Add([]byte{4, 0, 0, 0, 0, 0, 0, 40, 0x60})
	s := newStack(f, stack.AllCaps, nil)
	raw, err := New(s, unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_NONBLOCK, unix.IPPROTO_ICMPV6)
	if err != nil {
		f.Fatal(err)
	}
	defer raw.Close()
	// The sending raw socket hears errors quoting ICMPv6 packets too
	// (rawv6_err); its queue is drained every round.
	if err := raw.SetSockOpt(unix.SOL_IPV6, unix.IPV6_RECVERR, []byte{1, 0, 0, 0}); err != nil {
		f.Fatal(err)
	}
	k, err := New(s, unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK, unix.IPPROTO_UDP)
	if err != nil {
		f.Fatal(err)
	}
	defer k.Close()
	if err := k.Bind(options.SockaddrIn6Bytes(netip.MustParseAddrPort("[::1]:7000"), 0)); err != nil {
		f.Fatal(err)
	}
	if err := k.Connect(options.SockaddrIn6Bytes(netip.MustParseAddrPort("[::1]:7001"), 0)); err != nil {
		f.Fatal(err)
	}
	if err := k.SetSockOpt(unix.SOL_IPV6, unix.IPV6_RECVERR, []byte{1, 0, 0, 0}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		if _, err := raw.SendMsg(msg, nil, options.SockaddrIn6Bytes(netip.MustParseAddrPort("[::1]:0"), 0), unix.MSG_DONTWAIT); err != nil {
			return
		}
		for i := 0; i < 4; i++ {
			if _, _, _, _, err := raw.RecvMsg(make([]byte, 64), make([]byte, 128), unix.MSG_ERRQUEUE); err != nil {
				break
			}
		}
		_, _, _, _, err := k.RecvMsg(make([]byte, 64), make([]byte, 128), unix.MSG_ERRQUEUE)
		if err == unix.EAGAIN {
			return
		}
		if err != nil {
			t.Fatalf("errqueue: %v", err)
		}
		if len(msg) < 8+40+8 || msg[0] >= 128 {
			t.Fatalf("queued an error from a %d-byte message of type %d", len(msg), msg[0])
		}
	})
}
