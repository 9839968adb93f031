package fdbased

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/rawfile"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// A TAP opened with IFF_VNET_HDR prefixes every frame, both ways, with a
// struct virtio_net_hdr. gVisor's fdbased endpoint only speaks it on
// sockets, so a TAP fd gets this endpoint instead: it writes the stack's
// TCP segments of up to gsoMaxSize bytes as one frame that the kernel
// takes as a GSO packet (segmented only if it ever leaves the host; a
// local receiver takes it whole), instead of one write(2) per MSS.
//
// Inbound, the endpoint takes checksum and TCP segmentation offload
// (TUNSETOFFLOAD TUN_F_CSUM|TUN_F_TSO4): the sandbox's TCP arrives in
// segments of up to 64 KiB, as the kernel built them before segmentation,
// and what its sockets send (TCP, UDP) may carry only the pseudo-header
// sum (VIRTIO_NET_HDR_F_NEEDS_CSUM). The endpoint finishes a TCP checksum
// itself, as the kernel's skb_checksum_help would, and marks a UDP one
// absent (omitUDPChecksum), so the stack verifies every frame as before:
// one that was written with a wrong checksum (a packet socket in the
// sandbox) is still dropped.

const (
	vnetHdrSize = 10 // sizeof(struct virtio_net_hdr)

	vnetFlagNeedsCsum = 1    // VIRTIO_NET_HDR_F_NEEDS_CSUM
	vnetGSOTCPv4      = 1    // VIRTIO_NET_HDR_GSO_TCPV4
	vnetGSOECN        = 0x80 // VIRTIO_NET_HDR_GSO_ECN, a flag on the type

	udpChecksumOffset = 6 // of the checksum in a UDP header

	tunFCsum = 0x01 // TUN_F_CSUM: we take partial checksums
	tunFTSO4 = 0x02 // TUN_F_TSO4: and TCP segments before segmentation

	// vnetGSOMaxSize is the largest TCP segment the stack builds for one
	// write: the kernel's GSO limit for an IPv4 packet (64 KiB less the
	// headers).
	vnetGSOMaxSize = 65535 - header.IPv4MaximumHeaderSize - header.TCPHeaderMaximumSize

	// vnetHeadSize is the pooled view a frame is read into; the rest of a
	// larger frame lands in the reader's scratch and is copied out. Small
	// frames (ACKs, MTU-1500 segments) then cost no copy and do not pin a
	// 64 KiB chunk while queued in a socket.
	vnetHeadSize = 2048
	// vnetMaxFrame bounds one read: a GSO frame is at most 64 KiB of IP
	// (gso_ipv4_max_size; more only if BIG TCP is configured, and then the
	// frame is truncated and dropped as malformed).
	vnetMaxFrame = 65536 + header.EthernetMinimumSize
)

// MaxFrameSize is the largest frame an endpoint of this package passes
// either way: with GSO on a vnet TAP, a TCP frame is up to 64 KiB whatever
// the MTU (a capture's snap length).
const MaxFrameSize = vnetMaxFrame

// vnetEndpoint is a stack.LinkEndpoint on a TAP fd with IFF_VNET_HDR.
type vnetEndpoint struct {
	fd int
	// file (a duplicate of fd) is in Go's netpoller, for the reader. A
	// reader parked there is woken by the runtime's epoll, on whichever
	// thread polls, instead of a thread of its own blocked in ppoll(2)
	// that must then get a P back (futex wake-ups and a hand-off on
	// every idle frame: some 30-100 µs of a sandbox's idle round trip).
	file  *os.File
	rc    syscall.RawConn
	tso   bool // the stack may write TCP segments larger than the MTU
	mtu   atomic.Uint32
	close sync.Once

	mu         sync.RWMutex
	addr       tcpip.LinkAddress
	dispatcher stack.NetworkDispatcher
	onClose    func()
	wg         sync.WaitGroup

	// mmsg says fd is a socket (AttachInterface's packet socket): the
	// reader takes frames in batches (recvmmsg) and writes made while it
	// delivers one leave together (sendmmsg); see vnet_mmsg.go.
	mmsg bool
	tx   txQueue

	// stats for tests and benchmarks.
	framesOut, gsoFramesOut atomic.Uint64
	framesIn, gsoFramesIn   atomic.Uint64
	gsoDropped              atomic.Uint64 // GSO_UDP_L4 frames that were no UDP train
	rxBatches, txBatches    atomic.Uint64 // recvmmsg and sendmmsg calls that moved frames
	rxTooBig                atomic.Uint64 // frames larger than the read buffers, dropped
	txDropped               atomic.Uint64 // queued frames the socket refused
}

