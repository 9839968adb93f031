package endpoint

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

func pingStack(t *testing.T) *stack.Stack {
	t.Helper()
	return newStack(t, stack.AllCaps, map[string]string{"net.ipv4.ping_group_range": "0 0"})
}

func openPing(t *testing.T, s *stack.Stack) Socket {
	t.Helper()
	p, err := New(s, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// pingReply waits briefly for an echo reply on p and returns its bytes
// (nil when none came).
func pingReply(p Socket, wait time.Duration) []byte {
	if r, err := p.Wait(unix.EPOLLIN, time.Now().Add(wait)); err != nil || r&unix.EPOLLIN == 0 {
		return nil
	}
	buf := make([]byte, 64)
	n, _, _, _, err := p.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
	if err != nil {
		return nil
	}
	return buf[:n]
}

// Ping sockets share an identifier unless one turned SO_REUSEADDR off
// (on by default), whatever their addresses (ping_get_port).
func TestPingIdentShared(t *testing.T) {
	s := pingStack(t)
	a, b, c := openPing(t, s), openPing(t, s), openPing(t, s)
	buf := make([]byte, 4)
	if n, err := a.GetSockOpt(unix.SOL_SOCKET, unix.SO_REUSEADDR, buf); err != nil || n != 4 || binary.NativeEndian.Uint32(buf) != 1 {
		t.Errorf("SO_REUSEADDR default = %x (%v), want 1", buf[:n], err)
	}
	if err := a.Bind(sa("127.0.0.1:900")); err != nil {
		t.Fatal(err)
	}
	if err := b.Bind(sa("127.0.0.1:900")); err != nil {
		t.Errorf("second bind of the identifier: %v, want success", err)
	}
	if err := c.SetSockOpt(unix.SOL_SOCKET, unix.SO_REUSEADDR, intOpt(0)); err != nil {
		t.Fatal(err)
	}
	if err := c.Bind(sa("0.0.0.0:900")); err != unix.EADDRINUSE {
		t.Errorf("bind without SO_REUSEADDR: %v, want EADDRINUSE", err)
	}
	if err := c.Bind(sa("0.0.0.0:901")); err != nil {
		t.Fatal(err)
	}
	d := openPing(t, s)
	if err := d.Bind(sa("127.0.0.1:901")); err != unix.EADDRINUSE {
		t.Errorf("bind beside a socket without SO_REUSEADDR: %v, want EADDRINUSE", err)
	}
	if err := a.Bind(sa("127.0.0.1:902")); err != unix.EINVAL {
		t.Errorf("bind of a bound socket: %v, want EINVAL", err)
	}
}

// A reply goes to the newest socket holding the identifier
// (ping_lookup's first match in a chain ping_get_port adds to at the head).
func TestPingReplyToNewest(t *testing.T) {
	s := pingStack(t)
	old, mid, newest := openPing(t, s), openPing(t, s), openPing(t, s)
	for _, p := range []Socket{old, mid, newest} {
		if err := p.Bind(sa("0.0.0.0:910")); err != nil {
			t.Fatal(err)
		}
	}
	req := []byte{8, 0, 0, 0, 0, 0, 0, 1, 'h', 'i'}
	if _, err := old.SendMsg(req, nil, sa("127.0.0.1:0"), 0); err != nil {
		t.Fatal(err)
	}
	if r := pingReply(newest, time.Second); r == nil || binary.BigEndian.Uint16(r[4:6]) != 910 {
		t.Fatalf("newest socket: reply %x, want one for identifier 910", r)
	}
	for _, p := range []Socket{old, mid} {
		if r := pingReply(p, 50*time.Millisecond); r != nil {
			t.Errorf("an older socket got the reply too: %x", r)
		}
	}
	newest.Close()
	if _, err := old.SendMsg(req, nil, sa("127.0.0.1:0"), 0); err != nil {
		t.Fatal(err)
	}
	if r := pingReply(mid, time.Second); r == nil {
		t.Errorf("after the newest closed, the next one got no reply")
	}
}

// connect(AF_UNSPEC) gives up an identifier bind(2) did not name and
// the socket connects again with a new one (__udp_disconnect, ping_unhash).
func TestPingReconnectAfterUnspec(t *testing.T) {
	s := pingStack(t)
	p := openPing(t, s)
	if err := p.Connect(sa("127.0.0.1:0")); err != nil {
		t.Fatal(err)
	}
	name, _ := p.GetSockName()
	first := portOf(name)
	if first == 0 {
		t.Fatalf("no identifier after connect: %x", name)
	}
	if err := p.Connect(rawSA(unix.AF_UNSPEC, "0.0.0.0:0", 16)); err != nil {
		t.Fatal(err)
	}
	if name, _ := p.GetSockName(); !bytes.Equal(name, sa("0.0.0.0:0")) {
		t.Errorf("getsockname after disconnect = %x, want 0.0.0.0:0", name)
	}
	if err := p.Connect(sa("127.0.0.1:0")); err != nil {
		t.Fatalf("connect after disconnect: %v", err)
	}
	name, _ = p.GetSockName()
	second := portOf(name)
	if second == 0 || second == first {
		t.Errorf("identifier after reconnect = %d, first was %d: want a new one", second, first)
	}
	if _, err := p.SendMsg([]byte{8, 0, 0, 0, 0, 0, 0, 2}, nil, nil, 0); err != nil {
		t.Fatal(err)
	}
	if r := pingReply(p, time.Second); r == nil || binary.BigEndian.Uint16(r[4:6]) != second {
		t.Errorf("reply after reconnect: %x, want identifier %d", r, second)
	}

	// An identifier bind(2) named survives a disconnect.
	q := openPing(t, s)
	if err := q.Bind(sa("0.0.0.0:920")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := q.Connect(sa("127.0.0.1:0")); err != nil {
			t.Fatalf("connect %d: %v", i, err)
		}
		if err := q.Connect(rawSA(unix.AF_UNSPEC, "0.0.0.0:0", 16)); err != nil {
			t.Fatal(err)
		}
		if name, _ := q.GetSockName(); !bytes.Equal(name, sa("0.0.0.0:920")) {
			t.Errorf("getsockname after disconnect %d = %x, want 0.0.0.0:920", i, name)
		}
	}
}

// Replies queued before connect(AF_UNSPEC) stay readable, also after the
// socket took a new identifier (and gVisor endpoint), with their TTL.
func TestPingDisconnectKeepsQueue(t *testing.T) {
	s := pingStack(t)
	p := openPing(t, s)
	if err := p.SetSockOpt(unix.SOL_IP, unix.IP_RECVTTL, intOpt(1)); err != nil {
		t.Fatal(err)
	}
	if err := p.Connect(sa("127.0.0.1:0")); err != nil {
		t.Fatal(err)
	}
	for _, seq := range []byte{1, 2} {
		if _, err := p.SendMsg([]byte{8, 0, 0, 0, 0, 0, 0, seq, 'q'}, nil, nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Wait(unix.EPOLLIN, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the second reply
	if err := p.Connect(rawSA(unix.AF_UNSPEC, "0.0.0.0:0", 16)); err != nil {
		t.Fatal(err)
	}
	buf, oob := make([]byte, 64), make([]byte, 64)
	if n, _, _, _, err := p.RecvMsg(buf, nil, unix.MSG_DONTWAIT); err != nil || n != 9 || buf[7] != 1 {
		t.Fatalf("after disconnect: %x %v, want reply 1", buf[:n], err)
	}
	if err := p.Connect(sa("127.0.0.1:0")); err != nil {
		t.Fatal(err)
	}
	n, oobn, _, from, err := p.RecvMsg(buf, oob, unix.MSG_DONTWAIT)
	if err != nil || n != 9 || buf[7] != 2 || !bytes.Equal(from, sa("127.0.0.1:0")) {
		t.Fatalf("after connecting again: %x from %x %v, want reply 2", buf[:n], from, err)
	}
	if want := cmsgBytes(unix.SOL_IP, unix.IP_TTL, intOpt(64)); !bytes.Equal(oob[:oobn], want) {
		t.Errorf("cmsgs %x, want %x", oob[:oobn], want)
	}
}

// A recvmsg blocked on a ping socket while another thread's connect(2)
// gives the socket a fresh gVisor endpoint keeps waiting, and gets the
// reply that then arrives (not 0 bytes from the closed old endpoint).
func TestPingBlockedRecvAcrossSwap(t *testing.T) {
	s := pingStack(t)
	p := openPing(t, s)
	if err := p.Bind(sa("127.0.0.1:905")); err != nil {
		t.Fatal(err)
	}
	if err := p.Connect(sa("127.0.0.1:0")); err != nil {
		t.Fatal(err)
	}
	tv := make([]byte, 16)
	binary.NativeEndian.PutUint64(tv, 2) // 2 s
	if err := p.SetSockOpt(unix.SOL_SOCKET, unix.SO_RCVTIMEO_OLD, tv); err != nil {
		t.Fatal(err)
	}
	type result struct {
		n   int
		err error
	}
	got := make(chan result, 1)
	go func() {
		buf := make([]byte, 64)
		n, _, _, _, err := p.RecvMsg(buf, nil, 0)
		got <- result{n, err}
	}()
	time.Sleep(50 * time.Millisecond) // the reader blocks
	// The identifier was bound, so the disconnect keeps it on a fresh
	// endpoint (pingDisconnect) and closes the old one.
	if err := p.Connect(rawSA(unix.AF_UNSPEC, "0.0.0.0:0", 16)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.SendMsg([]byte{8, 0, 0, 0, 0, 0, 0, 1, 'q'}, nil, sa("127.0.0.1:0"), 0); err != nil {
		t.Fatal(err)
	}
	if r := <-got; r.err != nil || r.n != 9 {
		t.Fatalf("blocked recvmsg: %d, %v; want the 9-byte reply", r.n, r.err)
	}
}
