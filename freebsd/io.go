package freebsd

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"

	"netsandbox/options"
	"netsandbox/stack"
)

// ipMaxPacket is IP_MAXPACKET; udp_output refuses a datagram that would not
// fit with its headers (EMSGSIZE) before it reads the control messages.
const ipMaxPacket = 65535

// sendCtl is what udp_output takes from the control messages.
type sendCtl struct {
	src    netip.Addr
	hasSrc bool
	tos    int
	hasTOS bool
}

// parseSendCmsgs reads the control messages of a UDP sendmsg in
// udp_output's order and with its checks: a malformed buffer is EINVAL,
// other levels are skipped, IP_SENDSRCADDR must be CMSG_LEN(4) and IP_TOS
// CMSG_LEN(1) (EINVAL otherwise), any other IPPROTO_IP type is
// ENOPROTOOPT.
func parseSendCmsgs(oob []byte) (sendCtl, error) {
	var c sendCtl
	msgs, err := ParseCmsgs(oob)
	for _, m := range msgs {
		if m.Level != IPPROTO_IP {
			continue
		}
		switch m.Type {
		case IP_SENDSRCADDR:
			if m.Len != uint32(CmsgLen(4)) {
				return c, unix.EINVAL
			}
			c.src, c.hasSrc = netip.AddrFrom4([4]byte(m.Data)), true
		case IP_TOS:
			if m.Len != uint32(CmsgLen(1)) {
				return c, unix.EINVAL
			}
			c.tos, c.hasTOS = int(m.Data[0]), true
		default:
			return c, unix.ENOPROTOOPT
		}
	}
	if err != nil {
		return c, unix.EINVAL
	}
	return c, nil
}

// SendMsg is sendmsg(2): to is a FreeBSD sockaddr_in or nil, oob FreeBSD
// control messages, flags FreeBSD's MSG_* bits.
func (s *Socket) SendMsg(p, oob, to []byte, flags int) (int, error) {
	var lto []byte
	if to != nil {
		var err error
		if lto, err = linuxSockaddr(to); err != nil {
			return 0, err
		}
	}
	lflags := linuxFlags(flags)
	if s.typ != unix.SOCK_DGRAM {
		if len(oob) > 0 {
			return 0, unix.EINVAL // not taken by this personality on TCP and raw
		}
		s.mu.Lock()
		hdrincl, haveOpts := s.o.hdrincl, len(s.o.ipopts) > 0
		s.mu.Unlock()
		if s.typ == unix.SOCK_RAW && hdrincl {
			lp, err := LinuxHeader(p, haveOpts)
			if err != nil {
				return 0, err
			}
			if _, err := s.in.SendMsg(lp, nil, lto, lflags); err != nil {
				return 0, err
			}
			return len(p), nil
		}
		if s.typ == unix.SOCK_RAW && lto != nil {
			return s.sendRawBroadcast(p, to, lto, lflags)
		}
		return s.in.SendMsg(p, nil, lto, lflags)
	}
	if len(p)+28 > ipMaxPacket {
		return 0, unix.EMSGSIZE
	}
	var c sendCtl
	if len(oob) > 0 {
		var err error
		if c, err = parseSendCmsgs(oob); err != nil {
			return 0, err
		}
		if c.hasSrc {
			if err := s.checkSendSrc(c.src); err != nil {
				return 0, err
			}
		}
	}
	var (
		pi    [unix.SizeofInet4Pktinfo]byte
		hasPI = c.hasSrc
	)
	if c.hasSrc {
		a := c.src.As4()
		copy(pi[4:8], a[:]) // ipi_spec_dst
	}
	if lto != nil {
		// in_pcbconnect_setup binds an unbound socket first.
		if err := s.autobind(); err != nil {
			return 0, err
		}
		dst, _ := ParseSockaddrIn(to)
		if ifc, pfx, ok := s.directedBroadcast(dst.Addr()); ok {
			// ip_output: a broadcast needs SO_BROADCAST (EACCES) and is
			// never fragmented (EMSGSIZE over the interface MTU);
			// IP_ONESBCAST sends it to INADDR_BROADCAST through the
			// interface that owns the directed address.
			var b [4]byte
			if _, err := s.in.GetSockOpt(unix.SOL_SOCKET, unix.SO_BROADCAST, b[:]); err != nil {
				return 0, err
			}
			if b == [4]byte{} {
				return 0, unix.EACCES
			}
			s.mu.Lock()
			ones, optlen := s.o.onesBcast, len(s.o.ipopts)
			s.mu.Unlock()
			if optlen > 4 {
				optlen -= 4 // the stored first hop is not sent
			} else {
				optlen = 0
			}
			if 28+optlen+len(p) > int(ifc.MTU) {
				return 0, unix.EMSGSIZE
			}
			if ones {
				lto = linuxOf(netip.AddrPortFrom(netip.AddrFrom4([4]byte{255, 255, 255, 255}), dst.Port()))
				binary.NativeEndian.PutUint32(pi[0:4], uint32(ifc.Index))
				if !c.hasSrc {
					a := pfx.Addr().As4()
					copy(pi[4:8], a[:])
				}
				hasPI = true
			}
		}
	}
	var loob []byte
	if hasPI {
		loob = options.AppendCmsg(loob, unix.SOL_IP, unix.IP_PKTINFO, pi[:])
	}
	if c.hasTOS {
		loob = options.AppendCmsg(loob, unix.SOL_IP, unix.IP_TOS, le32(c.tos))
	}
	return s.in.SendMsg(p, loob, lto, lflags)
}

