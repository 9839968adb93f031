package stack

import (
	"bytes"
	"context"
	"net/netip"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

var (
	ipidLocal  = netip.MustParseAddr("10.0.0.1")
	ipidRemote = netip.MustParseAddr("10.0.0.2")
)

// ipidStack is a stack on a channel link whose frames the test reads.
func ipidStack(t testing.TB) (*Stack, *channel.Endpoint) {
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ch := channel.New(64, 1500, "")
	idx, err := s.AddInterface("eth0", ch)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddAddress(idx, netip.PrefixFrom(ipidLocal, 24)); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRoute(netip.MustParsePrefix("10.0.0.0/24"), netip.Addr{}, idx); err != nil {
		t.Fatal(err)
	}
	return s, ch
}

// nextIPv4 returns the next frame the stack sends (its bytes).
func nextIPv4(t testing.TB, ch *channel.Endpoint) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	pkt := ch.ReadContext(ctx)
	if pkt == nil {
		t.Fatal("no packet within 2s")
	}
	defer pkt.DecRef()
	b := pkt.ToView().AsSlice()
	ip := header.IPv4(b)
	if !ip.IsChecksumValid() {
		t.Fatalf("bad header checksum: %x", b[:20])
	}
	return append([]byte(nil), b...)
}

// injectTCP hands the stack a segment from the remote side.
func injectTCP(ch *channel.Endpoint, sport, dport uint16, seq, ack uint32, flags header.TCPFlags) {
	b := make([]byte, header.IPv4MinimumSize+header.TCPMinimumSize)
	ip := header.IPv4(b)
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(len(b)), TTL: 64, Protocol: uint8(header.TCPProtocolNumber),
		SrcAddr: tcpip.AddrFrom4(ipidRemote.As4()), DstAddr: tcpip.AddrFrom4(ipidLocal.As4()),
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	th := header.TCP(b[header.IPv4MinimumSize:])
	th.Encode(&header.TCPFields{SrcPort: sport, DstPort: dport, SeqNum: seq, AckNum: ack,
		DataOffset: header.TCPMinimumSize, Flags: flags, WindowSize: 65535})
	xsum := header.PseudoHeaderChecksum(header.TCPProtocolNumber, ip.SourceAddress(), ip.DestinationAddress(), header.TCPMinimumSize)
	th.SetChecksum(^th.CalculateChecksum(xsum))
	ch.InjectInbound(ipv4.ProtocolNumber, gstack.NewPacketBuffer(gstack.PacketBufferOptions{Payload: buffer.MakeWithData(b)}))
}

// establish connects a gVisor TCP endpoint to 10.0.0.2:80, answering its
// SYN, and returns the endpoint, the SYN and the handshake's ACK.
func establish(t testing.TB, s *Stack, ch *channel.Endpoint) (tcpip.Endpoint, []byte, []byte) {
	var wq waiter.Queue
	ep, e := s.g.NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if e != nil {
		t.Fatal(e)
	}
	t.Cleanup(ep.Abort)
	if e := ep.Connect(tcpip.FullAddress{Addr: tcpip.AddrFrom4(ipidRemote.As4()), Port: 80}); e != nil {
		if _, ok := e.(*tcpip.ErrConnectStarted); !ok {
			t.Fatal(e)
		}
	}
	syn := nextIPv4(t, ch)
	th := header.TCP(syn[header.IPv4MinimumSize:])
	injectTCP(ch, 80, th.SourcePort(), 1000, th.SequenceNumber()+1, header.TCPFlagSyn|header.TCPFlagAck)
	return ep, syn, nextIPv4(t, ch)
}

func TestIPIDTCPConnection(t *testing.T) {
	s, ch := ipidStack(t)
	_, syn, ack := establish(t, s, ch)
	id := header.IPv4(syn).ID()
	if header.IPv4(syn).Flags()&header.IPv4FlagDontFragment == 0 {
		t.Errorf("SYN without DF")
	}
	if got := header.IPv4(ack).ID(); got != id+1 {
		t.Errorf("handshake ACK ID %d, want SYN's %d + 1", got, id)
	}
	// A second connection starts its own counter (equal by chance with
	// probability 2^-16 per try).
	_, syn2, ack2 := establish(t, s, ch)
	id2 := header.IPv4(syn2).ID()
	if header.IPv4(ack2).ID() != id2+1 {
		t.Errorf("second connection: ACK ID %d after SYN ID %d", header.IPv4(ack2).ID(), id2)
	}
	if id2 == id+2 {
		t.Errorf("second connection continues the first one's counter (%d, %d)", id, id2)
	}
}

