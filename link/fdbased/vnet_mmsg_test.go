package fdbased

import (
	"encoding/binary"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// The batched reader and the write queue need only recvmmsg and sendmmsg,
// so these tests serve the endpoint on one end of an AF_UNIX datagram
// socketpair: the other end plays the packet socket's wire, one frame
// (virtio header, then Ethernet) per datagram, with no namespace needed.

const testEtherType = 0x88b5 // IEEE local experimental: no protocol parses it

var (
	mmsgMAC  = tcpip.LinkAddress("\x02\x00\x00\x00\x00\x01")
	peerMAC  = tcpip.LinkAddress("\x02\x00\x00\x00\x00\x02")
	srcPeer  = byte(1) // frames the peer sends
	srcReply = byte(2) // replies the dispatcher writes on the reader
	srcOther = byte(3) // frames another goroutine writes
)

// newMmsgPair returns a batching endpoint on one end of a socketpair and
// the other end (blocking, with a 5 s receive timeout).
func newMmsgPair(t testing.TB) (*vnetEndpoint, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 1<<20)
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20)
	}
	ep, err := newVnet(fds[0], 1500, mmsgMAC, false)
	if err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		t.Fatal(err)
	}
	ep.mmsg = true
	unix.SetsockoptTimeval(fds[1], unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 5})
	t.Cleanup(func() {
		ep.Close()
		unix.Close(fds[1])
	})
	return ep, fds[1]
}

// testFrame is a virtio header and an Ethernet frame from src carrying
// src and seq, padded to size bytes of Ethernet payload.
func testFrame(dst, src tcpip.LinkAddress, from byte, seq uint32, size int) []byte {
	f := make([]byte, vnetHdrSize+header.EthernetMinimumSize+max(size, 5))
	header.Ethernet(f[vnetHdrSize:]).Encode(&header.EthernetFields{SrcAddr: src, DstAddr: dst, Type: testEtherType})
	p := f[vnetHdrSize+header.EthernetMinimumSize:]
	p[0] = from
	binary.BigEndian.PutUint32(p[1:], seq)
	return f
}

// parseFrame returns the source tag and sequence number of a frame read
// from the peer's end (virtio header included).
func parseFrame(f []byte) (from byte, seq uint32, ok bool) {
	p := f[min(len(f), vnetHdrSize+header.EthernetMinimumSize):]
	if len(p) < 5 {
		return 0, 0, false
	}
	return p[0], binary.BigEndian.Uint32(p[1:]), true
}

// outPacket is a packet the stack would write: Ethernet header to the
// peer, then from and seq.
func outPacket(from byte, seq uint32) *stack.PacketBuffer {
	p := make([]byte, 5)
	p[0] = from
	binary.BigEndian.PutUint32(p[1:], seq)
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{
		ReserveHeaderBytes: header.EthernetMinimumSize,
		Payload:            buffer.MakeWithData(p),
	})
	header.Ethernet(pkt.LinkHeader().Push(header.EthernetMinimumSize)).Encode(&header.EthernetFields{
		SrcAddr: mmsgMAC, DstAddr: peerMAC, Type: testEtherType,
	})
	return pkt
}

// write writes one packet as the stack would, and lets go of it. A
// refused write (the wire's socket full: the peer reads slower than the
// frames come) is an error.
func write(ep *vnetEndpoint, pkt *stack.PacketBuffer) tcpip.Error {
	var l stack.PacketBufferList
	l.PushBack(pkt)
	_, err := ep.WritePackets(l)
	pkt.DecRef()
	return err
}

// replier is a dispatcher that answers every frame it is given, on the
// reader's goroutine, with a frame of the same sequence number.
type replier struct {
	ep        *vnetEndpoint
	delivered atomic.Int64
}

func (r *replier) DeliverNetworkPacket(_ tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	r.delivered.Add(1)
	b := pkt.Data().AsRange().ToSlice() // after the Ethernet header
	if len(b) < 5 || b[0] != srcPeer {
		return
	}
	write(r.ep, outPacket(srcReply, binary.BigEndian.Uint32(b[1:])))
}

