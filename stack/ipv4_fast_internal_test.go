package stack

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// fastRecorder keeps what a binding is given.
type fastRecorder struct{ got []string }

func (r *fastRecorder) DeliverUDP(d *Datagram) {
	r.got = append(r.got, fmt.Sprintf("%v>%v if%d ttl%d tos%d frag%d opts%x %q", d.Src, d.Dst, d.IfIndex, d.TTL, d.TOS, d.FragSize, d.IPOptions, d.Payload))
}

func (r *fastRecorder) DeliverICMPError(e *ICMPError) {
	r.got = append(r.got, fmt.Sprintf("icmp %+v", *e))
}

func (*fastRecorder) AcceptCoverage(int) bool { return true }

// fastFrame describes an inbound IPv4 packet from 10.0.0.1 to 10.0.0.2:9000
// carrying a UDP datagram, and how to spoil it.
type fastFrame struct {
	src, dst string
	proto    uint8
	opts     []byte // IP options, a multiple of 4 bytes
	flags    uint8  // header.IPv4Flag*
	port     uint16 // destination port, 9000 if 0
	badIPSum bool
	badUDP   bool
}

func (f fastFrame) bytes() []byte {
	src, dst := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	if f.src != "" {
		src = netip.MustParseAddr(f.src)
	}
	if f.dst != "" {
		dst = netip.MustParseAddr(f.dst)
	}
	proto := f.proto
	if proto == 0 {
		proto = uint8(header.UDPProtocolNumber)
	}
	port := f.port
	if port == 0 {
		port = 9000
	}
	payload := []byte("fast path datagram")
	hl := header.IPv4MinimumSize + len(f.opts)
	b := make([]byte, hl+header.UDPMinimumSize+len(payload))
	ip := header.IPv4(b)
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(len(b)),
		ID:          7,
		Flags:       f.flags,
		TTL:         33,
		TOS:         0x10,
		Protocol:    proto,
		SrcAddr:     tcpip.AddrFrom4(src.As4()),
		DstAddr:     tcpip.AddrFrom4(dst.As4()),
		Options:     header.IPv4OptionsSerializer{&header.IPv4SerializableNOPOption{}, &header.IPv4SerializableNOPOption{}, &header.IPv4SerializableNOPOption{}, &header.IPv4SerializableListEndOption{}}[:len(f.opts)],
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	if f.badIPSum {
		ip.SetChecksum(ip.Checksum() ^ 1)
	}
	u := header.UDP(b[hl:])
	u.Encode(&header.UDPFields{SrcPort: 5000, DstPort: port, Length: uint16(len(u))})
	copy(u.Payload(), payload)
	length := uint16(len(u))
	if proto == uint8(UDPLiteProtocolNumber) {
		u.SetLength(0) // whole-datagram coverage
	}
	sum := header.PseudoHeaderChecksum(tcpip.TransportProtocolNumber(proto), ip.SourceAddress(), ip.DestinationAddress(), length)
	u.SetChecksum(^checksum.Checksum(u, sum))
	if f.badUDP {
		u.SetChecksum(u.Checksum() ^ 1)
	}
	return b
}

// fastRun is what one stack made of a packet.
type fastRun struct {
	Delivered []string
	Out       []string // frames written, IP ID and checksums cleared
	IP        map[string]uint64
	NICIP     map[string]uint64
	Acct      string
	UDP       map[string]uint64
}

func ipCounters(st *tcpip.IPStats) map[string]uint64 {
	m := map[string]uint64{}
	v := reflect.ValueOf(st).Elem()
	for i := 0; i < v.NumField(); i++ {
		if c, ok := v.Field(i).Interface().(*tcpip.StatCounter); ok && c != nil {
			if n := c.Value(); n != 0 {
				m[v.Type().Field(i).Name] = n
			}
		}
	}
	return m
}

