package stack

import (
	"net/netip"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"netsandbox/options"
)

// IP_OPTIONS on gVisor's TCP sockets. gVisor's IPv4 layer builds their
// headers with no per-socket options, so the IPv4 hook (ipv4_hook.go)
// looks up, for every TCP segment, the options of the connection the
// segment belongs to (tcp_ipopts.go, tcp_ipopts_syn.go) and, when there
// are some, builds the header itself as ip_queue_xmit does (options filled
// in by ip_options_build, a source route sent to its first hop) and hands
// gVisor the finished packet. (Ping sockets with options have their header
// built by SendRawIP.)

// flowIPOptions returns the options of the TCP connection pkt belongs to
// (nil = none).
func (s *Stack) flowIPOptions(r *gstack.Route, pkt *gstack.PacketBuffer) *options.IPOptions {
	if pkt.TransportProtocolNumber != header.TCPProtocolNumber || s.ipo.tcp.n.Load() == 0 {
		return nil
	}
	th := pkt.TransportHeader().Slice()
	if len(th) < header.TCPMinimumSize {
		return nil
	}
	t := header.TCP(th)
	return s.ipo.tcp.lookup(
		netip.AddrPortFrom(nAddr(r.LocalAddress()), t.SourcePort()),
		netip.AddrPortFrom(nAddr(r.RemoteAddress()), t.DestinationPort()))
}

// writeWithFlowOptions sends pkt (transport header pushed, no IP header)
// with o in its IPv4 header. The header keeps what gVisor would have
// written (TTL, TOS, DF), takes the connection's IP ID (ipid_tcp.go) and
// goes to the first hop of a source route, routed there as Linux routes
// the connection (tcp_v4_connect uses opt.faddr); the TCP checksum stays
// the one computed against the final destination, as Linux's does.
//
// partialCsum says the TCP checksum holds only gVisor's pseudo-header sum
// (a segment cut from a GSO packet), to be finished here.
func (s *Stack) writeWithFlowOptions(r *gstack.Route, params gstack.NetworkHeaderParams, pkt *gstack.PacketBuffer, o *options.IPOptions, partialCsum bool) tcpip.Error {
	src, final := nAddr(r.LocalAddress()), nAddr(r.RemoteAddress())
	out := r
	if hop := o.FirstHop; hop.IsValid() {
		fr, err := s.findRoute(src, hop, 0, false)
		if err != nil {
			return &tcpip.ErrNetworkUnreachable{}
		}
		defer fr.Release()
		// ip_queue_xmit: a strict route whose first hop is not on-link
		// has no route.
		if strictRoute(o) && fr.NextHop() != fr.RemoteAddress() && fr.NextHop() != (tcpip.Address{}) {
			return &tcpip.ErrHostUnreachable{}
		}
		out = fr
	}
	th := pkt.TransportHeader().Slice()
	ipLen := header.IPv4MinimumSize + o.Len()
	total := ipLen + len(th) + pkt.Data().Size()
	if total > 0xffff {
		return &tcpip.ErrMessageTooLong{}
	}
	hdr := buffer.NewViewSize(ipLen + len(th))
	b := hdr.AsSlice()
	putIPv4(b, out, &ipv4Fields{
		src: src, final: final, proto: uint8(params.Protocol),
		ttl: params.TTL, tos: params.TOS, df: params.DF, opts: o,
	}, total)
	copy(b[ipLen:], th)
	if len(th) >= header.TCPMinimumSize {
		// Numbered against the final destination, as the connection's
		// other segments are.
		s.stampTCP(r, header.IPv4(b[:ipLen]), header.TCP(th), pkt)
	}
	if pkt.TransportProtocolNumber == header.TCPProtocolNumber && (partialCsum || !r.RequiresTXTransportChecksum()) {
		// gVisor left the checksum to an offloading device; a packet that
		// carries options is delivered as a header-included one, which
		// the receiving side checks.
		t := header.TCP(b[ipLen:])
		t.SetChecksum(0)
		xsum := header.PseudoHeaderChecksum(header.TCPProtocolNumber, r.LocalAddress(), r.RemoteAddress(), uint16(len(th)+pkt.Data().Size()))
		xsum = checksum.Combine(xsum, pkt.Data().Checksum())
		t.SetChecksum(^t.CalculateChecksum(xsum))
	}
	if total > int(out.MTU())+header.IPv4MinimumSize {
		// Not a TCP segment (their payload is cut to fit): fragment.
		ip := header.IPv4(b)
		ip.SetID(s.nextIPID())
		return fragmentWithOptions(out, b, ipLen, pkt.Data().AsRange().ToSlice())
	}
	payload := buffer.MakeWithView(hdr)
	data := pkt.Data().ToBuffer()
	payload.Merge(&data)
	np := gstack.NewPacketBuffer(gstack.PacketBufferOptions{
		ReserveHeaderBytes: int(out.MaxHeaderLength()),
		Payload:            payload,
	})
	defer np.DecRef()
	np.Owner, np.Hash = pkt.Owner, pkt.Hash // the flow's transmit queue
	return out.WriteHeaderIncludedPacket(np)
}

