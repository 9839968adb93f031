// Package endpoint is netsandbox's socket layer: one object per socket with
// the syscall-shaped API of Linux (raw sockaddr and option bytes in and out,
// errors as unix.Errno). UDP sockets run on netsandbox's own UDP transport in
// stack/; TCP, raw and ping sockets wrap gVisor endpoints and patch the
// places where gVisor's answers differ from Linux's.
package endpoint

import (
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// Socket is one AF_INET socket. Every method answers what the same call on a
// Linux socket would, errno included.
type Socket interface {
	Bind(sa []byte) error
	Connect(sa []byte) error
	Listen(backlog int) error
	// Accept takes SOCK_NONBLOCK|SOCK_CLOEXEC in flags and returns the new
	// socket and the peer's 16-byte sockaddr_in.
	Accept(flags int) (Socket, []byte, error)
	GetSockName() ([]byte, error)
	GetPeerName() ([]byte, error)
	// SendMsg sends p; to is a raw sockaddr or nil, oob the control messages.
	SendMsg(p, oob, to []byte, flags int) (int, error)
	// RecvMsg returns the byte count (the full datagram length under
	// MSG_TRUNC), the control-message length, the MSG_* flags of msghdr
	// and the source sockaddr.
	RecvMsg(p, oob []byte, flags int) (n, oobn, recvflags int, from []byte, err error)
	SetSockOpt(level, name int, val []byte) error
	// GetSockOpt takes len(buf) as optlen and returns the optlen written.
	// That may exceed len(buf) only for a source-filter read
	// (IP_MSFILTER, MCAST_MSFILTER) whose numsrc asks for more sources
	// than buf holds: Linux answers that length; only buf is written.
	GetSockOpt(level, name int, buf []byte) (int, error)
	Shutdown(how int) error
	Close() error
	// Ioctl is ioctl(2) on the socket (ioctl.go): arg is all the memory
	// the call may read or write (nil is a NULL pointer, an access past
	// its end is EFAULT) and receives the results. For SIOCGIFCONF, arg
	// is struct ifconf followed by the buffer: a non-zero ifc_buf stands
	// for arg[options.SizeofIfconf:].
	Ioctl(req uint, arg []byte) error
	// Readiness returns the EPOLL* bits of mask that hold now.
	Readiness(mask uint32) uint32
	// Wait blocks until one of mask (or EPOLLERR/EPOLLHUP) holds and returns
	// the ready bits, or EAGAIN at deadline (the zero time waits forever).
	Wait(mask uint32, deadline time.Time) (uint32, error)
	SetNonblock(bool)
}

// Linux limits of socket(2) arguments.
const (
	sockTypeMask = 0xf // SOCK_TYPE_MASK
	sockMax      = 11  // SOCK_MAX: types at or above it are EINVAL
	ipprotoMax   = 263 // IPPROTO_MAX: protocols at or above it are EINVAL
	nproto       = 46  // NPROTO: families at or above it are EAFNOSUPPORT
)

// New creates a socket as socket(2) does, with Linux's checks in Linux's
// order: flag bits, family, type range, protocol range, the type/protocol
// pair, then permissions.
//
// Deviations: SOCK_PACKET (a Linux relic mapped to packet sockets) answers
// ESOCKTNOSUPPORT, IPPROTO_MPTCP and raw protocols above 255 answer
// EPROTONOSUPPORT.
func New(s *stack.Stack, domain, typ, proto int) (Socket, error) {
	if s == nil {
		return nil, unix.EINVAL // no stack to make it in
	}
	flags := typ &^ sockTypeMask
	typ &= sockTypeMask
	if flags&^(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) != 0 {
		return nil, unix.EINVAL
	}
	if domain < 0 || domain >= nproto || domain != unix.AF_INET && domain != unix.AF_INET6 {
		return nil, unix.EAFNOSUPPORT
	}
	if typ >= sockMax {
		return nil, unix.EINVAL
	}
	if proto < 0 || proto >= ipprotoMax {
		return nil, unix.EINVAL
	}
	nonblock := flags&unix.SOCK_NONBLOCK != 0
	if domain == unix.AF_INET6 {
		sock, err := newInet6(s, typ, proto) // inet6.go
		if err != nil {
			return nil, err
		}
		sock.SetNonblock(nonblock)
		sock.(interface{ track() }).track()
		return sock, nil
	}
	var (
		sock Socket
		err  error
	)
	switch typ {
	case unix.SOCK_STREAM:
		if proto != 0 && proto != unix.IPPROTO_TCP {
			return nil, unix.EPROTONOSUPPORT
		}
		sock, err = newTCP(s)
	case unix.SOCK_DGRAM:
		switch proto {
		case 0, unix.IPPROTO_UDP:
			sock, err = newUDP(s)
		case unix.IPPROTO_ICMP:
			sock, err = newPing(s)
		case unix.IPPROTO_UDPLITE:
			sock, err = newUDPLite(s)
		default:
			return nil, unix.EPROTONOSUPPORT
		}
	case unix.SOCK_RAW:
		// Raw matches any protocol but IPPROTO_IP (0) in inet_create's
		// lookup, and the capability check comes after the lookup.
		if proto == 0 || proto > 255 {
			return nil, unix.EPROTONOSUPPORT
		}
		if !s.Caps().Has(stack.CapNetRaw) {
			return nil, unix.EPERM
		}
		sock, err = newRaw(s, proto)
	default:
		return nil, unix.ESOCKTNOSUPPORT
	}
	if err != nil {
		return nil, err
	}
	sock.SetNonblock(nonblock)
	sock.(interface{ track() }).track()
	return sock, nil
}
