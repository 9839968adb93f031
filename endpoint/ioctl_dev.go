package endpoint

import (
	"net/netip"

	"golang.org/x/sys/unix"

	"netsandbox/options"
	"netsandbox/stack"
)

// netdevice(7) requests, answered from the stack's interfaces.

// Requests dev_ioctl knows that x/sys/unix does not name.
const (
	siocWandev    = 0x894a // SIOCWANDEV
	siocGHWTstamp = 0x89b1 // SIOCGHWTSTAMP
	siocGIFMem    = 0x891f // SIOCGIFMEM
	siocSIFMem    = 0x8920 // SIOCSIFMEM
	siocSIFLink   = 0x8911 // SIOCSIFLINK
	// defaultTxQueueLen is DEFAULT_TX_QUEUE_LEN, what Linux gives every
	// virtual device (lo and veth included); the stack has no device
	// queue of its own to size.
	defaultTxQueueLen = 1000
)

// devIoctl is dev_ioctl on the caller's struct ifreq; on success the
// caller copies ifr back.
func (b *base) devIoctl(cmd uint32, ifr *options.Ifreq) error {
	if cmd == unix.SIOCGIFNAME {
		ifr[unix.IFNAMSIZ-1] = 0
		ifc, ok := b.s.InterfaceByIndex(int(ifr.Index()))
		if !ok {
			return unix.ENODEV
		}
		ifr.SetName(ifc.Name)
		return nil
	}
	// The kernel cuts the name at a ':' for the lookup and puts the ':'
	// back before copying out, so only ifr_name[15] changes.
	dev, _ := ifr.Name()
	switch cmd {
	case unix.SIOCGIFHWADDR, unix.SIOCGIFFLAGS, unix.SIOCGIFMETRIC, unix.SIOCGIFMTU, unix.SIOCGIFSLAVE,
		unix.SIOCGIFMAP, unix.SIOCGIFINDEX, unix.SIOCGIFTXQLEN:
		ifc, ok := b.s.InterfaceByName(dev)
		if !ok {
			return unix.ENODEV
		}
		d, ok := b.s.Device(ifc.Index)
		if !ok {
			return unix.ENODEV
		}
		return answerDev(cmd, ifr, &ifc, &d)
	case siocGIFMem, siocSIFMem, siocSIFLink:
		return unix.ENOTTY
	case siocWandev, siocGHWTstamp:
		return noDevOps(b.s, dev)
	case unix.SIOCSIFFLAGS, unix.SIOCSIFMETRIC, unix.SIOCSIFMTU, unix.SIOCSIFHWADDR, unix.SIOCSIFSLAVE,
		unix.SIOCADDMULTI, unix.SIOCDELMULTI, unix.SIOCSIFHWBROADCAST, unix.SIOCSIFMAP, unix.SIOCSIFTXQLEN,
		unix.SIOCSIFNAME:
		// Interfaces are the host's to configure, not the sandbox's.
		if !b.s.Caps().Has(stack.CapNetAdmin) {
			return unix.EPERM
		}
		return unix.EOPNOTSUPP
	}
	if cmd >= unix.SIOCDEVPRIVATE && cmd <= unix.SIOCDEVPRIVATE+15 {
		return noDevOps(b.s, dev)
	}
	return unix.ENOTTY
}

// noDevOps answers a request a device driver would handle (private
// ioctls, SIOCWANDEV, SIOCGHWTSTAMP): ENODEV for an unknown name, else
// EOPNOTSUPP, as for a driver without the hook (lo, veth).
func noDevOps(s *stack.Stack, dev string) error {
	if _, ok := s.InterfaceByName(dev); !ok {
		return unix.ENODEV
	}
	return unix.EOPNOTSUPP
}

