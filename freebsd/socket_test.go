package freebsd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"netsandbox/link/channel"
	"netsandbox/stack"
)

func newStack(t testing.TB) *stack.Stack {
	t.Helper()
	st, err := stack.New(stack.Config{Caps: stack.AllCaps})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

func newUDP(t *testing.T, st *stack.Stack) *Socket {
	t.Helper()
	s, err := New(st, unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var lo = netip.MustParseAddr("127.0.0.1")

func sa(a netip.Addr, port uint16) []byte { return SockaddrIn(netip.AddrPortFrom(a, port)) }

func setInt(t *testing.T, s *Socket, level, name int, v int32) {
	t.Helper()
	if err := s.SetSockOpt(level, name, le32(int(v))); err != nil {
		t.Fatalf("setsockopt(%d, %d, %d): %v", level, name, v, err)
	}
}

func getInt(t *testing.T, s *Socket, level, name int) int32 {
	t.Helper()
	var b [4]byte
	n, err := s.GetSockOpt(level, name, b[:])
	if err != nil || n != 4 {
		t.Fatalf("getsockopt(%d, %d) = %d, %v", level, name, n, err)
	}
	return int32(binary.LittleEndian.Uint32(b[:]))
}

func recv(t *testing.T, s *Socket, oob []byte) (int, int, int, []byte, []byte) {
	t.Helper()
	if _, err := s.Wait(unix.EPOLLIN, time.Now().Add(2*time.Second)); err != nil {
		t.Fatalf("wait: %v", err)
	}
	p := make([]byte, 64)
	n, oobn, fl, from, err := s.RecvMsg(p, oob, MSG_DONTWAIT)
	if err != nil {
		t.Fatalf("recvmsg: %v", err)
	}
	return n, oobn, fl, from, p[:n]
}

func TestIntOptionRules(t *testing.T) {
	st := newStack(t)
	s := newUDP(t, st)
	// sooptcopyin: shorter than an int is EINVAL, longer is fine.
	if err := s.SetSockOpt(IPPROTO_IP, IP_TTL, []byte{7}); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("1-byte IP_TTL: %v, want EINVAL", err)
	}
	if err := s.SetSockOpt(IPPROTO_IP, IP_TTL, []byte{7, 0, 0, 0, 9, 9}); err != nil {
		t.Fatal(err)
	}
	if v := getInt(t, s, IPPROTO_IP, IP_TTL); v != 7 {
		t.Fatalf("IP_TTL = %d", v)
	}
	setInt(t, s, IPPROTO_IP, IP_TTL, 0x1ff) // the low byte is kept
	if v := getInt(t, s, IPPROTO_IP, IP_TTL); v != 0xff {
		t.Fatalf("IP_TTL = %d, want 255", v)
	}
	setInt(t, s, IPPROTO_IP, IP_TOS, 0x1b8)
	if v := getInt(t, s, IPPROTO_IP, IP_TOS); v != 0xb8 {
		t.Fatalf("IP_TOS = %#x", v)
	}
	if err := s.SetSockOpt(IPPROTO_IP, IP_MINTTL, le32(256)); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("IP_MINTTL 256: %v", err)
	}
	// Unknown name: ENOPROTOOPT (ip_ctloutput's default); unknown level EINVAL.
	if err := s.SetSockOpt(IPPROTO_IP, 22, le32(1)); !errors.Is(err, unix.ENOPROTOOPT) {
		t.Fatalf("option 22: %v", err)
	}
	if err := s.SetSockOpt(unix.SOL_SOCKET, 1, le32(1)); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("level 1: %v", err)
	}
	// getsockopt with a 1-byte buffer: sooptcopyout copies 1 byte.
	var b [1]byte
	if n, err := s.GetSockOpt(IPPROTO_IP, IP_TTL, b[:]); n != 1 || err != nil || b[0] != 0xff {
		t.Fatalf("1-byte get: %d %v %x", n, err, b)
	}
	// SO_BROADCAST reads back as its bit.
	setInt(t, s, SOL_SOCKET, SO_BROADCAST, 1)
	if v := getInt(t, s, SOL_SOCKET, SO_BROADCAST); v != SO_BROADCAST {
		t.Fatalf("SO_BROADCAST = %#x", v)
	}
	// IP_HDRINCL is rip_ctloutput's: ip_ctloutput has no case for it.
	if err := s.SetSockOpt(IPPROTO_IP, IP_HDRINCL, le32(1)); !errors.Is(err, unix.ENOPROTOOPT) {
		t.Fatalf("IP_HDRINCL on UDP: %v", err)
	}
}

