// Package agent makes socket calls as real Linux system calls, either in
// this process (the harness's kernel host) or in an agent process that a
// harness drives over a pipe (an agent inside a gVisor sandbox: see Serve
// and Client). Both use the same Sock, so a scenario's calls reach a kernel
// and a sentry byte for byte alike.
package agent

import (
	"encoding/binary"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Sock is one socket descriptor driven by raw system calls. fd is atomic
// because a harness may shut a socket down while a timed-out scenario still
// uses it.
type Sock struct {
	fd atomic.Int64
}

// NewSock wraps descriptor fd.
func NewSock(fd int) *Sock {
	s := &Sock{}
	s.fd.Store(int64(fd))
	return s
}

// Socket is socket(2) in the calling thread's network namespace.
func Socket(domain, typ, proto int) (*Sock, error) {
	fd, _, errno := unix.RawSyscall(unix.SYS_SOCKET, uintptr(domain), uintptr(typ), uintptr(proto))
	if errno != 0 {
		return nil, errno
	}
	return NewSock(int(fd)), nil
}

// FD is the descriptor; -1 after Close.
func (s *Sock) FD() int { return int(s.fd.Load()) }

// sysfd is the descriptor as a syscall argument; -1 after Close (EBADF).
func (s *Sock) sysfd() uintptr { return uintptr(s.fd.Load()) }

// ptr returns a pointer usable for a user buffer of any length, including
// zero, so that a zero length reaches the kernel as a length, not as NULL.
func ptr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		var dummy [8]byte
		return unsafe.Pointer(&dummy[0])
	}
	return unsafe.Pointer(&b[0])
}

func errOf(e unix.Errno) error {
	if e != 0 {
		return e
	}
	return nil
}

func (s *Sock) Bind(sa []byte) error {
	_, _, e := unix.Syscall(unix.SYS_BIND, s.sysfd(), uintptr(ptr(sa)), uintptr(len(sa)))
	return errOf(e)
}

func (s *Sock) Connect(sa []byte) error {
	_, _, e := unix.Syscall(unix.SYS_CONNECT, s.sysfd(), uintptr(ptr(sa)), uintptr(len(sa)))
	return errOf(e)
}

func (s *Sock) Listen(backlog int) error {
	_, _, e := unix.Syscall(unix.SYS_LISTEN, s.sysfd(), uintptr(backlog), 0)
	return errOf(e)
}

// Accept is accept4(2) with a 128-byte address buffer.
func (s *Sock) Accept(flags int) (*Sock, []byte, error) {
	buf := make([]byte, 128)
	l := uint32(len(buf))
	fd, _, e := unix.Syscall6(unix.SYS_ACCEPT4, s.sysfd(), uintptr(ptr(buf)), uintptr(unsafe.Pointer(&l)), uintptr(flags), 0, 0)
	if e != 0 {
		return nil, nil, e
	}
	return NewSock(int(fd)), buf[:min(int(l), len(buf))], nil
}

func (s *Sock) name(nr uintptr) ([]byte, error) {
	buf := make([]byte, 128)
	l := uint32(len(buf))
	_, _, e := unix.Syscall(nr, s.sysfd(), uintptr(ptr(buf)), uintptr(unsafe.Pointer(&l)))
	if e != 0 {
		return nil, e
	}
	return buf[:min(int(l), len(buf))], nil
}

func (s *Sock) GetSockName() ([]byte, error) { return s.name(unix.SYS_GETSOCKNAME) }
func (s *Sock) GetPeerName() ([]byte, error) { return s.name(unix.SYS_GETPEERNAME) }

