package fuzz

import (
	"encoding/binary"
	"net/netip"
)

// A FuzzFrames input is a sequence of up to maxFrames records:
//
//	flags(1) length(2, big endian) body(length)
//
// The flags say how the body becomes a frame, so that the fuzzer spends its
// time on the IP layer and above rather than on Ethernet headers and
// checksums it would almost never get right by mutation.
const (
	linkMask      = 0x03
	linkUnicast   = 0x00 // Ethernet to the stack's MAC, type IPv4
	linkBroadcast = 0x01 // Ethernet to ff:ff:ff:ff:ff:ff, type IPv4
	linkARP       = 0x02 // Ethernet to the stack's MAC, type ARP
	linkRaw       = 0x03 // body is the whole frame

	fixIPChecksum    = 0x04 // recompute the IPv4 header checksum
	fixL4Checksum    = 0x08 // recompute the UDP/TCP/ICMP/IGMP checksum
	maxFrames        = 8
	maxFrameBodySize = 9000
)

// decodeFrames splits a fuzz input into Ethernet frames.
func decodeFrames(data []byte) [][]byte {
	var frames [][]byte
	for len(data) >= 3 && len(frames) < maxFrames {
		flags := data[0]
		n := int(binary.BigEndian.Uint16(data[1:3]))
		data = data[3:]
		n = min(n, len(data), maxFrameBodySize)
		body := append([]byte(nil), data[:n]...)
		data = data[n:]
		frames = append(frames, buildFrame(flags, body))
	}
	return frames
}

// encodeFrame is decodeFrames' inverse for one record, for seeds.
func encodeFrame(dst []byte, flags byte, body []byte) []byte {
	dst = append(dst, flags, byte(len(body)>>8), byte(len(body)))
	return append(dst, body...)
}

func buildFrame(flags byte, body []byte) []byte {
	if flags&linkMask == linkRaw {
		return body
	}
	if flags&linkMask != linkARP {
		if flags&fixL4Checksum != 0 {
			fixTransportChecksum(body)
		}
		if flags&fixIPChecksum != 0 {
			fixIPv4Checksum(body)
		}
	}
	dst, typ := []byte(localMAC), uint16(0x0800)
	switch flags & linkMask {
	case linkBroadcast:
		dst = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	case linkARP:
		typ = 0x0806
	}
	return ethernet(dst, typ, body)
}

func ethernet(dst []byte, typ uint16, body []byte) []byte {
	f := make([]byte, 0, 14+len(body))
	f = append(f, dst...)
	f = append(f, peerMAC...)
	f = binary.BigEndian.AppendUint16(f, typ)
	return append(f, body...)
}