func TestIPOptionsStored(t *testing.T) {
	st := newStack(t)
	s := newUDP(t, st)
	if err := s.SetSockOpt(IPPROTO_IP, IP_OPTIONS, []byte{1, 1, 1}); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("3 bytes: %v", err)
	}
	if err := s.SetSockOpt(IPPROTO_IP, IP_OPTIONS, []byte{1, 1, 1, 0}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := s.GetSockOpt(IPPROTO_IP, IP_OPTIONS, buf)
	if err != nil || !bytes.Equal(buf[:n], []byte{0, 0, 0, 0, 1, 1, 1, 0}) {
		t.Fatalf("get = %x, %v", buf[:n], err)
	}
	if err := s.SetSockOpt(IPPROTO_IP, IP_OPTIONS, make([]byte, MLEN+1)); !errors.Is(err, unix.EMSGSIZE) {
		t.Fatalf("over MLEN: %v", err)
	}
}

func TestParseIPOptionsSourceRoute(t *testing.T) {
	// LSRR via 10.0.0.1 (first hop) and 10.0.0.2, then NOP: the first hop
	// moves in front and the option shrinks by 4.
	in := []byte{1, 0x83, 11, 4, 10, 0, 0, 1, 10, 0, 0, 2}
	got, err := ParseIPOptions(in)
	want := []byte{10, 0, 0, 1, 1, 0x83, 7, 4, 10, 0, 0, 2}
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("got %x %v, want %x", got, err, want)
	}
}

func TestRecvControlMessages(t *testing.T) {
	st := newStack(t)
	rx, tx := newUDP(t, st), newUDP(t, st)
	if err := rx.Bind(sa(lo, 4000)); err != nil {
		t.Fatal(err)
	}
	for _, o := range []int{IP_RECVDSTADDR, IP_RECVTTL, IP_RECVIF, IP_RECVTOS} {
		setInt(t, rx, IPPROTO_IP, o, 1)
	}
	setInt(t, tx, IPPROTO_IP, IP_TTL, 9)
	setInt(t, tx, IPPROTO_IP, IP_TOS, 0x20)
	if _, err := tx.SendMsg([]byte("hi"), nil, sa(lo, 4000), 0); err != nil {
		t.Fatal(err)
	}
	oob := make([]byte, 256)
	n, oobn, fl, from, p := recv(t, rx, oob)
	if n != 2 || string(p) != "hi" || fl != 0 || from[0] != 16 || from[1] != AF_INET {
		t.Fatalf("n=%d fl=%#x from=%x", n, fl, from)
	}
	msgs, err := ParseCmsgs(oob[:oobn])
	if err != nil || len(msgs) != 4 {
		t.Fatalf("cmsgs %x: %v", oob[:oobn], err)
	}
	want := []struct {
		typ  int32
		data []byte
	}{
		{IP_RECVDSTADDR, []byte{127, 0, 0, 1}},
		{IP_RECVTTL, []byte{9}},
		{IP_RECVIF, SockaddrDL(1, IFT_LOOP, "lo", nil)},
		{IP_RECVTOS, []byte{0x20}},
	}
	for i, w := range want {
		if msgs[i].Type != w.typ || msgs[i].Level != IPPROTO_IP || !bytes.Equal(msgs[i].Data, w.data) {
			t.Errorf("cmsg %d = %+v, want type %d data %x", i, msgs[i], w.typ, w.data)
		}
	}
	if oobn != CmsgSpace(4)+CmsgSpace(1)+CmsgSpace(56)+CmsgSpace(1) {
		t.Errorf("oobn = %d", oobn)
	}
	// A short control buffer: the first bytes and MSG_CTRUNC.
	if _, err := tx.SendMsg([]byte("hi"), nil, sa(lo, 4000), 0); err != nil {
		t.Fatal(err)
	}
	_, oobn, fl, _, _ = recv(t, rx, make([]byte, 20))
	if oobn != 20 || fl&MSG_CTRUNC == 0 {
		t.Fatalf("short buffer: oobn=%d flags=%#x", oobn, fl)
	}
}