// SendMsg is sendmsg(2) with one iovec; a nil to or oob is a NULL msg_name
// or msg_control.
func (s *Sock) SendMsg(p, oob, to []byte, flags int) (int, error) {
	var msg unix.Msghdr
	var iov unix.Iovec
	iov.Base = (*byte)(ptr(p))
	iov.SetLen(len(p))
	msg.Iov = &iov
	msg.Iovlen = 1
	if to != nil {
		msg.Name = (*byte)(ptr(to))
		msg.Namelen = uint32(len(to))
	}
	if oob != nil {
		msg.Control = (*byte)(ptr(oob))
		msg.SetControllen(len(oob))
	}
	n, _, e := unix.Syscall(unix.SYS_SENDMSG, s.sysfd(), uintptr(unsafe.Pointer(&msg)), uintptr(flags))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// RecvMsg is recvmsg(2) with one iovec and a 128-byte name buffer; a nil
// oob is a NULL msg_control.
func (s *Sock) RecvMsg(p, oob []byte, flags int) (int, int, int, []byte, error) {
	var msg unix.Msghdr
	var iov unix.Iovec
	name := make([]byte, 128)
	iov.Base = (*byte)(ptr(p))
	iov.SetLen(len(p))
	msg.Iov = &iov
	msg.Iovlen = 1
	msg.Name = &name[0]
	msg.Namelen = uint32(len(name))
	if oob != nil {
		msg.Control = (*byte)(ptr(oob))
		msg.SetControllen(len(oob))
	}
	n, _, e := unix.Syscall(unix.SYS_RECVMSG, s.sysfd(), uintptr(unsafe.Pointer(&msg)), uintptr(flags))
	if e != 0 {
		return 0, 0, 0, nil, e
	}
	var from []byte
	if msg.Namelen > 0 {
		from = name[:min(int(msg.Namelen), len(name))]
	}
	return int(n), int(msg.Controllen), int(msg.Flags), from, nil
}

func (s *Sock) SetSockOpt(level, name int, val []byte) error {
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, s.sysfd(), uintptr(level), uintptr(name), uintptr(ptr(val)), uintptr(len(val)), 0)
	return errOf(e)
}

// GetSockOpt passes len(buf) as optlen and returns the optlen written back.
func (s *Sock) GetSockOpt(level, name int, buf []byte) (int, error) {
	l := int32(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, s.sysfd(), uintptr(level), uintptr(name), uintptr(ptr(buf)), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return 0, e
	}
	return int(l), nil
}

func (s *Sock) Shutdown(how int) error {
	_, _, e := unix.Syscall(unix.SYS_SHUTDOWN, s.sysfd(), uintptr(how), 0)
	return errOf(e)
}

// Close closes the descriptor once; later calls answer EBADF.
func (s *Sock) Close() error {
	fd := s.fd.Swap(-1)
	if fd < 0 {
		return unix.EBADF
	}
	return unix.Close(int(fd))
}

// Poll waits up to timeout for any event in mask and returns the ready
// events (EPOLLERR and EPOLLHUP always count), 0 on timeout.
func (s *Sock) Poll(mask uint32, timeout time.Duration) (uint32, error) {
	fds := []unix.PollFd{{Fd: int32(s.fd.Load()), Events: int16(mask)}}
	ms := int(timeout / time.Millisecond)
	deadline := time.Now().Add(timeout)
	for i := 0; i < 100; i++ { // bounded retries on EINTR
		n, err := unix.Poll(fds, ms)
		if err == unix.EINTR {
			ms = max(0, int(time.Until(deadline)/time.Millisecond))
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, nil
		}
		return uint32(uint16(fds[0].Revents)) & (mask | unix.EPOLLERR | unix.EPOLLHUP), nil
	}
	return 0, unix.EINTR
}

// Ioctl runs ioctl(2) on a copy of arg that ends where an inaccessible
// page begins, so a kernel access past arg faults (EFAULT) exactly as
// netsandbox's bounds check does. SIOCGIFCONF's ifc_buf is pointed at the
// bytes after the struct ifconf when non-zero. A nil arg is NULL.
func (s *Sock) Ioctl(req uint, arg []byte) error {
	if arg == nil {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, s.sysfd(), uintptr(req), 0)
		return errOf(e)
	}
	page := unix.Getpagesize()
	size := (len(arg) + page - 1) / page * page
	mem, err := unix.Mmap(-1, 0, size+page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return err
	}
	defer unix.Munmap(mem)
	if err := unix.Mprotect(mem[size:], unix.PROT_NONE); err != nil {
		return err
	}
	buf := mem[size-len(arg) : size]
	copy(buf, arg)
	const ifconfLen = 16
	var token uint64
	if uint32(req) == unix.SIOCGIFCONF && len(arg) >= ifconfLen {
		if token = binary.NativeEndian.Uint64(buf[8:]); token != 0 {
			binary.NativeEndian.PutUint64(buf[8:], uint64(uintptr(unsafe.Pointer(&mem[size-len(arg)]))+ifconfLen))
		}
	}
	var p uintptr
	if len(arg) > 0 {
		p = uintptr(unsafe.Pointer(&buf[0]))
	} else {
		p = uintptr(unsafe.Pointer(&mem[size])) // a zero-length buffer: any access faults
	}
	_, _, e := unix.Syscall(unix.SYS_IOCTL, s.sysfd(), uintptr(req), p)
	if token != 0 {
		binary.NativeEndian.PutUint64(buf[8:], token)
	}
	copy(arg, buf)
	return errOf(e)
}