// fastStack is a stack at 10.0.0.2/24 on a channel NIC with a UDP and a
// UDP-Lite binding on port 9000.
func fastStack(t *testing.T, fast bool) (*Stack, *channel.Endpoint, *fastRecorder, *ipv4HookEP) {
	t.Helper()
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.ipv4FastOff = !fast
	ch := channel.New(64, 1500, "")
	idx, err := s.AddInterface("eth0", ch)
	if err != nil {
		t.Fatal(err)
	}
	p := netip.MustParsePrefix("10.0.0.2/24")
	if err := s.AddAddress(idx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRoute(p.Masked(), netip.Addr{}, idx); err != nil {
		t.Fatal(err)
	}
	r := &fastRecorder{}
	for _, lite := range []bool{false, true} {
		b, err := s.UDPBind(r, netip.MustParseAddrPort("0.0.0.0:9000"), UDPBindFlags{Lite: lite})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(b.Release)
	}
	ep, e := s.g.GetNetworkEndpoint(tcpip.NICID(idx), ipv4.ProtocolNumber)
	if e != nil {
		t.Fatal(e)
	}
	h := ep.(*ipv4HookEP)
	if (h.fast != nil) != fast {
		t.Fatalf("fast path present %v, want %v", h.fast != nil, fast)
	}
	return s, ch, r, h
}

func runFast(t *testing.T, fast bool, f fastFrame, setup func(*Stack)) (fastRun, uint64) {
	s, ch, r, h := fastStack(t, fast)
	if setup != nil {
		setup(s)
	}
	before := s.Accounting()
	pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{Payload: buffer.MakeWithData(f.bytes())})
	ch.InjectInbound(header.IPv4ProtocolNumber, pkt)
	pkt.DecRef()
	var out []string
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	for {
		p := ch.ReadContext(ctx)
		if p == nil {
			break
		}
		v := p.ToView()
		b := append([]byte(nil), v.AsSlice()...)
		v.Release()
		p.DecRef()
		if len(b) >= header.IPv4MinimumSize {
			header.IPv4(b).SetID(0)
			header.IPv4(b).SetChecksum(0)
		}
		out = append(out, fmt.Sprintf("%x", b))
	}
	st, _ := h.ipv4Endpoint.Stats().(*ipv4.Stats)
	gst := s.g.Stats().IP
	run := fastRun{
		Delivered: r.got,
		Out:       out,
		IP:        ipCounters(&gst),
		NICIP:     ipCounters(&st.IP),
		Acct:      s.Accounting().Sub(before).String(),
		UDP: map[string]uint64{
			"InDatagrams": s.stats.UDPInDatagrams.Load(), "NoPorts": s.stats.UDPNoPorts.Load(),
			"InErrors": s.stats.UDPInErrors.Load(), "InCsumErrors": s.stats.UDPInCsumErrors.Load(),
			"IgnoredMulti": s.stats.UDPIgnoredMulti.Load(),
		},
	}
	var taken uint64
	if h.fast != nil {
		taken = h.fast.taken.Load()
	}
	return run, taken
}

// TestIPv4FastPath: each packet has the same outcome (delivery, frames
// sent, gVisor's IP counters on the stack and the NIC, the inbound
// accounting, the UDP counters) with the fast path on and off, and only
// the common datagrams take it.
func TestIPv4FastPath(t *testing.T) {
	nop4 := []byte{1, 1, 1, 0}
	for _, c := range []struct {
		name  string
		f     fastFrame
		setup func(*Stack)
		fast  bool
	}{
		{name: "udp", f: fastFrame{}, fast: true},
		{name: "udp-df", f: fastFrame{flags: header.IPv4FlagDontFragment}, fast: true},
		{name: "udp-no-socket", f: fastFrame{port: 9001}, fast: true},
		{name: "udp-bad-checksum", f: fastFrame{badUDP: true}, fast: true},
		{name: "udplite", f: fastFrame{proto: uint8(UDPLiteProtocolNumber)}, fast: true},
		{name: "udplite-no-socket", f: fastFrame{proto: uint8(UDPLiteProtocolNumber), port: 9001}, fast: true},
		{name: "options", f: fastFrame{opts: nop4}},
		{name: "fragment", f: fastFrame{flags: header.IPv4FlagMoreFragments}},
		{name: "raw-open", f: fastFrame{}, setup: func(s *Stack) { s.RawOpened(int(header.UDPProtocolNumber)) }},
		{name: "broadcast", f: fastFrame{dst: "255.255.255.255"}},
		{name: "subnet-broadcast", f: fastFrame{dst: "10.0.0.255"}},
		{name: "multicast", f: fastFrame{dst: "224.0.0.1"}},
		{name: "foreign", f: fastFrame{dst: "10.0.0.9"}},
		{name: "bad-ip-checksum", f: fastFrame{badIPSum: true}},
		{name: "own-source", f: fastFrame{src: "10.0.0.2"}},
		{name: "broadcast-source", f: fastFrame{src: "10.0.0.255"}},
		{name: "loopback-source", f: fastFrame{src: "127.0.0.1"}},
		{name: "loopback-destination", f: fastFrame{dst: "127.0.0.1"}},
		{name: "multicast-source", f: fastFrame{src: "224.0.0.5"}},
		{name: "tcp", f: fastFrame{proto: uint8(header.TCPProtocolNumber)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			slow, _ := runFast(t, false, c.f, c.setup)
			got, taken := runFast(t, true, c.f, c.setup)
			if diff := cmp.Diff(slow, got); diff != "" {
				t.Errorf("fast path differs from gVisor's (-gvisor +fast):\n%s", diff)
			}
			want := uint64(0)
			if c.fast {
				want = 1
			}
			if taken != want {
				t.Errorf("fast path taken %d times, want %d", taken, want)
			}
			if c.name == "udp" && len(got.Delivered) != 1 {
				t.Errorf("delivered %q, want one datagram", got.Delivered)
			}
			if c.name == "udp-no-socket" && len(got.Out) != 1 {
				t.Errorf("sent %q, want one port unreachable", got.Out)
			}
		})
	}
}
