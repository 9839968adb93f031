package endpoint

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// tcpLoopback returns a connected client and the accepted server socket.
func tcpLoopback(t *testing.T, s *stack.Stack, port string) (c, a Socket) {
	t.Helper()
	l, err := New(s, unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if err := l.Bind(sa("127.0.0.1:" + port)); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(1); err != nil {
		t.Fatal(err)
	}
	c, _ = New(s, unix.AF_INET, unix.SOCK_STREAM, 0)
	t.Cleanup(func() { c.Close() })
	if err := c.Connect(sa("127.0.0.1:" + port)); err != nil {
		t.Fatal(err)
	}
	a, _, err = l.Accept(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return c, a
}

// SO_RCVLOWAT on TCP holds EPOLLIN and a blocking read until enough bytes
// are queued; a nonblocking read takes what is there.
func TestTCPRcvlowat(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	c, a := tcpLoopback(t, s, "7101")
	if err := a.SetSockOpt(unix.SOL_SOCKET, unix.SO_RCVLOWAT, intOpt(10)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendMsg([]byte("12345"), nil, nil, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if r := a.Readiness(unix.EPOLLIN); r != 0 {
		t.Errorf("EPOLLIN with 5 of 10 bytes queued")
	}
	// A blocking read waits for the rest.
	got := make(chan int, 1)
	go func() {
		n, _, _, _, _ := a.RecvMsg(make([]byte, 64), nil, 0)
		got <- n
	}()
	select {
	case n := <-got:
		t.Fatalf("blocking read returned %d bytes before the low-water mark", n)
	case <-time.After(100 * time.Millisecond):
	}
	if _, err := c.SendMsg([]byte("67890"), nil, nil, 0); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-got:
		if n != 10 {
			t.Errorf("read %d bytes, want 10", n)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("blocking read did not return after 10 bytes")
	}
	// Nonblocking: what is there.
	if _, err := c.SendMsg([]byte("ab"), nil, nil, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if n, _, _, _, err := a.RecvMsg(make([]byte, 64), nil, unix.MSG_DONTWAIT); n != 2 || err != nil {
		t.Errorf("nonblocking read: %d, %v; want 2", n, err)
	}
}

// SO_LINGER with time 0 makes close reset the connection.
func TestTCPLingerZeroResets(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	c, a := tcpLoopback(t, s, "7102")
	linger := append(intOpt(1), intOpt(0)...)
	if err := a.SetSockOpt(unix.SOL_SOCKET, unix.SO_LINGER, linger); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if _, err := c.Wait(unix.EPOLLIN, time.Now().Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, _, err := c.RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT); err != unix.ECONNRESET {
		t.Errorf("read after peer's linger-0 close: %v, want ECONNRESET", err)
	}
}

// Options gVisor's TCP acts on reach it.
func TestTCPOptionsReachGvisor(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	so, _ := New(s, unix.AF_INET, unix.SOCK_STREAM, 0)
	defer so.Close()
	for _, o := range []int{unix.SO_KEEPALIVE, unix.SO_OOBINLINE} {
		if err := so.SetSockOpt(unix.SOL_SOCKET, o, intOpt(1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := so.SetSockOpt(unix.SOL_SOCKET, unix.SO_LINGER, append(intOpt(1), intOpt(3)...)); err != nil {
		t.Fatal(err)
	}
	ops := so.(*tcpSock).endpoint().SocketOptions()
	if !ops.GetKeepAlive() || !ops.GetOutOfBandInline() || !ops.GetLinger().Enabled || ops.GetLinger().Timeout != 3*time.Second {
		t.Errorf("gVisor options: keepalive %v oobinline %v linger %+v", ops.GetKeepAlive(), ops.GetOutOfBandInline(), ops.GetLinger())
	}
}

// Privilege rules of sk_setsockopt.
func TestMiscOptionCaps(t *testing.T) {
	s := newStack(t, 0, nil)
	so, _ := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	defer so.Close()
	cases := []struct {
		name int
		v    int32
		want error
	}{
		{unix.SO_DEBUG, 1, unix.EACCES},
		{unix.SO_DEBUG, 0, nil},
		{unix.SO_PRIORITY, 6, nil},
		{unix.SO_PRIORITY, 7, unix.EPERM},
		{unix.SO_MARK, 1, unix.EPERM},
	}
	for _, c := range cases {
		if err := so.SetSockOpt(unix.SOL_SOCKET, c.name, intOpt(c.v)); err != c.want {
			t.Errorf("opt %d = %d: %v, want %v", c.name, c.v, err, c.want)
		}
	}
}

// UDP with SO_DONTROUTE reaches only directly connected destinations.
func TestUDPDontRoute(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	so, _ := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	defer so.Close()
	if err := so.SetSockOpt(unix.SOL_SOCKET, unix.SO_DONTROUTE, intOpt(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := so.SendMsg([]byte("x"), nil, sa("127.0.0.1:9"), 0); err != nil {
		t.Errorf("local destination: %v", err)
	}
}

// IP_TOS sets SO_PRIORITY (rt_tos2priority) when the TOS changes; SO_LINGER
// keeps its time when turned off; SO_RCVLOWAT maps 0 and negatives;
// values measured on Linux 6.18.
func TestMiscOptionValues(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	so, _ := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	defer so.Close()
	get := func(name int) int32 {
		buf := make([]byte, 4)
		if _, err := so.GetSockOpt(unix.SOL_SOCKET, name, buf); err != nil {
			t.Fatal(err)
		}
		return int32(buf[0]) | int32(buf[1])<<8 | int32(buf[2])<<16 | int32(buf[3])<<24
	}
	for _, c := range []struct{ tos, prio int32 }{{0x10, 6}, {0x08, 2}, {0x18, 4}, {0x04, 0}} {
		_ = so.SetSockOpt(unix.SOL_IP, unix.IP_TOS, intOpt(c.tos))
		if p := get(unix.SO_PRIORITY); p != c.prio {
			t.Errorf("IP_TOS %#x: SO_PRIORITY %d, want %d", c.tos, p, c.prio)
		}
	}
	_ = so.SetSockOpt(unix.SOL_SOCKET, unix.SO_PRIORITY, intOpt(3))
	_ = so.SetSockOpt(unix.SOL_IP, unix.IP_TOS, intOpt(0x04)) // unchanged TOS
	if p := get(unix.SO_PRIORITY); p != 3 {
		t.Errorf("same IP_TOS changed SO_PRIORITY to %d", p)
	}
	_ = so.SetSockOpt(unix.SOL_SOCKET, unix.SO_LINGER, append(intOpt(1), intOpt(7)...))
	_ = so.SetSockOpt(unix.SOL_SOCKET, unix.SO_LINGER, append(intOpt(0), intOpt(5)...))
	buf := make([]byte, 12)
	if n, _ := so.GetSockOpt(unix.SOL_SOCKET, unix.SO_LINGER, buf); n != 8 || buf[0] != 0 || buf[4] != 7 {
		t.Errorf("linger after {1,7},{0,5}: % x", buf[:n])
	}
	_ = so.SetSockOpt(unix.SOL_SOCKET, unix.SO_LINGER, append(intOpt(1), intOpt(-1)...))
	if n, _ := so.GetSockOpt(unix.SOL_SOCKET, unix.SO_LINGER, buf); n != 8 || int32(uint32(buf[4])|uint32(buf[5])<<8|uint32(buf[6])<<16|uint32(buf[7])<<24) != -1752346657 {
		t.Errorf("linger -1: % x", buf[:n])
	}
	for _, c := range []struct{ set, want int32 }{{0, 1}, {-5, 1<<31 - 1}, {10, 10}} {
		_ = so.SetSockOpt(unix.SOL_SOCKET, unix.SO_RCVLOWAT, intOpt(c.set))
		if v := get(unix.SO_RCVLOWAT); v != c.want {
			t.Errorf("SO_RCVLOWAT %d: %d, want %d", c.set, v, c.want)
		}
	}
}
