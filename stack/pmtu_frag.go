package stack

import (
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// sendMTU is the MTU __ip_append_data works with: the path MTU for DONT,
// WANT and DO (ip_sk_use_pmtu), the interface MTU for PROBE, INTERFACE and
// OMIT. locked tells that the path MTU was clamped to min_pmtu, which
// stops WANT from setting DF (ip_dont_fragment).
func (s *Stack) sendMTU(r *gstack.Route, dst netip.Addr, mode PMTUMode) (mtu, ifMTU int, locked bool) {
	ifMTU = min(int(r.MTU())+header.IPv4MinimumSize, maxIPMTU)
	mtu = ifMTU
	if mode >= PMTUProbe {
		return mtu, ifMTU, false
	}
	if c, ok := s.cachedPMTU(dst); ok && c.mtu < mtu {
		// A path MTU clamped to min_pmtu is locked (Linux's route MTU
		// lock).
		mtu, locked = c.mtu, c.locked
	}
	return mtu, ifMTU, locked
}

// writeFragments sends a datagram that is larger than the path MTU but fits
// the interface as IPv4 fragments of at most mtu bytes, as ip_fragment
// does: every fragment but the last carries a multiple of 8 data bytes, the
// first one the UDP header. gVisor would fragment only at the interface
// MTU.
func (s *Stack) writeFragments(r *gstack.Route, src netip.Addr, m *UDPSend, ttl uint8, mtu int) error {
	udpLen := header.UDPMinimumSize + len(m.Payload)
	whole := make([]byte, udpLen)
	putUDPHeader(header.UDP(whole), gAddr(src), r.RemoteAddress(), m)
	copy(whole[header.UDPMinimumSize:], m.Payload)
	per := (mtu - header.IPv4MinimumSize) &^ 7
	if per <= 0 {
		return unix.EMSGSIZE
	}
	id := s.datagramIPID(m.IPID, m.Connected)
	for off := 0; off < udpLen; off += per {
		end := min(off+per, udpLen)
		var flags uint8
		if end < udpLen {
			flags = header.IPv4FlagMoreFragments
		}
		frag := buffer.NewViewSize(header.IPv4MinimumSize + end - off)
		b := frag.AsSlice()
		header.IPv4(b).Encode(&header.IPv4Fields{
			TOS:            m.TOS,
			TotalLength:    uint16(len(b)),
			ID:             id,
			Flags:          flags,
			FragmentOffset: uint16(off),
			TTL:            ttl,
			Protocol:       uint8(m.proto()),
			SrcAddr:        gAddr(src),
			DstAddr:        r.RemoteAddress(),
		})
		copy(b[header.IPv4MinimumSize:], whole[off:end])
		pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{
			ReserveHeaderBytes: int(r.MaxHeaderLength()),
			Payload:            buffer.MakeWithView(frag),
		})
		e := r.WriteHeaderIncludedPacket(pkt)
		pkt.DecRef()
		if e != nil {
			return sendErrno(e)
		}
	}
	return nil
}
