package endpoint

import (
	"encoding/binary"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// TestLinuxSndMSS checks the translation of gVisor's payload size into
// Linux's mss_cache for the option combinations gVisor's sender knows.
func TestLinuxSndMSS(t *testing.T) {
	for _, c := range []struct {
		ts, sack            bool
		payload, clamp, opt int
		want                int
	}{
		{true, true, 1420, 0, 0, 1448},   // 1500 MTU: gVisor keeps 28 bytes for SACK blocks
		{true, false, 1448, 0, 0, 1448},  // no SACK: the same size
		{false, true, 1424, 0, 0, 1460},  // SACK without timestamps: 36 bytes kept
		{false, false, 1460, 0, 0, 1460}, // no options
		{true, true, 588, 600, 0, 588},   // clamped to TCP_MAXSEG 600
		{true, true, 1420, 1450, 0, 1438},
		{true, true, 580, 600, 8, 580},         // clamp and 8 bytes of IP options
		{true, true, 1200, 0, 0, 1228},         // peer MSS 1240
		{true, true, 65456, 0, 0, 65483},       // loopback: capped at 65495
		{true, true, 0, 0, 40, minSndMSS - 12}, // floor: tcp_min_snd_mss
	} {
		in := tcpInternals{ts: c.ts, sack: c.sack, maxPayload: c.payload}
		if got := linuxSndMSS(in, c.clamp, c.opt); got != c.want {
			t.Errorf("ts=%v sack=%v payload=%d clamp=%d opt=%d: %d, want %d", c.ts, c.sack, c.payload, c.clamp, c.opt, got, c.want)
		}
	}
	for _, c := range []struct {
		ts, sack bool
		want     int
	}{{true, true, 40}, {false, true, 36}, {true, false, 12}, {false, false, 0}} {
		if got := maxOptionRoom(c.ts, c.sack); got != c.want {
			t.Errorf("maxOptionRoom(%v, %v) = %d, want %d", c.ts, c.sack, got, c.want)
		}
	}
}

// TestTCPMaxsegLoopback: a listener's and a client's TCP_MAXSEG over
// 127.0.0.1 on netsandbox: what getsockopt answers in each state and the
// payload size gVisor's sender ends up with after a send.
func TestTCPMaxsegLoopback(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	mk := func() *tcpSock { return newTCPSock(t, s) }
	get, setv := getMaxseg, setMaxseg
	l, c := mk(), mk()
	if got := get(l); got != "<nil> 4 536" {
		t.Errorf("fresh: %s", got)
	}
	for _, v := range []int32{87, 32768, -1} {
		if err := setv(l, v); err != unix.EINVAL {
			t.Errorf("set %d: %v, want EINVAL", v, err)
		}
	}
	if err := l.SetSockOpt(unix.SOL_TCP, unix.TCP_MAXSEG, []byte{1, 2}); err != unix.EINVAL {
		t.Errorf("set optlen 2: %v, want EINVAL", err)
	}
	if err := setv(l, 700); err != nil {
		t.Fatal(err)
	}
	if err := l.Bind(sa("127.0.0.1:0")); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(4); err != nil {
		t.Fatal(err)
	}
	if got := get(l); got != "<nil> 4 700" {
		t.Errorf("listener: %s", got)
	}
	if err := setv(c, 1000); err != nil {
		t.Fatal(err)
	}
	name, _ := l.GetSockName()
	if err := c.Connect(sa(fmt.Sprintf("127.0.0.1:%d", portOf(name)))); err != nil {
		t.Fatal(err)
	}
	as, _, err := l.Accept(0)
	if err != nil {
		t.Fatal(err)
	}
	defer as.Close()
	a := as.(*tcpSock)
	// The client's SYN offered 1000, the accepted socket clamps to 700
	// (and the client to the SYN-ACK's 700); timestamps take 12.
	if got := get(c); got != "<nil> 4 688" {
		t.Errorf("client: %s", got)
	}
	if got := get(a); got != "<nil> 4 688" {
		t.Errorf("accepted: %s", got)
	}
	if _, err := a.SendMsg(make([]byte, 5000), nil, nil, 0); err != nil {
		t.Fatal(err)
	}
	in, ok := tcpInternalsOf(a.endpoint(), s.Gvisor().Clock())
	if !ok || in.maxPayload != 688 {
		t.Errorf("accepted sender payload: %d (ok %v), want 688", in.maxPayload, ok)
	}
	// Set on a connection: stored, the MSS stays.
	if err := setv(a, 200); err != nil {
		t.Errorf("set on a connection: %v", err)
	}
	if got := get(a); got != "<nil> 4 688" {
		t.Errorf("accepted after set: %s", got)
	}
}

// newTCPSock is a TCP socket on s, closed when the test ends.
func newTCPSock(t *testing.T, s *stack.Stack) *tcpSock {
	t.Helper()
	so, err := New(s, unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { so.Close() })
	g, ok := so.(*tcpSock)
	if !ok {
		t.Fatalf("socket is %T", so)
	}
	return g
}

// getMaxseg renders getsockopt(TCP_MAXSEG): error, length, value.
func getMaxseg(g *tcpSock) string {
	b := make([]byte, 4)
	n, err := g.GetSockOpt(unix.SOL_TCP, unix.TCP_MAXSEG, b)
	return fmt.Sprintf("%v %d %d", err, n, int32(binary.NativeEndian.Uint32(b)))
}

func setMaxseg(g *tcpSock, v int32) error {
	b := make([]byte, 4)
	binary.NativeEndian.PutUint32(b, uint32(v))
	return g.SetSockOpt(unix.SOL_TCP, unix.TCP_MAXSEG, b)
}

// TestTCPMaxsegAfterRefusedConnect: the fresh gVisor endpoint a refused
// connect leaves behind still advertises user_mss in the next SYN, so the
// accepting side clamps to it.
func TestTCPMaxsegAfterRefusedConnect(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	l, c, closed := newTCPSock(t, s), newTCPSock(t, s), newTCPSock(t, s)
	for _, g := range []*tcpSock{l, closed} {
		if err := g.Bind(sa("127.0.0.1:0")); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Listen(4); err != nil {
		t.Fatal(err)
	}
	if err := setMaxseg(c, 600); err != nil {
		t.Fatal(err)
	}
	shut, _ := closed.GetSockName()
	if err := c.Connect(sa(fmt.Sprintf("127.0.0.1:%d", portOf(shut)))); err != unix.ECONNREFUSED {
		t.Fatalf("connect to a closed port: %v, want ECONNREFUSED", err)
	}
	name, _ := l.GetSockName()
	if err := c.Connect(sa(fmt.Sprintf("127.0.0.1:%d", portOf(name)))); err != nil {
		t.Fatal(err)
	}
	as, _, err := l.Accept(0)
	if err != nil {
		t.Fatal(err)
	}
	defer as.Close()
	// The SYN offered 600; timestamps take 12.
	if got := getMaxseg(as.(*tcpSock)); got != "<nil> 4 588" {
		t.Errorf("accepted: %s, want <nil> 4 588", got)
	}
}
