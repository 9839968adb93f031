package stack

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// refChecksum is the Internet checksum of b, computed plainly.
func refChecksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// TestPutUDPLiteHeader: the length field and the checksum's coverage
// follow udplite_sender_cscov, and the checksum verifies over the
// pseudo-header with the whole length and the covered bytes.
func TestPutUDPLiteHeader(t *testing.T) {
	src, dst := tcpip.AddrFrom4([4]byte{10, 0, 0, 1}), tcpip.AddrFrom4([4]byte{10, 0, 0, 2})
	payload := []byte("0123456789abcdefghi") // 27 bytes with the header
	for _, c := range []struct {
		set        bool
		cov        uint16
		field, sum int
	}{
		{false, 0, 27, 27},
		{true, 0, 0, 27},
		{true, 8, 8, 8},
		{true, 13, 13, 13},
		{true, 26, 26, 26},
		{true, 27, 27, 27},
		{true, 28, 27, 27},
		{true, 65535, 27, 27},
	} {
		b := make([]byte, 8+len(payload))
		copy(b[8:], payload)
		m := &UDPSend{Src: netip.MustParseAddrPort("10.0.0.1:1"), Dst: netip.MustParseAddrPort("10.0.0.2:2"), Lite: true, CsCovSet: c.set, CsCov: c.cov, NoChecksum: true, Payload: payload}
		putUDPHeader(header.UDP(b), src, dst, m)
		h := header.UDP(b)
		if int(h.Length()) != c.field {
			t.Errorf("cov %d set %v: field %d, want %d", c.cov, c.set, h.Length(), c.field)
		}
		pseudo := []byte{10, 0, 0, 1, 10, 0, 0, 2, 0, 136, 0, byte(len(b))}
		if got := refChecksum(append(pseudo, b[:c.sum]...)); got != 0 || h.Checksum() == 0 {
			t.Errorf("cov %d set %v: checksum %#x does not verify over %d bytes", c.cov, c.set, h.Checksum(), c.sum)
		}
		cov, partial, ok := udpLiteCoverage(h, len(b))
		if !ok || cov != c.sum || partial != (c.sum < len(b)) {
			t.Errorf("cov %d set %v: read back %d %v %v", c.cov, c.set, cov, partial, ok)
		}
	}
}

// TestUDPLiteCoverageRefused: zero checksums and coverage fields of 1..7
// or past the end are refused (udplite_checksum_init).
func TestUDPLiteCoverageRefused(t *testing.T) {
	h := header.UDP(make([]byte, 8))
	h.SetChecksum(0)
	if _, _, ok := udpLiteCoverage(h, 20); ok {
		t.Error("zero checksum accepted")
	}
	h.SetChecksum(1)
	for _, f := range []uint16{1, 7, 21, 65535} {
		h.SetLength(f)
		if _, _, ok := udpLiteCoverage(h, 20); ok {
			t.Errorf("coverage %d accepted", f)
		}
	}
}