func (*replier) DeliverLinkPacket(tcpip.NetworkProtocolNumber, *stack.PacketBuffer) {}

// peerRead reads one frame at the peer, again if a signal (the Go
// runtime's preemption) interrupts the wait.
func peerRead(fd int, buf []byte) (int, error) {
	for {
		n, err := unix.Read(fd, buf)
		if err != unix.EINTR {
			return n, err
		}
	}
}

// readFrame reads one frame at the peer.
func readFrame(t testing.TB, fd int) []byte {
	t.Helper()
	buf := make([]byte, 2048)
	n, err := peerRead(fd, buf)
	if err != nil {
		t.Fatalf("peer read: %v", err)
	}
	return buf[:n]
}

// TestBatchRepliesLeaveTogether: frames queued before the reader starts
// are taken in one recvmmsg, and the replies written while they are
// delivered leave in one sendmmsg, in order.
func TestBatchRepliesLeaveTogether(t *testing.T) {
	ep, peer := newMmsgPair(t)
	const n = vnetRecvBatch
	for i := range n {
		if _, err := unix.Write(peer, testFrame(mmsgMAC, peerMAC, srcPeer, uint32(i), 60)); err != nil {
			t.Fatal(err)
		}
	}
	ep.Attach(&replier{ep: ep})
	for i := range n {
		from, seq, ok := parseFrame(readFrame(t, peer))
		if !ok || from != srcReply || seq != uint32(i) {
			t.Fatalf("reply %d: from %d seq %d (ok %v)", i, from, seq, ok)
		}
	}
	ep.Attach(nil) // waits for the reader: its counters move after the syscall
	if rx, tx := ep.rxBatches.Load(), ep.txBatches.Load(); rx != 1 || tx != 1 {
		t.Errorf("%d frames in %d recvmmsg and their replies in %d sendmmsg; want 1 and 1", n, rx, tx)
	}
	if got := ep.framesOut.Load(); got != n {
		t.Errorf("framesOut %d, want %d", got, n)
	}
}

// TestIdleWriteGoesOutAtOnce: with the reader waiting for frames, a write
// is not queued: it is on the wire when WritePackets returns.
func TestIdleWriteGoesOutAtOnce(t *testing.T) {
	ep, peer := newMmsgPair(t)
	ep.Attach(&replier{ep: ep})
	for i := range 3 {
		if err := write(ep, outPacket(srcOther, uint32(i))); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 2048)
		n, _, err := unix.Recvfrom(peer, buf, unix.MSG_DONTWAIT)
		if err != nil {
			t.Fatalf("write %d not on the wire when WritePackets returned: %v", i, err)
		}
		if from, seq, _ := parseFrame(buf[:n]); from != srcOther || seq != uint32(i) {
			t.Fatalf("write %d: got from %d seq %d", i, from, seq)
		}
	}
	if tx := ep.txBatches.Load(); tx != 0 {
		t.Errorf("%d sendmmsg for idle writes, want 0", tx)
	}
}

