package plugin

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// readRoutes returns the unicast routes of family (AF_INET or AF_INET6)
// in the main table of the calling thread's network namespace.
func readRoutes(family int) ([]routeConfig, error) {
	rib, err := syscall.NetlinkRIB(unix.RTM_GETROUTE, family)
	if err != nil {
		return nil, fmt.Errorf("netsandbox plugin: RTM_GETROUTE (family %d): %w", family, err)
	}
	msgs, err := syscall.ParseNetlinkMessage(rib)
	if err != nil {
		return nil, fmt.Errorf("netsandbox plugin: parsing routes: %w", err)
	}
	unspec := netip.IPv4Unspecified()
	if family == unix.AF_INET6 {
		unspec = netip.IPv6Unspecified()
	}
	var out []routeConfig
	for i := range msgs {
		m := &msgs[i]
		if m.Header.Type != unix.RTM_NEWROUTE || len(m.Data) < unix.SizeofRtMsg {
			continue
		}
		fam, dstLen, table, typ := m.Data[0], m.Data[1], m.Data[4], m.Data[7]
		if int(fam) != family || table != unix.RT_TABLE_MAIN || typ != unix.RTN_UNICAST || int(dstLen) > unspec.BitLen() {
			continue
		}
		attrs, err := syscall.ParseNetlinkRouteAttr(m)
		if err != nil {
			return nil, fmt.Errorf("netsandbox plugin: parsing route attributes: %w", err)
		}
		r := routeConfig{Dst: netip.PrefixFrom(unspec, int(dstLen))}
		for _, a := range attrs {
			switch a.Attr.Type {
			case unix.RTA_DST:
				if ip, ok := netip.AddrFromSlice(a.Value); ok && ip.BitLen() == unspec.BitLen() {
					r.Dst = netip.PrefixFrom(ip, int(dstLen))
				}
			case unix.RTA_GATEWAY:
				if ip, ok := netip.AddrFromSlice(a.Value); ok && ip.BitLen() == unspec.BitLen() {
					r.Gw = ip
				}
			case unix.RTA_OIF:
				if len(a.Value) >= 4 {
					r.Index = int(binary.NativeEndian.Uint32(a.Value))
				}
			}
		}
		if r.Index != 0 && r.Dst.IsValid() {
			out = append(out, r)
		}
	}
	return out, nil
}

// delAddr removes an IPv4 address from an interface of the calling
// thread's network namespace (RTM_DELADDR).
func delAddr(ifindex int, p netip.Prefix) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	a := p.Addr().As4()
	body := make([]byte, unix.SizeofIfAddrmsg)
	body[0], body[1] = unix.AF_INET, byte(p.Bits())
	binary.NativeEndian.PutUint32(body[4:], uint32(ifindex))
	body = append(body, rtattr(unix.IFA_LOCAL, a[:])...)
	body = append(body, rtattr(unix.IFA_ADDRESS, a[:])...)
	msg := make([]byte, unix.SizeofNlMsghdr, unix.SizeofNlMsghdr+len(body))
	binary.NativeEndian.PutUint32(msg[0:], uint32(unix.SizeofNlMsghdr+len(body)))
	binary.NativeEndian.PutUint16(msg[4:], unix.RTM_DELADDR)
	binary.NativeEndian.PutUint16(msg[6:], unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	binary.NativeEndian.PutUint32(msg[8:], 1) // sequence number
	msg = append(msg, body...)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return err
	}
	msgs, err := syscall.ParseNetlinkMessage(buf[:n])
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if m.Header.Type == unix.NLMSG_ERROR && len(m.Data) >= 4 {
			if e := int32(binary.NativeEndian.Uint32(m.Data)); e != 0 {
				return unix.Errno(-e)
			}
			return nil
		}
	}
	return fmt.Errorf("no acknowledgement from netlink")
}

// rtattr encodes one route attribute, padded to 4 bytes.
func rtattr(typ uint16, data []byte) []byte {
	l := unix.SizeofRtAttr + len(data)
	b := make([]byte, (l+3)&^3)
	binary.NativeEndian.PutUint16(b[0:], uint16(l))
	binary.NativeEndian.PutUint16(b[2:], typ)
	copy(b[unix.SizeofRtAttr:], data)
	return b
}

// gsoMaxSizes reads every interface's GSO limit (IFLA_GSO_MAX_SIZE) in
// this namespace, by host ifindex. The kernel segments in software for a
// device that cannot, so every interface takes GSO frames; one without
// the attribute (or with 0) gets none.
func gsoMaxSizes() (map[int]uint32, error) {
	rib, err := syscall.NetlinkRIB(unix.RTM_GETLINK, unix.AF_UNSPEC)
	if err != nil {
		return nil, fmt.Errorf("netsandbox plugin: RTM_GETLINK: %w", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(rib)
	if err != nil {
		return nil, fmt.Errorf("netsandbox plugin: parsing links: %w", err)
	}
	out := map[int]uint32{}
	for i := range msgs {
		m := &msgs[i]
		if m.Header.Type != unix.RTM_NEWLINK || len(m.Data) < unix.SizeofIfInfomsg {
			continue
		}
		index := int(int32(binary.NativeEndian.Uint32(m.Data[4:8])))
		attrs, err := syscall.ParseNetlinkRouteAttr(m)
		if err != nil {
			return nil, fmt.Errorf("netsandbox plugin: parsing link attributes: %w", err)
		}
		for _, a := range attrs {
			if a.Attr.Type == unix.IFLA_GSO_MAX_SIZE && len(a.Value) >= 4 {
				out[index] = binary.NativeEndian.Uint32(a.Value)
			}
		}
	}
	return out, nil
}
