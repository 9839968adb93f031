package harness

import (
	"encoding/binary"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// KernelHost makes real Linux sockets inside a network namespace.
type KernelHost struct {
	name, ns string
}

// NewKernelHost returns a host whose sockets live in namespace ns.
func NewKernelHost(name, ns string) *KernelHost { return &KernelHost{name: name, ns: ns} }

func (h *KernelHost) Name() string { return h.name }

// Netns is the namespace the host's sockets are made in.
func (h *KernelHost) Netns() string { return h.ns }

func (h *KernelHost) Socket(domain, typ, proto int) (Sock, error) {
	var fd uintptr
	var errno unix.Errno
	if err := InNetns(h.ns, func() error {
		fd, _, errno = unix.RawSyscall(unix.SYS_SOCKET, uintptr(domain), uintptr(typ), uintptr(proto))
		return nil
	}); err != nil {
		return nil, err
	}
	if errno != 0 {
		return nil, errno
	}
	return newKernelSock(int(fd)), nil
}

func (h *KernelHost) SetSysctl(name, value string) error {
	// Kernel parsers accept tabs or spaces; normalise to what cat shows.
	return WriteSysctl(h.ns, name, strings.Join(strings.Fields(value), "\t"))
}

func (h *KernelHost) GetSysctl(name string) (string, error) { return ReadSysctl(h.ns, name) }

// kernelSock is one kernel socket. fd is atomic because the runner may
// shut a socket down while a timed-out scenario still uses it.
type kernelSock struct {
	fd atomic.Int64
}

func newKernelSock(fd int) *kernelSock {
	s := &kernelSock{}
	s.fd.Store(int64(fd))
	return s
}

// sysfd is the descriptor as a syscall argument; -1 after Close (EBADF).
func (s *kernelSock) sysfd() uintptr { return uintptr(s.fd.Load()) }

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

func (s *kernelSock) Bind(sa []byte) error {
	_, _, e := unix.Syscall(unix.SYS_BIND, s.sysfd(), uintptr(ptr(sa)), uintptr(len(sa)))
	return errOf(e)
}

func (s *kernelSock) Connect(sa []byte) error {
	_, _, e := unix.Syscall(unix.SYS_CONNECT, s.sysfd(), uintptr(ptr(sa)), uintptr(len(sa)))
	return errOf(e)
}

func (s *kernelSock) Listen(backlog int) error {
	_, _, e := unix.Syscall(unix.SYS_LISTEN, s.sysfd(), uintptr(backlog), 0)
	return errOf(e)
}

func (s *kernelSock) Accept(flags int) (Sock, []byte, error) {
	buf := make([]byte, 128)
	l := uint32(len(buf))
	fd, _, e := unix.Syscall6(unix.SYS_ACCEPT4, s.sysfd(), uintptr(ptr(buf)), uintptr(unsafe.Pointer(&l)), uintptr(flags), 0, 0)
	if e != 0 {
		return nil, nil, e
	}
	return newKernelSock(int(fd)), buf[:min(int(l), len(buf))], nil
}

func (s *kernelSock) name(nr uintptr) ([]byte, error) {
	buf := make([]byte, 128)
	l := uint32(len(buf))
	_, _, e := unix.Syscall(nr, s.sysfd(), uintptr(ptr(buf)), uintptr(unsafe.Pointer(&l)))
	if e != 0 {
		return nil, e
	}
	return buf[:min(int(l), len(buf))], nil
}

func (s *kernelSock) GetSockName() ([]byte, error) { return s.name(unix.SYS_GETSOCKNAME) }
func (s *kernelSock) GetPeerName() ([]byte, error) { return s.name(unix.SYS_GETPEERNAME) }

func (s *kernelSock) SendMsg(p, oob, to []byte, flags int) (int, error) {
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

func (s *kernelSock) RecvMsg(p, oob []byte, flags int) (int, int, int, []byte, error) {
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

func (s *kernelSock) SetSockOpt(level, name int, val []byte) error {
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, s.sysfd(), uintptr(level), uintptr(name), uintptr(ptr(val)), uintptr(len(val)), 0)
	return errOf(e)
}

func (s *kernelSock) GetSockOpt(level, name int, buf []byte) (int, error) {
	l := int32(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, s.sysfd(), uintptr(level), uintptr(name), uintptr(ptr(buf)), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return 0, e
	}
	return int(l), nil
}

func (s *kernelSock) Shutdown(how int) error {
	_, _, e := unix.Syscall(unix.SYS_SHUTDOWN, s.sysfd(), uintptr(how), 0)
	return errOf(e)
}

func (s *kernelSock) Close() error {
	fd := s.fd.Swap(-1)
	if fd < 0 {
		return unix.EBADF
	}
	return unix.Close(int(fd))
}

func (s *kernelSock) Poll(mask uint32, timeout time.Duration) (uint32, error) {
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
// bytes after the struct ifconf when non-zero.
func (s *kernelSock) Ioctl(req uint, arg []byte) error {
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
