package endpoint

import (
	"encoding/binary"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"netsandbox/options"
	"netsandbox/stack"
)

// arrival is what Linux notes about a datagram when it is queued, not when
// it is read: the receive timestamp, the socket's drop count for
// SO_RXQ_OVFL (sock_skb_set_dropcount) and whether IP_PKTINFO was on
// (ipv4_pktinfo_prepare fills ifindex and spec_dst only then).
type arrival struct {
	stamp   int64  // Unix nanoseconds; 0 = take the time when it is read
	drops   uint32 // 0 = no SO_RXQ_OVFL message
	pktinfo bool
}

// noteArrival builds the queue entry for d; u.mu is held.
func (u *udpSock) noteArrival(d *stack.Datagram, truesize int) queued {
	f := u.rx()
	e := queued{d: *d, truesize: truesize}
	if f&rxStamp != 0 || u.stamp.wanted() {
		e.arr.stamp = time.Now().UnixNano()
	}
	if f&rxQueueOvfl != 0 {
		e.arr.drops = uint32(u.drops)
	}
	e.arr.pktinfo = f&rxPktinfo != 0
	return e
}

// recvCmsgs writes the control messages udp_recvmsg adds for a datagram
// into oob, in Linux's order: the SOL_SOCKET ones of sock_recv_cmsgs
// (timestamp, then drop count), then ip_cmsg_recv_offset's SOL_IP ones. It
// returns msg_controllen and MSG_CTRUNC as put_cmsg leaves them.
func (u *udpSock) recvCmsgs(oob []byte, e *queued) (int, int) {
	f := u.rx()
	u.stamp.noteRecv(f, e.arr.stamp)
	if f == 0 {
		return 0, 0
	}
	b := options.NewCmsgBuilder(oob)
	putTimestamp(&b, f, e.arr.stamp)
	if f&rxQueueOvfl != 0 && e.arr.drops != 0 {
		b.PutInt32(unix.SOL_SOCKET, unix.SO_RXQ_OVFL, int32(e.arr.drops))
	}
	u.putIPCmsgs(&b, f, e)
	return b.Len(), b.Flags()
}

// putIPCmsgs writes ip_cmsg_recv_offset's SOL_IP messages for e, in
// Linux's order, as the flags f ask.
func (u *udpSock) putIPCmsgs(b *options.CmsgBuilder, f rxFlags, e *queued) {
	if f&rxIPMask == 0 {
		return
	}
	d := &e.d
	if f&rxPktinfo != 0 {
		pi := options.InPktinfo{Addr: d.Dst.Addr()}
		if e.arr.pktinfo {
			pi.IfIndex = int32(pktinfoIfIndex(u.s, d))
			pi.SpecDst = specDst(u.s, d)
		}
		enc := pi.Encode()
		b.Put(unix.SOL_IP, unix.IP_PKTINFO, enc[:])
	}
	if f&rxTTL != 0 {
		b.PutInt32(unix.SOL_IP, unix.IP_TTL, int32(d.TTL))
	}
	if f&rxTOS != 0 {
		tos := [1]byte{d.TOS}
		b.Put(unix.SOL_IP, unix.IP_TOS, tos[:])
	}
	if f&rxRecvOpts != 0 && len(d.IPOptions) > 0 {
		b.Put(unix.SOL_IP, unix.IP_RECVOPTS, d.IPOptions)
	}
	if f&rxRetOpts != 0 && len(d.IPOptions) > 0 {
		var echo [maxIPOptions]byte
		n := echoIPOptions(d.IPOptions, &echo)
		b.Put(unix.SOL_IP, unix.IP_RETOPTS, echo[:n])
	}
	// IP_PASSSEC: with no LSM labelling security_socket_getpeersec_dgram
	// fails and no SCM_SECURITY is added.
	if f&rxOrigDst != 0 {
		sa := options.SockaddrInArray(d.Dst)
		b.Put(unix.SOL_IP, unix.IP_ORIGDSTADDR, sa[:])
	}
	if f&rxChecksum != 0 {
		if sum, ok := payloadChecksum(d); ok {
			b.PutInt32(unix.SOL_IP, unix.IP_CHECKSUM, int32(sum))
		}
	}
	if f&rxFragSize != 0 && d.FragSize != 0 {
		// ip_cmsg_recv_fragsize: only a datagram that was reassembled.
		b.PutInt32(unix.SOL_IP, unix.IP_RECVFRAGSIZE, int32(d.FragSize))
	}
}