var _ stack.GSOEndpoint = (*vnetEndpoint)(nil)

// newVnetEndpoint serves a TAP made with IFF_VNET_HDR.
func newVnetEndpoint(fd int, mtu uint32, mac tcpip.LinkAddress) (*vnetEndpoint, error) {
	if err := unix.IoctlSetPointerInt(fd, unix.TUNSETVNETHDRSZ, vnetHdrSize); err != nil {
		return nil, fmt.Errorf("fdbased: TUNSETVNETHDRSZ on fd %d: %w", fd, err)
	}
	if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, tunFCsum|tunFTSO4); err != nil {
		return nil, fmt.Errorf("fdbased: TUNSETOFFLOAD on fd %d: %w", fd, err)
	}
	return newVnet(fd, mtu, mac, true)
}

// newVnet serves fd, whose frames carry a virtio_net_hdr both ways (a vnet
// TAP, or a packet socket with PACKET_VNET_HDR). With tso the stack's TCP
// leaves in segments of up to 64 KiB; AttachInterface goes without, since
// gVisor's TCP then counts a corked or Nagle-held tail as short of a
// 64 KiB "full" segment and holds it, where Linux sends its MSS-sized
// segments (the tcpopt/cork scenario). Frames in are taken either way.
func newVnet(fd int, mtu uint32, mac tcpip.LinkAddress, tso bool) (*vnetEndpoint, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, fmt.Errorf("fdbased: non-blocking fd %d: %w", fd, err)
	}
	// The reader's file is a duplicate, so that the caller keeps fd on
	// failure and a closed file cannot take fd's number from under a
	// writer. fd is non-blocking: the file is registered with the poller.
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("fdbased: dup fd %d: %w", fd, err)
	}
	file := os.NewFile(uintptr(dup), "tap")
	rc, err := file.SyscallConn()
	if err == nil {
		// Only a polled file takes deadlines; a reader could not be
		// stopped on any other.
		err = file.SetReadDeadline(time.Time{})
	}
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("fdbased: fd %d is not pollable: %w", fd, err)
	}
	e := &vnetEndpoint{fd: fd, file: file, rc: rc, addr: mac, tso: tso}
	e.mtu.Store(mtu)
	return e, nil
}

func (e *vnetEndpoint) MTU() uint32           { return e.mtu.Load() }
func (e *vnetEndpoint) SetMTU(mtu uint32)     { e.mtu.Store(mtu) }
func (*vnetEndpoint) MaxHeaderLength() uint16 { return header.EthernetMinimumSize }
func (*vnetEndpoint) Capabilities() stack.LinkEndpointCapabilities {
	return stack.CapabilityResolutionRequired
}
func (*vnetEndpoint) ARPHardwareType() header.ARPHardwareType { return header.ARPHardwareEther }

// GSOMaxSize is 0 (no GSO) on a packet socket: see newVnet's tso.
func (e *vnetEndpoint) GSOMaxSize() uint32 {
	if !e.tso {
		return 0
	}
	return vnetGSOMaxSize
}

func (e *vnetEndpoint) SupportedGSO() stack.SupportedGSO {
	if !e.tso {
		return stack.GSONotSupported
	}
	return stack.HostGSOSupported
}

func (e *vnetEndpoint) LinkAddress() tcpip.LinkAddress {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.addr
}

func (e *vnetEndpoint) SetLinkAddress(a tcpip.LinkAddress) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.addr = a
}

func (e *vnetEndpoint) SetOnCloseAction(f func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.onClose = f
}

// Attach starts the reader for d; Attach(nil) stops it and waits.
func (e *vnetEndpoint) Attach(d stack.NetworkDispatcher) {
	e.mu.Lock()
	if d == nil {
		had := e.dispatcher != nil
		e.dispatcher = nil
		e.mu.Unlock()
		if had {
			// A deadline in the past ends the reader's wait, and every
			// wait after it, until the next Attach.
			e.file.SetReadDeadline(time.Unix(1, 0))
			e.wg.Wait()
		}
		return
	}
	defer e.mu.Unlock()
	if e.dispatcher != nil {
		return
	}
	e.file.SetReadDeadline(time.Time{})
	e.dispatcher = d
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if e.mmsg {
			e.readBatches(d)
		} else {
			e.readLoop(d)
		}
	}()
}

func (e *vnetEndpoint) IsAttached() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.dispatcher != nil
}

func (e *vnetEndpoint) Wait() { e.wg.Wait() }

// Close stops the reader, then closes the fd, which the endpoint owns.
func (e *vnetEndpoint) Close() {
	e.close.Do(func() {
		e.Attach(nil)
		e.file.Close()
		unix.Close(e.fd)
	})
}

