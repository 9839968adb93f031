package endpoint

import (
	"encoding/binary"
	"errors"

	"golang.org/x/sys/unix"

	"netsandbox/options"
)

// ioctl(2) on a socket follows Linux's dispatch: the VFS's FIONBIO, then
// sock_ioctl (SIOCGSTAMP*, SIOCGIFCONF), inet_ioctl (devinet's
// SIOCGIF{ADDR,BRDADDR,NETMASK,DSTADDR}), the protocol's ioctl (udp_ioctl,
// tcp_ioctl, raw_ioctl; ping has none) and, for a socket-type request
// (_IOC_TYPE 0x89) nobody took, dev_ioctl's netdevice(7) requests. A
// request nobody knows is ENOTTY (ENOIOCTLCMD as the VFS reports it).
//
// arg is all the memory the call may touch: nil is a NULL pointer, and a
// read or write past its end is EFAULT, as a fault in copy_from_user or
// copy_to_user is. Results are written into arg. SIOCGIFCONF's struct
// ifconf carries a pointer; here arg holds the struct ifconf followed by
// the buffer, and a non-zero ifc_buf stands for arg[options.SizeofIfconf:].

// Request numbers x/sys/unix does not name.
const (
	siocgstampNew   = 0x80108906 // SIOCGSTAMP_NEW: _IOR(0x89, 6, long long[2])
	siocgstampnsNew = 0x80108907 // SIOCGSTAMPNS_NEW
	sockIocType     = 0x89       // SOCK_IOC_TYPE
	fionbio         = 0x5421     // FIONBIO (asm-generic, amd64 and arm64)
)

// errNoIoctlCmd is ENOIOCTLCMD between a protocol's ioctl and the
// dispatcher: "not mine", never returned to the caller.
var errNoIoctlCmd = errors.New("ENOIOCTLCMD")

// protoIoctl is a protocol's ioctl for the int-valued requests
// (SIOCINQ, SIOCOUTQ, ...): the value sk_ioctl copies out, an errno, or
// errNoIoctlCmd.
type protoIoctl func(req uint32) (int32, error)

// ioctl runs the dispatch; proto is nil for a protocol without an ioctl
// (ping).
func (b *base) ioctl(req uint, arg []byte, proto protoIoctl) error {
	cmd := uint32(req) // the syscall's cmd is an unsigned int
	switch cmd {
	case fionbio:
		if len(arg) < 4 {
			return unix.EFAULT
		}
		b.SetNonblock(binary.NativeEndian.Uint32(arg) != 0)
		return nil
	case unix.SIOCGSTAMP, siocgstampNew:
		return b.stamp.get(arg, true)
	case unix.SIOCGSTAMPNS, siocgstampnsNew:
		return b.stamp.get(arg, false)
	case unix.SIOCGIFCONF:
		return b.ifconf(arg)
	case unix.SIOCGIFADDR, unix.SIOCGIFBRDADDR, unix.SIOCGIFNETMASK, unix.SIOCGIFDSTADDR, unix.SIOCGIFPFLAGS:
		return b.devinetIoctl(cmd, arg)
	case unix.SIOCRTMSG:
		return unix.EINVAL
	}
	if proto != nil {
		v, err := proto(cmd)
		if err == nil {
			if len(arg) < 4 {
				return unix.EFAULT
			}
			binary.NativeEndian.PutUint32(arg, uint32(v))
			return nil
		}
		if err != errNoIoctlCmd {
			return err
		}
	}
	if cmd>>8&0xff != sockIocType {
		return unix.ENOTTY
	}
	if len(arg) < options.SizeofIfreq {
		return unix.EFAULT // get_user_ifreq
	}
	var ifr options.Ifreq
	copy(ifr[:], arg)
	if err := b.devIoctl(cmd, &ifr); err != nil {
		return err
	}
	copy(arg, ifr[:])
	return nil
}

func (u *udpSock) Ioctl(req uint, arg []byte) error { return u.ioctl(req, arg, u.udpIoctl) }

func (g *rawSock) Ioctl(req uint, arg []byte) error { return g.ioctl(req, arg, g.rawIoctl) }