// writeGSOWithFlowOptions sends a GSO packet of a connection that has IP
// options. The link's offload would copy a 20-byte header gVisor wrote
// without them, so the packet is cut here into the MSS-sized segments the
// offload would have made (tcp_gso_segment: the sequence number advances,
// CWR stays on the first, FIN and PSH on the last) and each is sent as an
// ordinary segment with the options.
func (s *Stack) writeGSOWithFlowOptions(r *gstack.Route, params gstack.NetworkHeaderParams, pkt *gstack.PacketBuffer, o *options.IPOptions) tcpip.Error {
	partial := pkt.GSOOptions.NeedsCsum
	mss := int(pkt.GSOOptions.MSS)
	size := pkt.Data().Size()
	if mss <= 0 || size <= mss {
		pkt.GSOOptions = gstack.GSO{}
		return s.writeWithFlowOptions(r, params, pkt, o, partial)
	}
	th := pkt.TransportHeader().Slice()
	if len(th) < header.TCPMinimumSize {
		return &tcpip.ErrMalformedHeader{}
	}
	data := pkt.Data().AsRange().ToSlice()
	seq := header.TCP(th).SequenceNumber()
	flags := header.TCP(th).Flags()
	for off := 0; off < size; off += mss {
		end := min(off+mss, size)
		seg := gstack.NewPacketBuffer(gstack.PacketBufferOptions{
			ReserveHeaderBytes: len(th),
			Payload:            buffer.MakeWithData(data[off:end]),
		})
		t := header.TCP(seg.TransportHeader().Push(len(th)))
		copy(t, th)
		t.SetSequenceNumber(seq + uint32(off))
		f := flags
		if off > 0 {
			f &^= header.TCPFlagCwr
		}
		if end < size {
			f &^= header.TCPFlagFin | header.TCPFlagPsh
		}
		t.SetFlags(uint8(f))
		seg.TransportProtocolNumber = header.TCPProtocolNumber
		seg.Owner, seg.Hash = pkt.Owner, pkt.Hash // the flow's transmit queue
		// The sequence number and flags changed: the sum is redone.
		err := s.writeWithFlowOptions(r, params, seg, o, true)
		seg.DecRef()
		if err != nil {
			return err
		}
	}
	return nil
}

// strictRoute tells whether o holds a strict source route (SSRR).
func strictRoute(o *options.IPOptions) bool {
	it := options.NewIPOptionIter(o.Data)
	for opt, _, ok := it.Next(); ok; opt, _, ok = it.Next() {
		if opt[0] == options.IPOptSSRR {
			return true
		}
	}
	return false
}

// ipoState is the stack's part of TCP and ping IP options.
type ipoState struct {
	out    atomic.Bool // the IPv4 hook is installed (ipv4_hook.go)
	tcp    tcpIPOptions
	synMSS synMSSWatch
	syn    synEchoes
	ipid   ipidState
}