// sendRawBroadcast is rip_output's send without IP_HDRINCL to a directed
// broadcast address: rip_output always passes IP_ALLOWBROADCAST (no
// SO_BROADCAST needed: the wrapped raw socket has it on), ip_output never
// fragments a broadcast (EMSGSIZE over the interface MTU) and, with
// IP_ONESBCAST (IP_SENDONES), sends it to INADDR_BROADCAST through the
// interface that owns the address.
func (s *Socket) sendRawBroadcast(p, to, lto []byte, lflags int) (int, error) {
	dst, _ := ParseSockaddrIn(to)
	ifc, pfx, ok := s.directedBroadcast(dst.Addr())
	if !ok {
		return s.in.SendMsg(p, nil, lto, lflags)
	}
	s.mu.Lock()
	ones, optlen := s.o.onesBcast, len(s.o.ipopts)
	s.mu.Unlock()
	if optlen > 4 {
		optlen -= 4
	} else {
		optlen = 0
	}
	if 20+optlen+len(p) > int(ifc.MTU) {
		return 0, unix.EMSGSIZE
	}
	if !ones {
		return s.in.SendMsg(p, nil, lto, lflags)
	}
	var pi [unix.SizeofInet4Pktinfo]byte
	binary.NativeEndian.PutUint32(pi[0:4], uint32(ifc.Index))
	a := pfx.Addr().As4()
	copy(pi[4:8], a[:])
	bcast := linuxOf(netip.AddrPortFrom(netip.AddrFrom4([4]byte{255, 255, 255, 255}), dst.Port()))
	return s.in.SendMsg(p, options.AppendCmsg(nil, unix.SOL_IP, unix.IP_PKTINFO, pi[:]), bcast, lflags)
}

// directedBroadcast finds the interface whose subnet's broadcast address
// is a (in_broadcast's ia_broadaddr; not for a /31 or /32).
func (s *Socket) directedBroadcast(a netip.Addr) (stack.Interface, netip.Prefix, bool) {
	if !a.Is4() {
		return stack.Interface{}, netip.Prefix{}, false
	}
	for _, ifc := range s.st.Interfaces() {
		if ifc.Loopback {
			continue
		}
		for _, p := range ifc.Addrs {
			if !p.Addr().Is4() || p.Bits() >= 31 {
				continue
			}
			b := p.Masked().Addr().As4()
			host := uint32(1)<<(32-p.Bits()) - 1
			v := binary.BigEndian.Uint32(b[:]) | host
			if binary.BigEndian.Uint32(a.AsSlice()) == v {
				return ifc, p, true
			}
		}
	}
	return stack.Interface{}, netip.Prefix{}, false
}

