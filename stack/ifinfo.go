package stack

import (
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// Device facts the netdevice(7) ioctls report beyond Interface.
type DeviceInfo struct {
	// Flags are the IFF_* bits of dev_get_flags.
	Flags uint32
	// HWType is the ARPHRD_* device type (ifr_hwaddr's family).
	HWType uint16
	// AddrLen is dev->addr_len: how many bytes of the hardware address
	// SIOCGIFHWADDR copies (6 on lo too, whose address is all zero).
	AddrLen int
}

// arphrdNone is ARPHRD_NONE, the type of a tun device in layer-3 mode.
const arphrdNone = 0xfffe

// Device returns the netdevice facts of the interface with this ifindex.
// Loopback is lo's (UP|LOOPBACK|RUNNING, ARPHRD_LOOPBACK); a link with an
// Ethernet address is a broadcast, multicast Ethernet device like a veth;
// one without is a layer-3 tun (POINTOPOINT|NOARP|MULTICAST, ARPHRD_NONE).
// RUNNING follows the NIC being enabled, as a Linux device that is up with
// carrier.
func (s *Stack) Device(ifindex int) (DeviceInfo, bool) {
	if ifindex <= 0 {
		return DeviceInfo{}, false
	}
	info, ok := s.g.SingleNICInfo(tcpip.NICID(ifindex))
	if !ok {
		return DeviceInfo{}, false
	}
	var d DeviceInfo
	switch {
	case info.Flags.Loopback:
		d.Flags, d.HWType, d.AddrLen = unix.IFF_LOOPBACK, unix.ARPHRD_LOOPBACK, 6
	case len(info.LinkAddress) == 6:
		d.Flags, d.HWType, d.AddrLen = unix.IFF_BROADCAST|unix.IFF_MULTICAST, unix.ARPHRD_ETHER, 6
	default:
		d.Flags, d.HWType = unix.IFF_POINTOPOINT|unix.IFF_NOARP|unix.IFF_MULTICAST, arphrdNone
	}
	if info.Flags.Up {
		d.Flags |= unix.IFF_UP
		if info.Flags.Running {
			d.Flags |= unix.IFF_RUNNING | unix.IFF_LOWER_UP
		}
	}
	return d, true
}