// TestWritesKeepOrder: frames another goroutine writes while the reader
// delivers (some queued, some direct) and the reader's own replies each
// reach the wire in the order they were written. A frame the full socket
// refused may be missing, never overtaken.
func TestWritesKeepOrder(t *testing.T) {
	ep, peer := newMmsgPair(t)
	r := &replier{ep: ep}
	ep.Attach(r)
	const n = 3000
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // the wire's traffic toward the stack
		defer wg.Done()
		for i := range n {
			for {
				_, err := unix.Write(peer, testFrame(mmsgMAC, peerMAC, srcPeer, uint32(i), 60))
				if err == nil {
					break
				}
				if err != unix.EINTR {
					t.Error(err)
					return
				}
			}
		}
	}()
	go func() { // a sender of the stack's
		defer wg.Done()
		for i := range n {
			write(ep, outPacket(srcOther, uint32(i)))
			if i%64 == 0 {
				runtime.Gosched()
			}
		}
	}()
	last := map[byte]int64{srcReply: -1, srcOther: -1}
	got := map[byte]int{}
	buf := make([]byte, 2048)
	for last[srcReply] < n-1 || last[srcOther] < n-1 {
		k, err := peerRead(peer, buf)
		if err != nil {
			t.Logf("peer read: %v", err)
			break // the last frames of a source were refused: nothing more comes
		}
		from, seq, ok := parseFrame(buf[:k])
		if !ok || (from != srcReply && from != srcOther) {
			t.Fatalf("stray frame % x", buf[:k])
		}
		if int64(seq) <= last[from] {
			t.Fatalf("source %d: frame %d came after frame %d", from, seq, last[from])
		}
		last[from] = int64(seq)
		got[from]++
	}
	wg.Wait()
	ep.Attach(nil)
	if got[srcReply] < n/2 || got[srcOther] < n/2 {
		t.Errorf("of %d each, %d replies and %d other frames arrived", n, got[srcReply], got[srcOther])
	}
	if ep.txBatches.Load() == 0 {
		t.Error("no write was batched")
	}
	t.Logf("%d frames in %d recvmmsg; %d out, %d sendmmsg; %d queued frames refused", ep.framesIn.Load(), ep.rxBatches.Load(), ep.framesOut.Load(), ep.txBatches.Load(), ep.txDropped.Load())
}

// TestOversizedFrameDropped: a frame larger than the read buffers is
// counted and dropped, and the reader goes on with the next.
func TestOversizedFrameDropped(t *testing.T) {
	ep, peer := newMmsgPair(t)
	r := &replier{ep: ep}
	if _, err := unix.Write(peer, testFrame(mmsgMAC, peerMAC, srcPeer, 0, vnetBigHead+vnetMaxFrame)); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(peer, testFrame(mmsgMAC, peerMAC, srcPeer, 1, 60)); err != nil {
		t.Fatal(err)
	}
	ep.Attach(r)
	from, seq, _ := parseFrame(readFrame(t, peer))
	if from != srcReply || seq != 1 {
		t.Fatalf("first reply: from %d seq %d, want the second frame's", from, seq)
	}
	if got := ep.rxTooBig.Load(); got != 1 {
		t.Errorf("rxTooBig %d, want 1", got)
	}
	if got := r.delivered.Load(); got != 1 {
		t.Errorf("%d frames delivered, want 1", got)
	}
}

// TestCloseWhileFlooded: Close returns promptly while frames pour in and
// replies go out, and leaves no reader behind.
func TestCloseWhileFlooded(t *testing.T) {
	ep, peer := newMmsgPair(t)
	ep.Attach(&replier{ep: ep})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // flood
		defer wg.Done()
		for i := uint32(0); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			unix.Sendto(peer, testFrame(mmsgMAC, peerMAC, srcPeer, i, 60), unix.MSG_DONTWAIT, nil)
		}
	}()
	go func() { // drain the replies
		defer wg.Done()
		buf := make([]byte, 2048)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, _, err := unix.Recvfrom(peer, buf, unix.MSG_DONTWAIT); err != nil {
				time.Sleep(100 * time.Microsecond)
			}
		}
	}()
	time.Sleep(200 * time.Millisecond)
	done := make(chan struct{})
	go func() { ep.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return within 5 s under a flood")
	}
	close(stop)
	wg.Wait()
	if ep.framesIn.Load() == 0 || ep.framesOut.Load() == 0 {
		t.Errorf("no traffic before Close: %d in, %d out", ep.framesIn.Load(), ep.framesOut.Load())
	}
	if ep.IsAttached() {
		t.Error("attached after Close")
	}
	buf := make([]byte, 1<<20)
	if s := string(buf[:runtime.Stack(buf, true)]); strings.Contains(s, "readBatches") || strings.Contains(s, "sendQueueLocked") {
		t.Errorf("a reader or writer outlived Close:\n%s", s)
	}
	ep.tx.mu.Lock()
	defer ep.tx.mu.Unlock()
	if ep.tx.busy || len(ep.tx.q) != 0 {
		t.Errorf("write queue left busy %v with %d frames", ep.tx.busy, len(ep.tx.q))
	}
}
