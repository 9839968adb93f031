package gateway

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The relay's per-packet system calls on host sockets are made with
// RawSyscall. None of them blocks (the sockets are non-blocking and
// every call passes MSG_DONTWAIT), and a plain Syscall enters the
// runtime's syscall state, which wakes sysmon whenever it sleeps for
// want of work: after every idle moment, so on every idle round trip.
// sysmon then polls every 20 µs for the next millisecond, a futex
// wake-up in the packet's path and a busy second core on a two-core
// host. x/sys's Recvmsg also asks the socket for its protocol
// (getsockopt SO_PROTOCOL) on every datagram, to tell L2TP addresses
// apart, which the relay never has.

// errnoErr is e as an error: nil for 0.
func errnoErr(e unix.Errno) error {
	if e != 0 {
		return e
	}
	return nil
}

// rawSendto sends p on fd with MSG_DONTWAIT, to to when valid (else on a
// connected socket).
func rawSendto(fd int, p []byte, to netip.AddrPort) error {
	var sa4 unix.RawSockaddrInet4
	var sa6 unix.RawSockaddrInet6
	var sa unsafe.Pointer
	var salen uintptr
	switch {
	case !to.IsValid():
	case to.Addr().Is4():
		sa4.Family = unix.AF_INET
		sa4.Addr = to.Addr().As4()
		putPort(&sa4.Port, to.Port())
		sa, salen = unsafe.Pointer(&sa4), unix.SizeofSockaddrInet4
	default:
		sa6.Family = unix.AF_INET6
		sa6.Addr = to.Addr().As16()
		putPort(&sa6.Port, to.Port())
		sa, salen = unsafe.Pointer(&sa6), unix.SizeofSockaddrInet6
	}
	// The pointers become uintptrs in the call's own arguments, where
	// the compiler keeps what they point to alive and in place (the
	// unsafe.Pointer rules' system-call case); p's data may be nil for
	// an empty datagram, which the kernel takes with length 0.
	buf := unsafe.Pointer(unsafe.SliceData(p))
	for {
		_, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(buf), uintptr(len(p)), unix.MSG_DONTWAIT, uintptr(sa), salen)
		if e != unix.EINTR {
			return errnoErr(e)
		}
	}
}

// rawRecvmsg reads one datagram (or error-queue message) of fd into p and
// its control messages into oob, without waiting.
func rawRecvmsg(fd int, p, oob []byte, flags int) (n, oobn int, from netip.AddrPort, err error) {
	var rsa unix.RawSockaddrAny
	iov := unix.Iovec{Base: unsafe.SliceData(p)}
	iov.SetLen(len(p))
	msg := unix.Msghdr{Name: (*byte)(unsafe.Pointer(&rsa)), Namelen: unix.SizeofSockaddrAny, Iov: &iov, Iovlen: 1}
	if len(oob) > 0 {
		msg.Control = &oob[0]
		msg.SetControllen(len(oob))
	}
	for {
		r, _, e := unix.RawSyscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), uintptr(flags|unix.MSG_DONTWAIT))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, 0, from, e
		}
		n = int(r)
		break
	}
	switch rsa.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&rsa))
		from = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), getPort(&sa.Port))
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&rsa))
		from = netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), getPort(&sa.Port))
	}
	return n, int(msg.Controllen), from, nil
}

// putPort and getPort write and read a sockaddr's port, which is in
// network byte order.
func putPort(p *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(p))
	b[0], b[1] = byte(port>>8), byte(port)
}

func getPort(p *uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(p))
	return uint16(b[0])<<8 | uint16(b[1])
}