func (e *vnetEndpoint) AddHeader(pkt *stack.PacketBuffer) {
	eth := header.Ethernet(pkt.LinkHeader().Push(header.EthernetMinimumSize))
	eth.Encode(&header.EthernetFields{
		SrcAddr: pkt.EgressRoute.LocalLinkAddress,
		DstAddr: pkt.EgressRoute.RemoteLinkAddress,
		Type:    pkt.NetworkProtocolNumber,
	})
}

func (e *vnetEndpoint) ParseHeader(pkt *stack.PacketBuffer) bool {
	b, ok := pkt.LinkHeader().Consume(header.EthernetMinimumSize)
	if !ok {
		return false
	}
	pkt.NetworkProtocolNumber = header.Ethernet(b).Type()
	return true
}

// vnetHeader fills h (vnetHdrSize bytes, little endian as virtio 1.0 and
// the TAP on a little-endian host read it) for pkt.
func vnetHeader(h []byte, pkt *stack.PacketBuffer) {
	clear(h)
	g := pkt.GSOOptions
	if g.Type == stack.GSONone {
		return
	}
	binary.LittleEndian.PutUint16(h[2:], uint16(pkt.HeaderSize()))
	if g.NeedsCsum {
		// The stack left the pseudo-header sum; the kernel finishes it.
		h[0] = vnetFlagNeedsCsum
		binary.LittleEndian.PutUint16(h[6:], uint16(header.EthernetMinimumSize+int(g.L3HdrLen)))
		binary.LittleEndian.PutUint16(h[8:], g.CsumOffset)
	}
	if g.Type == stack.GSOTCPv4 && pkt.Data().Size() > int(g.MSS) {
		h[1] = vnetGSOTCPv4
		binary.LittleEndian.PutUint16(h[4:], g.MSS)
	}
}

// WritePackets writes each packet as one frame (one writev). A TAP write
// does not block: the kernel queues the frame or drops it, as a wire would.
// On a packet socket, writes made while the reader delivers a batch are
// queued and leave with it (vnet_txq.go).
func (e *vnetEndpoint) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	if e.mmsg {
		return e.writeOrQueue(pkts.AsSlice())
	}
	return e.writeEach(pkts.AsSlice())
}

// writeEach writes pkts one writev each.
func (e *vnetEndpoint) writeEach(pkts []*stack.PacketBuffer) (int, tcpip.Error) {
	var hdr [vnetHdrSize]byte
	var iovArr [16]unix.Iovec
	n := 0
	for _, pkt := range pkts {
		vnetHeader(hdr[:], pkt)
		iov := append(iovArr[:0], rawfile.IovecFromBytes(hdr[:]))
		views, off := pkt.AsViewList()
		for v := views.Front(); v != nil; v = v.Next() {
			b := v.AsSlice()
			if off >= len(b) {
				off -= len(b)
				continue
			}
			iov = append(iov, rawfile.IovecFromBytes(b[off:]))
			off = 0
		}
		if errno := rawfile.NonBlockingWriteIovec(e.fd, iov); errno != 0 {
			return n, tcpip.TranslateErrno(errno)
		}
		e.framesOut.Add(1)
		if hdr[1] != 0 {
			e.gsoFramesOut.Add(1)
		}
		n++
	}
	return n, nil
}

// readLoop reads frames until Attach(nil) or a read error, and delivers
// each on this goroutine.
func (e *vnetEndpoint) readLoop(d stack.NetworkDispatcher) {
	var rx rxBuffers
	rx.scratch = make([]byte, vnetMaxFrame)
	defer rx.release()
	for {
		iov := rx.iovecs()
		n, errno := e.readv(iov[:])
		if n < 0 || (errno != 0 && errno != unix.EINTR) {
			if errno != 0 {
				e.readFailed()
			}
			return
		}
		e.receive(d, &rx, n)
	}
}

// readFailed runs the close action: the fd failed (an interface taken
// down), and the reader ends.
func (e *vnetEndpoint) readFailed() {
	e.mu.RLock()
	f := e.onClose
	e.mu.RUnlock()
	if f != nil {
		f()
	}
}

