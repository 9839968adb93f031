package endpoint

import (
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"netsandbox/options"
	"netsandbox/stack"
)

// sendWithControl is raw_sendmsg and ping_v4_sendmsg for a send gVisor's
// raw and ICMP endpoints cannot express: an IP_PKTINFO message (source
// and output interface), an IP_TOS message, IP_UNICAST_IF steering a
// unicast send, and IP options when optsHere (the kind's gVisor endpoint
// writes none: ping). The stack then builds the header (Stack.SendRawIP;
// with IP_HDRINCL, Stack.SendHeaderIncluded). handled is false for every
// other send, which gVisor makes. finish, when not nil, makes the kind's
// last changes to what the stack sends (a ping socket's request).
func (g *dgramSock) sendWithControl(p []byte, to *tcpip.FullAddress, sp *sendParams, optsHere bool, finish func(*stack.RawSend) error) (handled bool, n int, err error) {
	o := g.optsSnapshot()
	g.mu.Lock()
	remote, conn := g.remote, g.conn
	g.mu.Unlock()
	dst := remote.Addr()
	if to != nil {
		dst = addrPortOf(*to).Addr()
	}
	if !dst.Is4() {
		return false, 0, nil
	}
	// ipcm_init_sk's oif is the bound device; ip_cmsg_send's pktinfo
	// replaces it; IP_UNICAST_IF fills it for a unicast destination.
	oif := o.bindIf
	if sp.hasPktinfo && sp.pktinfo.IfIndex != 0 {
		oif = int(sp.pktinfo.IfIndex)
	}
	steer := oif == 0 && !dst.IsMulticast() && o.ext.ucIndex != 0
	if steer {
		oif = o.ext.ucIndex
	}
	// IP_OPTIONS set, or an IP_RETOPTS message (which replaces them for
	// one send), on a socket whose endpoint writes no options.
	withOpts := optsHere && (sp.hasOpts || o.ext.ipOptions != nil)
	// A socket bound to lo sending to another host: Linux routes it
	// through lo on link and delivers it here (Stack.LoopsOnLink), which
	// gVisor's endpoint cannot route.
	loop := oif == o.bindIf && g.s.LoopsOnLink(dst, oif)
	if !sp.hasPktinfo && sp.tos < 0 && !steer && !withOpts && !loop {
		return false, 0, nil
	}
	if o.hdrincl { // raw sockets only
		if !sp.hasPktinfo && !steer && !loop {
			return false, 0, nil // TTL and TOS messages leave the caller's header alone
		}
		if err := g.sendHdrinclCtl(p, dst, oif, sp); err != nil {
			return true, 0, err
		}
		return true, len(p), nil
	}
	opts := o.ext.ipOptions
	if sp.hasOpts {
		if opts, err = g.compileIPOptions(sp.opts); err != nil {
			return true, 0, err
		}
	}
	src := g.localAddr()
	if sp.hasPktinfo {
		// ipc.addr: spec_dst replaces a bound source, 0.0.0.0 lets the
		// route choose; it is judged as udp_sendmsg's route judges it.
		um := stack.UDPSend{IfIndex: oif}
		if err := applySendPktinfo(g.s, &um, sp.pktinfo); err != nil {
			return true, 0, err
		}
		src = um.Src.Addr()
	}
	m := g.rawSend(o, src, dst, oif, conn, opts, p)
	if sp.ttl != 0 {
		m.TTL = uint8(sp.ttl)
	}
	if sp.tos >= 0 {
		m.TOS = uint8(sp.tos)
	}
	if finish != nil {
		if err := finish(&m); err != nil {
			return true, 0, err
		}
	}
	if err := g.s.SendRawIP(&m); err != nil {
		return true, 0, err
	}
	return true, len(p), nil
}

// mcastDefaults is raw_sendmsg's multicast part for a header the stack
// builds: a group datagram takes IP_MULTICAST_TTL and IP_MULTICAST_LOOP,
// IP_MULTICAST_IF's interface when no other was chosen (mc_index) and its
// address as a source when none was (mc_addr).
func (g *dgramSock) mcastDefaults(m *stack.RawSend) {
	if !m.Dst.IsMulticast() {
		return
	}
	g.optMu.Lock()
	mc := g.mcast
	g.optMu.Unlock()
	m.TTL, m.NoMulticastLoop = mc.effectiveTTL(), mc.noLoop
	if m.IfIndex == 0 {
		m.IfIndex = mc.ifIndex
	}
	if !m.Src.IsValid() || m.Src.IsUnspecified() {
		m.Src = mc.ifAddr
	}
}

// sendHdrinclCtl sends a header-included packet routed by an IP_PKTINFO
// message or IP_UNICAST_IF: oif picks the device and a non-zero
// ipi_spec_dst fills a zero source. Any source is allowed (IP_HDRINCL
// sets FLOWI_FLAG_ANYSRC), except those __ip_route_output_key refuses.
func (g *dgramSock) sendHdrinclCtl(p []byte, dst netip.Addr, oif int, sp *sendParams) error {
	if len(p) < header.IPv4MinimumSize {
		return unix.EINVAL
	}
	pkt := append([]byte(nil), p...)
	if spec := sp.pktinfo.SpecDst; sp.hasPktinfo && !spec.IsUnspecified() {
		if err := checkAnySource(spec, dst); err != nil {
			return err
		}
		if header.IPv4(pkt).SourceAddress() == (tcpip.Address{}) || header.IPv4(pkt).SourceAddress().Unspecified() {
			a := spec.As4()
			copy(pkt[12:16], a[:])
		}
	}
	return g.s.SendHeaderIncluded(pkt, oif)
}

// checkAnySource is __ip_route_output_key's judgement of a given source
// when any source is allowed: multicast, limited broadcast and 0.x.x.x
// are EINVAL, and so is a loopback source leaving for a non-loopback
// destination.
func checkAnySource(src, dst netip.Addr) error {
	b := src.As4()
	if src.IsMulticast() || b == [4]byte{255, 255, 255, 255} || b[0] == 0 {
		return unix.EINVAL
	}
	if src.IsLoopback() && !dst.IsLoopback() {
		return unix.EINVAL
	}
	return nil
}

// rawSend is a datagram the stack builds the header of, with the socket's
// TTL, TOS, path-MTU mode, IP ID and multicast defaults (IP_MULTICAST_IF
// and IP_MULTICAST_TTL); sendmsg's control messages override on top.
func (g *dgramSock) rawSend(o sockOpts, src, dst netip.Addr, oif int, conn bool, opts *options.IPOptions, p []byte) stack.RawSend {
	m := stack.RawSend{
		Src:       src,
		Dst:       dst,
		IfIndex:   oif,
		Protocol:  uint8(g.proto),
		TTL:       g.effectiveTTL(),
		TTLZero:   o.ttl == 0, // only SetTTLZero stores 0 (personality.go)
		TOS:       o.tos,
		PMTU:      stack.PMTUMode(o.pmtudisc),
		Connected: conn,
		IPID:      g.ipid,
		IPOptions: opts,
		Payload:   p,
	}
	g.mcastDefaults(&m)
	return m
}
