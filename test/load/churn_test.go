package load

import (
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/endpoint"
	"netsandbox/link/channel"
	"netsandbox/options"
	"netsandbox/stack"
)

// Churn sizes: how many sockets of each kind and stacks are opened and
// closed.
const (
	churnUDP    = 10000
	churnTCP    = 2000
	churnConns  = 200 // of the TCP sockets, pairs that really connect
	churnStacks = 200
)

// Allowed distance from the baseline once everything is closed.
const (
	goroutineSlack = 4
	heapSlack      = 4 << 20 // bytes of HeapInuse: 400 bytes kept per UDP socket would exceed it
	settleWait     = 5 * time.Second
)

// resources is a snapshot of what a leak would grow.
type resources struct {
	goroutines int
	heapInuse  uint64
	fds        int
}

func snapshot(t *testing.T) resources {
	t.Helper()
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("read /proc/self/fd: %v", err)
	}
	return resources{goroutines: runtime.NumGoroutine(), heapInuse: m.HeapInuse, fds: len(fds)}
}

// checkBaseline waits (bounded) for goroutines to wind down, then compares
// goroutines, heap and file descriptors with base.
func checkBaseline(t *testing.T, what string, base resources) {
	t.Helper()
	deadline := time.Now().Add(settleWait)
	for runtime.NumGoroutine() > base.goroutines+goroutineSlack && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	now := snapshot(t)
	t.Logf("%s: goroutines %d -> %d, HeapInuse %d KiB -> %d KiB, fds %d -> %d", what,
		base.goroutines, now.goroutines, base.heapInuse>>10, now.heapInuse>>10, base.fds, now.fds)
	if now.goroutines > base.goroutines+goroutineSlack {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Errorf("%s: %d goroutines, baseline %d:\n%s", what, now.goroutines, base.goroutines, buf[:n])
	}
	if now.heapInuse > base.heapInuse+heapSlack {
		t.Errorf("%s: HeapInuse %d KiB, baseline %d KiB (+%d KiB allowed)", what,
			now.heapInuse>>10, base.heapInuse>>10, heapSlack>>10)
	}
	if now.fds > base.fds {
		t.Errorf("%s: %d open file descriptors, baseline %d", what, now.fds, base.fds)
	}
}

func newStack(t *testing.T) *stack.Stack {
	t.Helper()
	s, err := stack.New(stack.Config{Caps: stack.AllCaps})
	if err != nil {
		t.Fatalf("stack.New: %v", err)
	}
	return s
}

func open(t *testing.T, s *stack.Stack, typ int) endpoint.Socket {
	t.Helper()
	so, err := endpoint.New(s, unix.AF_INET, typ|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatalf("socket(%d): %v", typ, err)
	}
	return so
}

// TestChurnUDPSockets opens, binds (ephemeral port), uses and closes UDP
// sockets on one stack; each port must be given back (else binding would
// run out of ephemeral ports) and nothing may stay behind.
func TestChurnUDPSockets(t *testing.T) {
	s := newStack(t)
	defer s.Close()
	base := snapshot(t)
	any0 := options.SockaddrIn(netip.MustParseAddrPort("127.0.0.1:0"))
	sink := open(t, s, unix.SOCK_DGRAM)
	if err := sink.Bind(options.SockaddrIn(netip.MustParseAddrPort("127.0.0.1:9999"))); err != nil {
		t.Fatal(err)
	}
	to := options.SockaddrIn(netip.MustParseAddrPort("127.0.0.1:9999"))
	buf := make([]byte, 64)
	for i := 0; i < churnUDP; i++ {
		so := open(t, s, unix.SOCK_DGRAM)
		if err := so.Bind(any0); err != nil {
			t.Fatalf("bind %d: %v", i, err)
		}
		if i%10 == 0 {
			// Some datagrams are left queued in sink and in so at close.
			if _, err := so.SendMsg([]byte("x"), nil, to, unix.MSG_DONTWAIT); err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
			if _, err := sink.SendMsg([]byte("y"), nil, mustName(t, so), unix.MSG_DONTWAIT); err != nil {
				t.Fatalf("send back %d: %v", i, err)
			}
			sink.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		}
		if err := so.Close(); err != nil {
			t.Fatalf("close %d: %v", i, err)
		}
	}
	sink.Close()
	checkBaseline(t, "10000 UDP sockets", base)
}

