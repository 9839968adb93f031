package gateway

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// dnsTestName encodes a dotted name as labels.
func dnsTestName(n string) []byte {
	var b []byte
	for _, l := range strings.Split(n, ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

func dnsTestRR(owner []byte, typ uint16, ttl uint32, rdata []byte) []byte {
	b := append([]byte(nil), owner...)
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, dnsClassIN)
	b = binary.BigEndian.AppendUint32(b, ttl)
	b = binary.BigEndian.AppendUint16(b, uint16(len(rdata)))
	return append(b, rdata...)
}

// dnsTestMsg is a message with one question (type A) and the records.
func dnsTestMsg(flags uint16, qname string, rrs ...[]byte) []byte {
	b := []byte{0x12, 0x34}
	b = binary.BigEndian.AppendUint16(b, flags)
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(rrs)))
	b = append(b, 0, 0, 0, 0)
	b = append(b, dnsTestName(qname)...)
	b = append(b, 0, dnsTypeA, 0, dnsClassIN)
	for _, rr := range rrs {
		b = append(b, rr...)
	}
	return b
}

// dnsTestAnswer is www.example.test -> CNAME edge.cdn.test (compressed
// owner) -> A 198.18.5.1, and an unrelated A record outside the chain.
func dnsTestAnswer() []byte {
	return dnsTestMsg(0x8180, "WWW.Example.test",
		dnsTestRR([]byte{0xc0, 12}, dnsTypeCNAME, 300, dnsTestName("edge.cdn.test")),
		dnsTestRR(dnsTestName("edge.cdn.test"), dnsTypeA, 60, []byte{198, 18, 5, 1}),
		dnsTestRR(dnsTestName("allowed.test"), dnsTypeA, 60, []byte{198, 18, 5, 2}),
	)
}

func TestParseDNSAnswer(t *testing.T) {
	got, err := parseDNSAnswer(dnsTestAnswer())
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr("198.18.5.1")
	want := []dnsAddrName{{a, "www.example.test", "www.example.test", 60}, {a, "edge.cdn.test", "www.example.test", 60}}
	if !slices.Equal(got, want) {
		t.Errorf("parseDNSAnswer = %v, want %v (the chain only, lower case, smallest TTL)", got, want)
	}
	// A query, an error answer, and truncations learn nothing.
	if got, _ := parseDNSAnswer(dnsTestMsg(0x0100, "a.test")); got != nil {
		t.Errorf("query: %v", got)
	}
	nx := dnsTestMsg(0x8183, "a.test", dnsTestRR(dnsTestName("a.test"), dnsTypeA, 1, []byte{1, 2, 3, 4}))
	if got, _ := parseDNSAnswer(nx); got != nil {
		t.Errorf("NXDOMAIN: %v", got)
	}
	full := dnsTestAnswer()
	for n := 0; n < len(full); n++ {
		if got, err := parseDNSAnswer(full[:n]); err == nil && len(got) > 0 {
			t.Errorf("truncated to %d: %v, want an error", n, got)
		}
	}
	// A compression pointer to itself or forward is malformed, not a loop.
	loop := dnsTestMsg(0x8180, "a.test", dnsTestRR([]byte{0xc0, 24}, dnsTypeA, 1, []byte{1, 2, 3, 4}))
	if _, err := parseDNSAnswer(loop); err == nil {
		t.Error("self pointer accepted")
	}
}

func TestDNSNXDomain(t *testing.T) {
	query := dnsTestMsg(0x0100, "denied.test")
	q, err := parseDNSQuestion(query)
	if err != nil || q.name != "denied.test" || q.isResponse || !q.opcodeQuery {
		t.Fatalf("parseDNSQuestion = %+v, %v", q, err)
	}
	r := dnsNXDomain(query, q)
	rq, err := parseDNSQuestion(r)
	if err != nil || !rq.isResponse || rq.id != 0x1234 || rq.flags&0xf != dnsRcodeNX || rq.flags&0x0100 == 0 || rq.name != "denied.test" {
		t.Errorf("NXDOMAIN answer %x: %+v, %v", r, rq, err)
	}
	if binary.BigEndian.Uint16(r[6:]) != 0 || len(r) != q.end {
		t.Errorf("NXDOMAIN answer carries records: %x", r)
	}
}

