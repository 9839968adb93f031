// Package fuzz holds the fuzz targets that drive a whole netsandbox stack:
// frames from a hostile network through link/channel, and call sequences
// from a hostile sandboxed program through endpoint sockets.
package fuzz

import (
	"net/netip"
	"runtime"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"

	"netsandbox/link/channel"
	"netsandbox/stack"
)

// Addresses of the fuzzed link: the stack is .2, the silent peer .1.
var (
	localAddr = netip.MustParseAddr("198.18.0.2")
	peerAddr  = netip.MustParseAddr("198.18.0.1")
	localNet  = netip.MustParsePrefix("198.18.0.2/24")
	localMAC  = tcpip.LinkAddress("\x02\x00\x00\x00\x00\x02")
	peerMAC   = tcpip.LinkAddress("\x02\x00\x00\x00\x00\x01")
)

// perInputTimeout bounds one fuzz input; nothing in it may block, so
// reaching it means a deadlock.
// It leaves room for a few closes that wait out a one-second SO_LINGER.
const perInputTimeout = 10 * time.Second

// newStack builds a stack with every capability and ping allowed for gid 0,
// plus an Ethernet channel NIC eth0 with 198.18.0.2/24.
func newStack(fail failFunc) (*stack.Stack, *channel.Endpoint) {
	s, err := stack.New(stack.Config{
		Caps:   stack.AllCaps,
		Sysctl: map[string]string{"net.ipv4.ping_group_range": "0 0"},
	})
	if err != nil {
		fail("stack.New: %v", err)
	}
	// A short queue: the fuzzers drain it after each call anyway.
	ch := channel.NewWithOptions(channel.Options{MTU: 1500, Ethernet: true, MAC: localMAC, QueueLen: 64})
	idx, err := s.AddInterface("eth0", ch)
	if err != nil {
		s.Close()
		fail("AddInterface: %v", err)
	}
	if err := s.AddAddress(idx, localNet); err != nil {
		s.Close()
		fail("AddAddress: %v", err)
	}
	if err := s.AddRoute(localNet.Masked(), netip.Addr{}, idx); err != nil {
		s.Close()
		fail("AddRoute: %v", err)
	}
	return s, ch
}

// drainWire discards what the stack sent, so the outbound queue never
// fills and a full queue never hides a path.
func drainWire(ch *channel.Endpoint) {
	for i := 0; i < 1024; i++ {
		if _, ok := ch.TryRead(); !ok {
			return
		}
	}
}

// failFunc reports a fatal failure and does not return: t.Fatalf on the
// test goroutine, or the one bounded passes to its function.
type failFunc func(format string, args ...any)

// bounded runs fn on its own goroutine and fails the test if it has not
// returned within perInputTimeout: a deadlock in the stack. fn reports
// failures through fail, which ends fn's goroutine (deferred calls run);
// a panic in fn is re-raised on the test goroutine so the fuzzer records it.
func bounded(t *testing.T, fn func(fail failFunc)) {
	t.Helper()
	done := make(chan any, 1)
	fail := func(format string, args ...any) {
		t.Errorf(format, args...)
		runtime.Goexit()
	}
	go func() {
		defer func() { done <- recover() }()
		fn(fail)
	}()
	select {
	case p := <-done:
		if p != nil {
			panic(p)
		}
		if t.Failed() {
			t.FailNow()
		}
	case <-time.After(perInputTimeout):
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Fatalf("input did not finish within %v (deadlock?); goroutines:\n%s", perInputTimeout, buf[:n])
	}
}

// goroutineSlack is how many goroutines above the baseline a closed stack
// may leave running for a moment (timers firing, the fuzz engine's own).
const goroutineSlack = 8

// settleGoroutines polls until the goroutine count is at most limit or
// the wait is over, and returns the last count.
func settleGoroutines(limit int, wait time.Duration) int {
	deadline := time.Now().Add(wait)
	for {
		n := runtime.NumGoroutine()
		if n <= limit || time.Now().After(deadline) {
			return n
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkGoroutines fails if, after stacks were closed, goroutines stay above
// baseline+goroutineSlack for a second.
func checkGoroutines(t *testing.T, baseline int) {
	t.Helper()
	if n := settleGoroutines(baseline+goroutineSlack, time.Second); n > baseline+goroutineSlack {
		buf := make([]byte, 1<<20)
		k := runtime.Stack(buf, true)
		t.Fatalf("goroutines: %d after close, baseline %d:\n%s", n, baseline, buf[:k])
	}
}
