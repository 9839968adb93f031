package nsnet_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"netsandbox/nsnet"
)

// isTimeout is what callers of package net check.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() && errors.Is(err, os.ErrDeadlineExceeded)
}

func TestDeadlines(t *testing.T) {
	w := newWire(t)
	u, err := nsnet.ListenUDP(w.b, netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	l, err := nsnet.ListenTCP(w.b, netip.MustParseAddrPort("10.0.0.2:8080"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	start := time.Now()
	u.SetReadDeadline(start.Add(30 * time.Millisecond))
	if _, _, err := u.ReadFrom(make([]byte, 10)); !isTimeout(err) {
		t.Errorf("UDP read past deadline = %v, want a net.Error timeout", err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("UDP read returned after %v, before its deadline", d)
	}
	l.SetDeadline(time.Now().Add(30 * time.Millisecond))
	if _, err := l.Accept(); !isTimeout(err) {
		t.Errorf("Accept past deadline = %v, want a timeout", err)
	}
	// A deadline already past fails at once; clearing it lets calls block.
	u.SetReadDeadline(time.Now().Add(-time.Second))
	if _, _, err := u.ReadFrom(make([]byte, 10)); !isTimeout(err) {
		t.Errorf("read with past deadline = %v", err)
	}
	u.SetReadDeadline(time.Time{})
}

// Moving the deadline while a call is blocked takes effect at once, as
// package net promises.
func TestDeadlineChangedWhileBlocked(t *testing.T) {
	w := newWire(t)
	u, err := nsnet.ListenUDP(w.b, netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	done := make(chan struct{})
	var rerr error
	go func() {
		defer close(done)
		_, _, rerr = u.ReadFrom(make([]byte, 10))
	}()
	time.Sleep(20 * time.Millisecond)
	u.SetReadDeadline(time.Now())
	within(t, 2*time.Second, "UDP read after SetReadDeadline(now)", done)
	if !isTimeout(rerr) {
		t.Errorf("read = %v, want a timeout", rerr)
	}
}

func TestCloseWakesBlockedCalls(t *testing.T) {
	w := newWire(t)
	l, err := nsnet.ListenTCP(w.b, netip.MustParseAddrPort("10.0.0.2:8081"))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		c, err := l.Accept()
		if err == nil {
			defer c.Close()
			time.Sleep(5 * time.Second) // hold the conn open, silent
		}
	}()
	tc, err := nsnet.DialTCP(w.a, netip.AddrPort{}, netip.MustParseAddrPort("10.0.0.2:8081"))
	if err != nil {
		t.Fatal(err)
	}
	u, err := nsnet.ListenUDP(w.a, netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	l2, err := nsnet.ListenTCP(w.a, netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	u2, err := nsnet.ListenUDP(w.a, netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	u2.SetRecvErr(true)

	type blocker struct {
		name        string
		call, close func() error
	}
	for _, c := range []blocker{
		{"TCP Read", func() error { _, err := tc.Read(make([]byte, 10)); return err }, tc.Close},
		{"UDP Read", func() error { _, _, err := u.ReadFrom(make([]byte, 10)); return err }, u.Close},
		{"Accept", func() error { _, err := l2.Accept(); return err }, l2.Close},
		{"ReadErrQueue", func() error { _, _, err := u2.ReadErrQueue(make([]byte, 10)); return err }, u2.Close},
	} {
		name := c.name
		done := make(chan struct{})
		var cerr error
		go func() {
			defer close(done)
			cerr = c.call()
		}()
		time.Sleep(20 * time.Millisecond)
		if err := c.close(); err != nil {
			t.Errorf("%s: Close = %v", name, err)
		}
		within(t, 2*time.Second, name+" after Close", done)
		if !errors.Is(cerr, net.ErrClosed) {
			t.Errorf("%s after Close = %v, want net.ErrClosed", name, cerr)
		}
		if err := c.close(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("%s: second Close = %v, want net.ErrClosed", name, err)
		}
		if err := c.call(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("%s: call after Close = %v, want net.ErrClosed", name, err)
		}
	}
}

// A dial to a host that never answers ends with the context.
func TestDialContextCancel(t *testing.T) {
	w := newWire(t)
	d := nsnet.Dialer{Stack: w.a}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := d.DialContext(ctx, "tcp", "10.0.0.77:80") // no such host: no ARP reply
	if !isTimeout(err) {
		t.Fatalf("dial = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("dial took %v", d)
	}
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := d.DialContext(ctx, "tcp", "10.0.0.77:80"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled dial = %v, want context.Canceled", err)
	}
}

// A deadline that passes between a call's check and its wait still ends
// the call (it read as "no deadline" when its time.Until went negative).
func TestShortDeadlinesEndReads(t *testing.T) {
	w := newWire(t)
	c, err := nsnet.ListenUDP(w.a, netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 200; i++ {
		c.SetReadDeadline(time.Now().Add(time.Duration(i%5) * time.Microsecond))
		done := make(chan error, 1)
		go func() { _, _, err := c.ReadFrom(make([]byte, 8)); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("round %d: %v, want a deadline error", i, err)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("round %d: a read with a passed deadline still blocks", i)
		}
	}
}
