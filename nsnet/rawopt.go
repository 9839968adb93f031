package nsnet

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"

	"netsandbox/options"
)

// SetHeaderIncluded turns IP_HDRINCL on or off: with it on, a write is a
// whole IPv4 datagram, header first, which the stack sends as it is but
// for the fields Linux fills in (raw_send_hdrinc): a zero source address,
// the total length and the header checksum.
// A conn of protocol unix.IPPROTO_RAW has it on from the start.
func (c *IPConn) SetHeaderIncluded(on bool) error {
	return c.setInt(unix.IP_HDRINCL, boolInt(on))
}

// HeaderIncluded tells whether IP_HDRINCL is on.
func (c *IPConn) HeaderIncluded() (bool, error) {
	v, err := getInt(c.fd.s, unix.SOL_IP, unix.IP_HDRINCL)
	if err != nil {
		return false, c.err("get", err, netip.AddrPort{})
	}
	return v != 0, nil
}

// ICMPFilter is the ICMP_FILTER of a raw ICMP conn (raw(7)): a 32-bit mask
// whose bit t blocks ICMP type t, so the conn is not handed those
// messages (other sockets still get them). Its methods are those of
// golang.org/x/net/ipv4's ICMPFilter, with the type an int; unlike that
// one's, a type of 32 or more is never blocked (the kernel tests only
// types below 32), so Block and Accept ignore it. The zero value blocks
// nothing.
type ICMPFilter uint32

// Accept lets ICMP type typ through.
func (f *ICMPFilter) Accept(typ int) {
	if typ >= 0 && typ < 32 {
		*f &^= 1 << typ
	}
}

// Block drops ICMP type typ.
func (f *ICMPFilter) Block(typ int) {
	if typ >= 0 && typ < 32 {
		*f |= 1 << typ
	}
}

// SetAll blocks (block true) or accepts every type below 32.
func (f *ICMPFilter) SetAll(block bool) {
	*f = 0
	if block {
		*f = 1<<32 - 1
	}
}

// WillBlock tells whether ICMP type typ is blocked.
func (f *ICMPFilter) WillBlock(typ int) bool {
	return typ >= 0 && typ < 32 && *f&(1<<typ) != 0
}

// SetICMPFilter sets the conn's ICMP_FILTER to f. Only a conn of protocol
// unix.IPPROTO_ICMP has one; another answers EOPNOTSUPP, as on Linux. A
// nil f is EINVAL.
func (c *IPConn) SetICMPFilter(f *ICMPFilter) error {
	if f == nil {
		return c.err("set", unix.EINVAL, netip.AddrPort{})
	}
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], uint32(*f))
	return c.setopt(unix.SOL_RAW, options.ICMPFilter, b[:])
}

// ICMPFilter returns the conn's ICMP_FILTER (on a conn of protocol
// unix.IPPROTO_ICMP only, as SetICMPFilter).
func (c *IPConn) ICMPFilter() (*ICMPFilter, error) {
	var b [4]byte
	if _, err := c.fd.s.GetSockOpt(unix.SOL_RAW, options.ICMPFilter, b[:]); err != nil {
		return nil, c.err("get", err, netip.AddrPort{})
	}
	f := ICMPFilter(binary.NativeEndian.Uint32(b[:]))
	return &f, nil
}
