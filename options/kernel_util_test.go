package options

import (
	"errors"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Helpers that drive real kernel sockets on loopback, so tests can compare
// this package's codecs with what the running Linux does.

func kernelUDP(t *testing.T) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socket: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func ptr(b []byte) uintptr {
	if len(b) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(&b[0]))
}

// rawSetsockopt passes b with optlen len(b) (x/sys's typed setters cannot
// send odd lengths).
func rawSetsockopt(fd, level, opt int, b []byte) error {
	var keep [1]byte
	p := ptr(b)
	if p == 0 {
		p = uintptr(unsafe.Pointer(&keep[0])) // a valid pointer with optlen 0
	}
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt), p, uintptr(len(b)), 0)
	if e != 0 {
		return e
	}
	return nil
}

// rawGetsockopt calls getsockopt with optlen n into a 16-byte buffer filled
// with 0xee, and returns the buffer, the optlen written back and the error.
func rawGetsockopt(fd, level, opt int, n int32) ([16]byte, int32, error) {
	var b [16]byte
	for i := range b {
		b[i] = 0xee
	}
	l := n
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return b, l, e
	}
	return b, l, nil
}

func rawBind(fd int, sa []byte) error {
	_, _, e := unix.Syscall(unix.SYS_BIND, uintptr(fd), ptr(sa), uintptr(len(sa)))
	if e != 0 {
		return e
	}
	return nil
}

func rawConnect(fd int, sa []byte) error {
	_, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), ptr(sa), uintptr(len(sa)))
	if e != 0 {
		return e
	}
	return nil
}

func rawSendto(fd int, p, sa []byte) error {
	_, _, e := unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), ptr(p), uintptr(len(p)), 0, ptr(sa), uintptr(len(sa)))
	if e != 0 {
		return e
	}
	return nil
}

// asErrno is the errno err carries (0 for nil, 0xffff for an error that
// carries none).
func asErrno(err error) unix.Errno {
	if err == nil {
		return 0
	}
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return 0xffff
}
