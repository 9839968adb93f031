package stack_test

import (
	"fmt"
	"sync"
	"testing"

	"netsandbox/stack"
)

// TestConcurrentBindSendRelease exercises the binding paths from several
// goroutines at once; run with -race.
func TestConcurrentBindSendRelease(t *testing.T) {
	s := newStack(t, stack.Config{})
	sink := newRecorder()
	bind(t, s, sink, "127.0.0.1:9999", stack.UDPBindFlags{})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				b, err := s.UDPBind(newRecorder(), ap("127.0.0.1:0"), stack.UDPBindFlags{})
				if err != nil {
					errs <- fmt.Errorf("bind: %v", err)
					return
				}
				if err := b.Connect(ap("127.0.0.1:9999")); err != nil {
					errs <- fmt.Errorf("connect: %v", err)
				}
				if err := s.SendUDP(&stack.UDPSend{Src: b.Local(), Dst: ap("127.0.0.1:9999"), Payload: []byte{byte(g)}}); err != nil {
					errs <- fmt.Errorf("send: %v", err)
				}
				b.Release()
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := s.Stats().UDPOutDatagrams.Load(); n != 200 {
		t.Errorf("OutDatagrams %d, want 200", n)
	}
}
