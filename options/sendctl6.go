package options

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// IPv6 control-message types of RFC 2292 that Linux still takes on send
// (x/sys/unix has no names for them).
const (
	IPV6_2292PKTINFO  = 2
	IPV6_2292HOPLIMIT = 8
)

// SizeofIn6Pktinfo is sizeof(struct in6_pktinfo).
const SizeofIn6Pktinfo = 20

// IPv6SendControl is what an AF_INET6 datagram sendmsg takes from its
// control messages (ip6_datagram_send_ctl). Has* says which appeared; a
// later message of the same type overrides an earlier one.
type IPv6SendControl struct {
	Socket IPSendControl // the SOL_SOCKET messages (__sock_cmsg_send)

	HasPktinfo     bool
	PktinfoAddr    netip.Addr // ipi6_addr, 16 bytes
	PktinfoIfIndex uint32     // ipi6_ifindex
	HasHopLimit    bool
	HopLimit       int // -1: the socket's or route's default
	HasTClass      bool
	TClass         int // -1: the socket's
	// HasDontFrag: an IPV6_DONTFRAG message overrides the socket's
	// option with DontFrag (its value other than 0).
	HasDontFrag bool
	DontFrag    bool
}

// ParseIPv6SendControl walks a sendmsg control buffer like
// ip6_datagram_send_ctl (net/ipv6/datagram.c): CMSG_OK for every message
// (EINVAL); SOL_SOCKET messages follow __sock_cmsg_send; SOL_IPV6
// IPV6_PKTINFO (and RFC 2292's) needs cmsg_len at least
// CMSG_LEN(sizeof(in6_pktinfo)); IPV6_HOPLIMIT (and RFC 2292's) and
// IPV6_TCLASS need cmsg_len exactly CMSG_LEN(4) and a value in
// -1..255, IPV6_DONTFRAG exactly CMSG_LEN(4); other levels are
// skipped. The address and interface of IPV6_PKTINFO are judged by the
// caller, which knows the stack.
//
// Deviation: the SOL_IPV6 types netsandbox does not act on
// (IPV6_FLOWINFO, the extension-header messages) are EINVAL, as Linux
// answers an unknown type, instead of being honoured.
func ParseIPv6SendControl(b []byte, pol SendCmsgPolicy) (IPv6SendControl, error) {
	var c IPv6SendControl
	p := NewCmsgParser(b)
	for {
		m, ok := p.Next()
		if !ok {
			if err := p.Err(); err != nil {
				return IPv6SendControl{}, err
			}
			return c, nil
		}
		var err error
		switch m.Level {
		case unix.SOL_SOCKET:
			err = c.Socket.socketCmsg(m, pol)
		case unix.SOL_IPV6:
			err = c.ipv6Cmsg(m)
		}
		if err != nil {
			return IPv6SendControl{}, err
		}
	}
}

func (c *IPv6SendControl) ipv6Cmsg(m Cmsg) error {
	switch m.Type {
	case unix.IPV6_PKTINFO, IPV6_2292PKTINFO:
		if len(m.Data) < SizeofIn6Pktinfo {
			return unix.EINVAL
		}
		c.HasPktinfo = true
		c.PktinfoAddr = netip.AddrFrom16([16]byte(m.Data[:16]))
		c.PktinfoIfIndex = nativeEndian.Uint32(m.Data[16:20])
	case unix.IPV6_HOPLIMIT, IPV6_2292HOPLIMIT, unix.IPV6_TCLASS:
		if len(m.Data) != 4 {
			return unix.EINVAL
		}
		v := int32(nativeEndian.Uint32(m.Data))
		if v < -1 || v > 0xff {
			return unix.EINVAL
		}
		if m.Type == unix.IPV6_TCLASS {
			c.HasTClass, c.TClass = true, int(v)
		} else {
			c.HasHopLimit, c.HopLimit = true, int(v)
		}
	case unix.IPV6_DONTFRAG:
		if len(m.Data) != 4 {
			return unix.EINVAL
		}
		c.HasDontFrag, c.DontFrag = true, nativeEndian.Uint32(m.Data) != 0
	default:
		return unix.EINVAL
	}
	return nil
}

// In6Pktinfo encodes a struct in6_pktinfo.
func In6Pktinfo(a netip.Addr, ifindex uint32) []byte {
	b := make([]byte, SizeofIn6Pktinfo)
	if a.IsValid() {
		a16 := a.As16()
		copy(b, a16[:])
	}
	nativeEndian.PutUint32(b[16:], ifindex)
	return b
}