func mustName(t *testing.T, so endpoint.Socket) []byte {
	t.Helper()
	sa, err := so.GetSockName()
	if err != nil {
		t.Fatalf("getsockname: %v", err)
	}
	return sa
}

// TestChurnTCPSockets opens and closes TCP sockets: most bound and
// listening, some connected to a listener on lo and accepted, with data in
// flight at close.
func TestChurnTCPSockets(t *testing.T) {
	s := newStack(t)
	defer s.Close()
	base := snapshot(t)
	lsa := options.SockaddrIn(netip.MustParseAddrPort("127.0.0.1:8080"))
	l := open(t, s, unix.SOCK_STREAM)
	if err := l.Bind(lsa); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(128); err != nil {
		t.Fatal(err)
	}
	any0 := options.SockaddrIn(netip.MustParseAddrPort("127.0.0.1:0"))
	for i := 0; i < churnTCP-churnConns; i++ {
		so := open(t, s, unix.SOCK_STREAM)
		if err := so.Bind(any0); err != nil {
			t.Fatalf("bind %d: %v", i, err)
		}
		if i%2 == 0 {
			if err := so.Listen(4); err != nil {
				t.Fatalf("listen %d: %v", i, err)
			}
		}
		if err := so.Close(); err != nil {
			t.Fatalf("close %d: %v", i, err)
		}
	}
	for i := 0; i < churnConns; i++ {
		c := open(t, s, unix.SOCK_STREAM)
		if err := c.Connect(lsa); err != unix.EINPROGRESS {
			t.Fatalf("connect %d: %v", i, err)
		}
		if _, err := l.Wait(unix.EPOLLIN, time.Now().Add(2*time.Second)); err != nil {
			t.Fatalf("connection %d never became acceptable: %v", i, err)
		}
		a, _, err := l.Accept(unix.SOCK_NONBLOCK)
		if err != nil {
			t.Fatalf("accept %d: %v", i, err)
		}
		c.SendMsg([]byte("unread"), nil, nil, unix.MSG_DONTWAIT)
		if i%2 == 0 {
			a.Close()
			c.Close()
		} else {
			c.Close()
			a.Close()
		}
	}
	l.Close()
	checkBaseline(t, "2000 TCP sockets", base)
}

// TestChurnStacks builds and closes stacks, each with an Ethernet channel
// NIC, an address, a socket of each kind and traffic on lo.
func TestChurnStacks(t *testing.T) {
	base := snapshot(t)
	for i := 0; i < churnStacks; i++ {
		s := newStack(t)
		ch := channel.NewWithOptions(channel.Options{MTU: 1500, Ethernet: true, MAC: "\x02\x00\x00\x00\x00\x02"})
		idx, err := s.AddInterface("eth0", ch)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddAddress(idx, netip.MustParsePrefix("198.18.0.2/24")); err != nil {
			t.Fatal(err)
		}
		u := open(t, s, unix.SOCK_DGRAM)
		u.SendMsg([]byte("x"), nil, options.SockaddrIn(netip.MustParseAddrPort("127.0.0.1:7")), unix.MSG_DONTWAIT)
		tl := open(t, s, unix.SOCK_STREAM)
		tl.Bind(options.SockaddrIn(netip.MustParseAddrPort("0.0.0.0:80")))
		tl.Listen(8)
		tc := open(t, s, unix.SOCK_STREAM)
		tc.Connect(options.SockaddrIn(netip.MustParseAddrPort("127.0.0.1:80")))
		r, err := endpoint.New(s, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
		if err != nil {
			t.Fatal(err)
		}
		// Sockets are left open on purpose: closing the stack must free them.
		_ = r
		s.Close()
	}
	checkBaseline(t, "200 stacks", base)
}
