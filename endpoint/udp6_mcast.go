package endpoint

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"
)

// setMembership is IPV6_ADD_MEMBERSHIP/IPV6_DROP_MEMBERSHIP
// (ipv6_sock_mc_join/ipv6_sock_mc_drop): a short struct ipv6_mreq is
// EINVAL, a group that is not multicast EINVAL; a second join of the
// group on the interface (or on any, for ifindex 0) is EADDRINUSE, a
// drop of a group not joined EADDRNOTAVAIL; an interface that does not
// exist, or no route to pick one by, is ENODEV. Without source filters
// (MCAST_*, missing) a membership lets every source in.
func (k *udp6) setMembership(join bool, val []byte) error {
	if len(val) < sizeofIPv6Mreq {
		return unix.EINVAL
	}
	group := netip.AddrFrom16([16]byte(val[:16]))
	ifindex := int(int32(binary.NativeEndian.Uint32(val[16:20])))
	if !group.IsMulticast() {
		return unix.EINVAL
	}
	k.bindMu.Lock()
	defer k.bindMu.Unlock()
	if k.isClosed() {
		return unix.EBADF
	}
	i := -1
	for j, m := range k.memb {
		if m.group == group && (ifindex == 0 || m.ifindex == ifindex) {
			i = j
			break
		}
	}
	if join {
		if i >= 0 {
			return unix.EADDRINUSE
		}
		nic, err := k.s.JoinGroup6(ifindex, group)
		if err != nil {
			return err
		}
		k.memb = append(k.memb, v6Membership{group: group, ifindex: nic})
		return nil
	}
	if i < 0 {
		return unix.EADDRNOTAVAIL
	}
	m := k.memb[i]
	k.s.LeaveGroup6(m.ifindex, m.group)
	k.memb = append(k.memb[:i], k.memb[i+1:]...)
	return nil
}

// leaveAllLocked drops every membership as the socket closes
// (ipv6_sock_mc_close); bindMu is held.
func (k *udp6) leaveAllLocked() {
	for _, m := range k.memb {
		k.s.LeaveGroup6(m.ifindex, m.group)
	}
	k.memb = nil
}

// Close leaves the socket's groups, then closes it as udpSock does.
func (k *udp6) Close() error {
	k.bindMu.Lock()
	k.leaveAllLocked()
	k.bindMu.Unlock()
	return k.udpSock.Close()
}
