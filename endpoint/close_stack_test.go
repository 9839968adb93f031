package endpoint

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// Closing the stack wakes its sockets' calls, but each socket's own Close
// still runs its clean-up once and succeeds, as close(2) does; a second
// Close is EBADF.
func TestCloseAfterStackClose(t *testing.T) {
	s := newStack(t, stack.AllCaps, map[string]string{"net.ipv4.ping_group_range": "0 2147483647"})
	var socks []Socket
	for _, k := range [][3]int{
		{unix.AF_INET, unix.SOCK_DGRAM, 0},
		{unix.AF_INET, unix.SOCK_STREAM, 0},
		{unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP},
		{unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP},
	} {
		so, err := New(s, k[0], k[1], k[2])
		if err != nil {
			t.Fatalf("socket %v: %v", k, err)
		}
		socks = append(socks, so)
	}
	if err := socks[0].Bind(sa("127.0.0.1:9999")); err != nil {
		t.Fatal(err)
	}
	if err := socks[1].Bind(sa("127.0.0.1:9998")); err != nil {
		t.Fatal(err)
	}
	if err := socks[1].Listen(4); err != nil {
		t.Fatal(err)
	}
	// A call blocked in each socket returns when the stack closes.
	done := make(chan int, len(socks))
	for i, so := range socks {
		go func() {
			if i == 1 {
				so.Accept(0)
			} else {
				so.RecvMsg(make([]byte, 8), nil, 0)
			}
			done <- i
		}()
	}
	time.Sleep(50 * time.Millisecond) // let them block
	s.Close()
	for range socks {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("a call blocked in a socket did not return when its stack closed")
		}
	}
	for i, so := range socks {
		if err := so.Close(); err != nil {
			t.Errorf("socket %d: first Close after stack close: %v, want nil", i, err)
		}
		if err := so.Close(); err != unix.EBADF {
			t.Errorf("socket %d: second Close: %v, want EBADF", i, err)
		}
	}
}