// TestIPIDTCPTimeWait: the FIN and the ACK of the peer's FIN come from the
// connection's counter; once in TIME_WAIT, an ACK for a retransmitted FIN
// is the timewait sock's, sent through the control socket: DF, ID 0.
func TestIPIDTCPTimeWait(t *testing.T) {
	s, ch := ipidStack(t)
	ep, syn, _ := establish(t, s, ch)
	id := header.IPv4(syn).ID()
	sth := header.TCP(syn[header.IPv4MinimumSize:])
	lport, iss := sth.SourcePort(), sth.SequenceNumber()
	ep.Close()
	fin := header.IPv4(nextIPv4(t, ch))
	if header.TCP(fin[header.IPv4MinimumSize:]).Flags()&header.TCPFlagFin == 0 || fin.ID() != id+2 {
		t.Fatalf("FIN: flags %v ID %d, want a FIN with ID %d", header.TCP(fin[header.IPv4MinimumSize:]).Flags(), fin.ID(), id+2)
	}
	injectTCP(ch, 80, lport, 1001, iss+2, header.TCPFlagFin|header.TCPFlagAck)
	if ack := header.IPv4(nextIPv4(t, ch)); ack.ID() != id+3 {
		t.Errorf("ACK of the peer's FIN: ID %d, want %d", ack.ID(), id+3)
	}
	injectTCP(ch, 80, lport, 1001, iss+2, header.TCPFlagFin|header.TCPFlagAck)
	tw := header.IPv4(nextIPv4(t, ch))
	if tw.ID() != 0 || tw.Flags()&header.IPv4FlagDontFragment == 0 {
		t.Errorf("TIME_WAIT ACK: ID %d flags %#x, want ID 0 with DF", tw.ID(), tw.Flags())
	}
}

// TestIPIDTCPSYNRetransmit: a retransmitted SYN takes the next ID of the
// same counter (tcp_retransmit_skb goes through ip_queue_xmit again).
func TestIPIDTCPSYNRetransmit(t *testing.T) {
	s, ch := ipidStack(t)
	var wq waiter.Queue
	ep, e := s.g.NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if e != nil {
		t.Fatal(e)
	}
	defer ep.Abort()
	_ = ep.Connect(tcpip.FullAddress{Addr: tcpip.AddrFrom4(ipidRemote.As4()), Port: 80})
	first := header.IPv4(nextIPv4(t, ch)).ID()
	// gVisor's initial RTO is one second.
	if again := header.IPv4(nextIPv4(t, ch)).ID(); again != first+1 {
		t.Errorf("retransmitted SYN: ID %d, want %d", again, first+1)
	}
}

func TestIPIDTCPResetNoSocket(t *testing.T) {
	s, ch := ipidStack(t)
	_ = s
	// An ACK to a port nobody listens on: gVisor's RST has no DF; Linux's
	// control socket sends it with DF and ID 0.
	injectTCP(ch, 5000, 81, 1, 1, header.TCPFlagAck)
	rst := header.IPv4(nextIPv4(t, ch))
	if header.TCP(rst[header.IPv4MinimumSize:]).Flags()&header.TCPFlagRst == 0 {
		t.Fatalf("not a RST: %x", rst)
	}
	if rst.ID() != 0 || rst.Flags()&header.IPv4FlagDontFragment == 0 {
		t.Errorf("RST ID %d flags %#x, want ID 0 with DF", rst.ID(), rst.Flags())
	}
}

