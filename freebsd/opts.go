package freebsd

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"netsandbox/endpoint"
	"netsandbox/stack"
)

// optInt is sooptcopyin(sopt, &optval, sizeof optval, sizeof optval): an
// int and nothing shorter (EINVAL); bytes past the int are not read.
func optInt(val []byte) (int32, error) {
	if len(val) < 4 {
		return 0, unix.EINVAL
	}
	return int32(binary.LittleEndian.Uint32(val)), nil
}

// copyOut is sooptcopyout: min(len, optlen) bytes of the value.
func copyOut(buf []byte, v []byte) int { return copy(buf, v) }

func copyOutInt(buf []byte, v int32) int {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(v))
	return copyOut(buf, b[:])
}

// SetSockOpt is setsockopt(2) with FreeBSD's levels, numbers and rules.
func (s *Socket) SetSockOpt(level, name int, val []byte) error {
	switch level {
	case SOL_SOCKET:
		return s.setSocketLevel(name, val)
	case IPPROTO_IP:
		return s.setIP(name, val)
	case unix.SOL_SOCKET:
		// Linux's SOL_SOCKET (1) is IPPROTO_ICMP's number on FreeBSD: a
		// level ip_ctloutput does not know.
		return unix.EINVAL
	}
	return s.in.SetSockOpt(level, name, val)
}

// GetSockOpt is getsockopt(2) with FreeBSD's levels, numbers and rules.
func (s *Socket) GetSockOpt(level, name int, buf []byte) (int, error) {
	switch level {
	case SOL_SOCKET:
		return s.getSocketLevel(name, buf)
	case IPPROTO_IP:
		return s.getIP(name, buf)
	case unix.SOL_SOCKET:
		return 0, unix.EINVAL
	}
	return s.in.GetSockOpt(level, name, buf)
}

// socketBool maps the boolean SOL_SOCKET options kept here to Linux's.
func socketBool(name int) (int, bool) {
	switch name {
	case SO_REUSEADDR:
		return unix.SO_REUSEADDR, true
	case SO_BROADCAST:
		return unix.SO_BROADCAST, true
	case SO_REUSEPORT:
		return unix.SO_REUSEPORT, true
	}
	return 0, false
}

func (s *Socket) setSocketLevel(name int, val []byte) error {
	ln, ok := socketBool(name)
	if !ok {
		return unix.ENOPROTOOPT // sosetopt's default
	}
	v, err := optInt(val)
	if err != nil {
		return err
	}
	on := 0
	if v != 0 {
		on = 1
	}
	if s.typ == unix.SOCK_RAW && ln == unix.SO_BROADCAST {
		s.mu.Lock()
		s.o.rawBroadcast = on != 0
		s.mu.Unlock()
		return nil
	}
	return s.in.SetSockOpt(unix.SOL_SOCKET, ln, le32(on))
}

// getSocketLevel answers so_options & name, as sogetopt does: the option's
// bit, not 1.
func (s *Socket) getSocketLevel(name int, buf []byte) (int, error) {
	ln, ok := socketBool(name)
	if !ok {
		return 0, unix.ENOPROTOOPT
	}
	var b [4]byte
	if s.typ == unix.SOCK_RAW && ln == unix.SO_BROADCAST {
		s.mu.Lock()
		b[0] = byte(b2i(s.o.rawBroadcast))
		s.mu.Unlock()
	} else if _, err := s.in.GetSockOpt(unix.SOL_SOCKET, ln, b[:]); err != nil {
		return 0, err
	}
	v := int32(0)
	if binary.NativeEndian.Uint32(b[:]) != 0 {
		v = int32(name)
	}
	return copyOutInt(buf, v), nil
}