// LinuxHeader turns the datagram a FreeBSD raw socket writes under
// IP_HDRINCL into the one the wrapped Linux socket sends, with rip_output's
// checks (FreeBSD 8, the ip(4) page's era): over IP_MAXPACKET is EMSGSIZE;
// a header with options on a socket that has IP_OPTIONS, an ip_len over the
// bytes written or below the header length is EINVAL. ip_len and ip_off are
// in host byte order (little-endian here) and go out in network order; the
// bytes past ip_len are not sent (FreeBSD puts them in the frame, past the
// datagram). ip_id 0 and ip_src 0.0.0.0 are left for the stack to fill, as
// ip_newid and ip_output fill them. Fewer than 20 bytes, or an ip_hl below 5,
// are EINVAL (FreeBSD 8 does not check them; later versions do).
func LinuxHeader(p []byte, haveOpts bool) ([]byte, error) {
	if len(p) > ipMaxPacket {
		return nil, unix.EMSGSIZE
	}
	if len(p) < 20 {
		return nil, unix.EINVAL
	}
	hl := int(p[0]&0xf) * 4
	ipLen := int(binary.LittleEndian.Uint16(p[2:4]))
	if hl < 20 || (hl != 20 && haveOpts) || ipLen > len(p) || ipLen < hl {
		return nil, unix.EINVAL
	}
	out := append([]byte(nil), p[:ipLen]...)
	binary.BigEndian.PutUint16(out[2:4], uint16(ipLen))
	binary.BigEndian.PutUint16(out[6:8], binary.LittleEndian.Uint16(p[6:8]))
	return out, nil
}

// checkSendSrc is udp_output's IP_SENDSRCADDR rule: the socket needs a
// local port; a socket bound to an address cannot pick another
// (in_pcbbind_setup: EINVAL), nor can INADDR_ANY be asked of an unbound
// address; the address must be one of the host's (EADDRNOTAVAIL) unless
// IP_BINDANY is set.
func (s *Socket) checkSendSrc(src netip.Addr) error {
	sa, err := s.in.GetSockName()
	if err != nil {
		return err
	}
	lap, _, perr := options.ParseSockaddrIn(sa)
	if perr != nil {
		return unix.EINVAL
	}
	if lap.Port() == 0 {
		return unix.EINVAL
	}
	if !lap.Addr().IsUnspecified() {
		return unix.EINVAL
	}
	if src.IsUnspecified() {
		return unix.EINVAL
	}
	s.mu.Lock()
	bindAny := s.o.bindAny
	s.mu.Unlock()
	if !bindAny && !s.isLocal(src) {
		return unix.EADDRNOTAVAIL
	}
	return nil
}

// RecvMsg is recvmsg(2): from is a FreeBSD sockaddr_in, oob receives
// FreeBSD control messages in ip_savecontrol's order (IP_RECVDSTADDR,
// IP_RECVTTL, IP_RECVIF, IP_RECVTOS), and a control buffer too short for
// them gets their first bytes and MSG_CTRUNC, as kern_recvit copies them.
func (s *Socket) RecvMsg(p, oob []byte, flags int) (n, oobn, recvflags int, from []byte, err error) {
	var inOob []byte
	if s.typ != unix.SOCK_STREAM {
		inOob = make([]byte, 256)
	}
	lflags := linuxFlags(flags)
	var (
		ion   int
		rf    int
		lfrom []byte
	)
	// rip_input drops a datagram under IP_MINTTL before it is queued;
	// here the wrapped raw socket has queued it, so it is taken off and
	// the next one read (bounded by what is queued).
	for tries := 0; ; tries++ {
		n, ion, rf, lfrom, err = s.in.RecvMsg(p, inOob, lflags)
		if err != nil {
			return n, 0, bsdFlags(rf), bsdSockaddr(lfrom), err
		}
		if s.typ != unix.SOCK_RAW || tries >= 1<<16 {
			break
		}
		s.mu.Lock()
		minttl := s.o.minttl
		s.mu.Unlock()
		ttl, ok := linuxTTL(inOob[:ion])
		if minttl == 0 || !ok || ttl >= minttl {
			break
		}
		if lflags&unix.MSG_PEEK != 0 {
			_, _, _, _, _ = s.in.RecvMsg(nil, nil, unix.MSG_DONTWAIT)
		}
	}
	recvflags = bsdFlags(rf &^ unix.MSG_CTRUNC)
	if ion > 0 {
		var trunc bool
		oobn, trunc = copyControl(oob, s.bsdRecvCmsgs(inOob[:ion]))
		if trunc {
			recvflags |= MSG_CTRUNC
		}
	}
	return n, oobn, recvflags, bsdSockaddr(lfrom), nil
}

