package nsnet

import (
	"errors"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/endpoint"
)

// waitQueuer is the readiness queue every endpoint socket has
// (endpoint/waitqueue.go); it is not in endpoint.Socket, so it is asserted.
type waitQueuer interface{ WaitQueue() *waiter.Queue }

// fd is a socket put in nonblocking mode. Blocking calls are emulated here
// rather than by the socket's own blocking mode, because the socket's wait
// cannot be cut short by SetDeadline or by a cancelled context.
type fd struct {
	s      endpoint.Socket
	q      *waiter.Queue
	rd, wd deadline

	closeOnce sync.Once
	closing   chan struct{}
}

func newFD(s endpoint.Socket) *fd {
	s.SetNonblock(true)
	f := &fd{s: s, closing: make(chan struct{})}
	if wq, ok := s.(waitQueuer); ok {
		f.q = wq.WaitQueue()
	}
	return f
}

// close wakes every blocked call, then closes the socket.
func (f *fd) close() error {
	err := net.ErrClosed
	f.closeOnce.Do(func() {
		close(f.closing)
		err = f.s.Close()
	})
	return err
}

func (f *fd) closed() bool {
	select {
	case <-f.closing:
		return true
	default:
		return false
	}
}

func (f *fd) setDeadline(t time.Time) { f.rd.set(t); f.wd.set(t) }

// pollFallback bounds each sleep when a socket has no wait queue.
const pollFallback = 10 * time.Millisecond

// do runs op until it answers something other than EAGAIN, waiting for
// events in mask between tries. It returns net.ErrClosed once the fd is
// closed, os.ErrDeadlineExceeded past d's deadline and ctx's error when
// done is closed. The waiter is registered before the first try, so an
// event between a try's EAGAIN and the wait is not lost, and the wait is
// for a new event rather than a readiness check: a level-triggered
// EPOLLERR that op does not consume (a queued error under a Read) would
// otherwise spin. A spurious wake only costs a retry.
func (f *fd) do(d *deadline, mask waiter.EventMask, done <-chan struct{}, op func() error) error {
	var (
		entry waiter.Entry
		ch    chan struct{}
	)
	if f.q != nil {
		entry, ch = waiter.NewChannelEntry(mask | waiter.EventHUp | waiter.EventErr)
		f.q.EventRegister(&entry)
		defer f.q.EventUnregister(&entry)
	}
	for {
		if f.closed() {
			return net.ErrClosed
		}
		t, changed := d.get()
		if !t.IsZero() && !time.Now().Before(t) {
			return os.ErrDeadlineExceeded
		}
		err := op()
		if err == unix.EBADF {
			// Closed under us: by a racing Close, or by its stack
			// closing. Either way package net's word is ErrClosed.
			return net.ErrClosed
		}
		if err != unix.EAGAIN {
			return err
		}
		if err := f.wait(ch, t, changed, done); err != nil {
			return err
		}
	}
}

// wait blocks until an event on ch, the deadline t, a deadline change,
// done, or close.
func (f *fd) wait(ch <-chan struct{}, t time.Time, changed, done <-chan struct{}) error {
	// A deadline that passed since the caller looked fires at once (0),
	// never reads as "no deadline".
	wait, timed := time.Duration(0), !t.IsZero()
	if timed {
		wait = max(time.Until(t), 0)
	}
	if ch == nil && (!timed || wait > pollFallback) {
		wait, timed = pollFallback, true
	}
	var timeout <-chan time.Time
	if timed {
		tm := time.NewTimer(wait)
		defer tm.Stop()
		timeout = tm.C
	}
	select {
	case <-ch:
	case <-timeout:
	case <-changed:
	case <-done:
		return errCanceled
	case <-f.closing:
		return net.ErrClosed
	}
	return nil
}

// errCanceled marks a wait ended by done; the dialer replaces it with the
// context's own error.
var errCanceled = errors.New("nsnet: canceled")