func (s *Socket) setIP(name int, val []byte) error {
	if isMcastOpt(name) {
		return s.setMcast(name, val)
	}
	switch name {
	case IP_OPTIONS:
		return s.setIPOptions(val)
	case IP_HDRINCL:
		return s.setHdrincl(val)
	case IP_PORTRANGE:
		return s.setPortRange(val)
	case IP_BINDANY:
		// The privilege check comes before the value is read.
		if !s.st.Caps().Has(stack.CapNetAdmin) {
			return unix.EPERM
		}
	case IP_TOS, IP_TTL, IP_MINTTL, IP_RECVOPTS, IP_RECVRETOPTS, IP_RECVDSTADDR,
		IP_RECVTTL, IP_RECVIF, IP_DONTFRAG, IP_RECVTOS, IP_ONESBCAST:
	default:
		return unix.ENOPROTOOPT // ip_ctloutput's default
	}
	v, err := optInt(val)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	on := v != 0
	switch name {
	case IP_TOS:
		if err := s.in.SetSockOpt(unix.SOL_IP, unix.IP_TOS, le32(int(uint8(v)))); err != nil {
			return err
		}
		s.o.tos = uint8(v) // inp_ip_tos = optval: the low byte
	case IP_TTL:
		t := uint8(v) // inp_ip_ttl = optval: the low byte, 0 included
		if t == 0 {
			if err := endpoint.SetTTLZero(s.in); err != nil && err != unix.EOPNOTSUPP {
				return err
			}
		} else if err := s.in.SetSockOpt(unix.SOL_IP, unix.IP_TTL, le32(int(t))); err != nil {
			return err
		}
		s.o.ttl = t
	case IP_MINTTL:
		if v < 0 || v > MAXTTL {
			return unix.EINVAL
		}
		if err := s.in.SetSockOpt(unix.SOL_IP, unix.IP_MINTTL, le32(int(v))); err != nil {
			return err
		}
		// udp_input and rip_input check it too; Linux's IP_MINTTL is
		// TCP's only, so UDP gets the stack's own check and raw sockets
		// this one's (RecvMsg, from the datagram's IP_TTL).
		if err := endpoint.SetDatagramMinTTL(s.in, uint8(v)); err != nil && err != unix.EOPNOTSUPP {
			return err
		}
		s.o.minttl = uint8(v)
		if err := s.syncRecvTTL(); err != nil {
			return err
		}
	case IP_RECVOPTS:
		s.o.recvOpts = on
	case IP_RECVRETOPTS:
		s.o.recvRetOpts = on
	case IP_RECVDSTADDR:
		s.o.recvDstAddr = on
		return s.syncPktinfo()
	case IP_RECVIF:
		s.o.recvIF = on
		return s.syncPktinfo()
	case IP_RECVTTL:
		s.o.recvTTL = on
		if err := s.syncRecvTTL(); err != nil {
			return err
		}
	case IP_RECVTOS:
		if err := s.setInnerBool(unix.IP_RECVTOS, on); err != nil {
			return err
		}
		s.o.recvTOS = on
	case IP_ONESBCAST:
		s.o.onesBcast = on
	case IP_BINDANY:
		// Bind to any address (IP_FREEBIND) and send from it
		// (IP_TRANSPARENT lets a non-local source through the route).
		for _, n := range []int{unix.IP_FREEBIND, unix.IP_TRANSPARENT} {
			if err := s.in.SetSockOpt(unix.SOL_IP, n, le32(int(b2i(on)))); err != nil {
				return err
			}
		}
		s.o.bindAny = on
	case IP_DONTFRAG:
		// Only UDP and raw sockets look at it (udp_output, rip_output);
		// TCP keeps the flag and sets DF by path MTU discovery.
		if s.dgramLike() {
			mode := unix.IP_PMTUDISC_DONT
			if on {
				mode = unix.IP_PMTUDISC_DO
			}
			if err := s.in.SetSockOpt(unix.SOL_IP, unix.IP_MTU_DISCOVER, le32(mode)); err != nil {
				return err
			}
		}
		s.o.dontFrag = on
	}
	return nil
}