// answerDev is dev_ifsioc_locked and dev_get_mac_address.
func answerDev(cmd uint32, ifr *options.Ifreq, ifc *stack.Interface, d *stack.DeviceInfo) error {
	switch cmd {
	case unix.SIOCGIFHWADDR:
		ifr.SetHWAddr(d.HWType, ifc.MAC, d.AddrLen)
	case unix.SIOCGIFFLAGS:
		ifr.SetFlags(d.Flags)
	case unix.SIOCGIFMETRIC:
		ifr.SetInt32(0) // unused by Linux, always 0
	case unix.SIOCGIFMTU:
		ifr.SetInt32(int32(ifc.MTU))
	case unix.SIOCGIFSLAVE:
		return unix.EINVAL
	case unix.SIOCGIFMAP:
		ifr.ClearMap()
	case unix.SIOCGIFINDEX:
		ifr.SetInt32(int32(ifc.Index))
	case unix.SIOCGIFTXQLEN:
		ifr.SetInt32(defaultTxQueueLen)
	}
	return nil
}

// devinetIoctl is devinet_ioctl's read side: the address, broadcast,
// netmask or peer of the device's first IPv4 address whose label is the
// name (an alias label "eth0:1" matches none: the stack has no labels),
// preferring the one whose address the caller passed in an AF_INET
// ifr_addr.
func (b *base) devinetIoctl(cmd uint32, arg []byte) error {
	if len(arg) < options.SizeofIfreq {
		return unix.EFAULT
	}
	if cmd == unix.SIOCGIFPFLAGS {
		return unix.EINVAL // not one devinet_ioctl answers
	}
	var ifr options.Ifreq
	copy(ifr[:], arg)
	dev, label := ifr.Name()
	match := ifr.AddrFamily() == unix.AF_INET
	want := ifr.Addr()
	ifc, ok := b.s.InterfaceByName(dev)
	if !ok {
		return unix.ENODEV
	}
	var found *netip.Prefix
	if label == ifc.Name {
		for i := range ifc.Addrs {
			if match && ifc.Addrs[i].Addr() == want {
				found = &ifc.Addrs[i]
				break
			}
		}
		if found == nil && len(ifc.Addrs) > 0 {
			found = &ifc.Addrs[0]
		}
	}
	if found == nil {
		return unix.EADDRNOTAVAIL
	}
	var a netip.Addr
	switch cmd {
	case unix.SIOCGIFADDR, unix.SIOCGIFDSTADDR:
		// ifa_local and ifa_address: the same on a broadcast or
		// loopback device.
		a = found.Addr()
	case unix.SIOCGIFNETMASK:
		a = netip.AddrFrom4([4]byte(prefixMaskBytes(found.Bits())))
	case unix.SIOCGIFBRDADDR:
		// ifa_broadcast: the stack's addresses are assigned as
		// "ip addr add" without "brd" assigns them, which leaves it 0
		// (the subnet's broadcast route exists all the same).
		a = netip.IPv4Unspecified()
	}
	ifr.SetAddr(a)
	copy(arg, ifr[:])
	return nil
}

func prefixMaskBytes(bits int) []byte {
	m := uint32(0)
	if bits > 0 {
		m = ^uint32(0) << (32 - bits)
	}
	return []byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}
}

// ifconf is dev_ifconf with inet_gifconf: one struct ifreq per IPv4
// address, interfaces in ifindex order; with a NULL ifc_buf only the
// length needed; entries stop when fewer than sizeof(struct ifreq) bytes
// of ifc_len remain; ifc_len is written back with the bytes used.
func (b *base) ifconf(arg []byte) error {
	length, buf, err := options.ParseIfconf(arg)
	if err != nil {
		return err
	}
	data := arg[options.SizeofIfconf:]
	total := int32(0)
	for _, ifc := range b.s.Interfaces() {
		left := length - total
		for _, p := range ifc.Addrs {
			if buf == 0 {
				total += options.SizeofIfreq
				continue
			}
			if left < options.SizeofIfreq {
				break
			}
			e := options.IfconfEntry(ifc.Name, p.Addr())
			if int(total)+options.SizeofIfreq > len(data) {
				copy(data[total:], e[:]) // what fits before the fault
				return unix.EFAULT
			}
			copy(data[total:], e[:])
			left -= options.SizeofIfreq
			total += options.SizeofIfreq
		}
	}
	options.PutIfconfLen(arg, total)
	return nil
}
