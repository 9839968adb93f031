package stack_test

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"

	"netsandbox/stack"
)

// TestUDPRouteCacheConcurrent sends to more destinations than the cache
// has slots from several goroutines while routes and addresses are added,
// so that lookups, replacements and invalidations overlap; run with -race.
// A route reference given back twice panics in gVisor.
func TestUDPRouteCacheConcurrent(t *testing.T) {
	s := newStack(t, stack.Config{})
	ch, idx := attach(t, s, "10.0.0.1/24")
	ctx, cancel := context.WithCancel(context.Background())
	drained := make(chan struct{})
	go func() { // keep the link's queue from filling
		defer close(drained)
		for {
			pkt := ch.ReadContext(ctx)
			if pkt == nil {
				return
			}
			pkt.DecRef()
		}
	}()
	defer func() { cancel(); <-drained }()

	const senders, sends = 4, 400
	var wg sync.WaitGroup
	errs := make(chan error, senders+1)
	for g := 0; g < senders; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < sends; i++ {
				dst := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(2 + (i+g)%20)}), 9)
				if err := s.SendUDP(&stack.UDPSend{Src: ap("0.0.0.0:5000"), Dst: dst, Payload: []byte{byte(g)}}); err != nil {
					errs <- fmt.Errorf("sender %d, send %d: %v", g, i, err)
					return
				}
			}
		}(g)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 40; i++ {
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 9, byte(i), 1}), 24)
			if err := s.AddAddress(idx, p); err != nil {
				errs <- fmt.Errorf("AddAddress %v: %v", p, err)
				return
			}
			if err := s.AddRoute(netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, byte(i), 0}), 24), netip.Addr{}, idx); err != nil {
				errs <- fmt.Errorf("AddRoute: %v", err)
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := s.Stats().UDPOutDatagrams.Load(); n != senders*sends {
		t.Errorf("OutDatagrams %d, want %d", n, senders*sends)
	}
}
