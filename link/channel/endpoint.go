// Package channel is an in-memory wire for gVisor stacks: a link endpoint
// whose outbound frames can be read, captured, or carried to a second
// endpoint (Join), and into which whole frames can be injected. Tests and
// fuzzers use it in place of a real NIC.
//
// A frame is what a real wire would carry: an Ethernet II frame when the
// endpoint does Ethernet framing (needed for ARP), otherwise a bare IP packet.
package channel

import (
	"context"
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/ethernet"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// DefaultQueueLen is the outbound queue length when Options.QueueLen is 0,
// the same as Linux's default txqueuelen.
const DefaultQueueLen = 1000

// Direction says which way a frame crossed the endpoint.
type Direction int

const (
	// Out is a frame the attached stack sent.
	Out Direction = iota
	// In is a frame delivered to the attached stack (injected or from a
	// joined peer).
	In
)

func (d Direction) String() string {
	if d == Out {
		return "out"
	}
	return "in"
}

// FrameFunc observes a frame. It runs on the packet path, so it must not
// block, and it must neither modify nor keep frame after it returns.
type FrameFunc func(dir Direction, frame []byte)

// Options configures an Endpoint.
type Options struct {
	// MTU is the IP MTU of the link (what the NIC reports), without the
	// Ethernet header.
	MTU uint32
	// Ethernet turns on Ethernet II framing. ARP needs it.
	Ethernet bool
	// MAC is the link address when Ethernet is on; it is ignored otherwise.
	MAC tcpip.LinkAddress
	// QueueLen bounds the outbound queue; frames beyond it are dropped, as
	// a full device queue drops them. 0 means DefaultQueueLen.
	QueueLen int
}

// Endpoint is a gVisor link endpoint over an in-memory wire. The embedded
// stack.LinkEndpoint is what the stack sees (with the Ethernet layer on top
// when framing is on); the methods of Endpoint itself are the far side of
// the wire.
type Endpoint struct {
	stack.LinkEndpoint
	port *port
}

// New returns an endpoint with the given IP MTU. A non-empty mac turns
// Ethernet framing on with that address; an empty one gives a bare IP link.
func New(mtu uint32, mac tcpip.LinkAddress) *Endpoint {
	return NewWithOptions(Options{MTU: mtu, Ethernet: mac != "", MAC: mac})
}

// NewWithOptions returns an endpoint configured by o.
func NewWithOptions(o Options) *Endpoint {
	qlen := o.QueueLen
	if qlen <= 0 {
		qlen = DefaultQueueLen
	}
	p := &port{
		mtu:      o.MTU,
		ethernet: o.Ethernet,
		out:      make(chan []byte, qlen),
		done:     make(chan struct{}),
	}
	e := &Endpoint{LinkEndpoint: p, port: p}
	if o.Ethernet {
		// gVisor's ethernet layer subtracts its header from the MTU of the
		// endpoint below it, so the wire carries MTU plus the header.
		p.mtu += header.EthernetMinimumSize
		p.addr = o.MAC
		e.LinkEndpoint = ethernet.New(p)
	}
	return e
}

// Ethernet reports whether frames are Ethernet II frames.
func (e *Endpoint) Ethernet() bool { return e.port.ethernet }

// Inject delivers frame to the attached stack as if it had arrived on the
// wire, synchronously, on the caller's goroutine. The frame is copied. It is
// dropped if no stack is attached, the endpoint is closed, or (without
// Ethernet) it is not an IPv4 or IPv6 packet.
func (e *Endpoint) Inject(frame []byte) {
	e.port.deliver(append([]byte(nil), frame...))
}

// Read returns the next frame the stack sent, waiting until one is queued,
// ctx is done (false) or the endpoint is closed (false). Do not Read an
// endpoint that is joined to another: the wire would compete for frames.
func (e *Endpoint) Read(ctx context.Context) ([]byte, bool) {
	select {
	case f := <-e.port.out:
		return f, true
	default:
	}
	select {
	case f := <-e.port.out:
		return f, true
	case <-ctx.Done():
		return nil, false
	case <-e.port.done:
		return nil, false
	}
}

// TryRead returns a queued outbound frame without waiting.
func (e *Endpoint) TryRead() ([]byte, bool) {
	select {
	case f := <-e.port.out:
		return f, true
	default:
		return nil, false
	}
}

// Queued is the number of outbound frames waiting to be read.
func (e *Endpoint) Queued() int { return len(e.port.out) }

// Dropped is the number of outbound frames lost to a full queue.
func (e *Endpoint) Dropped() uint64 { return e.port.dropped.Load() }

// OnFrame adds f to the functions that see every frame crossing the
// endpoint, in both directions. Observers run in the order they were added.
func (e *Endpoint) OnFrame(f FrameFunc) {
	e.port.hookMu.Lock()
	defer e.port.hookMu.Unlock()
	var hooks []FrameFunc
	if old := e.port.hooks.Load(); old != nil {
		hooks = append(hooks, *old...)
	}
	hooks = append(hooks, f)
	e.port.hooks.Store(&hooks)
}

// port is the bare wire end below the optional Ethernet layer. It moves
// whole frames as byte slices: one allocation per frame, owned by whoever
// takes it from the queue.
type port struct {
	mu         sync.RWMutex
	dispatcher stack.NetworkDispatcher
	mtu        uint32
	addr       tcpip.LinkAddress
	onClose    func()

	ethernet bool
	out      chan []byte
	done     chan struct{}
	closed   atomic.Bool
	dropped  atomic.Uint64

	hookMu sync.Mutex // serialises OnFrame; readers load hooks lock-free
	hooks  atomic.Pointer[[]FrameFunc]
}

var _ stack.LinkEndpoint = (*port)(nil)

func (p *port) observe(dir Direction, frame []byte) {
	if hooks := p.hooks.Load(); hooks != nil {
		for _, f := range *hooks {
			f(dir, frame)
		}
	}
}

// deliver hands a frame the port now owns to the attached dispatcher.
func (p *port) deliver(frame []byte) {
	if len(frame) == 0 || p.closed.Load() {
		return
	}
	p.mu.RLock()
	d := p.dispatcher
	p.mu.RUnlock()
	if d == nil {
		return
	}
	var proto tcpip.NetworkProtocolNumber // the Ethernet layer reads its own
	if !p.ethernet {
		switch header.IPVersion(frame) {
		case header.IPv4Version:
			proto = header.IPv4ProtocolNumber
		case header.IPv6Version:
			proto = header.IPv6ProtocolNumber
		default:
			return
		}
	}
	p.observe(In, frame)
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(frame)})
	d.DeliverNetworkPacket(proto, pkt)
	pkt.DecRef()
}