// inpHdrincl is INP_HDRINCL (netinet/in_pcb.h), what getsockopt reads back.
const inpHdrincl = 0x8

// setHdrincl is rip_ctloutput's IP_HDRINCL (an int); other sockets pass it
// to ip_ctloutput, whose default is ENOPROTOOPT.
func (s *Socket) setHdrincl(val []byte) error {
	if s.typ != unix.SOCK_RAW {
		return unix.ENOPROTOOPT
	}
	v, err := optInt(val)
	if err != nil {
		return err
	}
	if err := s.in.SetSockOpt(unix.SOL_IP, unix.IP_HDRINCL, le32(int(b2i(v != 0)))); err != nil {
		return err
	}
	s.mu.Lock()
	s.o.hdrincl = v != 0
	s.mu.Unlock()
	return nil
}

// setPortRange is ip_ctloutput's IP_PORTRANGE: an int, DEFAULT, HIGH or
// LOW, anything else EINVAL.
func (s *Socket) setPortRange(val []byte) error {
	v, err := optInt(val)
	if err != nil {
		return err
	}
	switch v {
	case IP_PORTRANGE_DEFAULT, IP_PORTRANGE_HIGH, IP_PORTRANGE_LOW:
	default:
		return unix.EINVAL
	}
	s.mu.Lock()
	s.o.portRange = int(v)
	s.mu.Unlock()
	return nil
}

func (s *Socket) setInnerBool(name int, on bool) error {
	v := 0
	if on {
		v = 1
	}
	if s.typ == unix.SOCK_STREAM {
		return nil // no control messages on TCP; the flag is only kept
	}
	return s.in.SetSockOpt(unix.SOL_IP, name, le32(v))
}

// syncRecvTTL asks the wrapped socket for IP_TTL messages while
// IP_RECVTTL, or on a raw socket IP_MINTTL, needs them (s.mu held).
func (s *Socket) syncRecvTTL() error {
	return s.setInnerBool(unix.IP_RECVTTL, s.o.recvTTL || s.typ == unix.SOCK_RAW && s.o.minttl > 0)
}

