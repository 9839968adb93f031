package fdbased

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DisableTxOffload turns off transmit checksum offload (and with it TSO) on
// the named interface, in the calling thread's network namespace.
//
// A stack behind AttachInterface no longer needs it: its packet socket
// reports a checksum left to hardware, and the endpoint finishes it. It
// stays for those who want the wire as a capture on the peer shows it: a
// Linux sender whose device offloads checksums leaves TCP and UDP
// checksums seeded only and its TCP in segments larger than the MTU; with
// this, software completes checksums and segments before the frame
// leaves. Call it on the kernel device that sends toward the attached
// interface: for a veth pair, the far end (in its namespace).
func DisableTxOffload(name string) error {
	if _, err := lookup(name); err != nil {
		return err
	}
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("fdbased: disabling offload on %q: socket: %w", name, err)
	}
	defer unix.Close(s)
	if err := ethtoolSet(s, name, unix.ETHTOOL_STXCSUM, 0); err != nil {
		if errors.Is(err, unix.EPERM) {
			return fmt.Errorf("fdbased: disabling checksum offload on %q needs CAP_NET_ADMIN: run as root or run `ethtool -K %s tx off` beforehand: %w", name, name, err)
		}
		if errors.Is(err, unix.EOPNOTSUPP) {
			return nil // the device cannot offload checksums: nothing to turn off
		}
		return fmt.Errorf("fdbased: disabling checksum offload on %q: %w", name, err)
	}
	return nil
}

// ethtoolValue is struct ethtool_value of <linux/ethtool.h>.
type ethtoolValue struct {
	cmd  uint32
	data uint32
}

// ifreqPtr is struct ifreq with the ifr_data member of the union.
type ifreqPtr struct {
	name [unix.IFNAMSIZ]byte
	data unsafe.Pointer
	_    [24 - unsafe.Sizeof(uintptr(0))]byte
}

func ethtoolSet(fd int, name string, cmd, value uint32) error {
	v := &ethtoolValue{cmd: cmd, data: value}
	var ifr ifreqPtr
	copy(ifr.name[:unix.IFNAMSIZ-1], name)
	ifr.data = unsafe.Pointer(v)
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr)))
	runtime.KeepAlive(v)
	if errno != 0 {
		return errno
	}
	return nil
}
