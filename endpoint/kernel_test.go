package endpoint

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// kernelSock is a real Linux socket driven with the same raw-bytes API as
// Socket, so a test can run one scenario on both and compare.
type kernelSock struct{ fd int }

func newKernelSock(domain, typ, proto int) (*kernelSock, error) {
	fd, err := unix.Socket(domain, typ, proto)
	if err != nil {
		return nil, err
	}
	return &kernelSock{fd: fd}, nil
}

func ptr(b []byte) uintptr {
	if len(b) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(&b[0]))
}

func errnoErr(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func (k *kernelSock) Bind(sa []byte) error {
	_, _, e := unix.Syscall(unix.SYS_BIND, uintptr(k.fd), ptr(sa), uintptr(len(sa)))
	return errnoErr(e)
}

func (k *kernelSock) Connect(sa []byte) error {
	_, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(k.fd), ptr(sa), uintptr(len(sa)))
	return errnoErr(e)
}

func (k *kernelSock) Listen(backlog int) error { return unix.Listen(k.fd, backlog) }

func (k *kernelSock) name(nr uintptr) ([]byte, error) {
	buf := make([]byte, 128)
	l := uint32(len(buf))
	_, _, e := unix.Syscall(nr, uintptr(k.fd), ptr(buf), uintptr(unsafe.Pointer(&l)))
	if e != 0 {
		return nil, e
	}
	return buf[:l], nil
}

func (k *kernelSock) GetSockName() ([]byte, error) { return k.name(unix.SYS_GETSOCKNAME) }
func (k *kernelSock) GetPeerName() ([]byte, error) { return k.name(unix.SYS_GETPEERNAME) }

func (k *kernelSock) SendMsg(p, oob, to []byte, flags int) (int, error) {
	var msg unix.Msghdr
	var iov unix.Iovec
	if len(p) > 0 {
		iov.Base = &p[0]
		iov.SetLen(len(p))
	}
	msg.Iov = &iov
	msg.Iovlen = 1
	if len(to) > 0 {
		msg.Name = &to[0]
		msg.Namelen = uint32(len(to))
	}
	if len(oob) > 0 {
		msg.Control = &oob[0]
		msg.SetControllen(len(oob))
	}
	n, _, e := unix.Syscall(unix.SYS_SENDMSG, uintptr(k.fd), uintptr(unsafe.Pointer(&msg)), uintptr(flags))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

func (k *kernelSock) RecvMsg(p, oob []byte, flags int) (int, int, int, []byte, error) {
	var msg unix.Msghdr
	var iov unix.Iovec
	if len(p) > 0 {
		iov.Base = &p[0]
		iov.SetLen(len(p))
	}
	msg.Iov = &iov
	msg.Iovlen = 1
	name := make([]byte, 128)
	msg.Name = &name[0]
	msg.Namelen = uint32(len(name))
	if len(oob) > 0 {
		msg.Control = &oob[0]
		msg.SetControllen(len(oob))
	}
	n, _, e := unix.Syscall(unix.SYS_RECVMSG, uintptr(k.fd), uintptr(unsafe.Pointer(&msg)), uintptr(flags))
	if e != 0 {
		return 0, 0, 0, nil, e
	}
	var from []byte
	if msg.Namelen > 0 {
		from = name[:msg.Namelen]
	}
	return int(n), int(msg.Controllen), int(msg.Flags), from, nil
}

func (k *kernelSock) SetSockOpt(level, name int, val []byte) error {
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(k.fd), uintptr(level), uintptr(name), ptr(val), uintptr(len(val)), 0)
	return errnoErr(e)
}

func (k *kernelSock) GetSockOpt(level, name int, buf []byte) (int, error) {
	l := uint32(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(k.fd), uintptr(level), uintptr(name), ptr(buf), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return 0, e
	}
	return int(l), nil
}

func (k *kernelSock) Shutdown(how int) error { return unix.Shutdown(k.fd, how) }
func (k *kernelSock) Close() error           { return unix.Close(k.fd) }

// Readiness polls without waiting.
func (k *kernelSock) Readiness(mask uint32) uint32 {
	r, _ := k.poll(0)
	return r & mask
}

func (k *kernelSock) poll(timeout time.Duration) (uint32, error) {
	fds := []unix.PollFd{{Fd: int32(k.fd), Events: unix.POLLIN | unix.POLLOUT | unix.POLLRDHUP | unix.POLLPRI | 0x40 | 0x100 | 0x80 | 0x200}}
	_, err := unix.Poll(fds, int(timeout/time.Millisecond))
	return uint32(uint16(fds[0].Revents)), err
}

func (k *kernelSock) SetNonblock(v bool) { _ = unix.SetNonblock(k.fd, v) }

// accept is accept4 returning the peer address bytes.
func (k *kernelSock) accept(flags int) (*kernelSock, []byte, error) {
	buf := make([]byte, 128)
	l := uint32(len(buf))
	fd, _, e := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(k.fd), ptr(buf), uintptr(unsafe.Pointer(&l)), uintptr(flags), 0, 0)
	if e != 0 {
		return nil, nil, e
	}
	return &kernelSock{fd: int(fd)}, buf[:l], nil
}
