package endpoint

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/stack"
)

// base is what every socket kind shares: the stack, its identity for
// SO_TYPE/SO_PROTOCOL, the O_NONBLOCK flag, the wait queue readiness changes
// are announced on, and the SOL_SOCKET/SOL_IP option values kept in our
// layer.
type base struct {
	s     *stack.Stack
	typ   int
	proto int
	q     *waiter.Queue

	nonblock atomic.Bool

	closeOnce sync.Once
	closed    chan struct{} // closed by Close: wakes every blocked call

	optMu sync.Mutex
	opts  sockOpts

	peekOff peekOffset // SO_PEEK_OFF (peekoff.go)
	stamp   sockStamp  // SIOCGSTAMP's sk_stamp (ioctl_stamp.go)

	rxBits atomic.Uint32 // rxFlags: control messages recvmsg adds (recvopts.go)
	mcast  mcastOpts     // guarded by optMu (mcastopts.go)
	memb   mcMembers     // multicast memberships (mcast_member.go)
	memb6  mcMembers     // IPv6 ones, AF_INET6 sockets only (mcast6_member.go)

	untrack   atomic.Pointer[func()] // drops the stack's OnClose hook (track)
	userClose atomic.Bool            // the owner's Close has run (beginClose)
}

func (b *base) init(s *stack.Stack, typ, proto int) {
	b.s, b.typ, b.proto = s, typ, proto
	b.q = &waiter.Queue{}
	b.closed = make(chan struct{})
	b.opts = defaultOpts(s, typ, proto)
}

// track lets stack.Close end the socket's blocked calls. It runs once the
// socket is complete (New, Accept), so a socket whose construction failed
// leaves no hook behind and the hook never sees a half-built socket.
func (b *base) track() {
	remove := b.s.OnClose(func() { b.markClosed() })
	b.untrack.Store(&remove)
	if b.isClosed() {
		remove() // closed while the hook was being registered
	}
}

// beginClose is the start of the owner's Close: it wakes every waiter and
// reports whether this is the owner's first Close, whose clean-up must run
// even when the stack's closing already woke the waiters.
func (b *base) beginClose() bool {
	b.markClosed()
	return b.userClose.CompareAndSwap(false, true)
}

func (b *base) SetNonblock(v bool) { b.nonblock.Store(v) }

// mayBlock tells whether a call with these MSG_* flags waits for readiness.
func (b *base) mayBlock(flags int) bool {
	return !b.nonblock.Load() && flags&unix.MSG_DONTWAIT == 0
}

// markClosed wakes every waiter and makes the socket's calls answer EBADF;
// it reports whether this was the first call.
func (b *base) markClosed() bool {
	first := false
	b.closeOnce.Do(func() {
		first = true
		close(b.closed)
		if remove := b.untrack.Load(); remove != nil {
			(*remove)()
		}
		b.q.Notify(waiter.EventIn | waiter.EventOut | waiter.EventHUp | waiter.EventErr)
	})
	return first
}

func (b *base) isClosed() bool {
	select {
	case <-b.closed:
		return true
	default:
		return false
	}
}

// waitReady blocks until ready(mask) is non-zero, the deadline passes
// (EAGAIN, as Linux reports an expired SO_RCVTIMEO/SO_SNDTIMEO) or the socket
// is closed (EBADF). EPOLLERR and EPOLLHUP always wake it, as in poll(2).
func (b *base) waitReady(ready func(uint32) uint32, mask uint32, deadline time.Time) (uint32, error) {
	mask |= unix.EPOLLERR | unix.EPOLLHUP
	if r := ready(mask); r != 0 {
		return r, nil
	}
	w := getWaitEntry(waiter.EventMaskFromLinux(mask))
	b.q.EventRegister(&w.e)
	defer putWaitEntry(b.q, w)
	ch := w.ch
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return 0, unix.EAGAIN
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	for {
		// Checked after registering so a notification between the first
		// check and EventRegister is not lost.
		if r := ready(mask); r != 0 {
			return r, nil
		}
		select {
		case <-ch:
		case <-timeout:
			if r := ready(mask); r != 0 {
				return r, nil
			}
			return 0, unix.EAGAIN
		case <-b.closed:
			return 0, unix.EBADF
		}
	}
}

// waitEntry is a waiter entry with its channel, pooled so that a blocking
// call that has to wait allocates nothing in steady state.
type waitEntry struct {
	e  waiter.Entry
	ch chan struct{}
}

var waitEntries = sync.Pool{New: func() any {
	w := &waitEntry{ch: make(chan struct{}, 1)}
	w.e.Init(waiter.ChannelNotifier(w.ch), 0)
	return w
}}

func getWaitEntry(mask waiter.EventMask) *waitEntry {
	w := waitEntries.Get().(*waitEntry)
	w.e.Init(waiter.ChannelNotifier(w.ch), mask)
	return w
}

// putWaitEntry unregisters w and returns it to the pool with its channel
// drained, so a late notification cannot wake its next user.
func putWaitEntry(q *waiter.Queue, w *waitEntry) {
	q.EventUnregister(&w.e)
	select {
	case <-w.ch:
	default:
	}
	waitEntries.Put(w)
}

// deadlineAfter turns an SO_RCVTIMEO/SO_SNDTIMEO value into a deadline
// (0 = wait forever).
func deadlineAfter(d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return time.Now().Add(d)
}
