package channel

import "sync"

// Join connects a and b like a cable: frames either stack sends arrive at the
// other. One goroutine per direction moves frames (never one per frame), so
// a stack that answers on its receive path never re-enters the sender's
// stack while the sender still holds its locks. Frames are delivered in
// order. stop disconnects the wire and waits for both goroutines to return;
// it may be called more than once. The goroutines also end when either
// endpoint is closed.
//
// While joined, frames still pass the OnFrame observers of both ends, so a
// PcapWriter on one end captures the conversation.
func Join(a, b *Endpoint) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go carry(&wg, quit, a.port, b.port)
	go carry(&wg, quit, b.port, a.port)
	var once sync.Once
	return func() {
		once.Do(func() {
			close(quit)
			wg.Wait()
		})
	}
}

// carry moves frames sent by from into to until quit or either end closes.
func carry(wg *sync.WaitGroup, quit <-chan struct{}, from, to *port) {
	defer wg.Done()
	for {
		select {
		case frame := <-from.out:
			to.deliver(frame)
		case <-quit:
			return
		case <-from.done:
			return
		case <-to.done:
			return
		}
	}
}
