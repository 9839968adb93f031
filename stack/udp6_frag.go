package stack

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// IPv6 fragmentation of netsandbox's UDP datagrams at the path MTU and at
// IPV6_MTU (issue 14). gVisor's IPv6 fragments only at the device MTU;
// Linux works with two MTUs per send:
//   - the cork MTU (ip6_setup_cork): the path MTU (dst_mtu) for
//     IPV6_PMTUDISC_DONT, WANT and DO, the device MTU for PROBE,
//     INTERFACE and OMIT, lowered to np->frag_size (setsockopt IPV6_MTU)
//     when that is set and smaller. __ip6_append_data refuses a datagram
//     above it under IPV6_DONTFRAG and under DO, PROBE and INTERFACE
//     (!ip6_sk_ignore_df), reporting it as the MTU; it is the size of
//     the fragments.
//   - the output MTU (ip6_skb_dst_mtu in __ip6_finish_output): the path
//     MTU for the modes below PROBE, the device MTU from PROBE on. Only a
//     packet above it is fragmented: one larger than IPV6_MTU but within
//     the path MTU leaves whole (measured on Linux 6.18).
// A fragmented datagram goes out as packets of at most the cork MTU, each
// carrying a Fragment header and a multiple of 8 bytes of the datagram
// (the last one the rest), the UDP header in the first; every fragment of
// a datagram has the same identification, a random non-zero one per
// datagram as ipv6_select_ident draws it (get_random_u32). They are
// written header-included, which gVisor's IPv6 parses (parse.IPv6 stops
// at the Fragment header) and loops back through its reassembly for a
// local destination.

// ipv6FragHdrLen is sizeof(struct frag_hdr).
const ipv6FragHdrLen = header.IPv6FragmentHeaderSize

// mtus6 is ip6_setup_cork's MTU and ip6_skb_dst_mtu for a send from m
// over r: the device MTU, lowered by a learnt path MTU below PROBE; the
// cork MTU also by frag (IPV6_MTU, 0 = unset).
func (s *Stack) mtus6(r *gstack.Route, dst netip.Addr, mode PMTUMode, frag int) (cork, out int) {
	out = s.deviceMTU6(r)
	if mode < PMTUProbe {
		if c, ok := s.cachedPMTU(dst); ok && c.mtu < out {
			out = c.mtu
		}
	}
	cork = out
	if frag != 0 && frag < cork {
		cork = frag
	}
	return cork, out
}

// SendMTU6 is the MTU a send of m is held to (the cork MTU): what an
// EMSGSIZE under IPV6_DONTFRAG, DO, PROBE or INTERFACE reports in its
// error-queue entry and IPV6_PATHMTU message.
func (s *Stack) SendMTU6(m *UDPSend) (int, error) {
	r, err := s.findRoute6(s.routeSource6(m.Src.Addr()), m.Dst.Addr(), m.IfIndex, !m.NoMulticastLoop)
	if err != nil {
		return 0, err
	}
	defer r.Release()
	cork, _ := s.mtus6(r, m.Dst.Addr(), m.PMTU, m.FragSize)
	return cork, nil
}

// refuses6 tells whether __ip6_append_data refuses a packet of n bytes
// (IPv6 header included) for cork MTU cork: IPV6_DONTFRAG, or a mode
// that does not ignore DF (DO, PROBE, INTERFACE).
func refuses6(m *UDPSend, n, cork int) bool {
	if n <= cork {
		return false
	}
	return m.DontFrag || m.PMTU >= PMTUDo && m.PMTU != PMTUOmit
}

