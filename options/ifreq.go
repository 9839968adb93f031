package options

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"
)

// Layouts of netdevice(7)'s structs on 64-bit Linux.
const (
	// SizeofIfreq is struct ifreq: a 16-byte name and a 24-byte union
	// (the largest member is struct ifmap).
	SizeofIfreq = 40
	// SizeofIfconf is struct ifconf: int ifc_len, padding, char *ifc_buf.
	SizeofIfconf = 16
	// ifrUnion is where the union of struct ifreq starts.
	ifrUnion = unix.IFNAMSIZ
	// sizeofIfrHwData is sa_data_min of the hardware address sockaddr.
	sizeofIfrHwData = 14
	// sizeofIfmapFields is struct ifmap up to its tail padding.
	sizeofIfmapFields = 8 + 8 + 2 + 1 + 1 + 1
)

// Ifreq is one struct ifreq as the kernel copies it in (get_user_ifreq)
// and back out: the answer is written over the caller's bytes, so what a
// request does not set keeps the caller's value.
// Not unix.Ifreq: that one is opaque and built by NewIfreq from a name;
// this is the caller's raw 40 bytes, answered in place.
type Ifreq [SizeofIfreq]byte

// Name is the interface name dev_ioctl and devinet_ioctl look up: the
// kernel first forces ifr_name[IFNAMSIZ-1] to 0 (in the copy it hands
// back), and an alias "eth0:1" names device "eth0" with label "eth0:1".
// dev is the text before the first ':', label the whole name.
func (r *Ifreq) Name() (dev, label string) {
	r[unix.IFNAMSIZ-1] = 0
	n := 0
	for n < unix.IFNAMSIZ && r[n] != 0 {
		n++
	}
	label = string(r[:n])
	dev = label
	for i := 0; i < n; i++ {
		if r[i] == ':' {
			dev = label[:i]
			break
		}
	}
	return dev, label
}

// SetName is netdev_get_name's strcpy for SIOCGIFNAME: the name and its
// NUL; the rest of ifr_name keeps the caller's bytes.
func (r *Ifreq) SetName(name string) {
	n := copy(r[:unix.IFNAMSIZ-1], name)
	r[n] = 0
}

// Index reads ifr_ifindex (SIOCGIFNAME's argument).
func (r *Ifreq) Index() int32 { return int32(binary.NativeEndian.Uint32(r[ifrUnion:])) }

// SetInt32 writes an int member of the union (ifr_ifindex, ifr_mtu,
// ifr_metric, ifr_qlen).
func (r *Ifreq) SetInt32(v int32) { binary.NativeEndian.PutUint32(r[ifrUnion:], uint32(v)) }

// SetFlags writes ifr_flags, a short: the interface flags above bit 15
// (IFF_LOWER_UP, ...) do not fit and are cut, as the kernel cuts them.
func (r *Ifreq) SetFlags(v uint32) { binary.NativeEndian.PutUint16(r[ifrUnion:], uint16(v)) }

// AddrFamily reads the family of ifr_addr, which devinet_ioctl looks at
// to decide whether to match the address as well as the label.
func (r *Ifreq) AddrFamily() uint16 { return binary.NativeEndian.Uint16(r[ifrUnion:]) }

// Addr reads the IPv4 address of ifr_addr.
func (r *Ifreq) Addr() netip.Addr { return netip.AddrFrom4([4]byte(r[ifrUnion+4 : ifrUnion+8])) }

// SetAddr writes a whole sockaddr_in (zeroed, AF_INET, a) into ifr_addr,
// as devinet_ioctl answers SIOCGIFADDR and its siblings.
func (r *Ifreq) SetAddr(a netip.Addr) {
	sa := SockaddrInArray(netip.AddrPortFrom(a, 0))
	copy(r[ifrUnion:], sa[:])
}

// SetHWAddr writes ifr_hwaddr as dev_get_mac_address does: the device
// type as family and the address in sa_data (zeros when the device has
// none); sa_data bytes past the address keep the caller's value.
func (r *Ifreq) SetHWAddr(family uint16, addr []byte, addrLen int) {
	binary.NativeEndian.PutUint16(r[ifrUnion:], family)
	data := r[ifrUnion+2 : ifrUnion+2+sizeofIfrHwData]
	if addrLen == 0 {
		clear(data)
		return
	}
	n := min(addrLen, sizeofIfrHwData)
	clear(data[:n])
	copy(data[:n], addr)
}

// ClearMap writes a struct ifmap of zeros (SIOCGIFMAP of a device with
// no I/O resources, as every virtual device is): mem_start, mem_end,
// base_addr, irq, dma and port, member by member, so the 3 bytes of tail
// padding keep the caller's value.
func (r *Ifreq) ClearMap() { clear(r[ifrUnion : ifrUnion+sizeofIfmapFields]) }

// IfconfEntry is the struct ifreq inet_gifconf writes per IPv4 address:
// zeroed, the label as name and a sockaddr_in with the local address.
func IfconfEntry(label string, a netip.Addr) Ifreq {
	var r Ifreq
	copy(r[:unix.IFNAMSIZ-1], label)
	r.SetAddr(a)
	return r
}

// ParseIfconf reads struct ifconf: ifc_len and whether ifc_buf is NULL.
// Fewer than SizeofIfconf bytes is EFAULT, as the kernel's copy_from_user
// of the whole struct fails.
func ParseIfconf(b []byte) (length int32, buf uint64, err error) {
	if len(b) < SizeofIfconf {
		return 0, 0, unix.EFAULT
	}
	return int32(binary.NativeEndian.Uint32(b)), binary.NativeEndian.Uint64(b[8:]), nil
}

// PutIfconfLen writes ifc_len back (dev_ifconf's put_user).
func PutIfconfLen(b []byte, n int32) { binary.NativeEndian.PutUint32(b, uint32(n)) }

// Timeval encodes a time given in Unix nanoseconds as SIOCGSTAMP's struct
// timeval (micro) or SIOCGSTAMPNS's struct timespec: two 64-bit fields on
// every build (unix.Timeval and unix.Timespec follow GOARCH).
func Timeval(ns int64, micro bool) [16]byte {
	sec, frac := ns/1e9, ns%1e9
	if frac < 0 {
		sec, frac = sec-1, frac+1e9
	}
	if micro {
		frac /= 1e3
	}
	var b [16]byte
	binary.NativeEndian.PutUint64(b[:8], uint64(sec))
	binary.NativeEndian.PutUint64(b[8:], uint64(frac))
	return b
}