// checksumBreak is CHECKSUM_BREAK: a datagram up to this long (UDP header
// included) has its checksum computed in full on arrival.
const checksumBreak = 76

// payloadChecksum is IP_CHECKSUM: the unfolded 32-bit sum of the payload
// that Linux keeps in skb->csum once it has checksummed the datagram in
// software (CHECKSUM_COMPLETE). Measured on Linux 6.x: every datagram from
// a link carries it, whatever the read buffer or MSG_PEEK; loopback
// traffic never does. A short datagram is summed on arrival with its
// header, whose sum is then subtracted, which turns a zero sum into
// 0xffffffff; a longer one reads 0 then.
func payloadChecksum(d *stack.Datagram) (uint32, bool) {
	if d.IfIndex == loopbackIfIndex {
		return 0, false
	}
	short := 8+len(d.Payload) <= checksumBreak
	sum := csumPartial32(d.Payload)
	if short && sum == 0 {
		sum = 0xffffffff
	}
	return sum, true
}

// csumPartial32 is x86-64 csum_partial from a zero seed: little-endian
// words added with end-around carry (the trailing bytes zero-padded),
// folded to 32 bits.
func csumPartial32(b []byte) uint32 {
	var sum uint64
	add := func(w uint64) {
		s := sum + w
		if s < sum {
			s++
		}
		sum = s
	}
	for len(b) >= 8 {
		add(binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	if len(b) > 0 {
		var tail [8]byte
		copy(tail[:], b)
		add(binary.LittleEndian.Uint64(tail[:]))
	}
	for sum>>32 != 0 {
		sum = sum&0xffffffff + sum>>32
	}
	return uint32(sum)
}

// putTimestamp adds __sock_recv_timestamp's software timestamp: one of
// SO_TIMESTAMP{,NS}_{OLD,NEW} as the last option set chose. A datagram
// that arrived before timestamps were on is stamped now, as Linux stamps
// an skb without a time when it is read.
func putTimestamp(b *options.CmsgBuilder, f rxFlags, stamp int64) {
	if f&rxStamp == 0 {
		return
	}
	if stamp == 0 {
		stamp = time.Now().UnixNano()
	}
	var ts [16]byte
	sec, frac := stamp/1e9, stamp%1e9
	typ := unix.SO_TIMESTAMPNS_OLD
	if f&rxStampNS == 0 {
		frac /= 1e3
		typ = unix.SO_TIMESTAMP_OLD
		if f&rxStampNew != 0 {
			typ = unix.SO_TIMESTAMP_NEW
		}
	} else if f&rxStampNew != 0 {
		typ = unix.SO_TIMESTAMPNS_NEW
	}
	// struct timeval / timespec and their 64-bit "new" twins share this
	// layout on 64-bit Linux: two native 64-bit integers.
	binary.NativeEndian.PutUint64(ts[0:8], uint64(sec))
	binary.NativeEndian.PutUint64(ts[8:16], uint64(frac))
	b.Put(unix.SOL_SOCKET, int32(typ), ts[:])
}

const loopbackIfIndex = 1

// pktinfoIfIndex is ipi_ifindex: the interface the datagram came in on,
// except that a datagram this host sent to one of its own addresses, which
// travels over lo, reports the interface that owns the address (Linux's
// output route keeps the FIB result's device as rt_iif).
func pktinfoIfIndex(s *stack.Stack, d *stack.Datagram) int {
	dst := d.Dst.Addr()
	if d.IfIndex != loopbackIfIndex || dst.IsLoopback() || !isUnicastLocal(s, dst) {
		return d.IfIndex
	}
	if i := s.AddrIfIndex(dst); i != 0 {
		return i // not lo, which holds a temporary copy of dst (AddrIfIndex)
	}
	if nic := s.Gvisor().CheckLocalAddress(0, header.IPv4ProtocolNumber, tcpip.AddrFrom4(dst.As4())); nic != 0 {
		return int(nic)
	}
	return d.IfIndex
}

// specDst is fib_compute_spec_dst: the header destination for a datagram
// to a local unicast address; for broadcast and multicast the source
// address this host would use to answer the sender (the preferred source
// of the route back), or the receiving interface's primary address when
// the sender is 0.0.0.0 or unreachable.
func specDst(s *stack.Stack, d *stack.Datagram) netip.Addr {
	dst := d.Dst.Addr()
	if isUnicastLocal(s, dst) {
		return dst
	}
	if src := d.Src.Addr(); !src.IsUnspecified() {
		if a, _, err := s.RouteSource(src, 0); err == nil {
			return a
		}
	}
	if ifc, ok := s.InterfaceByIndex(d.IfIndex); ok && len(ifc.Addrs) > 0 {
		return ifc.Addrs[0].Addr()
	}
	return netip.IPv4Unspecified()
}

// isUnicastLocal tells a datagram delivered to a local unicast address
// from a broadcast or multicast one (gVisor delivers only these three).
// A directed broadcast address has all host bits set and a prefix of /30
// or shorter, so an address whose two low bits are not both set is never
// one: the common case answers without the interface walk.
func isUnicastLocal(s *stack.Stack, a netip.Addr) bool {
	if a.IsMulticast() {
		return false
	}
	b := a.As4()
	if b[3]&3 != 3 {
		return true
	}
	return !s.IsBroadcast(a)
}

// maxIPOptions is the room for IPv4 options (60-byte header less 20).
const maxIPOptions = options.MaxIPOptionsLen

// echoIPOptions is IP_RETOPTS: ip_options_echo then ip_options_undo on
// the options as received (record route and timestamp already hold this
// hop's entry). Record route comes first, then timestamp, each copied as
// it is (the echo's extra slot is taken back by the undo), and the result
// is padded with END to a multiple of 4. Source-route options are not
// echoed yet.
func echoIPOptions(opts []byte, out *[maxIPOptions]byte) int {
	rr, ts := findIPOption(opts, options.IPOptRR), findIPOption(opts, options.IPOptTimestamp)
	n := copy(out[:], rr)
	n += copy(out[n:], ts)
	for n&3 != 0 {
		out[n] = options.IPOptEnd
		n++
	}
	return n
}

// findIPOption returns the first option of type typ, or nil.
func findIPOption(opts []byte, typ byte) []byte {
	it := options.NewIPOptionIter(opts)
	for opt, _, ok := it.Next(); ok; opt, _, ok = it.Next() {
		if opt[0] == typ {
			return opt
		}
	}
	return nil
}

// applySendPktinfo is IP_PKTINFO on sendmsg as ip_cmsg_send and
// udp_sendmsg use it: ipi_spec_dst becomes the source address even over a
// bound one (0.0.0.0 lets the route choose), and a non-zero ipi_ifindex
// the output interface in place of SO_BINDTODEVICE's. The source is judged
// as __ip_route_output_key judges it: multicast, limited broadcast or
// 0.x.x.x is EINVAL, an address no interface owns (a directed broadcast
// included) ENETUNREACH.
func applySendPktinfo(s *stack.Stack, m *stack.UDPSend, pi options.InPktinfo) error {
	src := pi.SpecDst
	if !src.IsUnspecified() {
		b := src.As4()
		if src.IsMulticast() || b == [4]byte{255, 255, 255, 255} || b[0] == 0 {
			return unix.EINVAL
		}
		// IP_TRANSPARENT (m.AnySource) lets a non-local source through,
		// as FLOWI_FLAG_ANYSRC does in __ip_route_output_key.
		if !m.AnySource && (!isUnicastLocal(s, src) || !s.IsLocalAddr(src)) {
			return unix.ENETUNREACH
		}
	}
	m.Src = netip.AddrPortFrom(src, m.Src.Port())
	if pi.IfIndex != 0 {
		m.IfIndex = int(pi.IfIndex)
	}
	return nil
}
