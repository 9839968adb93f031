package harness

import "time"

// Host is a machine whose socket layer a scenario drives: a kernel network
// namespace or a netsandbox stack.
type Host interface {
	Name() string
	Socket(domain, typ, proto int) (Sock, error)
	// SetSysctl and GetSysctl use /proc/sys names with dots,
	// e.g. "net.ipv4.ping_group_range"; values are space separated.
	SetSysctl(name, value string) error
	GetSysctl(name string) (string, error)
}

// Sock is one socket, shaped like the system calls; errors are unix.Errno.
// Sockaddrs and option values are raw bytes passed through unchanged, so
// malformed input reaches the implementation exactly.
type Sock interface {
	Bind(sa []byte) error
	Connect(sa []byte) error
	Listen(backlog int) error
	Accept(flags int) (Sock, []byte, error)
	GetSockName() ([]byte, error)
	GetPeerName() ([]byte, error)
	SendMsg(p, oob, to []byte, flags int) (int, error)
	RecvMsg(p, oob []byte, flags int) (n, oobn, recvflags int, from []byte, err error)
	SetSockOpt(level, name int, val []byte) error
	// GetSockOpt passes len(buf) as optlen and returns the optlen written back.
	GetSockOpt(level, name int, buf []byte) (int, error)
	Shutdown(how int) error
	Close() error
	// Ioctl is ioctl(2): arg is all the memory the call may touch (nil is
	// NULL; past its end is EFAULT) and receives the results. For
	// SIOCGIFCONF, arg is struct ifconf followed by the buffer, and a
	// non-zero ifc_buf stands for that buffer (see endpoint.Socket).
	Ioctl(req uint, arg []byte) error
	// Poll waits up to timeout for any event in mask (EPOLLIN, EPOLLOUT,
	// EPOLLRDHUP, ...; EPOLLERR and EPOLLHUP are always reported) and returns
	// the events that are ready, 0 on timeout.
	Poll(mask uint32, timeout time.Duration) (uint32, error)
}