// checksum is the Internet checksum (RFC 1071) of b, continuing from sum.
func checksum(b []byte, sum uint32) uint16 {
	for len(b) >= 2 {
		sum += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// ipv4HeaderLen returns the header length of an IPv4 packet, or 0 if b is
// not long enough to hold the header it announces.
func ipv4HeaderLen(b []byte) int {
	if len(b) < 20 || b[0]>>4 != 4 {
		return 0
	}
	ihl := int(b[0]&0xf) * 4
	if ihl < 20 || ihl > len(b) {
		return 0
	}
	return ihl
}

func fixIPv4Checksum(b []byte) {
	ihl := ipv4HeaderLen(b)
	if ihl == 0 {
		return
	}
	b[10], b[11] = 0, 0
	binary.BigEndian.PutUint16(b[10:], checksum(b[:ihl], 0))
}

// fixTransportChecksum recomputes the checksum of an unfragmented packet's
// transport header over the bytes the IP total length covers.
func fixTransportChecksum(b []byte) {
	ihl := ipv4HeaderLen(b)
	if ihl == 0 {
		return
	}
	total := min(int(binary.BigEndian.Uint16(b[2:4])), len(b))
	if total <= ihl || binary.BigEndian.Uint16(b[6:8])&0x3fff != 0 {
		return // no payload, or a fragment
	}
	seg := b[ihl:total]
	pseudo := func() uint32 {
		var s uint32
		for i := 12; i < 20; i += 2 {
			s += uint32(binary.BigEndian.Uint16(b[i:]))
		}
		return s + uint32(b[9]) + uint32(len(seg))
	}
	var off int
	var initial uint32
	switch b[9] {
	case 1, 2: // ICMP, IGMP
		off = 2
	case 6: // TCP
		off, initial = 16, pseudo()
	case 17: // UDP
		off, initial = 6, pseudo()
	default:
		return
	}
	if len(seg) < off+2 {
		return
	}
	seg[off], seg[off+1] = 0, 0
	c := checksum(seg, initial)
	if b[9] == 17 && c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(seg[off:], c)
}

// ipv4 builds an IPv4 packet; the checksums are left for the flags.
type ipv4 struct {
	src, dst netip.Addr
	proto    byte
	ttl      byte
	tos      byte
	id       uint16
	fragOff  uint16 // in bytes, multiple of 8
	more     bool
	df       bool
	options  []byte // padded to a multiple of 4 here
}

func (h ipv4) packet(payload []byte) []byte {
	opts := append([]byte(nil), h.options...)
	for len(opts)%4 != 0 {
		opts = append(opts, 0)
	}
	ihl := 20 + len(opts)
	b := make([]byte, ihl, ihl+len(payload))
	b[0] = 0x40 | byte(ihl/4)
	b[1] = h.tos
	binary.BigEndian.PutUint16(b[2:], uint16(ihl+len(payload)))
	binary.BigEndian.PutUint16(b[4:], h.id)
	frag := h.fragOff / 8
	if h.more {
		frag |= 0x2000
	}
	if h.df {
		frag |= 0x4000
	}
	binary.BigEndian.PutUint16(b[6:], frag)
	b[8] = h.ttl
	if b[8] == 0 {
		b[8] = 64
	}
	b[9] = h.proto
	a, d := h.src.As4(), h.dst.As4()
	copy(b[12:], a[:])
	copy(b[16:], d[:])
	copy(b[20:], opts)
	b = append(b, payload...)
	return b
}

// udp builds a UDP header and payload (checksum left for the flags).
func udp(src, dst uint16, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(b[0:], src)
	binary.BigEndian.PutUint16(b[2:], dst)
	binary.BigEndian.PutUint16(b[4:], uint16(8+len(payload)))
	return append(b, payload...)
}

// udpChecksummed builds a UDP segment with its checksum for src->dst.
func udpChecksummed(src, dst netip.AddrPort, payload []byte) []byte {
	p := ipv4{src: src.Addr(), dst: dst.Addr(), proto: 17}.packet(udp(src.Port(), dst.Port(), payload))
	fixTransportChecksum(p)
	return p[20:]
}

// tcpSYN builds a 20-byte TCP header with the SYN flag.
func tcpSegment(src, dst uint16, seq, ack uint32, flags byte) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b[0:], src)
	binary.BigEndian.PutUint16(b[2:], dst)
	binary.BigEndian.PutUint32(b[4:], seq)
	binary.BigEndian.PutUint32(b[8:], ack)
	b[12] = 5 << 4
	b[13] = flags
	binary.BigEndian.PutUint16(b[14:], 65535)
	return b
}

// icmp builds an ICMP message (checksum left for the flags).
func icmp(typ, code byte, rest uint32, body []byte) []byte {
	b := make([]byte, 8, 8+len(body))
	b[0], b[1] = typ, code
	binary.BigEndian.PutUint32(b[4:], rest)
	return append(b, body...)
}

// arp builds an Ethernet/IPv4 ARP packet.
func arp(op uint16, sha []byte, spa netip.Addr, tha []byte, tpa netip.Addr) []byte {
	b := []byte{0, 1, 8, 0, 6, 4}
	b = binary.BigEndian.AppendUint16(b, op)
	s, t := spa.As4(), tpa.As4()
	b = append(b, sha...)
	b = append(b, s[:]...)
	b = append(b, tha...)
	return append(b, t[:]...)
}
