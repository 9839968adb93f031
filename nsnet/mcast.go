package nsnet

import (
	"net/netip"

	"golang.org/x/sys/unix"

	"netsandbox/options"
)

// Interfaces are ifindexes of the conn's stack (what AddInterface returned,
// or stack.InterfaceByName's Index); 0 lets the stack pick by route, as a
// zero interface does on Linux.

// JoinGroup joins group on the interface (MCAST_JOIN_GROUP).
func (c *dgram) JoinGroup(ifindex int, group netip.Addr) error {
	return c.groupReq(unix.MCAST_JOIN_GROUP, ifindex, group)
}

// LeaveGroup leaves group on the interface (MCAST_LEAVE_GROUP).
func (c *dgram) LeaveGroup(ifindex int, group netip.Addr) error {
	return c.groupReq(unix.MCAST_LEAVE_GROUP, ifindex, group)
}

// JoinSourceSpecificGroup joins group for datagrams from source only
// (MCAST_JOIN_SOURCE_GROUP: an IGMPv3 INCLUDE filter).
func (c *dgram) JoinSourceSpecificGroup(ifindex int, group, source netip.Addr) error {
	return c.groupSourceReq(unix.MCAST_JOIN_SOURCE_GROUP, ifindex, group, source)
}

// LeaveSourceSpecificGroup drops source from an INCLUDE membership
// (MCAST_LEAVE_SOURCE_GROUP).
func (c *dgram) LeaveSourceSpecificGroup(ifindex int, group, source netip.Addr) error {
	return c.groupSourceReq(unix.MCAST_LEAVE_SOURCE_GROUP, ifindex, group, source)
}

// ExcludeSourceSpecificGroup blocks source on an any-source membership
// made by JoinGroup (MCAST_BLOCK_SOURCE).
func (c *dgram) ExcludeSourceSpecificGroup(ifindex int, group, source netip.Addr) error {
	return c.groupSourceReq(unix.MCAST_BLOCK_SOURCE, ifindex, group, source)
}

// IncludeSourceSpecificGroup unblocks a source that
// ExcludeSourceSpecificGroup blocked (MCAST_UNBLOCK_SOURCE).
func (c *dgram) IncludeSourceSpecificGroup(ifindex int, group, source netip.Addr) error {
	return c.groupSourceReq(unix.MCAST_UNBLOCK_SOURCE, ifindex, group, source)
}

func (c *dgram) groupReq(opt, ifindex int, group netip.Addr) error {
	b := options.GroupReq{Interface: uint32(ifindex), Group: group.Unmap()}.Encode()
	return c.setopt(unix.SOL_IP, opt, b[:])
}

func (c *dgram) groupSourceReq(opt, ifindex int, group, source netip.Addr) error {
	b := options.GroupSourceReq{Interface: uint32(ifindex), Group: group.Unmap(), Source: source.Unmap()}.Encode()
	return c.setopt(unix.SOL_IP, opt, b[:])
}

// SetMulticastInterface sets the interface multicast datagrams leave by
// (IP_MULTICAST_IF with an ip_mreqn).
func (c *dgram) SetMulticastInterface(ifindex int) error {
	b := options.IPMreqn{Multiaddr: netip.IPv4Unspecified(), Address: netip.IPv4Unspecified(), IfIndex: int32(ifindex)}.Encode()
	return c.setopt(unix.SOL_IP, unix.IP_MULTICAST_IF, b[:])
}

// SetMulticastTTL sets the TTL of outgoing multicast datagrams (default 1).
func (c *dgram) SetMulticastTTL(ttl int) error {
	return c.setInt(unix.IP_MULTICAST_TTL, ttl)
}

// SetMulticastLoopback sets whether this host's own multicast datagrams
// are looped back to its sockets (default on).
func (c *dgram) SetMulticastLoopback(on bool) error {
	return c.setInt(unix.IP_MULTICAST_LOOP, boolInt(on))
}

// SetTTL sets the TTL of outgoing unicast datagrams (IP_TTL; -1 restores
// the net.ipv4.ip_default_ttl sysctl).
func (c *dgram) SetTTL(ttl int) error { return c.setInt(unix.IP_TTL, ttl) }

// SetTOS sets the TOS byte of outgoing datagrams (IP_TOS).
func (c *dgram) SetTOS(tos int) error { return c.setInt(unix.IP_TOS, tos) }

// SetMTUDiscover sets the path-MTU discovery mode (IP_MTU_DISCOVER:
// unix.IP_PMTUDISC_DONT, _WANT, _DO, _PROBE, _INTERFACE, _OMIT).
func (c *dgram) SetMTUDiscover(mode int) error {
	return c.setInt(unix.IP_MTU_DISCOVER, mode)
}

// PathMTU is the path MTU to the connected peer as the stack knows it
// (IP_MTU); an unconnected conn answers ENOTCONN.
func (c *dgram) PathMTU() (int, error) {
	v, err := getInt(c.fd.s, unix.SOL_IP, unix.IP_MTU)
	if err != nil {
		return 0, c.err("get", err, netip.AddrPort{})
	}
	return v, nil
}

// SetRecvErr turns the error queue on (IP_RECVERR): ICMP errors and local
// send errors are kept for ReadErrQueue, and, on a connected conn, also
// fail the next Read or Write as on Linux.
func (c *dgram) SetRecvErr(on bool) error {
	return c.setInt(unix.IP_RECVERR, boolInt(on))
}

func (c *dgram) setInt(opt, v int) error {
	var b [4]byte
	options.PutInt32(b[:], int32(v))
	return c.setopt(unix.SOL_IP, opt, b[:])
}

func (c *dgram) setopt(level, opt int, b []byte) error {
	if err := c.fd.s.SetSockOpt(level, opt, b); err != nil {
		return c.err("set", err, netip.AddrPort{})
	}
	return nil
}
