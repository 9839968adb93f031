package fdbased

import (
	"bytes"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// udpTrain builds the frame a packet socket gives for a UDP_SEGMENT send:
// one header for the whole payload, its lengths the train's.
func udpTrain(t testing.TB, v6 bool, payload []byte) []byte {
	t.Helper()
	const eth = header.EthernetMinimumSize
	ipLen := header.IPv4MinimumSize
	proto := header.IPv4ProtocolNumber
	if v6 {
		ipLen, proto = header.IPv6MinimumSize, header.IPv6ProtocolNumber
	}
	f := make([]byte, eth+ipLen+header.UDPMinimumSize+len(payload))
	header.Ethernet(f).Encode(&header.EthernetFields{Type: proto})
	udpLen := header.UDPMinimumSize + len(payload)
	if v6 {
		header.IPv6(f[eth:]).Encode(&header.IPv6Fields{
			PayloadLength: uint16(udpLen), TransportProtocol: header.UDPProtocolNumber, HopLimit: 64,
			SrcAddr: tcpip.AddrFrom16([16]byte{0xfd, 15: 1}), DstAddr: tcpip.AddrFrom16([16]byte{0xfd, 15: 2}),
		})
	} else {
		ip := header.IPv4(f[eth:])
		ip.Encode(&header.IPv4Fields{
			TotalLength: uint16(ipLen + udpLen), ID: 0xfffe, Protocol: uint8(header.UDPProtocolNumber), TTL: 64,
			SrcAddr: tcpip.AddrFrom4([4]byte{198, 18, 0, 1}), DstAddr: tcpip.AddrFrom4([4]byte{198, 18, 0, 2}),
		})
		ip.SetChecksum(^ip.CalculateChecksum())
	}
	u := header.UDP(f[eth+ipLen:])
	u.Encode(&header.UDPFields{SrcPort: 4000, DstPort: 7, Length: uint16(udpLen), Checksum: 0x1234})
	copy(f[eth+ipLen+header.UDPMinimumSize:], payload)
	return f
}

func TestSplitUDPGSO(t *testing.T) {
	payload := make([]byte, 3*1000+17)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	for _, v6 := range []bool{false, true} {
		segs, ok := splitUDPGSO(udpTrain(t, v6, payload), 1000)
		if !ok || len(segs) != 4 {
			t.Fatalf("v6=%v: %d datagrams (ok %v), want 4", v6, len(segs), ok)
		}
		var got []byte
		for i, seg := range segs {
			eth := seg[header.EthernetMinimumSize:]
			var net header.Network
			var udp header.UDP
			if v6 {
				ip := header.IPv6(eth)
				if !ip.IsValid(len(ip)) || int(ip.PayloadLength()) != len(ip)-header.IPv6MinimumSize {
					t.Fatalf("datagram %d: bad IPv6 header %x", i, eth[:40])
				}
				net, udp = ip, header.UDP(ip.Payload())
			} else {
				ip := header.IPv4(eth)
				if !ip.IsValid(len(ip)) || !ip.IsChecksumValid() || int(ip.TotalLength()) != len(ip) {
					t.Fatalf("datagram %d: bad IPv4 header %x", i, eth[:20])
				}
				if want := uint16(0xfffe + i); ip.ID() != want {
					t.Errorf("datagram %d: IPv4 id %#x, want %#x", i, ip.ID(), want)
				}
				net, udp = ip, header.UDP(ip.Payload())
			}
			data := udp[header.UDPMinimumSize:]
			if int(udp.Length()) != len(udp) || udp.SourcePort() != 4000 || udp.DestinationPort() != 7 {
				t.Fatalf("datagram %d: UDP header %x for %d bytes", i, udp[:8], len(udp))
			}
			if !udp.IsChecksumValid(net.SourceAddress(), net.DestinationAddress(), checksum.Checksum(data, 0)) {
				t.Errorf("datagram %d: bad UDP checksum %#x", i, udp.Checksum())
			}
			got = append(got, data...)
		}
		if !bytes.Equal(got, payload) {
			t.Errorf("v6=%v: the datagrams do not carry the train's payload in order", v6)
		}
	}
}

func TestSplitUDPGSORefuses(t *testing.T) {
	train := udpTrain(t, false, make([]byte, 100))
	tcp := append([]byte(nil), train...)
	tcp[header.EthernetMinimumSize+9] = uint8(header.TCPProtocolNumber) // the protocol field
	for name, c := range map[string]struct {
		frame []byte
		size  int
	}{
		"gso size 0":   {train, 0},
		"not UDP":      {tcp, 10},
		"cut short":    {train[:30], 10},
		"not IP":       {make([]byte, 60), 10},
		"empty header": {nil, 10},
	} {
		if _, ok := splitUDPGSO(c.frame, c.size); ok {
			t.Errorf("%s: split, want refused", name)
		}
	}
}

func FuzzSplitUDPGSO(f *testing.F) {
	f.Add(udpTrain(f, false, make([]byte, 50)), 16)
	f.Add(udpTrain(f, true, make([]byte, 50)), 7)
	f.Fuzz(func(t *testing.T, frame []byte, size int) {
		segs, ok := splitUDPGSO(frame, size%70000)
		if !ok {
			return
		}
		for _, s := range segs {
			if len(s) > len(frame) {
				t.Fatalf("a %d-byte datagram from a %d-byte frame", len(s), len(frame))
			}
		}
	})
}
