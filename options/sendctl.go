package options

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// SendCmsgPolicy carries the socket state that __sock_cmsg_send consults.
type SendCmsgPolicy struct {
	// NetAdminOrRaw: the sender has CAP_NET_ADMIN or CAP_NET_RAW (SO_MARK,
	// and SO_PRIORITY above 6).
	NetAdminOrRaw bool
	// TxTime: SO_TXTIME is enabled on the socket (else SCM_TXTIME is EINVAL).
	TxTime bool
}

// IPSendControl is what an IPv4 datagram sendmsg takes from its control
// messages (ip_cmsg_send and __sock_cmsg_send). Has* says which appeared;
// a later message of the same type overrides an earlier one, as in Linux.
type IPSendControl struct {
	HasPktinfo bool
	Pktinfo    InPktinfo // IfIndex -> ipc.oif, SpecDst -> ipc.addr
	HasTTL     bool
	TTL        uint8
	HasTOS     bool
	TOS        uint8
	// HasOptions: IP_RETOPTS was given; Options are its raw bytes, at most
	// 40, still to be validated as IP options by the caller (an empty
	// IP_RETOPTS means "no options").
	HasOptions   bool
	Options      []byte
	HasProtocol  bool
	Protocol     uint8
	HasMark      bool
	Mark         uint32
	HasPriority  bool
	Priority     uint32
	HasTimestamp bool
	Timestamping uint32 // SOF_TIMESTAMPING_TX_* record flags
	HasTxTime    bool
	TxTime       uint64
	HasDmabuf    bool
	DmabufID     uint32
}

// sofTimestampingTxRecordMask is SOF_TIMESTAMPING_TX_RECORD_MASK: the only
// flags a SO_TIMESTAMPING cmsg may carry.
const sofTimestampingTxRecordMask = 1<<0 | 1<<1 | 1<<8 | 1<<9 | 1<<18

// ParseIPSendControl walks a sendmsg control buffer like ip_cmsg_send
// (net/ipv4/ip_sockglue.c), as udp_sendmsg, raw_sendmsg and
// ping_v4_sendmsg call it: each message must pass CMSG_OK (EINVAL);
// SOL_SOCKET messages go through __sock_cmsg_send's rules
// (net/core/sock.c); SOL_IP messages are IP_RETOPTS, IP_PKTINFO (cmsg_len
// exactly CMSG_LEN(12)), IP_TTL (exactly CMSG_LEN(4), 1..255), IP_TOS
// (CMSG_LEN(4) or CMSG_LEN(1), 0..255), IP_PROTOCOL (CMSG_LEN(4),
// 1..255), and any other SOL_IP type is EINVAL; other levels are skipped.
// The first failing message decides the error.
//
// __sock_cmsg_send: SCM_RIGHTS and SCM_CREDENTIALS belong to AF_UNIX and
// are skipped whatever they carry; SO_MARK needs CAP_NET_ADMIN or
// CAP_NET_RAW (EPERM) and exactly 4 bytes; SO_PRIORITY exactly 4 bytes,
// and those capabilities above 6; SO_TIMESTAMPING{,_NEW} exactly 4 bytes
// of SOF_TIMESTAMPING_TX_* record flags; SCM_TXTIME SO_TXTIME on the
// socket and exactly 8 bytes; SCM_DEVMEM_DMABUF exactly 4 bytes; any other
// type (SCM_TS_OPT_ID on a socket without SOF_TIMESTAMPING_OPT_ID among
// them) is EINVAL.
//
// Measured on Linux 6.18 (UDP): SOL_SOCKET types 1, 2, 12, 36, 37, 65 and
// 79 are taken with 4 bytes, every other type 0..99 is EINVAL; level 6 is
// ignored; trailing bytes shorter than a cmsghdr are ignored; cmsg_len 15
// or past the end is EINVAL.
func ParseIPSendControl(b []byte, pol SendCmsgPolicy) (IPSendControl, error) {
	return parseSendControl(b, pol, ipLevel)
}

// ParseMappedSendControl is ip_cmsg_send as udpv6_sendmsg reaches it for a
// v4-mapped destination (allow_ipv6): ParseIPSendControl's rules, and an
// IPV6_PKTINFO of at least CMSG_LEN(20) whose address must be v4-mapped
// (EINVAL) stands for an IP_PKTINFO with that source and interface.
func ParseMappedSendControl(b []byte, pol SendCmsgPolicy) (IPSendControl, error) {
	return parseSendControl(b, pol, ipLevelMapped)
}

// ParseSocketSendControl walks a sendmsg control buffer like
// sock_cmsg_send, as tcp_sendmsg calls it: CMSG_OK for every message,
// __sock_cmsg_send's rules for SOL_SOCKET ones, every other level
// skipped.
func ParseSocketSendControl(b []byte, pol SendCmsgPolicy) (IPSendControl, error) {
	return parseSendControl(b, pol, socketLevel)
}

// sendLevels is which levels besides SOL_SOCKET a send's messages are
// read at.
type sendLevels uint8

