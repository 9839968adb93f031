package gateway

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// A DNS message parser for what the gateway needs of its resolver's traffic
// (RFC 1035 section 4): the question of a query, and the A records of an
// answer with the CNAME chain that led to them. It reads at most
// dnsMaxRecords records and follows compression pointers only backwards, so
// any input ends in bounded time; malformed input is an error, never a
// panic.

const (
	dnsHeaderLen  = 12
	dnsMaxRecords = 128
	dnsTypeA      = 1
	dnsTypeAAAA   = 28
	dnsTypeCNAME  = 5
	dnsClassIN    = 1
	dnsRcodeNX    = 3
)

var errDNSMalformed = errors.New("dns: malformed message")

// dnsQuestion is a message's single question.
type dnsQuestion struct {
	name        string // normalized; "" when not a host name
	qtype       uint16
	qclass      uint16
	end         int // offset just past the question
	id          uint16
	flags       uint16
	isResponse  bool
	opcodeQuery bool
}

// dnsAddrName is one address of an answer and a name that resolved to it.
type dnsAddrName struct {
	addr netip.Addr
	name string
	head string // the question: the chain's first name
	ttl  uint32
}

// parseDNSQuestion reads the header and the question of a message with
// exactly one question.
func parseDNSQuestion(m []byte) (dnsQuestion, error) {
	var q dnsQuestion
	if len(m) < dnsHeaderLen {
		return q, errDNSMalformed
	}
	q.id = binary.BigEndian.Uint16(m)
	q.flags = binary.BigEndian.Uint16(m[2:])
	q.isResponse = q.flags&0x8000 != 0
	q.opcodeQuery = q.flags&0x7800 == 0
	if binary.BigEndian.Uint16(m[4:]) != 1 {
		return q, errDNSMalformed
	}
	name, off, err := readDNSName(m, dnsHeaderLen)
	if err != nil || off+4 > len(m) {
		return q, errDNSMalformed
	}
	q.name, _ = normalizeName(name)
	q.qtype = binary.BigEndian.Uint16(m[off:])
	q.qclass = binary.BigEndian.Uint16(m[off+2:])
	q.end = off + 4
	return q, nil
}

// parseDNSAnswer returns the A records of a response reached from its
// question through CNAMEs, each with every name of the chain (the question,
// the aliases, the record's owner). Records outside the chain are ignored:
// they are not what the sandbox asked for. The TTL is the smallest along
// the chain.
func parseDNSAnswer(m []byte) ([]dnsAddrName, error) {
	q, err := parseDNSQuestion(m)
	if err != nil || !q.isResponse || q.name == "" {
		return nil, err
	}
	if q.flags&0xf != 0 { // rcode: no answer to learn from
		return nil, nil
	}
	ancount := int(binary.BigEndian.Uint16(m[6:]))
	type cname struct {
		target string
		ttl    uint32
	}
	type arec struct {
		owner string
		addr  netip.Addr
		ttl   uint32
	}
	var cnames map[string]cname
	var as []arec
	off := q.end
	for i := 0; i < ancount && i < dnsMaxRecords; i++ {
		owner, o, err := readDNSName(m, off)
		if err != nil || o+10 > len(m) {
			return nil, errDNSMalformed
		}
		typ := binary.BigEndian.Uint16(m[o:])
		class := binary.BigEndian.Uint16(m[o+2:])
		ttl := binary.BigEndian.Uint32(m[o+4:])
		rdlen := int(binary.BigEndian.Uint16(m[o+8:]))
		rd := o + 10
		if rd+rdlen > len(m) {
			return nil, errDNSMalformed
		}
		off = rd + rdlen
		if class != dnsClassIN {
			continue
		}
		own, ok := normalizeName(owner)
		if !ok {
			continue
		}
		switch typ {
		case dnsTypeA:
			if rdlen == 4 {
				as = append(as, arec{own, netip.AddrFrom4([4]byte(m[rd : rd+4])), ttl})
			}
		case dnsTypeAAAA:
			// Learnt too: domain rules judge IPv6 flows by the same names.
			if rdlen == 16 {
				as = append(as, arec{own, netip.AddrFrom16([16]byte(m[rd : rd+16])), ttl})
			}
		case dnsTypeCNAME:
			t, end, err := readDNSName(m, rd)
			if err != nil || end != rd+rdlen {
				return nil, errDNSMalformed
			}
			if target, ok := normalizeName(t); ok {
				if cnames == nil {
					cnames = map[string]cname{}
				}
				cnames[own] = cname{target, ttl}
			}
		}
	}
	// Walk the chain from the question; its length is bounded by the
	// records read, and a loop ends at a name already seen.
	chain := []string{q.name}
	ttl := ^uint32(0)
	for len(chain) <= dnsMaxRecords {
		c, ok := cnames[chain[len(chain)-1]]
		if !ok || contains(chain, c.target) {
			break
		}
		chain = append(chain, c.target)
		ttl = min(ttl, c.ttl)
	}
	last := chain[len(chain)-1]
	var out []dnsAddrName
	for _, a := range as {
		if a.owner != last {
			continue
		}
		for _, n := range chain {
			out = append(out, dnsAddrName{a.addr, n, q.name, min(ttl, a.ttl)})
		}
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// readDNSName reads a possibly compressed name at off and returns it in
// dotted form and the offset past it in the message. Pointers must point
// strictly before the label that holds them, so a name cannot loop, and
// past the header.
func readDNSName(m []byte, off int) (string, int, error) {
	var name []byte
	end := -1
	limit := off // a pointer must go below this
	for hops := 0; ; hops++ {
		if off >= len(m) || hops > 255 {
			return "", 0, errDNSMalformed
		}
		l := int(m[off])
		switch {
		case l == 0:
			if end < 0 {
				end = off + 1
			}
			return string(name), end, nil
		case l&0xc0 == 0xc0:
			if off+1 >= len(m) {
				return "", 0, errDNSMalformed
			}
			p := int(binary.BigEndian.Uint16(m[off:]) & 0x3fff)
			if p >= limit || p < dnsHeaderLen {
				return "", 0, errDNSMalformed
			}
			if end < 0 {
				end = off + 2
			}
			off, limit = p, p
		case l&0xc0 != 0:
			return "", 0, errDNSMalformed
		default:
			if off+1+l > len(m) || len(name)+l+1 > 255 {
				return "", 0, errDNSMalformed
			}
			if len(name) > 0 {
				name = append(name, '.')
			}
			name = append(name, m[off+1:off+1+l]...)
			off += 1 + l
		}
	}
}

// dnsNXDomain builds the answer "no such name" to the query q (the
// question echoed, recursion available, no records).
func dnsNXDomain(query []byte, q dnsQuestion) []byte {
	out := make([]byte, q.end)
	copy(out, query[:q.end])
	flags := 0x8000 | q.flags&0x7900 | 0x0080 | dnsRcodeNX // QR, opcode, RD, RA
	binary.BigEndian.PutUint16(out[2:], flags)
	binary.BigEndian.PutUint16(out[4:], 1)
	for i := 6; i < dnsHeaderLen; i++ {
		out[i] = 0
	}
	return out
}