func TestNameTable(t *testing.T) {
	now := time.Unix(1000, 0)
	tb := &nameTable{now: func() time.Time { return now }}
	a := netip.MustParseAddr("198.18.5.1")
	tb.learn(a, "a.test", "a.test", 0)             // held nameMinTTL
	tb.learn(a, "b.test", "b.test", 100000)        // held 100000 s
	tb.learn(a, "edge.cdn.test", "b.test", 100000) // b.test's CNAME
	tb.learn(a, "edge.cdn.test", "c.test", 100000) // and c.test's
	tb.learn(a, "c.test", "c.test", 100000)
	if got := tb.names(a); !slices.Equal(got, []string{"a.test", "b.test", "edge.cdn.test", "c.test"}) {
		t.Errorf("names = %q", got)
	}
	if got := tb.chain(a, "b.test"); !slices.Equal(got, []string{"b.test", "edge.cdn.test"}) {
		t.Errorf("chain of b.test = %q, want b.test and its CNAME only", got)
	}
	if got := tb.chain(a, "edge.cdn.test"); len(got) != 3 {
		t.Errorf("chain of edge.cdn.test = %q, want both chains it is in", got)
	}
	if got := tb.chain(netip.MustParseAddr("198.18.5.9"), "b.test"); got != nil {
		t.Errorf("chain at another address = %q", got)
	}
	now = now.Add(nameMinTTL + time.Second)
	if got := tb.names(a); !slices.Equal(got, []string{"b.test", "edge.cdn.test", "c.test"}) {
		t.Errorf("after %v: names = %q, want a.test gone", nameMinTTL, got)
	}
	// One address keeps at most namesPerAddr names; the table at most
	// nameTableMax pairs, dropping (and counting) others for room.
	for i := 0; i < namesPerAddr+5; i++ {
		n := "n" + strings.Repeat("x", i) + ".test"
		tb.learn(a, n, n, 60)
	}
	if n := len(tb.names(a)); n > namesPerAddr {
		t.Errorf("%d names for one address, want <= %d", n, namesPerAddr)
	}
	for i := 0; i < nameTableMax+100; i++ {
		tb.learn(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), "flood.test", "flood.test", 60)
	}
	if n := tb.size(); n > nameTableMax {
		t.Errorf("table holds %d pairs, want <= %d", n, nameTableMax)
	}
	if tb.evictions.Load() == 0 {
		t.Error("no evictions counted")
	}
}

// TestDNSStreamSnoop: DNS over TCP (length-prefixed messages) read in
// pieces of any size gives the messages whole and teaches the same names
// as over UDP.
func TestDNSStreamSnoop(t *testing.T) {
	msg := dnsTestAnswer()
	framed := appendDNSFrame(nil, msg)
	stream := append(append([]byte(nil), framed...), framed...)
	for _, step := range []int{1, 3, 100, len(stream)} {
		gw := &Gateway{cfg: Config{Policy: &Policy{Rules: []Rule{mustRule(t, "www.example.test", false)}}}}
		r := &chunkReader{b: stream, step: step}
		var buf []byte
		for i := 0; i < 2; i++ {
			frame, cut, err := readDNSFrame(r, &buf)
			if err != nil || cut || !bytes.Equal(frame, framed) {
				t.Fatalf("pieces of %d: frame %d: %x %v %v", step, i, frame, cut, err)
			}
			gw.snoopDNS(frame[2:])
		}
		if _, cut, err := readDNSFrame(r, &buf); err != io.EOF || cut {
			t.Errorf("pieces of %d: at the end: %v %v, want EOF", step, cut, err)
		}
		if got := gw.names.names(netip.MustParseAddr("198.18.5.1")); !slices.Equal(got, []string{"www.example.test", "edge.cdn.test"}) {
			t.Errorf("pieces of %d: names %q", step, got)
		}
	}
	// Cut inside the length or the message: cut, never a frame.
	for n := 1; n < len(framed); n++ {
		var buf []byte
		if f, cut, err := readDNSFrame(bytes.NewReader(framed[:n]), &buf); f != nil || !cut || err != io.ErrUnexpectedEOF {
			t.Errorf("cut at %d: %x %v %v", n, f, cut, err)
		}
	}
}

// chunkReader reads b at most step bytes at a time.
type chunkReader struct {
	b    []byte
	step int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b[:min(r.step, len(r.b))])
	r.b = r.b[n:]
	return n, nil
}

// TestNameTableSweepKeepsCount: when learning a name for an address fills
// the table, the sweep that makes room may drop that address's own expired
// names; the new name joins what is left, and the count stays the number
// of pairs held (it bounds the table).
func TestNameTableSweepKeepsCount(t *testing.T) {
	now := time.Unix(1000, 0)
	tb := &nameTable{now: func() time.Time { return now }}
	a := netip.MustParseAddr("198.18.5.1")
	tb.learn(a, "old1.test", "old1.test", 0) // expire after nameMinTTL
	tb.learn(a, "old2.test", "old2.test", 0)
	tb.learn(a, "live.test", "live.test", 100000)
	for i := 0; tb.size() < nameTableMax; i++ {
		tb.learn(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), "f.test", "f.test", 100000)
	}
	now = now.Add(nameMinTTL + time.Second)
	tb.learn(a, "new.test", "new.test", 100000)
	held := 0
	tb.mu.Lock()
	for _, es := range tb.m {
		held += len(es)
	}
	got := len(tb.m[a])
	tb.mu.Unlock()
	if held != tb.size() {
		t.Errorf("count %d, pairs held %d", tb.size(), held)
	}
	if got != 2 {
		t.Errorf("%d entries for the address, want live.test and new.test", got)
	}
}