func TestIPIDPing(t *testing.T) {
	s, ch := ipidStack(t)
	var wq waiter.Queue
	ep, e := s.g.NewEndpoint(icmp.ProtocolNumber4, ipv4.ProtocolNumber, &wq)
	if e != nil {
		t.Fatal(e)
	}
	defer ep.Close()
	d := s.NewDatagramIPID(ep)
	to := tcpip.FullAddress{Addr: tcpip.AddrFrom4(ipidRemote.As4())}
	echo := func(opts tcpip.WriteOptions) header.IPv4 {
		t.Helper()
		req := make([]byte, header.ICMPv4MinimumSize)
		req[0] = byte(header.ICMPv4Echo)
		if _, e := ep.Write(bytes.NewReader(req), opts); e != nil {
			t.Fatal(e)
		}
		return header.IPv4(nextIPv4(t, ch))
	}
	// WANT (gVisor's default, DF set): Linux numbers it (ignore_df).
	if ip := echo(tcpip.WriteOptions{To: &to}); ip.ID() == 0 || ip.Flags()&header.IPv4FlagDontFragment == 0 {
		t.Errorf("unconnected WANT: ID %d flags %#x, want a non-zero ID with DF", ip.ID(), ip.Flags())
	}
	if e := ep.SetSockOptInt(tcpip.MTUDiscoverOption, int(tcpip.PMTUDiscoveryDo)); e != nil {
		t.Fatal(e)
	}
	d.SetPMTUMode(PMTUDo)
	if ip := echo(tcpip.WriteOptions{To: &to}); ip.ID() != 0 {
		t.Errorf("unconnected DO: ID %d, want 0", ip.ID())
	}
	if e := ep.Connect(to); e != nil {
		t.Fatal(e)
	}
	d.Connected()
	start := uint16(d.next.Load())
	for i := 1; i <= 3; i++ {
		if ip := echo(tcpip.WriteOptions{}); ip.ID() != start+uint16(i) {
			t.Errorf("connected send %d: ID %d, want %d", i, ip.ID(), start+uint16(i))
		}
	}
}

// tcpSegment is a TCP segment of the connection (local port lport) as
// gVisor hands it to the NIC: transport and IPv4 headers pushed.
func tcpSegment(lport uint16) *gstack.PacketBuffer {
	pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{
		ReserveHeaderBytes: header.IPv4MinimumSize + header.TCPMinimumSize,
		Payload:            buffer.MakeWithData(make([]byte, 1400)),
	})
	th := header.TCP(pkt.TransportHeader().Push(header.TCPMinimumSize))
	th.Encode(&header.TCPFields{SrcPort: lport, DstPort: 80, DataOffset: header.TCPMinimumSize, Flags: header.TCPFlagAck})
	pkt.TransportProtocolNumber = header.TCPProtocolNumber
	ip := header.IPv4(pkt.NetworkHeader().Push(header.IPv4MinimumSize))
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(pkt.Size()), TTL: 64, Protocol: uint8(header.TCPProtocolNumber), Flags: header.IPv4FlagDontFragment,
		SrcAddr: tcpip.AddrFrom4(ipidLocal.As4()), DstAddr: tcpip.AddrFrom4(ipidRemote.As4()),
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	return pkt
}

// TestIPIDStampNoAlloc: numbering an established connection's segment
// allocates nothing.
func TestIPIDStampNoAlloc(t *testing.T) {
	s, ch := ipidStack(t)
	ep, syn, _ := establish(t, s, ch)
	_ = ep
	r, err := s.findRoute(ipidLocal, ipidRemote, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	pkt := tcpSegment(header.TCP(syn[header.IPv4MinimumSize:]).SourcePort())
	defer pkt.DecRef()
	want := header.IPv4(syn).ID() + 2
	if n := testing.AllocsPerRun(100, func() { s.stampIPID(r, pkt) }); n != 0 {
		t.Errorf("stampIPID allocates %v per packet", n)
	}
	ip := header.IPv4(pkt.NetworkHeader().Slice())
	if !ip.IsChecksumValid() {
		t.Errorf("checksum not fixed")
	}
	if got := ip.ID(); got != want+100 { // AllocsPerRun runs once more to warm up
		t.Errorf("after 101 segments ID %d, want %d", got, want+100)
	}
}

// BenchmarkIPIDStampTCP is the per-segment cost of numbering a segment of
// an established connection.
func BenchmarkIPIDStampTCP(b *testing.B) {
	s, ch := ipidStack(b)
	_, syn, _ := establish(b, s, ch)
	r, err := s.findRoute(ipidLocal, ipidRemote, 0, false)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Release()
	pkt := tcpSegment(header.TCP(syn[header.IPv4MinimumSize:]).SourcePort())
	defer pkt.DecRef()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.stampIPID(r, pkt)
	}
}
