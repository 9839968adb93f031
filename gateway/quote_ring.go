package gateway

import (
	"bytes"
	"encoding/binary"
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// An ICMP error the host gets for a relayed datagram must reach the
// sandbox quoting the sandbox's own packet that caused it, as a router's
// error quotes the packet it could not forward. A flow keeps the headers
// of its last few packets: the host's error queue gives back the quoted
// payload (after the UDP header, or the echo header and data of a ping),
// which tells them apart (a ping's sequence number, else the first payload
// bytes); an error quoting no payload, or none of them, quotes the last.
const (
	quoteRingLen = 8
	// quoteKeep payload bytes of each packet are kept to match quotes on.
	quoteKeep = 64
)

// sentPacket is one sandbox packet's IP header and first 8 transport
// bytes, with the start of its payload.
type sentPacket struct {
	head [header.IPv4MaximumHeaderSize + 8]byte
	hlen int // bytes of head used
	plen int // payload length after the 8 transport bytes
	npfx int
	pfx  [quoteKeep]byte
	seq  uint16 // a ping's sequence number
}

type quoteRing struct {
	n int // packets put so far
	p [quoteRingLen]sentPacket
}

// put records a packet: its IP header ip, its first 8 transport bytes th
// (short if the packet was) and the payload after them.
func (r *quoteRing) put(ip, th, payload []byte, seq uint16) {
	if len(ip) > header.IPv4MaximumHeaderSize {
		return
	}
	e := &r.p[r.n%quoteRingLen]
	r.n++
	e.hlen = copy(e.head[:], ip)
	e.hlen += copy(e.head[e.hlen:], th[:min(len(th), 8)])
	e.plen = len(payload)
	e.npfx = copy(e.pfx[:], payload)
	e.seq = seq
}

// find returns the newest packet that q (the quoted payload) could be the
// start of, and with bySeq the one with sequence number seq too; else the
// newest packet, with false. ok is false when nothing was put yet.
func (r *quoteRing) find(q []byte, bySeq bool, seq uint16) (p sentPacket, matched, ok bool) {
	if r.n == 0 {
		return p, false, false
	}
	for i := 0; i < min(r.n, quoteRingLen); i++ {
		e := &r.p[(r.n-1-i)%quoteRingLen]
		if bySeq && e.seq != seq {
			continue
		}
		k := min(len(q), e.npfx)
		if len(q) <= e.plen && bytes.Equal(q[:k], e.pfx[:k]) {
			return *e, true, true
		}
	}
	return r.p[(r.n-1)%quoteRingLen], false, true
}

// quote is p's IP header and transport bytes followed by as much of the
// quoted payload q as an ICMP error carries.
func (p *sentPacket) quote(q []byte) []byte {
	room := max(0, icmpQuoteRoom-p.hlen)
	if isV6(p.head[:p.hlen]) {
		room = max(0, icmp6QuoteRoom-p.hlen)
	}
	out := make([]byte, 0, p.hlen+min(len(q), room))
	out = append(out, p.head[:p.hlen]...)
	return append(out, q[:min(len(q), room)]...)
}

// relayQuote sends the sandbox an error of type/code from offender
// quoting quote (its packet's IP header, transport bytes and quoted
// payload), received by the host with TTL hostTTL (0: unknown): it reaches
// the sandbox one hop later.
func (gw *Gateway) relayQuote(offender netip.Addr, typ, code uint8, info uint32, quote []byte, hostTTL uint8) {
	if isV6(quote) {
		gw.relayQuote6(offender, typ, code, info, quote, hostTTL)
		return
	}
	h := header.IPv4(quote)
	if len(quote) < header.IPv4MinimumSize || int(h.HeaderLength()) < header.IPv4MinimumSize || int(h.HeaderLength()) > len(quote) {
		return
	}
	ttl := uint8(0)
	if hostTTL > 1 {
		ttl = hostTTL - 1
	}
	msg := make([]byte, header.ICMPv4MinimumSize+len(quote))
	msg[0], msg[1] = typ, code
	binary.BigEndian.PutUint32(msg[4:], info)
	copy(msg[header.ICMPv4MinimumSize:], quote)
	gw.sendICMP(offender, addrOf(h.SourceAddress()), ttl, 0, msg)
}