const (
	socketLevel   sendLevels = iota // SOL_SOCKET only (sock_cmsg_send)
	ipLevel                         // and SOL_IP (ip_cmsg_send)
	ipLevelMapped                   // and SOL_IPV6's IPV6_PKTINFO (allow_ipv6)
)

func parseSendControl(b []byte, pol SendCmsgPolicy, levels sendLevels) (IPSendControl, error) {
	var c IPSendControl
	p := NewCmsgParser(b)
	for {
		m, ok := p.Next()
		if !ok {
			if err := p.Err(); err != nil {
				return IPSendControl{}, err
			}
			return c, nil
		}
		var err error
		switch {
		case m.Level == unix.SOL_SOCKET:
			err = c.socketCmsg(m, pol)
		case m.Level == unix.SOL_IP && levels >= ipLevel:
			err = c.ipCmsg(m)
		case m.Level == unix.SOL_IPV6 && m.Type == unix.IPV6_PKTINFO && levels == ipLevelMapped:
			err = c.mappedPktinfo(m)
		}
		if err != nil {
			return IPSendControl{}, err
		}
	}
}

func (c *IPSendControl) socketCmsg(m Cmsg, pol SendCmsgPolicy) error {
	switch m.Type {
	case unix.SO_MARK:
		if !pol.NetAdminOrRaw {
			return unix.EPERM
		}
		if len(m.Data) != 4 {
			return unix.EINVAL
		}
		c.HasMark, c.Mark = true, nativeEndian.Uint32(m.Data)
	case unix.SO_TIMESTAMPING_OLD, unix.SO_TIMESTAMPING_NEW:
		if len(m.Data) != 4 {
			return unix.EINVAL
		}
		f := nativeEndian.Uint32(m.Data)
		if f&^sofTimestampingTxRecordMask != 0 {
			return unix.EINVAL
		}
		c.HasTimestamp, c.Timestamping = true, f
	case unix.SCM_TXTIME:
		if !pol.TxTime || len(m.Data) != 8 {
			return unix.EINVAL
		}
		c.HasTxTime, c.TxTime = true, nativeEndian.Uint64(m.Data)
	case unix.SCM_DEVMEM_DMABUF:
		if len(m.Data) != 4 {
			return unix.EINVAL
		}
		c.HasDmabuf, c.DmabufID = true, nativeEndian.Uint32(m.Data)
	case unix.SCM_RIGHTS, unix.SCM_CREDENTIALS:
		// AF_UNIX's; skipped on every other socket.
	case unix.SO_PRIORITY:
		if len(m.Data) != 4 {
			return unix.EINVAL
		}
		v := nativeEndian.Uint32(m.Data)
		if v > 6 && !pol.NetAdminOrRaw {
			return unix.EPERM
		}
		c.HasPriority, c.Priority = true, v
	default:
		return unix.EINVAL
	}
	return nil
}

// mappedPktinfo is ip_cmsg_send's IPV6_PKTINFO: bytes past the 20 of an
// in6_pktinfo are allowed, an address that is not v4-mapped is not.
func (c *IPSendControl) mappedPktinfo(m Cmsg) error {
	if len(m.Data) < SizeofIn6Pktinfo {
		return unix.EINVAL
	}
	a := netip.AddrFrom16([16]byte(m.Data[:16]))
	if !a.Is4In6() {
		return unix.EINVAL
	}
	c.HasPktinfo = true
	c.Pktinfo = InPktinfo{IfIndex: Int32(m.Data[16:20]), SpecDst: a.Unmap()}
	return nil
}

func (c *IPSendControl) ipCmsg(m Cmsg) error {
	switch m.Type {
	case unix.IP_RETOPTS:
		c.HasOptions, c.Options = true, m.Data[:min(len(m.Data), 40)]
	case unix.IP_PKTINFO:
		if len(m.Data) != unix.SizeofInet4Pktinfo {
			return unix.EINVAL
		}
		c.HasPktinfo = true
		c.Pktinfo, _ = ParseInPktinfo(m.Data)
	case unix.IP_TTL:
		if len(m.Data) != 4 {
			return unix.EINVAL
		}
		v := Int32(m.Data)
		if v < 1 || v > 255 {
			return unix.EINVAL
		}
		c.HasTTL, c.TTL = true, uint8(v)
	case unix.IP_TOS:
		var v int32
		switch len(m.Data) {
		case 4:
			v = Int32(m.Data)
		case 1:
			v = int32(m.Data[0])
		default:
			return unix.EINVAL
		}
		if v < 0 || v > 255 {
			return unix.EINVAL
		}
		c.HasTOS, c.TOS = true, uint8(v)
	case unix.IP_PROTOCOL:
		if len(m.Data) != 4 {
			return unix.EINVAL
		}
		v := Int32(m.Data)
		if v < 1 || v > 255 {
			return unix.EINVAL
		}
		c.HasProtocol, c.Protocol = true, uint8(v)
	default:
		return unix.EINVAL
	}
	return nil
}
