package stack_test

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"netsandbox/options"
	"netsandbox/stack"
)

func mustOpts(t *testing.T, b []byte) *options.IPOptions {
	t.Helper()
	o, err := options.CompileIPOptions(b, false, func(netip.Addr) bool { return false })
	if err != nil {
		t.Fatalf("CompileIPOptions(%x): %v", b, err)
	}
	return o
}

// checkIPv4 asserts a well-formed IPv4 header with the given options.
func checkIPv4(t *testing.T, pkt []byte, dst string, opts []byte) header.IPv4 {
	t.Helper()
	ip := header.IPv4(pkt)
	if int(ip.HeaderLength()) != header.IPv4MinimumSize+len(opts) {
		t.Fatalf("IHL %d bytes, want %d", ip.HeaderLength(), header.IPv4MinimumSize+len(opts))
	}
	if got := pkt[header.IPv4MinimumSize:ip.HeaderLength()]; !bytes.Equal(got, opts) {
		t.Errorf("options %x, want %x", got, opts)
	}
	if !ip.IsChecksumValid() {
		t.Error("bad header checksum")
	}
	if ip.DestinationAddress() != tcpip.AddrFrom4(netip.MustParseAddr(dst).As4()) {
		t.Errorf("destination %v, want %s", ip.DestinationAddress(), dst)
	}
	if int(ip.TotalLength()) != len(pkt) {
		t.Errorf("total length %d, packet %d", ip.TotalLength(), len(pkt))
	}
	return ip
}

func TestSendUDPWithIPOptions(t *testing.T) {
	s := newStack(t, stack.Config{})
	ch, _ := attach(t, s, "10.0.0.1/24")
	payload := []byte("options")

	// Record route: this host's address in the first slot.
	m := &stack.UDPSend{Src: ap("10.0.0.1:5000"), Dst: ap("10.0.0.2:9"), IPOptions: mustOpts(t, []byte{7, 7, 4, 0, 0, 0, 0}), Payload: payload}
	if err := s.SendUDP(m); err != nil {
		t.Fatalf("SendUDP: %v", err)
	}
	pkt := readFrame(t, ch)
	ip := checkIPv4(t, pkt, "10.0.0.2", []byte{7, 7, 8, 10, 0, 0, 1, 0})
	udp := header.UDP(ip.Payload())
	if udp.DestinationPort() != 9 || !bytes.Equal(udp.Payload(), payload) {
		t.Errorf("UDP dst %d payload %q", udp.DestinationPort(), udp.Payload())
	}
	if !udp.IsChecksumValid(ip.SourceAddress(), ip.DestinationAddress(), checksumOf(payload)) {
		t.Error("bad UDP checksum")
	}

	// Loose source route: sent to the first hop, the final destination
	// in the option's last slot; the UDP checksum covers the first hop.
	m = &stack.UDPSend{Src: ap("10.0.0.1:5000"), Dst: ap("192.0.2.9:9"), IPOptions: mustOpts(t, []byte{0x83, 7, 4, 10, 0, 0, 2}), Payload: payload}
	if err := s.SendUDP(m); err != nil {
		t.Fatalf("SendUDP source route: %v", err)
	}
	pkt = readFrame(t, ch)
	ip = checkIPv4(t, pkt, "10.0.0.2", []byte{0x83, 7, 4, 192, 0, 2, 9, 0})
	udp = header.UDP(ip.Payload())
	if !udp.IsChecksumValid(ip.SourceAddress(), ip.DestinationAddress(), checksumOf(payload)) {
		t.Error("bad UDP checksum against the first hop")
	}

	// Without options nothing changes.
	if err := s.SendUDP(&stack.UDPSend{Src: ap("10.0.0.1:5000"), Dst: ap("10.0.0.2:9"), Payload: payload}); err != nil {
		t.Fatalf("SendUDP: %v", err)
	}
	checkIPv4(t, readFrame(t, ch), "10.0.0.2", nil)
}

func TestSendRawIPWithOptions(t *testing.T) {
	s := newStack(t, stack.Config{})
	ch, _ := attach(t, s, "10.0.0.1/24")
	payload := []byte{1, 2, 3, 4, 5}
	m := &stack.RawSend{Dst: netip.MustParseAddr("10.0.0.2"), Protocol: 253, TTL: 7, TOS: 0x20,
		PMTU: stack.PMTUWant, IPOptions: mustOpts(t, []byte{0x94, 4, 0, 0}), Payload: payload}
	if err := s.SendRawIP(m); err != nil {
		t.Fatalf("SendRawIP: %v", err)
	}
	ip := checkIPv4(t, readFrame(t, ch), "10.0.0.2", []byte{0x94, 4, 0, 0})
	if tos, _ := ip.TOS(); ip.Protocol() != 253 || ip.TTL() != 7 || tos != 0x20 || !bytes.Equal(ip.Payload(), payload) {
		t.Errorf("proto %d ttl %d tos %#x payload %x", ip.Protocol(), ip.TTL(), tos, ip.Payload())
	}
	if ip.Flags()&header.IPv4FlagDontFragment == 0 || ip.ID() == 0 {
		t.Errorf("WANT mode: flags %d id %d, want DF and a non-zero ID", ip.Flags(), ip.ID())
	}
	m.PMTU, m.Payload = stack.PMTUDo, make([]byte, 1500)
	if err := s.SendRawIP(m); !errors.Is(err, unix.EMSGSIZE) {
		t.Errorf("DO mode above the MTU: %v, want EMSGSIZE", err)
	}
}

func TestUDPBindPortRange(t *testing.T) {
	s := newStack(t, stack.Config{})
	attach(t, s, "10.0.0.1/24")
	f := stack.UDPBindFlags{PortRange: 40000 | 40001<<16}
	seen := map[uint16]bool{}
	for i := 0; i < 2; i++ {
		b := bind(t, s, newRecorder(), "10.0.0.1:0", f)
		p := b.Local().Port()
		if p < 40000 || p > 40001 || seen[p] {
			t.Fatalf("port %d, want a free one of 40000-40001", p)
		}
		seen[p] = true
	}
	if _, err := s.UDPBind(newRecorder(), ap("10.0.0.1:0"), f); !errors.Is(err, unix.EADDRINUSE) {
		t.Errorf("exhausted range: %v, want EADDRINUSE", err)
	}
	// A range outside ip_local_port_range falls back to it.
	lo, hi := s.EphemeralRange(1000 | 2000<<16)
	if wantLo, wantHi := s.EphemeralRange(0); lo != wantLo || hi != wantHi {
		t.Errorf("EphemeralRange outside the sysctl's = %d-%d, want %d-%d", lo, hi, wantLo, wantHi)
	}
}
