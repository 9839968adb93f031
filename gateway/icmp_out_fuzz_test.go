package gateway

import (
	"net/netip"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// FuzzUDPQuote: any ICMP error body the sandbox sends parses or is
// refused without a panic, and an error rebuilt from what parsed quotes
// the same datagram back, within an ICMP error's 576 bytes.
func FuzzUDPQuote(f *testing.F) {
	from, to := netip.MustParseAddrPort("198.18.5.1:7"), netip.MustParseAddrPort("10.0.2.100:40000")
	f.Add(forgedUnreachable(from, to)[8:])
	f.Add(buildUDPError(3, 3, make([]byte, 4), from, to, 63, 0, 1000, make([]byte, 992), true)[8:])
	f.Add([]byte{0x46, 0, 0, 28})
	f.Fuzz(func(t *testing.T, q []byte) {
		src, dst, udpLen, payload, ok := parseUDPQuote(q)
		if !ok {
			return
		}
		if len(payload) > len(q) {
			t.Fatalf("payload of %d from a quote of %d", len(payload), len(q))
		}
		msg := buildUDPError(3, 3, []byte{0, 0, 0, 0}, src, dst, 64, 0, udpLen, payload, true)
		if len(msg) > 576-20 {
			t.Fatalf("error of %d bytes, more than fits in 576", len(msg))
		}
		s2, d2, l2, p2, ok := parseUDPQuote(msg[8:])
		if !ok || s2 != src || d2 != dst || l2 != udpLen || len(p2) != min(len(payload), icmpQuoteRoom-28) {
			t.Fatalf("rebuilt quote %v %v %d %d, want %v %v %d", s2, d2, l2, len(p2), src, dst, udpLen)
		}
		if checksum.Checksum(msg[8:28], 0) != 0xffff {
			t.Fatal("quoted IP header checksum")
		}
		if int(udpLen) == 8+len(payload) && len(p2) == len(payload) {
			u := header.UDP(msg[28:])
			sum := header.PseudoHeaderChecksum(header.UDPProtocolNumber, gAddr(src.Addr()), gAddr(dst.Addr()), udpLen)
			if !u.IsChecksumValid(gAddr(src.Addr()), gAddr(dst.Addr()), checksum.Checksum(p2, 0)) {
				t.Fatalf("quoted UDP checksum %#x invalid (pseudo %#x)", u.Checksum(), sum)
			}
		}
	})
}
