package stack_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"netsandbox/stack"
)

// recorder is a UDPReceiver that queues what it gets.
type recorder struct {
	ch   chan stack.Datagram
	errs chan stack.ICMPError
}

func newRecorder() *recorder {
	return &recorder{ch: make(chan stack.Datagram, 64), errs: make(chan stack.ICMPError, 16)}
}

func (r *recorder) DeliverICMPError(e *stack.ICMPError) {
	select {
	case r.errs <- *e:
	default:
	}
}

// nextErr waits up to a second for an ICMP error.
func (r *recorder) nextErr(t *testing.T) stack.ICMPError {
	t.Helper()
	select {
	case e := <-r.errs:
		return e
	case <-time.After(time.Second):
		t.Fatal("no ICMP error within 1s")
		return stack.ICMPError{}
	}
}

func (r *recorder) DeliverUDP(d *stack.Datagram) {
	select {
	case r.ch <- *d:
	default:
	}
}

// next waits up to a second for a datagram.
func (r *recorder) next(t *testing.T) stack.Datagram {
	t.Helper()
	select {
	case d := <-r.ch:
		return d
	case <-time.After(time.Second):
		t.Fatal("no datagram within 1s")
		return stack.Datagram{}
	}
}

// none asserts that nothing arrives for a short while.
func (r *recorder) none(t *testing.T) {
	t.Helper()
	select {
	case d := <-r.ch:
		t.Fatalf("unexpected datagram %+v", d)
	case <-time.After(100 * time.Millisecond):
	}
}

func newStack(t *testing.T, cfg stack.Config) *stack.Stack {
	t.Helper()
	s, err := stack.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// attach adds a gVisor channel NIC named eth0 with addr to s and returns the
// channel and the ifindex.
func attach(t *testing.T, s *stack.Stack, addr string) (*channel.Endpoint, int) {
	t.Helper()
	ch := channel.New(256, 1500, "")
	idx, err := s.AddInterface("eth0", ch)
	if err != nil {
		t.Fatalf("AddInterface: %v", err)
	}
	p := netip.MustParsePrefix(addr)
	if err := s.AddAddress(idx, p); err != nil {
		t.Fatalf("AddAddress: %v", err)
	}
	if err := s.AddRoute(p.Masked(), netip.Addr{}, idx); err != nil {
		t.Fatalf("AddRoute: %v", err)
	}
	return ch, idx
}

// wire copies every frame written to from into to until the test ends.
func wire(t *testing.T, from, to *channel.Endpoint) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			pkt := from.ReadContext(ctx)
			if pkt == nil {
				return
			}
			in := gstack.NewPacketBuffer(gstack.PacketBufferOptions{Payload: pkt.ToBuffer()})
			pkt.DecRef()
			to.InjectInbound(header.IPv4ProtocolNumber, in)
			in.DecRef()
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// pair builds two stacks, A at 10.0.0.1/24 and B at 10.0.0.2/24, joined by
// a wire.
func pair(t *testing.T) (a, b *stack.Stack) {
	a = newStack(t, stack.Config{})
	b = newStack(t, stack.Config{})
	ca, _ := attach(t, a, "10.0.0.1/24")
	cb, _ := attach(t, b, "10.0.0.2/24")
	wire(t, ca, cb)
	wire(t, cb, ca)
	return a, b
}

// readFrame waits up to a second for a frame written to ch.
func readFrame(t *testing.T, ch *channel.Endpoint) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	pkt := ch.ReadContext(ctx)
	if pkt == nil {
		t.Fatal("no frame within 1s")
	}
	defer pkt.DecRef()
	v := pkt.ToView()
	defer v.Release()
	return append([]byte(nil), v.AsSlice()...)
}

// inject delivers a raw IPv4 packet to ch's stack.
func inject(ch *channel.Endpoint, b []byte) {
	pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{Payload: buffer.MakeWithData(b)})
	ch.InjectInbound(header.IPv4ProtocolNumber, pkt)
	pkt.DecRef()
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func bind(t *testing.T, s *stack.Stack, r stack.UDPReceiver, addr string, f stack.UDPBindFlags) *stack.UDPBinding {
	t.Helper()
	b, err := s.UDPBind(r, ap(addr), f)
	if err != nil {
		t.Fatalf("UDPBind(%s): %v", addr, err)
	}
	t.Cleanup(b.Release)
	return b
}