// fragments6 cuts the upper-layer bytes of one IPv6 packet (whole: a UDP
// header and payload) into fragments of at most mtu bytes, as ip6_fragment
// does: each a 40-byte IPv6 header (traffic class tclass, hop limit hop,
// next header 44) and a Fragment header (next header proto, identification
// id), every fragment but the last carrying (mtu-48) &^ 7 bytes.
func fragments6(src, dst tcpip.Address, tclass, hop uint8, proto tcpip.TransportProtocolNumber, id uint32, whole []byte, mtu int) ([]*buffer.View, error) {
	per := (mtu - header.IPv6MinimumSize - ipv6FragHdrLen) &^ 7
	if per <= 0 {
		return nil, unix.EMSGSIZE
	}
	frags := make([]*buffer.View, 0, (len(whole)+per-1)/per)
	for off := 0; off < len(whole); off += per {
		end := min(off+per, len(whole))
		v := buffer.NewViewSize(header.IPv6MinimumSize + ipv6FragHdrLen + end - off)
		b := v.AsSlice()
		header.IPv6(b).Encode(&header.IPv6Fields{
			TrafficClass:      tclass,
			PayloadLength:     uint16(len(b) - header.IPv6MinimumSize),
			TransportProtocol: tcpip.TransportProtocolNumber(header.IPv6FragmentHeader),
			HopLimit:          hop,
			SrcAddr:           src,
			DstAddr:           dst,
		})
		f := b[header.IPv6MinimumSize:]
		f[0] = uint8(proto)
		f[1] = 0
		offM := uint16(off) // a multiple of 8: the offset in its top 13 bits
		if end < len(whole) {
			offM |= 1
		}
		binary.BigEndian.PutUint16(f[2:], offM)
		binary.BigEndian.PutUint32(f[4:], id)
		copy(f[ipv6FragHdrLen:], whole[off:end])
		frags = append(frags, v)
	}
	return frags, nil
}

// fragID6 is ipv6_select_ident's identification: random, never 0.
func fragID6() uint32 {
	for {
		if id := rand.Uint32(); id != 0 {
			return id
		}
	}
}

// writeFragments6 sends the UDP datagram m over r as IPv6 fragments of at
// most mtu bytes, written header-included.
func (s *Stack) writeFragments6(r *gstack.Route, src tcpip.Address, m *UDPSend, hop uint8, mtu int) error {
	whole := make([]byte, header.UDPMinimumSize+len(m.Payload))
	putUDPHeader(header.UDP(whole), src, r.RemoteAddress(), m)
	copy(whole[header.UDPMinimumSize:], m.Payload)
	return writeWholeAsFragments6(r, src, whole, m.TOS, hop, m.proto(), mtu)
}

// writeWholeAsFragments6 sends whole, the upper-layer bytes of one IPv6
// packet, over r as fragments of at most mtu bytes (fragments6), written
// header-included.
func writeWholeAsFragments6(r *gstack.Route, src tcpip.Address, whole []byte, tclass, hop uint8, proto tcpip.TransportProtocolNumber, mtu int) error {
	frags, err := fragments6(src, r.RemoteAddress(), tclass, hop, proto, fragID6(), whole, mtu)
	if err != nil {
		return err
	}
	for i, v := range frags {
		pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{
			ReserveHeaderBytes: int(r.MaxHeaderLength()),
			Payload:            buffer.MakeWithView(v),
		})
		e := r.WriteHeaderIncludedPacket(pkt)
		pkt.DecRef()
		if e != nil {
			for _, rest := range frags[i+1:] {
				rest.Release()
			}
			return sendErrno(e)
		}
	}
	return nil
}

// writeForeign6 sends a datagram from src, an address no interface has
// (a socket bound under IPV6_FREEBIND or IPV6_TRANSPARENT): IPv6 output
// does not check the source (ip6_dst_lookup_tail keeps a given one), but
// gVisor's routes carry a local address, so the header is netsandbox's
// and the write header-included.
func (s *Stack) writeForeign6(r *gstack.Route, src tcpip.Address, m *UDPSend, hop uint8) error {
	n := header.IPv6MinimumSize + header.UDPMinimumSize + len(m.Payload)
	v := buffer.NewViewSize(n)
	b := v.AsSlice()
	header.IPv6(b).Encode(&header.IPv6Fields{
		TrafficClass:      m.TOS,
		PayloadLength:     uint16(n - header.IPv6MinimumSize),
		TransportProtocol: m.proto(),
		HopLimit:          hop,
		SrcAddr:           src,
		DstAddr:           r.RemoteAddress(),
	})
	copy(b[header.IPv6MinimumSize+header.UDPMinimumSize:], m.Payload)
	putUDPHeader(header.UDP(b[header.IPv6MinimumSize:]), src, r.RemoteAddress(), m)
	pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{
		ReserveHeaderBytes: int(r.MaxHeaderLength()),
		Payload:            buffer.MakeWithView(v),
	})
	defer pkt.DecRef()
	if e := r.WriteHeaderIncludedPacket(pkt); e != nil {
		return sendErrno(e)
	}
	return nil
}
