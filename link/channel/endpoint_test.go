package channel

import (
	"bytes"
	"context"
	"net/netip"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

var (
	macA = tcpip.LinkAddress("\x02\x00\x00\x00\x00\x0a")
	macB = tcpip.LinkAddress("\x02\x00\x00\x00\x00\x0b")
)

func readFrame(t *testing.T, e *Endpoint) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	f, ok := e.Read(ctx)
	if !ok {
		t.Fatal("no frame sent within 5s")
	}
	return f
}

// echoRequest builds an IPv4 ICMP echo request from src to dst.
func echoRequest(src, dst netip.Addr, id, seq uint16, payload []byte) []byte {
	pkt := make([]byte, header.IPv4MinimumSize+header.ICMPv4MinimumSize+len(payload))
	ip := header.IPv4(pkt)
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(len(pkt)),
		TTL:         64,
		Protocol:    uint8(header.ICMPv4ProtocolNumber),
		SrcAddr:     tcpip.AddrFrom4(src.As4()),
		DstAddr:     tcpip.AddrFrom4(dst.As4()),
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	icmp := header.ICMPv4(pkt[header.IPv4MinimumSize:])
	icmp.SetType(header.ICMPv4Echo)
	icmp.SetIdent(id)
	icmp.SetSequence(seq)
	copy(icmp.Payload(), payload)
	icmp.SetChecksum(^checksum.Checksum(icmp, 0))
	return pkt
}

func TestRawInjectEchoAndReadReply(t *testing.T) {
	ep := New(1500, "")
	if ep.Ethernet() || ep.PcapLinkType() != LinkTypeRaw {
		t.Fatalf("New(1500, \"\") should be a bare IP link")
	}
	if got := ep.MTU(); got != 1500 {
		t.Fatalf("MTU = %d, want 1500", got)
	}
	newGvisorStack(t, ep, netip.MustParsePrefix("10.9.0.2/24"))

	var seen []Direction
	ep.OnFrame(func(d Direction, _ []byte) { seen = append(seen, d) })

	peer, local := netip.MustParseAddr("10.9.0.1"), netip.MustParseAddr("10.9.0.2")
	ep.Inject(echoRequest(peer, local, 77, 3, []byte("hello")))
	reply := readFrame(t, ep)

	ip := header.IPv4(reply)
	if !ip.IsValid(len(reply)) {
		t.Fatalf("reply is not a valid IPv4 packet: %x", reply)
	}
	if ip.SourceAddress() != tcpip.AddrFrom4(local.As4()) || ip.DestinationAddress() != tcpip.AddrFrom4(peer.As4()) {
		t.Fatalf("reply %v -> %v, want %v -> %v", ip.SourceAddress(), ip.DestinationAddress(), local, peer)
	}
	icmp := header.ICMPv4(ip.Payload())
	if icmp.Type() != header.ICMPv4EchoReply || icmp.Ident() != 77 || icmp.Sequence() != 3 || !bytes.Equal(icmp.Payload(), []byte("hello")) {
		t.Fatalf("reply is not the echo reply: type %d id %d seq %d payload %q", icmp.Type(), icmp.Ident(), icmp.Sequence(), icmp.Payload())
	}
	if len(seen) != 2 || seen[0] != In || seen[1] != Out {
		t.Fatalf("observer saw %v, want [in out]", seen)
	}
}

func TestRawInjectDropsNonIP(t *testing.T) {
	ep := New(1500, "")
	newGvisorStack(t, ep, netip.MustParsePrefix("10.9.0.2/24"))
	n := 0
	ep.OnFrame(func(Direction, []byte) { n++ })
	for _, f := range [][]byte{nil, {}, {0x00}, {0x15, 0, 0, 0}, bytes.Repeat([]byte{0x45}, 3)} {
		ep.Inject(f)
	}
	// Only the 3-byte frame of 0x45 looks like IPv4 and reaches the stack,
	// which must drop it without answering.
	if _, ok := ep.TryRead(); ok {
		t.Fatal("stack answered a malformed frame")
	}
	if n != 1 {
		t.Fatalf("observer saw %d inbound frames, want 1", n)
	}
}

