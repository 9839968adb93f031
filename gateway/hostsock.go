package gateway

import (
	"errors"
	"net/netip"
	"os"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// hostSock is a host kernel datagram socket (UDP, ping or raw ICMP) driven
// through Go's poller, so reads honour deadlines and Close wakes them.
type hostSock struct {
	f  *os.File
	rc syscall.RawConn
}

func openHostSock(typ, proto int) (*hostSock, error) {
	return openHostSockFamily(unix.AF_INET, typ, proto)
}

// openHostSockFor opens a socket of dst's family: AF_INET6 for an IPv6
// destination (hostsock6.go's options apply to it).
func openHostSockFor(dst netip.Addr, typ, proto int) (*hostSock, error) {
	if dst.Is6() {
		return openHostSockFamily(unix.AF_INET6, typ, proto)
	}
	return openHostSockFamily(unix.AF_INET, typ, proto)
}

func openHostSockFamily(family, typ, proto int) (*hostSock, error) {
	fd, err := unix.Socket(family, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "gateway-socket")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &hostSock{f: f, rc: rc}, nil
}

func (h *hostSock) Close() error { return h.f.Close() }

func (h *hostSock) control(fn func(fd int) error) error {
	var err error
	if cerr := h.rc.Control(func(fd uintptr) { err = fn(int(fd)) }); cerr != nil {
		return cerr
	}
	return err
}

func (h *hostSock) setInt(level, opt, v int) error {
	return h.control(func(fd int) error { return unix.SetsockoptInt(fd, level, opt, v) })
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if ap.Addr().Is6() {
		return &unix.SockaddrInet6{Addr: ap.Addr().As16(), Port: int(ap.Port())}
	}
	return &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}
}

func (h *hostSock) bind(ap netip.AddrPort) error {
	return h.control(func(fd int) error { return unix.Bind(fd, sockaddr(ap)) })
}

func (h *hostSock) connect(ap netip.AddrPort) error {
	return h.control(func(fd int) error { return unix.Connect(fd, sockaddr(ap)) })
}

// sendTo sends p (to may be invalid on a connected socket). A full socket
// buffer drops the datagram, as a router's queue would.
func (h *hostSock) sendTo(p []byte, to netip.AddrPort) error {
	var err error
	cerr := h.rc.Write(func(fd uintptr) bool {
		err = rawSendto(int(fd), p, to) // rawsys.go
		return true
	})
	if cerr != nil {
		return cerr
	}
	return err
}

// The errnos a send returns instead of sending when an ICMP error about
// an earlier packet left one pending on the socket (sk_err), as the kernel
// maps each error (TestUDPPendingErrors reads them back): a UDP socket's,
// per family (only ICMPv6 gives EACCES: administratively prohibited, a
// failed source policy, a reject route; only ICMP gives ENOPROTOOPT,
// EOPNOTSUPP, EHOSTDOWN and ENONET), and a ping or raw ICMP socket's.
// EMSGSIZE is also what a datagram larger than the path MTU gets: the
// second send then fails the same way and is handled as too big.
var (
	udpPendingErrs = []unix.Errno{unix.ECONNREFUSED, unix.EHOSTUNREACH, unix.ENETUNREACH, unix.EPROTO,
		unix.ENOPROTOOPT, unix.EOPNOTSUPP, unix.EHOSTDOWN, unix.ENONET, unix.EMSGSIZE}
	udpPendingErrs6 = []unix.Errno{unix.ECONNREFUSED, unix.EHOSTUNREACH, unix.ENETUNREACH, unix.EPROTO,
		unix.EACCES, unix.EMSGSIZE}
	pingPendingErrs = []unix.Errno{unix.EHOSTUNREACH, unix.ENETUNREACH, unix.ECONNREFUSED, unix.EPROTO, unix.EACCES}
)

// sendPastError is sendTo for a relayed packet. A send that returns one
// of pending (the errno of an ICMP error about an earlier packet, which
// the send has now cleared) did not send p, but a router forwards every
// packet: p is sent again, and *taken set so that the flow's reply loop
// reads the error itself from the error queue.
func (h *hostSock) sendPastError(p []byte, to netip.AddrPort, taken *atomic.Bool, pending []unix.Errno) error {
	err := h.sendTo(p, to)
	if errno, ok := err.(unix.Errno); ok && slices.Contains(pending, errno) {
		taken.Store(true)
		err = h.sendTo(p, to)
	}
	return err
}

// recv reads one datagram (or, with errQueue, one error-queue message) and
// its control messages, waiting at most until deadline. EAGAIN without
// errQueue means the socket woke with no datagram: the link's reader took
// it (echoInline), or an error-queue message is waiting whose pending
// error a send already took (the poller is edge-triggered and reports it
// once); the caller looks at the queue.
func (h *hostSock) recv(p, oob []byte, errQueue bool, deadline time.Time) (n, oobn int, from netip.AddrPort, err error) {
	h.f.SetReadDeadline(deadline)
	flags := 0
	if errQueue {
		flags = unix.MSG_ERRQUEUE
	}
	calls := 0
	cerr := h.rc.Read(func(fd uintptr) bool {
		calls++
		n, oobn, from, err = rawRecvmsg(int(fd), p, oob, flags) // rawsys.go
		if errQueue && err == unix.EAGAIN {
			// The error queue raises EPOLLERR, which the poller reports as
			// readable; nothing queued means a normal datagram woke us.
			return true
		}
		if err == unix.EAGAIN {
			return calls > 1 // woken for nothing to read: see above
		}
		return true
	})
	if cerr != nil {
		return 0, 0, from, cerr
	}
	return n, oobn, from, err
}

func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// cmsgInfo is what the gateway reads from a host datagram's control
// messages.
type cmsgInfo struct {
	ttl, tos uint8
	hasTTL   bool
	ee       *unix.SockExtendedErr
	offender netip.Addr
}

func parseCmsgs(oob []byte) cmsgInfo {
	var ci cmsgInfo
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return ci
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_IPV6 {
			ci.parse6(m) // hostsock6.go
			continue
		}
		if m.Header.Level != unix.SOL_IP {
			continue
		}
		switch m.Header.Type {
		case unix.IP_TTL:
			if len(m.Data) >= 4 {
				ci.ttl, ci.hasTTL = uint8(nativeInt(m.Data)), true
			}
		case unix.IP_TOS:
			if len(m.Data) >= 1 {
				ci.tos = m.Data[0]
			}
		case unix.IP_RECVERR:
			if len(m.Data) >= sizeofSockExtendedErr {
				ee := *(*unix.SockExtendedErr)(unsafePointer(m.Data))
				ci.ee = &ee
				// The offender's sockaddr_in follows the struct.
				if off := m.Data[sizeofSockExtendedErr:]; len(off) >= 8 && off[0]|off[1] != 0 {
					ci.offender = netip.AddrFrom4([4]byte{off[4], off[5], off[6], off[7]})
				}
			}
		}
	}
	return ci
}

// sandboxTTL is the TTL (or hop limit) a packet the host received with
// ci's goes on with into the sandbox, the gateway being one more hop: one
// less, or 0 (the route's default) when the host did not say or it was 1.
func (ci *cmsgInfo) sandboxTTL() uint8 {
	if ci.hasTTL && ci.ttl > 1 {
		return ci.ttl - 1
	}
	return 0
}

// sizeofSockExtendedErr is sizeof(struct sock_extended_err).
const sizeofSockExtendedErr = 16