// receive delivers the frame of n bytes (virtio header included) that rx
// holds.
func (e *vnetEndpoint) receive(d stack.NetworkDispatcher, rx *rxBuffers, n int) {
	n -= vnetHdrSize
	if n < header.EthernetMinimumSize {
		return // a runt, or an empty read: nothing to deliver
	}
	e.framesIn.Add(1)
	if rx.hdr[1] != 0 {
		e.gsoFramesIn.Add(1)
	}
	if rx.hdr[1]&^vnetGSOECN == vnetGSOUDPL4 {
		e.deliverUDPGSO(d, rx, n) // its checksums are made per datagram
		return
	}
	if rx.hdr[0]&vnetFlagNeedsCsum != 0 {
		head := rx.head.AsSlice()
		if !omitUDPChecksum(rx.hdr[:], head[:min(n, len(head))]) &&
			!finishChecksum(rx.hdr[:], head[:min(n, len(head))], rx.scratch[:max(0, n-len(head))]) {
			return // offsets outside the frame: not from a sane kernel
		}
	}
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: rx.take(n)})
	e.deliver(d, pkt)
	pkt.DecRef()
}

// readv reads one frame, parking in the netpoller while there is none. It
// returns -1 once Attach(nil) stopped the reader.
func (e *vnetEndpoint) readv(iov []unix.Iovec) (int, unix.Errno) {
	n, errno := -1, unix.Errno(0)
	err := e.rc.Read(func(fd uintptr) bool {
		r, _, en := unix.RawSyscall(unix.SYS_READV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
		if en == unix.EAGAIN {
			return false // wait for readability
		}
		n, errno = int(r), en
		return true
	})
	if err != nil {
		return -1, 0 // the deadline of Attach(nil), or the file closed
	}
	return n, errno
}

// rxBuffers is where frames are read: a pooled head view, then scratch
// for what does not fit. The head is small (vnetHeadSize) while frames
// are small and 64 KiB once one was not (GSO frames, a large MTU), so a
// frame lands whole in a view it can keep: no copy, and the payload is
// one contiguous view (the UDP relay sends it as it is).
type rxBuffers struct {
	hdr     [vnetHdrSize]byte
	head    *buffer.View
	scratch []byte
	big     bool
	small   int // small frames in a row while big
}

const (
	vnetBigHead = buffer.MaxChunkSize
	// A frame keeps a big head only if it fills half of it: memory held
	// by queued frames stays within twice what the stack accounts.
	vnetBigKeep = vnetBigHead / 2
	// This many small frames in a row take the reader back to small heads.
	vnetSmallRun = 16
)

func (rx *rxBuffers) iovecs() [3]unix.Iovec {
	if rx.head == nil {
		size := vnetHeadSize
		if rx.big {
			size = vnetBigHead
		}
		rx.head = buffer.NewViewSize(size)
	}
	return [3]unix.Iovec{
		rawfile.IovecFromBytes(rx.hdr[:]),
		rawfile.IovecFromBytes(rx.head.AsSlice()),
		rawfile.IovecFromBytes(rx.scratch),
	}
}

// take returns the n-byte frame just read as a buffer and readies the
// head for the next read.
func (rx *rxBuffers) take(n int) buffer.Buffer {
	headLen := rx.head.Size()
	wasBig := rx.big
	if n > vnetHeadSize {
		rx.big, rx.small = true, 0
	} else if rx.big {
		if rx.small++; rx.small >= vnetSmallRun {
			rx.big = false
		}
	}
	var b buffer.Buffer
	switch {
	case n > headLen:
		b = withHeadersApart(rx.head)
		b.Append(buffer.NewViewWithData(rx.scratch[:n-headLen]))
		rx.head = nil
	case wasBig && n < vnetBigKeep:
		// A small frame in a big head: copied out, the head is read
		// into again (unless the reader goes back to small heads).
		b = withHeadersApart(buffer.NewViewWithData(rx.head.AsSlice()[:n]))
		if !rx.big {
			rx.head.Release()
			rx.head = nil
		}
		return b
	default:
		rx.head.CapLength(n)
		b = withHeadersApart(rx.head)
		rx.head = nil
	}
	if rx.big != wasBig && rx.head != nil {
		rx.head.Release()
		rx.head = nil
	}
	return b
}

// withHeadersApart makes a buffer of v (which it takes over) with the
// frame's Ethernet, IPv4 and TCP/UDP headers copied into a small view of
// their own ahead of the payload. gVisor's IP layer holds a reference to
// the header view while it reads the header again, and reading a header
// from a shared chunk copies the whole chunk first: 64 KiB per frame when
// the headers sit in a big head. Apart, it copies the few header bytes,
// and the payload stays one view (a relayed datagram is sent from it).
func withHeadersApart(v *buffer.View) buffer.Buffer {
	h := frameHeaderLen(v.AsSlice())
	if h == 0 || h >= v.Size() {
		return buffer.MakeWithView(v)
	}
	b := buffer.MakeWithView(buffer.NewViewWithData(v.AsSlice()[:h]))
	v.TrimFront(h)
	// Merge, not Append: Append would fill the header view's spare room
	// from the payload, splitting the payload across two views.
	payload := buffer.MakeWithView(v)
	b.Merge(&payload)
	return b
}

// frameHeaderLen is the length of an Ethernet frame's headers up to the
// payload: Ethernet and IPv4, plus TCP or UDP in a first fragment or
// whole datagram; 0 when the frame is not IPv4 or its headers do not add
// up (gVisor then finds whatever is wrong with it).
func frameHeaderLen(f []byte) int {
	const eth = header.EthernetMinimumSize
	if len(f) < eth+header.IPv4MinimumSize || header.Ethernet(f).Type() != header.IPv4ProtocolNumber {
		return 0
	}
	ip := header.IPv4(f[eth:])
	ihl := int(ip.HeaderLength())
	if ihl < header.IPv4MinimumSize || eth+ihl > len(f) {
		return 0
	}
	n := eth + ihl
	if ip.FragmentOffset() != 0 {
		return n
	}
	switch ip.TransportProtocol() {
	case header.TCPProtocolNumber:
		if n+header.TCPMinimumSize > len(f) {
			return 0
		}
		off := int(header.TCP(f[n:]).DataOffset())
		if off < header.TCPMinimumSize || n+off > len(f) {
			return 0
		}
		return n + off
	case header.UDPProtocolNumber:
		if n+header.UDPMinimumSize > len(f) {
			return 0
		}
		return n + header.UDPMinimumSize
	}
	return n
}

func (rx *rxBuffers) release() {
	if rx.head != nil {
		rx.head.Release()
		rx.head = nil
	}
}

func (e *vnetEndpoint) deliver(d stack.NetworkDispatcher, pkt *stack.PacketBuffer) {
	b, ok := pkt.LinkHeader().Consume(header.EthernetMinimumSize)
	if !ok {
		return
	}
	eth := header.Ethernet(b)
	dst := eth.DestinationAddress()
	if dst != e.LinkAddress() && dst[0]&0x01 == 0 {
		return // another station's unicast frame
	}
	pkt.NetworkProtocolNumber = eth.Type()
	d.DeliverNetworkPacket(eth.Type(), pkt)
}

// omitUDPChecksum handles a NEEDS_CSUM IPv4 UDP datagram (the common
// case: whatever the sandbox's UDP sockets send) by writing 0, "no
// checksum" (RFC 768), into its checksum field instead of computing it:
// the datagram comes from the sandbox kernel's memory, as the kernel
// itself trusts a local CHECKSUM_PARTIAL packet, and the gateway relays
// its payload through a host socket that sums it anyway; computing it
// here only for the gateway to verify it again cost two passes over up
// to 64 KiB. false (frame untouched) for anything else.
func omitUDPChecksum(hdr, head []byte) bool {
	const eth = header.EthernetMinimumSize
	start := int(binary.LittleEndian.Uint16(hdr[6:]))
	if binary.LittleEndian.Uint16(hdr[8:]) != udpChecksumOffset || start+header.UDPMinimumSize > len(head) ||
		len(head) < eth+header.IPv4MinimumSize || header.Ethernet(head).Type() != header.IPv4ProtocolNumber {
		return false
	}
	ip := header.IPv4(head[eth:])
	if ip.TransportProtocol() != header.UDPProtocolNumber || eth+int(ip.HeaderLength()) != start || ip.FragmentOffset() != 0 {
		return false
	}
	header.UDP(head[start:]).SetChecksum(0)
	return true
}

// finishChecksum completes a partial checksum as the virtio header hdr
// describes it: the 16-bit sum of the frame (head then tail) from
// csum_start to its end, where the field at csum_start+csum_offset holds
// the pseudo-header sum, is complemented into that field. false when the
// offsets do not fit the frame.
func finishChecksum(hdr, head, tail []byte) bool {
	start := int(binary.LittleEndian.Uint16(hdr[6:]))
	field := start + int(binary.LittleEndian.Uint16(hdr[8:]))
	n := len(head) + len(tail)
	if start >= n || field+2 > n {
		return false
	}
	var c checksum.Checksumer
	if start < len(head) {
		c.Add(head[start:])
		c.Add(tail)
	} else {
		c.Add(tail[start-len(head):])
	}
	sum := ^c.Checksum()
	for i, b := range [2]byte{byte(sum >> 8), byte(sum)} {
		if at := field + i; at < len(head) {
			head[at] = b
		} else {
			tail[at-len(head)] = b
		}
	}
	return true
}
