// Package bench holds the baseline benchmarks of BENCHMARKS.md: one UDP
// datagram through two netsandbox stacks, through two plain gVisor stacks
// with gVisor's own UDP, and through the Linux kernel on lo; socket option
// and control-message costs.
package bench

import (
	"bytes"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/endpoint"
	"netsandbox/link/channel"
	"netsandbox/options"
	"netsandbox/stack"
)

// payloadSize is the datagram payload of every send/receive benchmark.
const payloadSize = 64

// The two stacks of the wire benchmarks: A sends to B over a bare-IP
// channel link (no ARP, so both variants do the same work per frame).
var (
	addrA = netip.MustParseAddr("10.0.0.1")
	addrB = netip.MustParseAddr("10.0.0.2")
	netAB = netip.MustParsePrefix("10.0.0.0/24")
)

// joinedLinks returns two endpoints joined by a wire that stays up until
// the benchmark ends.
func joinedLinks(b *testing.B) (*channel.Endpoint, *channel.Endpoint) {
	a, c := channel.New(1500, ""), channel.New(1500, "")
	stop := channel.Join(a, c)
	b.Cleanup(stop)
	return a, c
}

func nsStack(b *testing.B, ep *channel.Endpoint, addr netip.Addr) *stack.Stack {
	s, err := stack.New(stack.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	idx, err := s.AddInterface("eth0", ep)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.AddAddress(idx, netip.PrefixFrom(addr, netAB.Bits())); err != nil {
		b.Fatal(err)
	}
	if err := s.AddRoute(netAB, netip.Addr{}, idx); err != nil {
		b.Fatal(err)
	}
	return s
}

// nsUDPPair is a netsandbox UDP socket on stack A and one bound to dst on
// stack B, the two stacks joined by a wire; both close when b ends.
func nsUDPPair(b *testing.B) (tx, rx endpoint.Socket, dst []byte) {
	la, lb := joinedLinks(b)
	sa, sb := nsStack(b, la, addrA), nsStack(b, lb, addrB)
	var err error
	if tx, err = endpoint.New(sa, unix.AF_INET, unix.SOCK_DGRAM, 0); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tx.Close() })
	if rx, err = endpoint.New(sb, unix.AF_INET, unix.SOCK_DGRAM, 0); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rx.Close() })
	dst = options.SockaddrIn(netip.AddrPortFrom(addrB, 9000))
	if err := rx.Bind(dst); err != nil {
		b.Fatal(err)
	}
	return tx, rx, dst
}

// BenchmarkUDPNetsandbox sends one datagram from a netsandbox socket on
// stack A and receives it (blocking recvmsg) on a netsandbox socket on
// stack B.
func BenchmarkUDPNetsandbox(b *testing.B) {
	tx, rx, dst := nsUDPPair(b)
	p, buf := make([]byte, payloadSize), make([]byte, 2048)
	b.ReportAllocs()
	b.ResetTimer()
	defer startCPU(b)()
	for i := 0; i < b.N; i++ {
		if _, err := tx.SendMsg(p, nil, dst, 0); err != nil {
			b.Fatal(err)
		}
		if n, _, _, _, err := rx.RecvMsg(buf, nil, 0); err != nil || n != payloadSize {
			b.Fatalf("recvmsg: %d, %v", n, err)
		}
	}
}

func gvStack(b *testing.B, ep *channel.Endpoint, addr netip.Addr) *gstack.Stack {
	s := gstack.New(gstack.Options{
		NetworkProtocols:   []gstack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []gstack.TransportProtocolFactory{udp.NewProtocol},
	})
	b.Cleanup(s.Destroy)
	if e := s.CreateNIC(1, ep); e != nil {
		b.Fatal(e)
	}
	pa := tcpip.ProtocolAddress{
		Protocol:          ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4(addr.As4()), PrefixLen: netAB.Bits()},
	}
	if e := s.AddProtocolAddress(1, pa, gstack.AddressProperties{}); e != nil {
		b.Fatal(e)
	}
	s.SetRouteTable([]tcpip.Route{{Destination: pa.AddressWithPrefix.Subnet(), NIC: 1}})
	return s
}

// BenchmarkUDPGvisor is BenchmarkUDPNetsandbox with gVisor's own UDP
// endpoints (tcpip.Endpoint Write/Read) on plain gVisor stacks, the same
// wire in between.
func BenchmarkUDPGvisor(b *testing.B) { gvisorUDPRoundTrips(b, nil, nil) }

// gvisorUDPRoundTrips sends one datagram per iteration from a gVisor UDP
// endpoint to another and reads it back as a socket layer built on gVisor
// does: try, and wait for the readable event on ErrWouldBlock. rxOpts (may
// be nil) sets the receiver's options; onRead (may be nil) sees each
// result.
func gvisorUDPRoundTrips(b *testing.B, rxOpts func(*tcpip.SocketOptions), onRead func(tcpip.ReadResult)) {
	la, lb := joinedLinks(b)
	sa, sb := gvStack(b, la, addrA), gvStack(b, lb, addrB)
	var wqa, wqb waiter.Queue
	tx, e := sa.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, &wqa)
	if e != nil {
		b.Fatal(e)
	}
	defer tx.Close()
	rx, e := sb.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, &wqb)
	if e != nil {
		b.Fatal(e)
	}
	defer rx.Close()
	dst := tcpip.FullAddress{Addr: tcpip.AddrFrom4(addrB.As4()), Port: 9000}
	if e := rx.Bind(dst); e != nil {
		b.Fatal(e)
	}
	if rxOpts != nil {
		rxOpts(rx.SocketOptions())
	}
	entry, readable := waiter.NewChannelEntry(waiter.ReadableEvents)
	wqb.EventRegister(&entry)
	defer wqb.EventUnregister(&entry)

	p := make([]byte, payloadSize)
	var r bytes.Reader
	var out bytes.Buffer
	out.Grow(2048)
	b.ReportAllocs()
	b.ResetTimer()
	defer startCPU(b)()
	for i := 0; i < b.N; i++ {
		r.Reset(p)
		if _, e := tx.Write(&r, tcpip.WriteOptions{To: &dst}); e != nil {
			b.Fatal(e)
		}
		for {
			out.Reset()
			res, e := rx.Read(&out, tcpip.ReadOptions{})
			if _, ok := e.(*tcpip.ErrWouldBlock); ok {
				<-readable
				continue
			}
			if e != nil || res.Count != payloadSize {
				b.Fatalf("read: %d, %v", res.Count, e)
			}
			if onRead != nil {
				onRead(res)
			}
			break
		}
	}
}

// BenchmarkUDPKernel is the floor: the same datagram through the Linux
// kernel on 127.0.0.1 with sendto and a blocking recvfrom.
func BenchmarkUDPKernel(b *testing.B) {
	rx, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(rx)
	if err := unix.Bind(rx, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		b.Fatal(err)
	}
	sa, err := unix.Getsockname(rx)
	if err != nil {
		b.Fatal(err)
	}
	tx, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(tx)
	p, buf := make([]byte, payloadSize), make([]byte, 2048)
	b.ReportAllocs()
	b.ResetTimer()
	defer startCPU(b)()
	for i := 0; i < b.N; i++ {
		if err := unix.Sendto(tx, p, 0, sa); err != nil {
			b.Fatal(err)
		}
		if n, _, err := unix.Recvfrom(rx, buf, 0); err != nil || n != payloadSize {
			b.Fatalf("recvfrom: %d, %v", n, err)
		}
	}
}
