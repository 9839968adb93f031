package endpoint

import (
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"

	"netsandbox/stack"
)

// ext builds an extension structure with one object of olen bytes and a
// checksum that is right unless bad.
func ext(ver byte, olen int, bad bool) []byte {
	b := []byte{ver << 4, 0, 0, 0, byte(olen >> 8), byte(olen), 1, 1, 1, 2, 3, 4}
	sum := ^checksum.Checksum(b, 0)
	if bad {
		sum ^= 0x0101
	}
	b[2], b[3] = byte(sum>>8), byte(sum)
	return b
}

// ee_data of IP_RECVERR_RFC4884: the offset of the extension in the data
// read (length field minus the headers before the data) and the INVALID
// flag, or nothing when the length is short, past the end or the type
// has no length field.
func TestRFC4884(t *testing.T) {
	data := func(e []byte) []byte { return append(make([]byte, 100), e...) }
	cases := []struct {
		name    string
		typ     uint8
		words   uint8
		payload []byte
		want    uint32
	}{
		{"valid", 3, 32, data(ext(2, 8, false)), 100},
		{"bad checksum", 11, 32, data(ext(2, 8, true)), 100 | unix.SO_EE_RFC4884_FLAG_INVALID<<16},
		{"object too short", 12, 32, data(ext(2, 2, false)), 100 | unix.SO_EE_RFC4884_FLAG_INVALID<<16},
		{"object overruns", 3, 32, data(ext(2, 40, false)), 100 | unix.SO_EE_RFC4884_FLAG_INVALID<<16},
		{"other version unchecked", 3, 32, data(ext(1, 2, true)), 100},
		{"below 128 bytes", 3, 31, data(ext(2, 8, false)), 0},
		{"past the end", 3, 35, data(ext(2, 8, false)), 0},
		{"no length field", 4, 32, data(ext(2, 8, false)), 0},
	}
	for _, c := range cases {
		se := sockErr{payload: c.payload}
		setRFC4884(&se, &stack.ICMPError{Type: c.typ, OrigLen: c.words}, 28)
		if se.ee.Data != c.want {
			t.Errorf("%s: ee_data %#x, want %#x", c.name, se.ee.Data, c.want)
		}
	}
}
