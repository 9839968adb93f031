package nsnet

import (
	"net/netip"

	"golang.org/x/sys/unix"

	"netsandbox/options"
)

// ControlFlags selects the control messages ReadMsg receives. The first
// four have the values of golang.org/x/net/ipv4's flags.
type ControlFlags uint

const (
	FlagTTL       ControlFlags = 1 << iota // IP_RECVTTL: ControlMessage.TTL
	FlagSrc                                // IP_PKTINFO: ControlMessage.Src
	FlagDst                                // IP_PKTINFO: ControlMessage.Dst
	FlagInterface                          // IP_PKTINFO: ControlMessage.IfIndex
	FlagTOS                                // IP_RECVTOS: ControlMessage.TOS
	FlagOrigDst                            // IP_RECVORIGDSTADDR: ControlMessage.OrigDst
)

// pktinfoFlags share one socket option, so IP_PKTINFO stays on while any
// of them is set.
const pktinfoFlags = FlagSrc | FlagDst | FlagInterface

// ControlMessage is the typed form of the IPv4 control messages of one
// datagram. Fields a message did not carry are zero. Parse and Marshal
// read and write the same bytes as Linux (and as x/net/ipv4's
// ControlMessage on Linux, for the fields both have).
type ControlMessage struct {
	// TTL: received, the datagram's TTL (IP_TTL); on send, when 1..255,
	// the TTL of this datagram only.
	TTL int
	// TOS: received, the datagram's TOS byte (IP_TOS); on send, when
	// non-zero, the TOS of this datagram only.
	TOS int
	// Src: on send, the source address (in_pktinfo.ipi_spec_dst); received,
	// the local address a reply should come from (ipi_spec_dst).
	Src netip.Addr
	// Dst: received, the destination in the IP header (ipi_addr), which
	// tells a multicast or broadcast datagram from a unicast one.
	Dst netip.Addr
	// IfIndex: received, the arrival interface; on send, when non-zero, the
	// outgoing interface (ipi_ifindex).
	IfIndex int
	// OrigDst: received, the original destination address and port
	// (IP_ORIGDSTADDR).
	OrigDst netip.AddrPort
}

// Marshal returns the sendmsg control bytes for cm: IP_PKTINFO when Src or
// IfIndex is set (x/net/ipv4's rule), IP_TTL and IP_TOS when non-zero. A
// nil cm marshals to nil.
func (cm *ControlMessage) Marshal() []byte {
	if cm == nil {
		return nil
	}
	var b []byte
	if cm.Src.IsValid() || cm.IfIndex > 0 {
		src := cm.Src
		if !src.IsValid() {
			src = netip.IPv4Unspecified()
		}
		pi := options.InPktinfo{IfIndex: int32(cm.IfIndex), SpecDst: src, Addr: netip.IPv4Unspecified()}.Encode()
		b = options.AppendCmsg(b, unix.SOL_IP, unix.IP_PKTINFO, pi[:])
	}
	if cm.TTL > 0 {
		b = appendInt32Cmsg(b, unix.IP_TTL, cm.TTL)
	}
	if cm.TOS != 0 {
		b = appendInt32Cmsg(b, unix.IP_TOS, cm.TOS)
	}
	return b
}

func appendInt32Cmsg(b []byte, typ, v int) []byte {
	var d [4]byte
	options.PutInt32(d[:], int32(v))
	return options.AppendCmsg(b, unix.SOL_IP, int32(typ), d[:])
}

// Parse decodes the SOL_IP messages of b (recvmsg or sendmsg control
// bytes) into cm, leaving fields of absent messages as they are. Other
// levels and types are skipped; a malformed header is EINVAL, as the
// kernel's CMSG_OK walk rules it.
func (cm *ControlMessage) Parse(b []byte) error {
	p := options.NewCmsgParser(b)
	for {
		m, ok := p.Next()
		if !ok {
			return p.Err()
		}
		if m.Level != unix.SOL_IP {
			continue
		}
		switch m.Type {
		case unix.IP_TTL:
			if len(m.Data) >= 4 {
				cm.TTL = int(options.Int32(m.Data))
			}
		case unix.IP_TOS:
			// one byte on receive; a sendmsg may carry an int
			if len(m.Data) >= 4 {
				cm.TOS = int(options.Int32(m.Data))
			} else if len(m.Data) >= 1 {
				cm.TOS = int(m.Data[0])
			}
		case unix.IP_PKTINFO:
			pi, err := options.ParseInPktinfo(m.Data)
			if err != nil {
				continue
			}
			cm.IfIndex = int(pi.IfIndex)
			if !pi.SpecDst.IsUnspecified() {
				cm.Src = pi.SpecDst
			}
			if !pi.Addr.IsUnspecified() {
				cm.Dst = pi.Addr
			}
		case unix.IP_ORIGDSTADDR:
			if ap, _, err := options.ParseSockaddrIn(m.Data); err == nil {
				cm.OrigDst = ap
			}
		}
	}
}

// SetControlMessage turns the control messages of cf on or off for
// ReadMsg.
func (c *dgram) SetControlMessage(cf ControlFlags, on bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := c.flags &^ cf
	if on {
		next = c.flags | cf
	}
	set := func(f ControlFlags, opt int) error {
		if cf&f == 0 {
			return nil
		}
		return setInt(c.fd.s, unix.SOL_IP, opt, boolInt(next&f != 0))
	}
	for _, o := range []struct {
		f   ControlFlags
		opt int
	}{
		{FlagTTL, unix.IP_RECVTTL},
		{pktinfoFlags, unix.IP_PKTINFO},
		{FlagTOS, unix.IP_RECVTOS},
		{FlagOrigDst, unix.IP_RECVORIGDSTADDR},
	} {
		if err := set(o.f, o.opt); err != nil {
			return c.err("set", err, netip.AddrPort{})
		}
	}
	c.flags = next
	return nil
}
