package endpoint

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"netsandbox/options"
)

func sa6(s string) []byte {
	return options.SockaddrIn6Bytes(netip.MustParseAddrPort(s), 0)
}

// TestInet6UDPLoopback sends a datagram over ::1 with IPV6_HOPLIMIT and
// reads it back with IPV6_PKTINFO, IPV6_HOPLIMIT and IPV6_TCLASS.
func TestInet6UDPLoopback(t *testing.T) {
	s := newStack(t, 0, nil)
	rx, err := New(s, unix.AF_INET6, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := New(s, unix.AF_INET6, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	if err := rx.Bind(sa6("[::1]:0")); err != nil {
		t.Fatal(err)
	}
	for _, o := range []int{unix.IPV6_RECVPKTINFO, unix.IPV6_RECVHOPLIMIT, unix.IPV6_RECVTCLASS} {
		if err := rx.SetSockOpt(unix.SOL_IPV6, o, intOpt(1)); err != nil {
			t.Fatal(o, err)
		}
	}
	local, _ := rx.GetSockName()
	oob := options.AppendCmsg(nil, unix.SOL_IPV6, unix.IPV6_HOPLIMIT, intOpt(7))
	if n, err := tx.SendMsg([]byte("hello"), oob, local, 0); err != nil || n != 5 {
		t.Fatalf("send: %d %v", n, err)
	}
	if _, err := rx.Wait(unix.EPOLLIN, time.Now().Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	buf, cbuf := make([]byte, 16), make([]byte, 256)
	n, oobn, fl, from, err := rx.RecvMsg(buf, cbuf, 0)
	if err != nil || string(buf[:n]) != "hello" || fl != 0 {
		t.Fatalf("recv: %q %d %v", buf[:n], fl, err)
	}
	txName, _ := tx.GetSockName()
	if !bytes.Equal(from[:4], txName[:4]) || !bytes.Equal(from[8:24], sa6("[::1]:0")[8:24]) {
		t.Fatalf("from %x, sender %x", from, txName)
	}
	want := options.AppendCmsg(nil, unix.SOL_IPV6, unix.IPV6_PKTINFO, options.In6Pktinfo(netip.IPv6Loopback(), 1))
	want = options.AppendCmsg(want, unix.SOL_IPV6, unix.IPV6_HOPLIMIT, intOpt(7))
	want = options.AppendCmsg(want, unix.SOL_IPV6, unix.IPV6_TCLASS, intOpt(0))
	if !bytes.Equal(cbuf[:oobn], want) {
		t.Fatalf("cmsgs\n got %x\nwant %x", cbuf[:oobn], want)
	}
}

// TestInet6TCPDualStack connects to a [::] listener over ::1 and over
// 127.0.0.1 (seen as ::ffff:127.0.0.1), and IPV6_V6ONLY refuses the
// latter.
func TestInet6TCPDualStack(t *testing.T) {
	s := newStack(t, 0, nil)
	l, err := New(s, unix.AF_INET6, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Bind(sa6("[::]:0")); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(8); err != nil {
		t.Fatal(err)
	}
	info := make([]byte, 8)
	if _, err := l.GetSockOpt(unix.SOL_TCP, unix.TCP_INFO, info); err != nil || info[0] != 10 { // TCP_LISTEN
		t.Fatalf("listener state %d (%v)", info[0], err)
	}
	name, _ := l.GetSockName()
	port := uint16(name[2])<<8 | uint16(name[3])
	for _, tc := range []struct {
		family int
		dst    []byte
		peer   string
	}{
		{unix.AF_INET6, sa6(netip.AddrPortFrom(netip.IPv6Loopback(), port).String()), "::1"},
		{unix.AF_INET, options.SockaddrIn(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)), "::ffff:127.0.0.1"},
	} {
		c, err := New(s, tc.family, unix.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Connect(tc.dst); err != nil && err != unix.EINPROGRESS {
			t.Fatal(err)
		}
		if _, err := l.Wait(unix.EPOLLIN, time.Now().Add(2*time.Second)); err != nil {
			t.Fatal(err)
		}
		a, peer, err := l.Accept(0)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		sa, _ := options.ParseSockaddrIn6(peer)
		if sa.Addr.String() != tc.peer {
			t.Fatalf("peer %v, want %s", sa.Addr, tc.peer)
		}
		if _, err := c.Wait(unix.EPOLLOUT, time.Now().Add(2*time.Second)); err != nil {
			t.Fatal(err)
		}
		if n, err := c.SendMsg([]byte("x"), nil, nil, 0); err != nil || n != 1 {
			t.Fatalf("send %d %v", n, err)
		}
		if _, err := a.Wait(unix.EPOLLIN, time.Now().Add(2*time.Second)); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 4)
		if n, _, _, _, err := a.RecvMsg(b, nil, 0); err != nil || n != 1 {
			t.Fatalf("recv %d %v", n, err)
		}
	}
	v6, _ := New(s, unix.AF_INET6, unix.SOCK_STREAM, 0)
	defer v6.Close()
	if err := v6.SetSockOpt(unix.SOL_IPV6, unix.IPV6_V6ONLY, intOpt(1)); err != nil {
		t.Fatal(err)
	}
	if err := v6.Connect(sa6(netip.AddrPortFrom(netip.MustParseAddr("::ffff:127.0.0.1"), port).String())); err != unix.ENETUNREACH {
		t.Fatalf("v6only connect to v4-mapped: %v", err)
	}
}

// TestInet6CloseWakesBlockedCalls: Close ends a blocked recvmsg and
// accept with EBADF, as the AF_INET sockets' Close does.
func TestInet6CloseWakesBlockedCalls(t *testing.T) {
	s := newStack(t, 0, nil)
	u, err := New(s, unix.AF_INET6, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Bind(sa6("[::1]:0")); err != nil {
		t.Fatal(err)
	}
	l, err := New(s, unix.AF_INET6, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Bind(sa6("[::1]:0")); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(1); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	go func() {
		_, _, _, _, err := u.RecvMsg(make([]byte, 8), nil, 0)
		errs <- err
	}()
	go func() {
		_, _, err := l.Accept(0)
		errs <- err
	}()
	time.Sleep(50 * time.Millisecond)
	u.Close()
	l.Close()
	for i := 0; i < 2; i++ {
		select {
		case err := <-errs:
			if err != unix.EBADF {
				t.Errorf("blocked call ended with %v, want EBADF", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a blocked call did not end at Close")
		}
	}
}

// TestInet6StreamSendsAll: a blocking send on an AF_INET6 stream queues
// all of a buffer larger than the send buffer (tcp_sendmsg), and RecvTo
// hands the bytes on in order; it once returned after the first part.
func TestInet6StreamSendsAll(t *testing.T) {
	s := newStack(t, 0, nil)
	l, err := New(s, unix.AF_INET6, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Bind(sa6("[::1]:0")); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(1); err != nil {
		t.Fatal(err)
	}
	name, _ := l.GetSockName()
	c, err := New(s, unix.AF_INET6, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetNonblock(false)
	if err := c.Connect(name); err != nil {
		t.Fatal(err)
	}
	l.SetNonblock(false)
	a, _, err := l.Accept(0)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.SetNonblock(false)
	msg := make([]byte, 4<<20)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	got := make(chan []byte, 1)
	go func() {
		var b bytes.Buffer
		for b.Len() < len(msg) {
			n, _, _, _, err := a.(StreamIO).RecvTo(&b, len(msg)-b.Len(), nil, 0)
			if err != nil || n == 0 {
				break
			}
		}
		got <- b.Bytes()
	}()
	if n, err := c.SendMsg(msg, nil, nil, 0); err != nil || n != len(msg) {
		t.Fatalf("blocking send of %d bytes: %d, %v", len(msg), n, err)
	}
	select {
	case b := <-got:
		if !bytes.Equal(b, msg) {
			t.Fatalf("received %d bytes, not the %d sent", len(b), len(msg))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("receiver did not get the stream")
	}
}

// TestInet6TCPMappedPushesTCPOptions: an AF_INET6 socket whose connection
// is IPv4 (a v4-mapped connect, or a dual-stack listener's IPv4 child)
// hands gVisor its tcp(7) values like any other.
func TestInet6TCPMappedPushesTCPOptions(t *testing.T) {
	s := newStack(t, 0, nil)
	l, err := New(s, unix.AF_INET6, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.SetSockOpt(unix.SOL_TCP, unix.TCP_NODELAY, intOpt(1)); err != nil {
		t.Fatal(err)
	}
	if err := l.Bind(sa6("[::]:0")); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(8); err != nil {
		t.Fatal(err)
	}
	name, _ := l.GetSockName()
	port := uint16(name[2])<<8 | uint16(name[3])
	c, err := New(s, unix.AF_INET6, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Connect(sa6(netip.AddrPortFrom(netip.MustParseAddr("::ffff:127.0.0.1"), port).String())); err != nil && err != unix.EINPROGRESS {
		t.Fatal(err)
	}
	if _, err := c.Wait(unix.EPOLLOUT, time.Now().Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := c.SetSockOpt(unix.SOL_TCP, unix.TCP_NODELAY, intOpt(1)); err != nil {
		t.Fatal(err)
	}
	if err := c.SetSockOpt(unix.SOL_TCP, unix.TCP_KEEPIDLE, intOpt(77)); err != nil {
		t.Fatal(err)
	}
	ep := c.(*tcpSock).endpoint()
	if ep.SocketOptions().GetDelayOption() {
		t.Error("v4-mapped connection: TCP_NODELAY did not reach gVisor")
	}
	var idle tcpip.KeepaliveIdleOption
	if e := ep.GetSockOpt(&idle); e != nil || idle != tcpip.KeepaliveIdleOption(77*time.Second) {
		t.Errorf("v4-mapped connection: gVisor's keepalive idle %v (%v), want 77s", time.Duration(idle), e)
	}
	if _, err := l.Wait(unix.EPOLLIN, time.Now().Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	a, _, err := l.Accept(0)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.(*tcpSock).endpoint().SocketOptions().GetDelayOption() {
		t.Error("a dual-stack listener's IPv4 child: the inherited TCP_NODELAY did not reach gVisor")
	}
}
