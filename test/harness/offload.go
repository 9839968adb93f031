package harness

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ethtool ETHTOOL_STXCSUM: set transmit checksum offload.
const ethtoolSetTxCsum = 0x17

// disableTxChecksum turns off transmit checksum offload on dev in ns. A veth
// with offload hands frames to the other end with TCP/UDP checksums left
// partial; a kernel receiver trusts that, but a userspace stack reading the
// frames through AF_PACKET sees bad checksums. Both topologies do this on
// both ends, so every frame on the wire is complete and the peer sees the
// same bytes whichever DUT sent them.
func disableTxChecksum(ns, dev string) error {
	return InNetns(ns, func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		val := struct{ cmd, data uint32 }{ethtoolSetTxCsum, 0}
		var ifr [unix.IFNAMSIZ + 24]byte
		copy(ifr[:unix.IFNAMSIZ-1], dev)
		*(*uintptr)(unsafe.Pointer(&ifr[unix.IFNAMSIZ])) = uintptr(unsafe.Pointer(&val))
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr[0]))); e != 0 {
			return fmt.Errorf("%s: %s: disable tx checksum offload: %w", ns, dev, e)
		}
		return nil
	})
}