// linuxTTL finds the IP_TTL control message of the wrapped socket.
func linuxTTL(lin []byte) (uint8, bool) {
	p := options.NewCmsgParser(lin)
	for m, ok := p.Next(); ok; m, ok = p.Next() {
		if m.Level == unix.SOL_IP && m.Type == unix.IP_TTL && len(m.Data) >= 4 {
			return uint8(binary.NativeEndian.Uint32(m.Data)), true
		}
	}
	return 0, false
}

// copyControl copies control messages (each CMSG_SPACE long, as
// sbcreatecontrol makes its mbuf) as kern_recvit does: "while (m && len >
// 0)", a whole message while it fits, else its first bytes and MSG_CTRUNC.
// A buffer that ends exactly after a message takes no more and is not
// flagged; a zero-length one takes nothing.
func copyControl(dst []byte, msgs [][]byte) (n int, trunc bool) {
	for _, m := range msgs {
		left := len(dst) - n
		if left <= 0 {
			break
		}
		if left < len(m) {
			n += copy(dst[n:], m[:left])
			return n, true
		}
		n += copy(dst[n:], m)
	}
	return n, false
}

// bsdRecvCmsgs turns the wrapped socket's Linux control messages into
// FreeBSD's.
func (s *Socket) bsdRecvCmsgs(lin []byte) [][]byte {
	var (
		dst             [4]byte
		ifindex         int
		ttl, tos        byte
		havePI, haveTTL bool
		haveTOS         bool
	)
	p := options.NewCmsgParser(lin)
	for {
		m, ok := p.Next()
		if !ok {
			break
		}
		if m.Level != unix.SOL_IP {
			continue
		}
		switch m.Type {
		case unix.IP_PKTINFO:
			if len(m.Data) >= unix.SizeofInet4Pktinfo {
				ifindex = int(int32(binary.NativeEndian.Uint32(m.Data)))
				copy(dst[:], m.Data[8:12])
				havePI = true
			}
		case unix.IP_TTL:
			if len(m.Data) >= 4 {
				ttl, haveTTL = byte(binary.NativeEndian.Uint32(m.Data)), true
			}
		case unix.IP_TOS:
			if len(m.Data) >= 1 {
				tos, haveTOS = m.Data[0], true
			}
		}
	}
	s.mu.Lock()
	o := s.o
	s.mu.Unlock()
	var out [][]byte
	if o.recvDstAddr && havePI {
		out = append(out, AppendCmsg(nil, IPPROTO_IP, IP_RECVDSTADDR, dst[:]))
	}
	if o.recvTTL && haveTTL {
		out = append(out, AppendCmsg(nil, IPPROTO_IP, IP_RECVTTL, []byte{ttl}))
	}
	if o.recvIF && havePI {
		out = append(out, AppendCmsg(nil, IPPROTO_IP, IP_RECVIF, s.linkAddr(ifindex)))
	}
	if o.recvTOS && haveTOS {
		out = append(out, AppendCmsg(nil, IPPROTO_IP, IP_RECVTOS, []byte{tos}))
	}
	return out
}

// linkAddr is the interface's struct sockaddr_dl, or ip_savecontrol's dummy.
func (s *Socket) linkAddr(ifindex int) []byte {
	ifc, ok := s.st.InterfaceByIndex(ifindex)
	if !ok {
		return SockaddrDL(0, 0, "", nil)
	}
	typ := uint8(IFT_ETHER)
	if ifc.Loopback {
		typ = IFT_LOOP
	}
	return SockaddrDL(ifc.Index, typ, ifc.Name, ifc.MAC)
}
