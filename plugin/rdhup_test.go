package plugin

import (
	"testing"

	"gvisor.dev/gvisor/pkg/waiter"
)

// TestRdHUpWaiterWokenByReadable: gVisor's TCP announces the peer's FIN as
// readable only; a waiter for EPOLLRDHUP alone must still wake, and its
// companion entry must go with it.
func TestRdHUpWaiterWokenByReadable(t *testing.T) {
	s := &sock{q: &waiter.Queue{}}
	e, ch := waiter.NewChannelEntry(waiter.EventRdHUp)
	if err := s.EventRegister(&e); err != nil {
		t.Fatal(err)
	}
	s.q.Notify(waiter.ReadableEvents)
	select {
	case <-ch:
	default:
		t.Fatal("EPOLLRDHUP waiter not woken by a readable notification")
	}
	s.EventUnregister(&e)
	if !s.q.IsEmpty() || len(s.rdhup) != 0 {
		t.Fatalf("entries left after unregister: queue empty %v, companions %d", s.q.IsEmpty(), len(s.rdhup))
	}

	// A waiter that asks for readable events too has no companion.
	e2, _ := waiter.NewChannelEntry(waiter.EventIn | waiter.EventRdHUp)
	s.EventRegister(&e2)
	if len(s.rdhup) != 0 {
		t.Fatal("companion for a waiter that has EventIn")
	}
	s.EventUnregister(&e2)
}