func TestSendSrcAddr(t *testing.T) {
	st := newStack(t)
	rx, tx := newUDP(t, st), newUDP(t, st)
	if err := rx.Bind(sa(lo, 4001)); err != nil {
		t.Fatal(err)
	}
	ctl := AppendCmsg(nil, IPPROTO_IP, IP_SENDSRCADDR, []byte{127, 0, 0, 5})
	// No local port yet: EINVAL.
	if _, err := tx.SendMsg([]byte("x"), ctl, sa(lo, 4001), 0); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("unbound: %v", err)
	}
	if err := tx.Bind(sa(netip.IPv4Unspecified(), 4002)); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.SendMsg([]byte("x"), ctl, sa(lo, 4001), 0); !errors.Is(err, unix.EADDRNOTAVAIL) {
		t.Fatalf("127.0.0.5 is not an interface address: %v", err)
	}
	ctl = AppendCmsg(nil, IPPROTO_IP, IP_SENDSRCADDR, []byte{127, 0, 0, 1})
	if _, err := tx.SendMsg([]byte("x"), ctl, sa(lo, 4001), 0); err != nil {
		t.Fatal(err)
	}
	_, _, _, from, _ := recv(t, rx, nil)
	if !bytes.Equal(from, sa(lo, 4002)) {
		t.Fatalf("from %x", from)
	}
	// Wrong lengths and unknown types.
	bad := AppendCmsg(nil, IPPROTO_IP, IP_SENDSRCADDR, []byte{127, 0, 0, 1, 0})
	if _, err := tx.SendMsg([]byte("x"), bad, sa(lo, 4001), 0); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("5-byte src: %v", err)
	}
	bad = AppendCmsg(nil, IPPROTO_IP, IP_TTL, []byte{1})
	if _, err := tx.SendMsg([]byte("x"), bad, sa(lo, 4001), 0); !errors.Is(err, unix.ENOPROTOOPT) {
		t.Fatalf("IP_TTL cmsg: %v", err)
	}
}

func TestSockaddrRules(t *testing.T) {
	st := newStack(t)
	s := newUDP(t, st)
	b := sa(lo, 4003)
	if err := s.Bind(b[:15]); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("15 bytes: %v", err)
	}
	c := append([]byte(nil), b...)
	c[1] = 28 // AF_INET6 on FreeBSD
	if err := s.Connect(c); !errors.Is(err, unix.EAFNOSUPPORT) {
		t.Fatalf("connect family 28: %v", err)
	}
	b[1], b[0] = 28, 0 // bind reads neither sin_len nor the family
	if err := s.Bind(b); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSockName()
	if err != nil || !bytes.Equal(got, sa(lo, 4003)) {
		t.Fatalf("getsockname %x %v", got, err)
	}
}

func TestCopyControl(t *testing.T) {
	a, b := make([]byte, 24), make([]byte, 24)
	for _, c := range []struct {
		room, n int
		trunc   bool
	}{{0, 0, false}, {20, 20, true}, {24, 24, false}, {30, 30, true}, {48, 48, false}, {64, 48, false}} {
		n, tr := copyControl(make([]byte, c.room), [][]byte{a, b})
		if n != c.n || tr != c.trunc {
			t.Errorf("room %d: %d %v, want %d %v", c.room, n, tr, c.n, c.trunc)
		}
	}
}

