package main

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
)

// dnsAnswer answers one DNS query (RFC 1035 wire format) the way a tiny
// authoritative server for a single name would: an A record for name, an
// empty NOERROR answer for its other types, NXDOMAIN for other names. It
// returns nil for what is not a one-question query, so garbage gets no
// answer.
func dnsAnswer(q []byte, name string, addr netip.Addr) []byte {
	if len(q) < 12 || q[2]&0x80 != 0 || binary.BigEndian.Uint16(q[4:]) != 1 {
		return nil
	}
	// The question: labels up to a zero byte (no compression in a query),
	// then type and class.
	off, qname := 12, ""
	for i := 0; ; i++ {
		if off >= len(q) || i > 127 {
			return nil
		}
		n := int(q[off])
		off++
		if n == 0 {
			break
		}
		if n > 63 || off+n > len(q) {
			return nil
		}
		if qname != "" {
			qname += "."
		}
		qname += string(q[off : off+n])
		off += n
	}
	if off+4 > len(q) {
		return nil
	}
	qtype, qclass := binary.BigEndian.Uint16(q[off:]), binary.BigEndian.Uint16(q[off+2:])
	off += 4
	r := make([]byte, 0, off+16)
	r = append(r, q[0], q[1])
	// QR, the query's opcode and RD; AA and RA set.
	r = append(r, 0x84|q[2]&0x79, 0x80)
	r = append(r, 0, 1, 0, 0, 0, 0, 0, 0)
	r = append(r, q[12:off]...)
	switch {
	case qname != name:
		r[3] |= 3 // NXDOMAIN
	case qtype == 1 && qclass == 1 && addr.Is4():
		r[7] = 1
		a := addr.As4()
		r = append(r, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
		r = append(r, a[:]...)
	}
	return r
}

// serveDNS answers queries on pc with dnsAnswer until pc closes (or 1000
// queries, a bound no test reaches).
func serveDNS(pc net.PacketConn, name string, addr netip.Addr) {
	buf := make([]byte, 1500)
	for i := 0; i < 1000; i++ {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if r := dnsAnswer(buf[:n], name, addr); r != nil {
			pc.WriteTo(r, from)
		}
	}
}

func FuzzDNSAnswer(f *testing.F) {
	// A query for nsbx-probe.test, type A, with an EDNS0 OPT record.
	f.Add([]byte("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01\x0ansbx-probe\x04test\x00\x00\x01\x00\x01\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x00\x00\x1c\x00\x01"))
	f.Add([]byte("\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01"))
	addr := netip.MustParseAddr("198.18.6.77")
	f.Fuzz(func(t *testing.T, q []byte) {
		r := dnsAnswer(q, "nsbx-probe.test", addr)
		if r == nil {
			return
		}
		if len(r) < 12 || r[0] != q[0] || r[1] != q[1] || r[2]&0x80 == 0 {
			t.Fatalf("answer %x to %x: not a response with the query's ID", r, q)
		}
		if an := binary.BigEndian.Uint16(r[6:]); an > 1 || (an == 1 && len(r) < 12+5+16) {
			t.Fatalf("answer %x: %d answers in %d bytes", r, an, len(r))
		}
	})
}

func TestDNSAnswer(t *testing.T) {
	addr := netip.MustParseAddr("198.18.6.77")
	q := []byte("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x0ansbx-probe\x04test\x00\x00\x01\x00\x01")
	r := dnsAnswer(q, "nsbx-probe.test", addr)
	want := append(append([]byte("\x12\x34\x85\x80\x00\x01\x00\x01\x00\x00\x00\x00"), q[12:]...),
		0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 6, 77)
	if string(r) != string(want) {
		t.Errorf("A query: got %x, want %x", r, want)
	}
	aaaa := append([]byte(nil), q...)
	aaaa[len(aaaa)-3] = 28
	if r := dnsAnswer(aaaa, "nsbx-probe.test", addr); len(r) != len(q) || r[3]&0xf != 0 || r[7] != 0 {
		t.Errorf("AAAA query: got %x, want NOERROR without answers", r)
	}
	if r := dnsAnswer(q, "other.test", addr); len(r) != len(q) || r[3]&0xf != 3 {
		t.Errorf("other name: got %x, want NXDOMAIN", r)
	}
	if r := dnsAnswer(q[:20], "nsbx-probe.test", addr); r != nil {
		t.Errorf("truncated query answered: %x", r)
	}
}
