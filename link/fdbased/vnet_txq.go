package fdbased

import (
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/rawfile"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// Write batching on a packet socket. While the reader delivers a batch,
// every write (the replies the deliveries cause on the reader, and what
// other goroutines send meanwhile, an echo's answers) joins a queue, and
// the reader sends the queue with one sendmmsg once the batch is
// delivered. When the reader is idle a write goes out at once, so an idle
// round trip waits for nothing.
//
// Order: a frame is queued or written under txQueue.mu, and the writer
// takes the write lock before it lets go of mu; the reader takes the
// queue and the write lock the same way. So frames reach the socket in
// the order they were written, whether queued or not.

// txBatchMax is the most frames one sendmmsg sends; a queue that reaches
// it is sent at once by the writer that filled it.
const txBatchMax = 64

// txQueue is the write side's state of a packet-socket endpoint.
type txQueue struct {
	mu    sync.Mutex
	busy  bool                  // the reader is delivering a batch or sending its queue
	q     []*stack.PacketBuffer // frames written while busy, each with a reference of ours
	spare []*stack.PacketBuffer // the last sent queue's array, for the next

	// wr is held across every write to the fd; taken under mu.
	wr   sync.Mutex
	hdrs [txBatchMax][vnetHdrSize]byte
	iovs []unix.Iovec
	msgs [txBatchMax]unix.Mmsghdr
}

// begin marks the reader busy: writes queue until flushQueued.
func (t *txQueue) begin() {
	t.mu.Lock()
	t.busy = true
	t.mu.Unlock()
}

// writeOrQueue queues pkts while the reader is busy, and writes them
// otherwise. A queued frame counts as written; if the socket refuses it
// later it is counted in txDropped, as a full device queue drops.
func (e *vnetEndpoint) writeOrQueue(pkts []*stack.PacketBuffer) (int, tcpip.Error) {
	t := &e.tx
	t.mu.Lock()
	if t.busy {
		for _, pkt := range pkts {
			t.q = append(t.q, pkt.IncRef())
		}
		if len(t.q) >= txBatchMax {
			e.sendQueueLocked()
		} else {
			t.mu.Unlock()
		}
		return len(pkts), nil
	}
	t.wr.Lock()
	t.mu.Unlock()
	defer t.wr.Unlock()
	if len(pkts) == 1 {
		return e.writeEach(pkts)
	}
	return e.sendmmsg(pkts), nil
}

// flushQueued sends what was queued during the reader's batch, and what
// is queued while it sends, then lets writes go out directly again.
func (e *vnetEndpoint) flushQueued() {
	t := &e.tx
	for {
		t.mu.Lock()
		if len(t.q) == 0 {
			t.busy = false
			t.mu.Unlock()
			return
		}
		e.sendQueueLocked()
	}
}

// sendQueueLocked sends the queue and drops its references. Called with
// tx.mu held, which it releases once it holds the write lock.
func (e *vnetEndpoint) sendQueueLocked() {
	t := &e.tx
	q := t.q
	t.q, t.spare = t.spare[:0], nil
	t.wr.Lock()
	t.mu.Unlock()
	e.sendmmsg(q)
	t.wr.Unlock()
	for i, pkt := range q {
		pkt.DecRef()
		q[i] = nil
	}
	t.mu.Lock()
	if t.spare == nil {
		t.spare = q[:0]
	}
	t.mu.Unlock()
}

// sendmmsg writes pkts, txBatchMax frames a system call, and returns how
// many the socket took; a refused frame is counted in txDropped and the
// rest still go. Called with tx.wr held.
func (e *vnetEndpoint) sendmmsg(pkts []*stack.PacketBuffer) int {
	t := &e.tx
	sent := 0
	for len(pkts) > 0 {
		k := min(len(pkts), txBatchMax)
		// Iovecs first, then the messages: appending may move the array.
		t.iovs = t.iovs[:0]
		var starts [txBatchMax + 1]int
		for i, pkt := range pkts[:k] {
			starts[i] = len(t.iovs)
			vnetHeader(t.hdrs[i][:], pkt)
			t.iovs = append(t.iovs, rawfile.IovecFromBytes(t.hdrs[i][:]))
			views, off := pkt.AsViewList()
			for v := views.Front(); v != nil; v = v.Next() {
				b := v.AsSlice()
				if off >= len(b) {
					off -= len(b)
					continue
				}
				t.iovs = append(t.iovs, rawfile.IovecFromBytes(b[off:]))
				off = 0
			}
		}
		starts[k] = len(t.iovs)
		for i := range k {
			t.msgs[i] = unix.Mmsghdr{Hdr: unix.Msghdr{Iov: &t.iovs[starts[i]]}}
			t.msgs[i].Hdr.SetIovlen(starts[i+1] - starts[i])
		}
		for i := 0; i < k; {
			r, _, errno := unix.RawSyscall6(unix.SYS_SENDMMSG, uintptr(e.fd), uintptr(unsafe.Pointer(&t.msgs[i])), uintptr(k-i), unix.MSG_DONTWAIT, 0, 0)
			switch errno {
			case 0:
				i += int(r)
				sent += int(r)
				e.txBatches.Add(1)
			case unix.EINTR:
			default:
				// Message i was refused (a full queue, a device
				// gone): drop it, as the wire would, and go on.
				e.txDropped.Add(1)
				i++
			}
		}
		clear(t.iovs) // let go of the frames' memory
		for i := range k {
			if t.hdrs[i][1] != 0 {
				e.gsoFramesOut.Add(1)
			}
		}
		pkts = pkts[k:]
	}
	e.framesOut.Add(uint64(sent))
	return sent
}