func TestErrno(t *testing.T) {
	for _, c := range []struct {
		in   error
		want int
	}{{nil, 0}, {unix.EINVAL, 22}, {unix.EAGAIN, 35}, {unix.ENOPROTOOPT, 42}, {unix.EADDRNOTAVAIL, 49}, {unix.EMSGSIZE, 40}, {unix.EDEADLK, 11}, {errors.New("x"), 5}} {
		if got := Errno(c.in); got != c.want {
			t.Errorf("Errno(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestPortRangeSequential(t *testing.T) {
	st := newStack(t)
	k := Sysctl(st)
	for n, v := range map[string]string{
		"net.inet.ip.portrange.randomized": "0",
		"net.inet.ip.portrange.hifirst":    "50000",
		"net.inet.ip.portrange.hilast":     "50001",
		"net.inet.ip.portrange.first":      "20000",
		"net.inet.ip.portrange.last":       "20001",
	} {
		if err := k.Set(n, v); err != nil {
			t.Fatal(n, err)
		}
	}
	port := func(s *Socket) uint16 {
		t.Helper()
		sa, err := s.GetSockName()
		if err != nil {
			t.Fatal(err)
		}
		return binary.BigEndian.Uint16(sa[2:4])
	}
	for _, c := range []struct {
		rng  int32
		want []uint16
	}{
		{IP_PORTRANGE_LOW, []uint16{1023, 1022, 1021}},
		{IP_PORTRANGE_HIGH, []uint16{50000, 50001}},
		{IP_PORTRANGE_DEFAULT, []uint16{20000, 20001}},
	} {
		for _, w := range c.want {
			s := newUDP(t, st)
			setInt(t, s, IPPROTO_IP, IP_PORTRANGE, c.rng)
			if err := s.Bind(sa(netip.IPv4Unspecified(), 0)); err != nil {
				t.Fatalf("range %d: %v", c.rng, err)
			}
			if got := port(s); got != w {
				t.Errorf("range %d: port %d, want %d", c.rng, got, w)
			}
		}
	}
	// The HIGH range (two ports) is used up.
	s := newUDP(t, st)
	setInt(t, s, IPPROTO_IP, IP_PORTRANGE, IP_PORTRANGE_HIGH)
	if err := s.Bind(sa(netip.IPv4Unspecified(), 0)); !errors.Is(err, unix.EADDRNOTAVAIL) {
		t.Fatalf("exhausted: %v", err)
	}
	if err := s.SetSockOpt(IPPROTO_IP, IP_PORTRANGE, le32(3)); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("range 3: %v", err)
	}
	// A connect of an unbound socket takes its port from the range too.
	c := newUDP(t, st)
	setInt(t, c, IPPROTO_IP, IP_PORTRANGE, IP_PORTRANGE_LOW)
	if err := c.Connect(sa(lo, 9)); err != nil {
		t.Fatal(err)
	}
	if got := port(c); got != 1020 {
		t.Errorf("connect: port %d, want 1020", got)
	}
}

func TestPrivileges(t *testing.T) {
	st, err := stack.New(stack.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := newUDP(t, st)
	if err := s.SetSockOpt(IPPROTO_IP, IP_BINDANY, le32(1)); !errors.Is(err, unix.EPERM) {
		t.Fatalf("IP_BINDANY unprivileged: %v", err)
	}
	setInt(t, s, IPPROTO_IP, IP_PORTRANGE, IP_PORTRANGE_LOW)
	if err := s.Bind(sa(netip.IPv4Unspecified(), 0)); !errors.Is(err, unix.EPERM) {
		t.Fatalf("LOW unprivileged: %v", err)
	}
	if err := s.Bind(sa(netip.IPv4Unspecified(), 1000)); !errors.Is(err, unix.EACCES) {
		t.Fatalf("port 1000 unprivileged: %v", err)
	}
}

func TestLinuxHeader(t *testing.T) {
	h := []byte{0x45, 0x10, 30, 0, 0, 0, 0, 0x40, 33, 17, 0, 0, 0, 0, 0, 0, 127, 0, 0, 1, 1, 2, 3, 4, 0, 10, 0, 0, 'h', 'i'}
	out, err := LinuxHeader(h, false)
	if err != nil {
		t.Fatal(err)
	}
	if out[2] != 0 || out[3] != 30 || out[6] != 0x40 || out[7] != 0 {
		t.Fatalf("length/offset not in network order: %x", out[:8])
	}
	short := append([]byte(nil), h...)
	short[2] = 31 // ip_len over the bytes written
	if _, err := LinuxHeader(short, false); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("ip_len 31: %v", err)
	}
	short[2] = 24 // shorter: the rest is not sent
	if out, err := LinuxHeader(short, false); err != nil || len(out) != 24 {
		t.Fatalf("ip_len 24: %d %v", len(out), err)
	}
	opt := append([]byte(nil), h...)
	opt[0] = 0x46
	if _, err := LinuxHeader(opt, true); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("header options with IP_OPTIONS: %v", err)
	}
}

func TestMulticastRules(t *testing.T) {
	st := newStack(t)
	s := newUDP(t, st)
	g := []byte{239, 1, 1, 1}
	mreq := append(append([]byte(nil), g...), 127, 0, 0, 1)
	if err := s.SetSockOpt(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq[:7]); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("7 bytes: %v", err)
	}
	if err := s.SetSockOpt(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSockOpt(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq); !errors.Is(err, unix.EADDRINUSE) {
		t.Fatalf("twice: %v", err)
	}
	// ip_mreq_source: group, source, interface.
	src := append(append(append([]byte(nil), g...), 10, 9, 9, 9), 127, 0, 0, 1)
	if err := s.SetSockOpt(IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, src); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("source on an exclude membership: %v", err)
	}
	if err := s.SetSockOpt(IPPROTO_IP, IP_BLOCK_SOURCE, src); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSockOpt(IPPROTO_IP, IP_BLOCK_SOURCE, src); !errors.Is(err, unix.EADDRNOTAVAIL) {
		t.Fatalf("block twice: %v", err)
	}
	if err := s.SetSockOpt(IPPROTO_IP, IP_DROP_MEMBERSHIP, mreq); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSockOpt(IPPROTO_IP, IP_DROP_MEMBERSHIP, mreq); !errors.Is(err, unix.EADDRNOTAVAIL) {
		t.Fatalf("drop twice: %v", err)
	}
	var b [1]byte
	if n, err := s.GetSockOpt(IPPROTO_IP, IP_MULTICAST_TTL, b[:]); n != 1 || err != nil || b[0] != 1 {
		t.Fatalf("TTL as u_char: %d %v %d", n, err, b[0])
	}
	if err := s.SetSockOpt(IPPROTO_IP, IP_MULTICAST_TTL, le32(256)); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("TTL 256: %v", err)
	}
	tcp, err := New(st, unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	if err := tcp.SetSockOpt(IPPROTO_IP, IP_MULTICAST_TTL, le32(1)); !errors.Is(err, unix.EOPNOTSUPP) {
		t.Fatalf("TCP: %v", err)
	}
}

