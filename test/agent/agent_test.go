package agent

import (
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// startAgent serves an in-process agent over pipes.
func startAgent(t *testing.T) (*Client, chan error) {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := Serve(inR, outW)
		outW.Close()
		done <- err
	}()
	c := NewClient(inW, outR)
	c.MaxWait = 10 * time.Second
	t.Cleanup(func() {
		c.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after its input closed")
		}
	})
	return c, done
}

func loopback(port uint16) []byte {
	sa := make([]byte, 16)
	binary.NativeEndian.PutUint16(sa, unix.AF_INET)
	binary.BigEndian.PutUint16(sa[2:], port)
	copy(sa[4:], []byte{127, 0, 0, 1})
	return sa
}

// TestRemoteMatchesLocal makes the same calls on a local Sock and through
// the agent (on loopback) and compares every result.
func TestRemoteMatchesLocal(t *testing.T) {
	c, _ := startAgent(t)
	type sock interface {
		Bind([]byte) error
		GetSockName() ([]byte, error)
		SetSockOpt(level, name int, val []byte) error
		GetSockOpt(level, name int, buf []byte) (int, error)
		SendMsg(p, oob, to []byte, flags int) (int, error)
		RecvMsg(p, oob []byte, flags int) (int, int, int, []byte, error)
		Ioctl(req uint, arg []byte) error
		Poll(mask uint32, timeout time.Duration) (uint32, error)
		Close() error
	}
	run := func(s sock) []any {
		var out []any
		rec := func(v ...any) { out = append(out, v...) }
		rec(s.Bind(loopback(0)))
		sa, err := s.GetSockName()
		rec(err, len(sa))
		rec(s.SetSockOpt(unix.IPPROTO_IP, unix.IP_RECVTTL, []byte{1, 0, 0, 0}))
		buf := []byte{0xaa, 0xaa, 0xaa, 0xaa, 0xaa}
		n, err := s.GetSockOpt(unix.IPPROTO_IP, unix.IP_RECVTTL, buf)
		rec(n, err, string(buf))
		n, err = s.SendMsg([]byte("hello"), nil, sa, 0)
		rec(n, err)
		n, err = s.SendMsg(nil, []byte{}, sa, 0) // empty datagram, empty control
		rec(n, err)
		ev, err := s.Poll(unix.EPOLLIN, time.Second)
		rec(ev, err)
		rec(s.Ioctl(unix.SIOCINQ, nil)) // NULL: EFAULT
		arg := make([]byte, 4)
		rec(s.Ioctl(unix.SIOCINQ, arg), string(arg))
		p := []byte("xxxxxxxx")
		oob := make([]byte, 64)
		n, oobn, flags, from, err := s.RecvMsg(p[:3], oob, 0)
		rec(n, oobn, flags, len(from), err, string(p), string(oob[:oobn]))
		n, oobn, flags, from, err = s.RecvMsg(p, nil, unix.MSG_DONTWAIT)
		rec(n, oobn, flags, len(from), err)
		n, _, _, _, err = s.RecvMsg(p, nil, unix.MSG_DONTWAIT)
		rec(n, err)
		rec(s.Close(), s.Close())
		return out
	}
	local, err := Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Skipf("no UDP socket here: %v", err)
	}
	remote, err := c.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := run(local), run(remote)
	if len(a) != len(b) {
		t.Fatalf("local %v\nremote %v", a, b)
	}
	for i := range a {
		ae, aok := a[i].(error)
		be, bok := b[i].(error)
		if aok || bok {
			if !errors.Is(be, ae) && !(ae == nil && be == nil) {
				t.Errorf("result %d: local %v, remote %v", i, ae, be)
			}
			continue
		}
		if a[i] != b[i] {
			t.Errorf("result %d: local %v, remote %v", i, a[i], b[i])
		}
	}
}

// TestDeadAgent: once the agent is gone every call fails at once with
// ErrDead, and a call the agent never answers is bounded by MaxWait.
func TestDeadAgent(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	go io.Copy(io.Discard, inR) // an agent that never answers
	c := NewClient(inW, outR)
	c.MaxWait = 100 * time.Millisecond
	start := time.Now()
	if err := c.Ping(); !errors.Is(err, ErrDead) {
		t.Fatalf("unanswered ping: %v, want ErrDead", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("unanswered ping took %v", d)
	}
	if _, err := c.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0, nil); !errors.Is(err, ErrDead) {
		t.Errorf("call after death: %v, want ErrDead", err)
	}
	outW.Close()
	c.Close()
}
