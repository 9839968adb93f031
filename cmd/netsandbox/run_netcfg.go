package main

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// tapSetup says how openSandboxTAP configures the sandbox's TAP.
type tapSetup struct {
	name string
	mtu  int
	// offload opens the TAP with IFF_VNET_HDR: TCP crosses it in GSO
	// frames (link/fdbased/vnet.go); without it every frame is MTU-sized.
	offload bool
	// loUp brings lo up too (a namespace netsandbox made has it down).
	loUp bool
	// defaultRoute adds 0.0.0.0/0 via the gateway on the TAP.
	defaultRoute bool
	// ipv6 adds sandboxAddr6 and ::/0 via gatewayAddr6 (run_netcfg6.go).
	ipv6 bool
}

// openSandboxTAP creates the sandbox's TAP device in the calling thread's
// network namespace and configures its kernel side: address sandboxAddr,
// MTU, up, and (as ts says) lo up and a default route via gatewayAddr. The
// fd is the only reference to the device: it disappears, with its address
// and routes, when the last copy of the fd closes.
func openSandboxTAP(ts tapSetup) (int, error) {
	name, addr, gw, mtu := ts.name, sandboxAddr, gatewayAddr, ts.mtu
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("opening /dev/net/tun: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			unix.Close(fd)
		}
	}()
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return -1, err
	}
	flags := uint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if ts.offload {
		flags |= unix.IFF_VNET_HDR
	}
	ifr.SetUint16(flags)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		return -1, fmt.Errorf("creating TAP %s: %w", name, err)
	}
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	defer unix.Close(s)
	if ts.loUp {
		if err := ifUp(s, "lo"); err != nil {
			return -1, err
		}
	}
	ifr, _ = unix.NewIfreq(name)
	ifr.SetUint32(uint32(mtu))
	if err := unix.IoctlIfreq(s, unix.SIOCSIFMTU, ifr); err != nil {
		return -1, fmt.Errorf("MTU %d on %s: %w", mtu, name, err)
	}
	ifr, _ = unix.NewIfreq(name)
	if err := ifr.SetInet4Addr(addr.Addr().AsSlice()); err != nil {
		return -1, err
	}
	if err := unix.IoctlIfreq(s, unix.SIOCSIFADDR, ifr); err != nil {
		return -1, fmt.Errorf("address %s on %s: %w", addr, name, err)
	}
	var m [4]byte
	binary.BigEndian.PutUint32(m[:], ^uint32(0)<<(32-addr.Bits()))
	ifr, _ = unix.NewIfreq(name)
	ifr.SetInet4Addr(m[:])
	if err := unix.IoctlIfreq(s, unix.SIOCSIFNETMASK, ifr); err != nil {
		return -1, fmt.Errorf("netmask on %s: %w", name, err)
	}
	if err := ifUp(s, name); err != nil {
		return -1, err
	}
	if ts.defaultRoute || ts.ipv6 {
		idx, err := ifIndex(s, name)
		if err != nil {
			return -1, err
		}
		if ts.defaultRoute {
			if err := addDefaultRoute(gw, idx); err != nil {
				return -1, fmt.Errorf("default route via %s: %w", gw, err)
			}
		}
		if ts.ipv6 {
			if err := setupTAP6(idx); err != nil {
				return -1, err
			}
		}
	}
	ok = true
	return fd, nil
}

func ifUp(s int, name string) error {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("flags of %s: %w", name, err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(s, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bringing %s up: %w", name, err)
	}
	return nil
}

func ifIndex(s int, name string) (int, error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, err
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, fmt.Errorf("index of %s: %w", name, err)
	}
	return int(ifr.Uint32()), nil
}

// addDefaultRoute adds 0.0.0.0/0 (or ::/0 for an IPv6 gw) via gw on
// ifindex with an rtnetlink RTM_NEWROUTE and waits for the kernel's
// acknowledgement.
func addDefaultRoute(gw netip.Addr, ifindex int) error {
	family := uint8(unix.AF_INET)
	if gw.Is6() {
		family = unix.AF_INET6
	}
	var oif [4]byte
	binary.NativeEndian.PutUint32(oif[:], uint32(ifindex))
	rtm := unix.RtMsg{Family: family, Table: unix.RT_TABLE_MAIN, Protocol: unix.RTPROT_BOOT,
		Scope: unix.RT_SCOPE_UNIVERSE, Type: unix.RTN_UNICAST}
	body := append([]byte(nil), (*[unix.SizeofRtMsg]byte)(unsafe.Pointer(&rtm))[:]...)
	body = append(body, rtAttr(unix.RTA_GATEWAY, gw.AsSlice())...)
	body = append(body, rtAttr(unix.RTA_OIF, oif[:])...)
	return rtnlRequest(unix.RTM_NEWROUTE, body)
}

// rtAttr is one rtnetlink attribute.
func rtAttr(typ uint16, val []byte) []byte {
	b := make([]byte, unix.SizeofRtAttr+len(val), unix.SizeofRtAttr+len(val)+3)
	binary.NativeEndian.PutUint16(b[0:], uint16(len(b)))
	binary.NativeEndian.PutUint16(b[2:], typ)
	copy(b[unix.SizeofRtAttr:], val)
	for len(b)%4 != 0 {
		b = append(b, 0) // attributes are 4-byte aligned
	}
	return b
}

// rtnlRequest sends one rtnetlink request that creates something (typ,
// its body) and waits for the kernel's acknowledgement.
func rtnlRequest(typ uint16, body []byte) error {
	s, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer unix.Close(s)
	if err := unix.Bind(s, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	msg := make([]byte, unix.SizeofNlMsghdr, unix.SizeofNlMsghdr+len(body))
	binary.NativeEndian.PutUint32(msg[0:], uint32(unix.SizeofNlMsghdr+len(body)))
	binary.NativeEndian.PutUint16(msg[4:], typ)
	binary.NativeEndian.PutUint16(msg[6:], unix.NLM_F_REQUEST|unix.NLM_F_ACK|unix.NLM_F_CREATE|unix.NLM_F_EXCL)
	binary.NativeEndian.PutUint32(msg[8:], 1)
	msg = append(msg, body...)
	if err := unix.Sendto(s, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	n, _, err := unix.Recvfrom(s, buf, 0)
	if err != nil {
		return err
	}
	// The answer to a lone request is one nlmsghdr; an ack is NLMSG_ERROR
	// with error 0.
	if n < unix.SizeofNlMsghdr+4 || binary.NativeEndian.Uint16(buf[4:]) != unix.NLMSG_ERROR {
		return fmt.Errorf("no acknowledgement from rtnetlink")
	}
	if code := int32(binary.NativeEndian.Uint32(buf[unix.SizeofNlMsghdr:])); code != 0 {
		return unix.Errno(-code)
	}
	return nil
}
