package channel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

// countPcapRecords checks the file header and walks the records of a
// little-endian microsecond pcap file.
func countPcapRecords(t *testing.T, b []byte) int {
	t.Helper()
	if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 {
		t.Fatalf("not a little-endian pcap file: % x", b[:min(len(b), 24)])
	}
	n := 0
	for off := 24; off < len(b); n++ {
		if len(b)-off < 16 {
			t.Fatalf("truncated record header at %d", off)
		}
		incl := int(binary.LittleEndian.Uint32(b[off+8:]))
		off += 16 + incl
		if off > len(b) {
			t.Fatalf("record %d overruns the file", n)
		}
	}
	return n
}

func TestPcapLayout(t *testing.T) {
	var buf bytes.Buffer
	pw, err := NewPcapWriter(&buf, LinkTypeRaw)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1700000000, 123456789)
	if err := pw.WritePacket(ts, []byte{0x45, 1, 2}); err != nil {
		t.Fatal(err)
	}
	want := []byte{
		0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, // magic, version 2.4
		0, 0, 0, 0, 0, 0, 0, 0, // thiszone, sigfigs
		0, 0, 4, 0, 101, 0, 0, 0, // snaplen 262144, LINKTYPE_RAW
		0x00, 0xf1, 0x53, 0x65, 0x40, 0xe2, 0x01, 0, // 1700000000 s, 123456 us
		3, 0, 0, 0, 3, 0, 0, 0, // incl_len, orig_len
		0x45, 1, 2,
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("pcap bytes\n got % x\nwant % x", buf.Bytes(), want)
	}
}

func TestPcapTruncatesToSnapLen(t *testing.T) {
	var buf bytes.Buffer
	pw, _ := NewPcapWriter(&buf, LinkTypeEthernet)
	big := make([]byte, pcapSnapLen+10)
	if err := pw.WritePacket(time.Now(), big); err != nil {
		t.Fatal(err)
	}
	rec := buf.Bytes()[24:]
	if incl, orig := binary.LittleEndian.Uint32(rec[8:]), binary.LittleEndian.Uint32(rec[12:]); incl != pcapSnapLen || orig != pcapSnapLen+10 {
		t.Fatalf("incl %d orig %d", incl, orig)
	}
	if len(rec) != 16+pcapSnapLen {
		t.Fatalf("record is %d bytes", len(rec))
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

func TestPcapStickyError(t *testing.T) {
	if _, err := NewPcapWriter(&failWriter{}, LinkTypeRaw); err == nil {
		t.Fatal("header write error not reported")
	}
	pw, err := NewPcapWriter(&failWriter{n: 1}, LinkTypeRaw)
	if err != nil {
		t.Fatal(err)
	}
	if pw.WritePacket(time.Now(), []byte{1}) == nil {
		t.Fatal("first write error not reported")
	}
	// The error sticks: a later write fails without touching the writer.
	if pw.WritePacket(time.Now(), []byte{1}) == nil || pw.Err() == nil {
		t.Fatal("write error not kept")
	}
}