// flatten copies the whole packet, link header included, into one slice.
func flatten(pkt *stack.PacketBuffer) []byte {
	frame := make([]byte, 0, pkt.Size())
	views, skip := pkt.AsViewList()
	for v := views.Front(); v != nil; v = v.Next() {
		b := v.AsSlice()
		if skip >= len(b) {
			skip -= len(b)
			continue
		}
		frame = append(frame, b[skip:]...)
		skip = 0
	}
	return frame
}

// WritePackets implements stack.LinkWriter. Like a NIC whose queue is full,
// it drops what does not fit and reports success: the packets left the stack.
func (p *port) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	if p.closed.Load() {
		return 0, &tcpip.ErrClosedForSend{}
	}
	n := 0
	for _, pkt := range pkts.AsSlice() {
		frame := flatten(pkt)
		p.observe(Out, frame)
		select {
		case p.out <- frame:
		default:
			p.dropped.Add(1)
		}
		n++
	}
	return n, nil
}

func (p *port) MTU() uint32 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.mtu
}

func (p *port) SetMTU(mtu uint32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mtu = mtu
}

func (p *port) MaxHeaderLength() uint16 { return 0 }

func (p *port) LinkAddress() tcpip.LinkAddress {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.addr
}

func (p *port) SetLinkAddress(a tcpip.LinkAddress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.addr = a
}

func (p *port) Capabilities() stack.LinkEndpointCapabilities { return 0 }

func (p *port) Attach(d stack.NetworkDispatcher) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dispatcher = d
}

func (p *port) IsAttached() bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.dispatcher != nil
}

func (p *port) Wait() {}

func (p *port) ARPHardwareType() header.ARPHardwareType { return header.ARPHardwareNone }

func (p *port) AddHeader(*stack.PacketBuffer) {}

func (p *port) ParseHeader(*stack.PacketBuffer) bool { return true }

// Close is called by the stack when the NIC is removed. Queued frames stay
// readable; nothing more is sent or delivered, and readers stop waiting.
func (p *port) Close() {
	if p.closed.Swap(true) {
		return
	}
	p.mu.Lock()
	onClose := p.onClose
	p.mu.Unlock()
	if onClose != nil {
		onClose()
	}
	close(p.done)
}

func (p *port) SetOnCloseAction(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onClose = f
}
