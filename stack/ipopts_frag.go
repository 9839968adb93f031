package stack

import (
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"netsandbox/options"
)

// Fragments of a datagram with IP options. gVisor's fragmenter copies the
// whole header, options included, into every fragment; Linux keeps in the
// fragments after the first only the options with the copy bit (source
// routes, router alert, security) and turns the others (record route,
// timestamps) into NOPs (ip_options_fragment), the header length staying
// the same.

// fragmentIfOptions sends hdr (an IPv4 header with options, then any
// transport header) and payload in fragments at the interface MTU when
// they do not fit it and the header has options; sent is false otherwise,
// leaving the packet to gVisor.
func fragmentIfOptions(r *gstack.Route, hdr *buffer.View, payload []byte) (sent bool, err error) {
	b := hdr.AsSlice()
	ipLen := int(header.IPv4(b).HeaderLength())
	if ipLen <= header.IPv4MinimumSize || len(b)+len(payload) <= int(r.MTU())+header.IPv4MinimumSize {
		return false, nil
	}
	if e := fragmentWithOptions(r, b, ipLen, payload); e != nil {
		return true, sendErrno(e)
	}
	return true, nil
}

// fragmentWithOptions sends hb (IPv4 header of ipLen bytes with its ID
// set, then the start of the payload) and rest as fragments that fit the
// interface MTU, as ip_fragment does.
func fragmentWithOptions(out *gstack.Route, hb []byte, ipLen int, rest []byte) tcpip.Error {
	whole := append(append([]byte(nil), hb[ipLen:]...), rest...)
	per := (int(out.MTU()) + header.IPv4MinimumSize - ipLen) &^ 7
	if per <= 0 {
		return &tcpip.ErrMessageTooLong{}
	}
	first := hb[:ipLen]
	later := append([]byte(nil), first...)
	fragmentOptions(later[header.IPv4MinimumSize:])
	for off := 0; off < len(whole); off += per {
		end := min(off+per, len(whole))
		h := later
		if off == 0 {
			h = first
		}
		v := buffer.NewViewSize(ipLen + end - off)
		f := v.AsSlice()
		copy(f, h)
		copy(f[ipLen:], whole[off:end])
		ip := header.IPv4(f)
		ip.SetTotalLength(uint16(len(f)))
		flags := ip.Flags() &^ header.IPv4FlagMoreFragments
		if end < len(whole) {
			flags |= header.IPv4FlagMoreFragments
		}
		ip.SetFlagsFragmentOffset(flags, uint16(off))
		pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{
			ReserveHeaderBytes: int(out.MaxHeaderLength()),
			Payload:            buffer.MakeWithView(v),
		})
		e := out.WriteHeaderIncludedPacket(pkt)
		pkt.DecRef()
		if e != nil {
			return e
		}
	}
	return nil
}

// fragmentOptions overwrites with NOPs the options a fragment after the
// first does not carry: those without the copy bit. A malformed option
// ends the walk, leaving it and what follows as they are.
func fragmentOptions(o []byte) {
	it := options.NewIPOptionIter(o)
	for opt, _, ok := it.Next(); ok; opt, _, ok = it.Next() {
		if opt[0]&0x80 == 0 {
			for j := range opt {
				opt[j] = options.IPOptNop
			}
		}
	}
}