func TestMulticastLimits(t *testing.T) {
	st := newStack(t)
	s := newUDP(t, st)
	lo := []byte{127, 0, 0, 1}
	start := time.Now()
	for i := 0; i < 4095; i++ {
		g := []byte{239, 2, byte(i >> 8), byte(i)}
		if err := s.SetSockOpt(IPPROTO_IP, IP_ADD_MEMBERSHIP, append(g, lo...)); err != nil {
			t.Fatalf("join %d: %v", i, err)
		}
	}
	if err := s.SetSockOpt(IPPROTO_IP, IP_ADD_MEMBERSHIP, []byte{239, 3, 0, 0, 127, 0, 0, 1}); !errors.Is(err, unix.ETOOMANYREFS) {
		t.Fatalf("join 4096: %v", err)
	}
	t.Logf("4095 joins in %v", time.Since(start))
	// net.inet.ip.mcast.maxgrpsrc counts a group's sources over every socket.
	if err := Sysctl(st).Set("net.inet.ip.mcast.maxgrpsrc", "2"); err != nil {
		t.Fatal(err)
	}
	a, b := newUDP(t, st), newUDP(t, st)
	g := []byte{239, 9, 9, 9}
	src := func(n byte) []byte { return append(append(append([]byte(nil), g...), 10, 0, 0, n), lo...) }
	for _, x := range []*Socket{a, b} {
		if err := x.SetSockOpt(IPPROTO_IP, IP_ADD_MEMBERSHIP, append(append([]byte(nil), g...), lo...)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		s    *Socket
		n    byte
		want error
	}{{a, 1, nil}, {a, 2, nil}, {a, 3, unix.ENOSPC}, {b, 2, nil}, {b, 3, unix.ENOSPC}} {
		if err := c.s.SetSockOpt(IPPROTO_IP, IP_BLOCK_SOURCE, src(c.n)); err != c.want && !errors.Is(err, c.want) {
			t.Fatalf("block 10.0.0.%d: %v, want %v", c.n, err, c.want)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.SetSockOpt(IPPROTO_IP, IP_BLOCK_SOURCE, src(3)); err != nil {
		t.Fatalf("after the other socket closed: %v", err)
	}
}

// TestJoinAnyFollowsRoute: IP_ADD_MEMBERSHIP with INADDR_ANY joins on the
// interface of the route to the group (inp_lookup_mcast_ifp), not on the
// first interface; with no route, on the first non-loopback one.
func TestJoinAnyFollowsRoute(t *testing.T) {
	st := newStack(t)
	var idx [2]int
	for i := range idx {
		ep := channel.New(1500, tcpip.LinkAddress([]byte{2, 0, 0, 0, 0, byte(i + 1)}))
		var err error
		if idx[i], err = st.AddInterface(fmt.Sprintf("eth%d", i), ep); err != nil {
			t.Fatal(err)
		}
		if err := st.AddAddress(idx[i], netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, byte(i), 1}), 24)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.AddRoute(netip.MustParsePrefix("239.0.0.0/8"), netip.Addr{}, idx[1]); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		group []byte
		want  int
	}{{[]byte{239, 1, 2, 3}, idx[1]}, {[]byte{224, 5, 6, 7}, idx[0]}} {
		s := newUDP(t, st)
		if err := s.SetSockOpt(IPPROTO_IP, IP_ADD_MEMBERSHIP, append(c.group, 0, 0, 0, 0)); err != nil {
			t.Fatal(err)
		}
		s.mu.Lock()
		got := s.o.imo.members[0].ifindex
		s.mu.Unlock()
		if got != c.want {
			t.Errorf("join %v on INADDR_ANY: ifindex %d, want %d", c.group, got, c.want)
		}
	}
}

// TestTTLZeroRaw: a raw socket's IP_TTL of 0 (FreeBSD stores it; Linux
// refuses it) leaves as 0 in the header the stack builds, as on UDP.
func TestTTLZeroRaw(t *testing.T) {
	st := newStack(t)
	rx, err := New(st, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := New(st, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	for _, ttl := range []int{0, 7} {
		if err := tx.SetSockOpt(IPPROTO_IP, IP_TTL, le32(ttl)); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.SendMsg([]byte("ttl"), nil, sa(lo, 0), 0); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		var n int
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if n, _, _, _, err = rx.RecvMsg(buf, nil, unix.MSG_DONTWAIT); err == nil || time.Now().After(deadline) {
				break
			}
		}
		if err != nil || n < 20 {
			t.Fatalf("TTL %d: receive %d bytes, %v", ttl, n, err)
		}
		if buf[8] != byte(ttl) {
			t.Errorf("IP_TTL %d: the datagram left with TTL %d", ttl, buf[8])
		}
	}
}
