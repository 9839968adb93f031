package endpoint

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"

	"netsandbox/stack"
)

// TestBindLocalAddrAfterLoopbackTraffic: a socket bound to an interface's
// address sends through that interface's routes even while a connection
// to that address over lo is open. Such a connection keeps a temporary
// copy of the address on (promiscuous) lo, and gVisor's bind, left to
// find the address's NIC itself, took lo about half the time, so sends to
// the interface's subnet failed with ENETUNREACH.
func TestBindLocalAddrAfterLoopbackTraffic(t *testing.T) {
	s := newStack(t, stack.AllCaps, map[string]string{"net.ipv4.ping_group_range": "0 0"})
	ch := channel.New(256, 1500, "")
	idx, err := s.AddInterface("eth0", ch)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddAddress(idx, netip.MustParsePrefix("10.0.0.1/24")); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRoute(netip.MustParsePrefix("10.0.0.0/24"), netip.Addr{}, idx); err != nil {
		t.Fatal(err)
	}
	// Drain what the NIC sends so its queue never fills.
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if pkt := ch.ReadContext(t.Context()); pkt != nil {
				pkt.DecRef()
			}
		}
	}()

	// A TCP connection from 10.0.0.1 to itself, left open: it runs over lo.
	l := mustSock(t, s, unix.SOCK_STREAM, 0)
	if err := l.Bind(sa("10.0.0.1:4000")); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(1); err != nil {
		t.Fatal(err)
	}
	c := mustSock(t, s, unix.SOCK_STREAM, 0)
	if err := c.Connect(sa("10.0.0.1:4000")); err != nil {
		t.Fatalf("connect to self: %v", err)
	}
	a, _, err := l.Accept(0)
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	t.Cleanup(func() { a.Close() })

	for i := 0; i < 32; i++ {
		p := mustSock(t, s, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
		if err := p.Bind(sa("10.0.0.1:0")); err != nil {
			t.Fatal(err)
		}
		if _, err := p.SendMsg(echoRequest(0, uint16(i), "x"), nil, sa("10.0.0.5:0"), 0); err != nil {
			t.Fatalf("ping %d bound to 10.0.0.1 -> 10.0.0.5: %v", i, err)
		}
		p.Close()

		r := mustSock(t, s, unix.SOCK_RAW, unix.IPPROTO_UDP)
		if err := r.Bind(sa("10.0.0.1:0")); err != nil {
			t.Fatal(err)
		}
		if _, err := r.SendMsg(make([]byte, 8), nil, sa("10.0.0.5:0"), 0); err != nil {
			t.Fatalf("raw %d bound to 10.0.0.1 -> 10.0.0.5: %v", i, err)
		}
		r.Close()

		tc := mustSock(t, s, unix.SOCK_STREAM, 0)
		tc.SetNonblock(true)
		if err := tc.Bind(sa("10.0.0.1:0")); err != nil {
			t.Fatal(err)
		}
		if err := tc.Connect(sa("10.0.0.5:80")); err != unix.EINPROGRESS {
			t.Fatalf("TCP %d bound to 10.0.0.1 connect 10.0.0.5: %v, want EINPROGRESS", i, err)
		}
		tc.Close()
	}
}

func mustSock(t *testing.T, s *stack.Stack, typ, proto int) Socket {
	t.Helper()
	so, err := New(s, unix.AF_INET, typ, proto)
	if err != nil {
		t.Fatalf("socket(%d, %d): %v", typ, proto, err)
	}
	t.Cleanup(func() { so.Close() })
	return so
}
