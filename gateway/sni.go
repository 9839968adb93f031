package gateway

import "encoding/binary"

// sniffState is how far a parser of a client's first bytes got.
type sniffState uint8

const (
	sniffMore  sniffState = iota // the bytes so far are a prefix of what it reads
	sniffFound                   // complete; the name is the client's ("" none)
	sniffNot                     // not this protocol
)

// TLS record and handshake numbers (RFC 8446 sections 4 and 5).
const (
	tlsRecordHandshake = 22
	tlsClientHello     = 1
	tlsExtServerName   = 0
	tlsSNIHostName     = 0
	tlsMaxHello        = 1 << 16 // a larger ClientHello is not read
)

// parseClientHelloSNI reads a TLS ClientHello from the start of a stream
// and returns its server_name host name (RFC 6066 section 3). The hello may
// span several handshake records; only their payloads count. Every length
// is checked against what is there.
func parseClientHelloSNI(b []byte) (string, sniffState) {
	var hs []byte // the handshake bytes the records carried so far
	for len(b) > 0 {
		if b[0] != tlsRecordHandshake {
			return "", sniffNot
		}
		if len(b) < 5 {
			return "", sniffMore
		}
		if b[1] != 3 {
			return "", sniffNot
		}
		n := int(binary.BigEndian.Uint16(b[3:]))
		if n == 0 || n > 1<<14+2048 {
			return "", sniffNot
		}
		if len(b) < 5+n {
			hs = append(hs, b[5:]...)
			break
		}
		hs = append(hs, b[5:5+n]...)
		b = b[5+n:]
		if len(hs) >= 4 && len(hs) >= 4+helloLen(hs) {
			break
		}
	}
	if len(hs) < 4 {
		return "", sniffMore
	}
	if hs[0] != tlsClientHello {
		return "", sniffNot
	}
	n := helloLen(hs)
	if n > tlsMaxHello {
		return "", sniffNot
	}
	if len(hs) < 4+n {
		return "", sniffMore
	}
	name, ok := helloServerName(hs[4 : 4+n])
	if !ok {
		return "", sniffNot
	}
	return name, sniffFound
}

func helloLen(hs []byte) int { return int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3]) }

// helloServerName walks a ClientHello body to its server_name extension.
// ok false: the body is malformed.
func helloServerName(h []byte) (string, bool) {
	r := reader{b: h}
	r.skip(2 + 32)       // legacy_version, random
	r.skip(int(r.u8()))  // legacy_session_id
	r.skip(int(r.u16())) // cipher_suites
	r.skip(int(r.u8()))  // legacy_compression_methods
	if r.bad || r.left() == 0 {
		return "", !r.bad // no extensions: a valid hello without a name
	}
	exts := reader{b: r.bytes(int(r.u16()))}
	if r.bad {
		return "", false
	}
	for exts.left() > 0 {
		typ := exts.u16()
		body := reader{b: exts.bytes(int(exts.u16()))}
		if exts.bad {
			return "", false
		}
		if typ != tlsExtServerName {
			continue
		}
		list := reader{b: body.bytes(int(body.u16()))}
		for list.left() > 0 && !list.bad {
			kind := list.u8()
			name := list.bytes(int(list.u16()))
			if list.bad {
				return "", false
			}
			if kind == tlsSNIHostName {
				n, _ := normalizeName(string(name))
				return n, true
			}
		}
		return "", !body.bad && !list.bad
	}
	return "", true
}

// reader takes bytes off a slice; a read past the end sets bad and yields
// zeros, so a parser checks once after a run of reads.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) left() int { return len(r.b) }

func (r *reader) bytes(n int) []byte {
	if r.bad || n > len(r.b) {
		r.bad = true
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) skip(n int) { r.bytes(n) }

func (r *reader) u8() uint8 {
	if v := r.bytes(1); v != nil {
		return v[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if v := r.bytes(2); v != nil {
		return binary.BigEndian.Uint16(v)
	}
	return 0
}
