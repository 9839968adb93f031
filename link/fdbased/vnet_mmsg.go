package fdbased

import (
	"unsafe"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// On a packet socket the reader takes what has arrived in one recvmmsg,
// up to vnetRecvBatch frames, instead of one readv per frame, and
// delivers each frame on its own goroutine, in order, as readLoop does.
// Writes the stack makes meanwhile (replies the deliveries cause, or
// another goroutine's) are queued and leave in one sendmmsg when the
// batch is done (vnet_txq.go); when the reader is idle a write goes out
// at once.

// vnetRecvBatch is the most frames one recvmmsg takes. Every slot can
// hold a 64 KiB frame (a peer's TCP segment before segmentation), so the
// reader holds about vnetRecvBatch*64 KiB of buffers; 16 already makes
// the system call a small share of a frame's cost.
const vnetRecvBatch = 16

// rxBatch is the reader's buffers: one rxBuffers per slot, and the
// headers recvmmsg fills in.
type rxBatch struct {
	slots []rxBuffers
	iovs  [][3]unix.Iovec
	msgs  []unix.Mmsghdr
}

func newRxBatch(n int) *rxBatch {
	b := &rxBatch{slots: make([]rxBuffers, n), iovs: make([][3]unix.Iovec, n), msgs: make([]unix.Mmsghdr, n)}
	for i := range b.slots {
		b.slots[i].scratch = make([]byte, vnetMaxFrame)
	}
	return b
}

// arm points every message at its slot's buffers (a delivered frame took
// its slot's head, so the head may be new).
func (b *rxBatch) arm() {
	for i := range b.slots {
		b.iovs[i] = b.slots[i].iovecs()
		m := &b.msgs[i]
		m.Hdr = unix.Msghdr{Iov: &b.iovs[i][0]}
		m.Hdr.SetIovlen(len(b.iovs[i]))
		m.Len = 0
	}
}

func (b *rxBatch) release() {
	for i := range b.slots {
		b.slots[i].release()
	}
}

// readBatches reads batches of frames until Attach(nil) or a read error,
// and delivers them on this goroutine.
func (e *vnetEndpoint) readBatches(d stack.NetworkDispatcher) {
	b := newRxBatch(vnetRecvBatch)
	defer b.release()
	for {
		b.arm()
		n, errno := e.recvmmsg(b.msgs)
		if n < 0 || (errno != 0 && errno != unix.EINTR) {
			if errno != 0 {
				e.readFailed()
			}
			return
		}
		if n == 0 {
			continue // EINTR
		}
		e.rxBatches.Add(1)
		e.tx.begin()
		for i := range n {
			m := &b.msgs[i]
			if m.Hdr.Flags&unix.MSG_TRUNC != 0 {
				// Larger than header, head and scratch: cut short, it
				// would only be dropped as malformed further up.
				e.rxTooBig.Add(1)
				continue
			}
			e.receive(d, &b.slots[i], int(m.Len))
		}
		e.flushQueued()
	}
}

// recvmmsg reads what has arrived, up to len(msgs) frames, parking in the
// netpoller while there is nothing. It returns -1 once Attach(nil)
// stopped the reader, and 0 with EINTR.
func (e *vnetEndpoint) recvmmsg(msgs []unix.Mmsghdr) (int, unix.Errno) {
	n, errno := -1, unix.Errno(0)
	err := e.rc.Read(func(fd uintptr) bool {
		r, _, en := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&msgs[0])), uintptr(len(msgs)), unix.MSG_DONTWAIT, 0, 0)
		switch en {
		case 0:
			n = int(r)
		case unix.EAGAIN:
			return false // wait for readability
		case unix.EINTR:
			n = 0
		}
		errno = en
		return true
	})
	if err != nil {
		return -1, 0 // the deadline of Attach(nil), or the file closed
	}
	return n, errno
}
