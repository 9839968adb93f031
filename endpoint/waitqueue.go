package endpoint

import "gvisor.dev/gvisor/pkg/waiter"

// WaitQueue returns the queue the socket announces its readiness changes
// on, for a host that multiplexes sockets itself (gVisor's sentry registers
// its poll, epoll and blocking waiters on it). Every Socket that New returns
// has it.
func (b *base) WaitQueue() *waiter.Queue { return b.q }