// syncPktinfo asks the wrapped socket for IP_PKTINFO while IP_RECVDSTADDR
// or IP_RECVIF needs it (s.mu held).
func (s *Socket) syncPktinfo() error {
	return s.setInnerBool(unix.IP_PKTINFO, s.o.recvDstAddr || s.o.recvIF)
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

func (s *Socket) getIP(name int, buf []byte) (int, error) {
	switch name {
	case IP_MULTICAST_IF, IP_MULTICAST_TTL, IP_MULTICAST_LOOP:
		return s.getMcast(name, buf)
	case IP_MSFILTER:
		if s.typ != unix.SOCK_DGRAM && s.typ != unix.SOCK_RAW {
			return 0, unix.EOPNOTSUPP
		}
		return s.getMsfilter(buf)
	case IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP, IP_ADD_SOURCE_MEMBERSHIP, IP_DROP_SOURCE_MEMBERSHIP,
		IP_BLOCK_SOURCE, IP_UNBLOCK_SOURCE, MCAST_JOIN_GROUP, MCAST_LEAVE_GROUP, MCAST_JOIN_SOURCE_GROUP,
		MCAST_LEAVE_SOURCE_GROUP, MCAST_BLOCK_SOURCE, MCAST_UNBLOCK_SOURCE:
		return 0, unix.ENOPROTOOPT // ip_ctloutput's SOPT_GET has no case for them
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var v int32
	switch name {
	case IP_HDRINCL:
		// rip_ctloutput: optval = inp_flags & INP_HDRINCL, the flag's bit.
		if s.typ != unix.SOCK_RAW {
			return 0, unix.ENOPROTOOPT
		}
		if s.o.hdrincl {
			v = inpHdrincl
		}
		return copyOutInt(buf, v), nil
	case IP_OPTIONS, IP_RETOPTS:
		// sopt_valsize = 0 when none are set; else the stored bytes.
		return copyOut(buf, s.o.ipopts), nil
	case IP_TOS:
		v = int32(s.o.tos)
	case IP_TTL:
		v = int32(s.o.ttl)
	case IP_MINTTL:
		v = int32(s.o.minttl)
	case IP_RECVOPTS:
		v = b2i(s.o.recvOpts)
	case IP_RECVRETOPTS:
		v = b2i(s.o.recvRetOpts)
	case IP_RECVDSTADDR:
		v = b2i(s.o.recvDstAddr)
	case IP_RECVTTL:
		v = b2i(s.o.recvTTL)
	case IP_RECVIF:
		v = b2i(s.o.recvIF)
	case IP_DONTFRAG:
		v = b2i(s.o.dontFrag)
	case IP_RECVTOS:
		v = b2i(s.o.recvTOS)
	case IP_ONESBCAST:
		v = b2i(s.o.onesBcast)
	case IP_BINDANY:
		v = b2i(s.o.bindAny)
	case IP_PORTRANGE:
		v = int32(s.o.portRange)
	default:
		return 0, unix.ENOPROTOOPT
	}
	return copyOutInt(buf, v), nil
}

// ParseIPOptions validates IP_OPTIONS bytes as ip_pcbopts does and returns
// what it stores (and getsockopt returns): the first-hop address (0.0.0.0
// without a source route) followed by the options, a source route's first
// hop moved out of it. A length that is not a multiple of 4, a malformed
// option, a source route with no room for an address or a result over
// MAX_IPOPTLEN + 4 is EINVAL. An empty value clears the options (nil).
func ParseIPOptions(val []byte) ([]byte, error) {
	if len(val) == 0 {
		return nil, nil
	}
	if len(val)%4 != 0 || len(val)+4 >= MLEN {
		return nil, unix.EINVAL
	}
	out := make([]byte, 4, 4+len(val))
	out = append(out, val...)
	opts := out[4:]
	for i := 0; i < len(opts); {
		typ := opts[i]
		if typ == 0 { // IPOPT_EOL
			break
		}
		optlen := 1
		if typ != 1 { // not IPOPT_NOP
			if len(opts)-i < 2 {
				return nil, unix.EINVAL
			}
			optlen = int(opts[i+1])
			if optlen < 2 || optlen > len(opts)-i {
				return nil, unix.EINVAL
			}
		}
		if typ == 0x83 || typ == 0x89 { // IPOPT_LSRR, IPOPT_SSRR
			if optlen < 3+4 { // IPOPT_MINOFF - 1 + sizeof(struct in_addr)
				return nil, unix.EINVAL
			}
			copy(out[0:4], opts[i+3:i+7])
			rest := append([]byte(nil), opts[i+7:]...)
			opts[i+1] = byte(optlen - 4)
			copy(opts[i+3:], rest)
			opts = opts[:len(opts)-4]
			out = out[:len(out)-4]
			optlen -= 4
		}
		i += optlen
	}
	if len(out) > MAX_IPOPTLEN+4 {
		return nil, unix.EINVAL
	}
	return out, nil
}

func (s *Socket) setIPOptions(val []byte) error {
	if len(val) > MLEN {
		return unix.EMSGSIZE
	}
	stored, err := ParseIPOptions(val)
	if err != nil {
		// ip_pcbopts turns the old options off before it validates.
		s.mu.Lock()
		s.o.ipopts = nil
		s.mu.Unlock()
		_ = s.in.SetSockOpt(unix.SOL_IP, unix.IP_OPTIONS, nil)
		return err
	}
	// The wrapped socket takes the caller's bytes: Linux extracts a source
	// route's first hop the same way.
	if err := s.in.SetSockOpt(unix.SOL_IP, unix.IP_OPTIONS, val); err != nil {
		return err
	}
	s.mu.Lock()
	s.o.ipopts = stored
	s.mu.Unlock()
	return nil
}