func TestEthernetARPReply(t *testing.T) {
	ep := New(1500, macB)
	if !ep.Ethernet() || ep.PcapLinkType() != LinkTypeEthernet {
		t.Fatal("New with a MAC should frame Ethernet")
	}
	if got := ep.MTU(); got != 1500 {
		t.Fatalf("MTU = %d, want 1500 (IP MTU, header excluded)", got)
	}
	if got := ep.LinkAddress(); got != macB {
		t.Fatalf("LinkAddress = %v, want %v", got, macB)
	}
	newGvisorStack(t, ep, netip.MustParsePrefix("10.9.0.2/24"))

	frame := make([]byte, header.EthernetMinimumSize+header.ARPSize)
	header.Ethernet(frame).Encode(&header.EthernetFields{SrcAddr: macA, DstAddr: header.EthernetBroadcastAddress, Type: header.ARPProtocolNumber})
	arp := header.ARP(frame[header.EthernetMinimumSize:])
	arp.SetIPv4OverEthernet()
	arp.SetOp(header.ARPRequest)
	copy(arp.HardwareAddressSender(), macA)
	copy(arp.ProtocolAddressSender(), []byte{10, 9, 0, 1})
	copy(arp.ProtocolAddressTarget(), []byte{10, 9, 0, 2})
	ep.Inject(frame)

	reply := readFrame(t, ep)
	eth := header.Ethernet(reply)
	if len(reply) < header.EthernetMinimumSize+header.ARPSize || eth.Type() != header.ARPProtocolNumber {
		t.Fatalf("reply is not an ARP frame: %x", reply)
	}
	if eth.SourceAddress() != macB || eth.DestinationAddress() != macA {
		t.Fatalf("reply %v -> %v, want %v -> %v", eth.SourceAddress(), eth.DestinationAddress(), macB, macA)
	}
	r := header.ARP(reply[header.EthernetMinimumSize:])
	if r.Op() != header.ARPReply || tcpip.LinkAddress(r.HardwareAddressSender()) != macB ||
		!bytes.Equal(r.ProtocolAddressSender(), []byte{10, 9, 0, 2}) {
		t.Fatalf("bad ARP reply: op %d sender %x/%v", r.Op(), r.HardwareAddressSender(), r.ProtocolAddressSender())
	}
}

func TestQueueBoundDrops(t *testing.T) {
	ep := NewWithOptions(Options{MTU: 1500, QueueLen: 2})
	newGvisorStack(t, ep, netip.MustParsePrefix("10.9.0.2/24"))
	peer, local := netip.MustParseAddr("10.9.0.1"), netip.MustParseAddr("10.9.0.2")
	for i := range 5 {
		ep.Inject(echoRequest(peer, local, 1, uint16(i), nil))
	}
	if q, d := ep.Queued(), ep.Dropped(); q != 2 || d != 3 {
		t.Fatalf("queued %d dropped %d, want 2 and 3", q, d)
	}
}

func TestCloseEndsRead(t *testing.T) {
	ep := New(1500, "")
	done := make(chan bool)
	go func() {
		_, ok := ep.Read(context.Background())
		done <- ok
	}()
	ep.Close()
	select {
	case ok := <-done:
		if ok {
			t.Fatal("Read returned a frame on a closed, empty endpoint")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read still blocked 5s after Close")
	}
}

func TestStackCloseClosesEndpoint(t *testing.T) {
	ep := New(1500, macB)
	s := newGvisorStack(t, ep, netip.MustParsePrefix("10.9.0.2/24"))
	s.Close()
	s.Wait() // removes the NIC, which closes the link endpoint
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, ok := ep.Read(ctx); ok || ctx.Err() != nil {
		t.Fatalf("Read after the stack closed: ok=%v, ctx err %v; want an immediate false", ok, ctx.Err())
	}
}
