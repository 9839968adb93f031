package stack_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/stack"
)

// synPacket builds a TCP SYN from 10.0.0.2:4000 to 10.0.0.1:port.
func synPacket(ttl uint8, port uint16) []byte {
	b := make([]byte, header.IPv4MinimumSize+header.TCPMinimumSize)
	src, dst := tcpip.AddrFrom4([4]byte{10, 0, 0, 2}), tcpip.AddrFrom4([4]byte{10, 0, 0, 1})
	ip := header.IPv4(b)
	ip.Encode(&header.IPv4Fields{TotalLength: uint16(len(b)), TTL: ttl, Protocol: uint8(tcp.ProtocolNumber), SrcAddr: src, DstAddr: dst})
	ip.SetChecksum(^ip.CalculateChecksum())
	t := header.TCP(b[header.IPv4MinimumSize:])
	t.Encode(&header.TCPFields{SrcPort: 4000, DstPort: port, SeqNum: 1, DataOffset: header.TCPMinimumSize, Flags: header.TCPFlagSyn, WindowSize: 65535})
	xsum := header.PseudoHeaderChecksum(tcp.ProtocolNumber, src, dst, uint16(header.TCPMinimumSize))
	t.SetChecksum(^t.CalculateChecksum(xsum))
	return b
}

func TestTCPMinTTLDropsLowSegments(t *testing.T) {
	s := newStack(t, stack.Config{})
	ch, _ := attach(t, s, "10.0.0.1/24")
	var q waiter.Queue
	ep, e := s.Gvisor().NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, &q)
	if e != nil {
		t.Fatal(e)
	}
	defer ep.Close()
	if e := ep.Bind(tcpip.FullAddress{Port: 7000}); e != nil {
		t.Fatal(e)
	}
	if e := ep.Listen(4); e != nil {
		t.Fatal(e)
	}
	remove := s.SetTCPMinTTL(ap("0.0.0.0:7000"), netip.AddrPort{}, 64)
	inject(ch, synPacket(10, 7000))
	noFrame(t, ch)
	if n := s.Stats().TCPMinTTLDrop.Load(); n != 1 {
		t.Fatalf("TCPMinTTLDrop = %d, want 1", n)
	}
	inject(ch, synPacket(64, 7000))
	if f := header.TCP(readFrame(t, ch)[header.IPv4MinimumSize:]); f.Flags() != header.TCPFlagSyn|header.TCPFlagAck {
		t.Fatalf("reply flags %v, want SYN-ACK", f.Flags())
	}
	remove()
	inject(ch, synPacket(10, 7000)) // a retransmitted SYN, now let through
	if n := s.Stats().TCPMinTTLDrop.Load(); n != 1 {
		t.Fatalf("TCPMinTTLDrop after removal = %d, want 1", n)
	}
}

// noFrame asserts that nothing is written to ch for a short while.
func noFrame(t *testing.T, ch *channel.Endpoint) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if pkt := ch.ReadContext(ctx); pkt != nil {
		pkt.DecRef()
		t.Fatal("unexpected frame")
	}
}
