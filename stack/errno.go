package stack

import (
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// caller names who met a gVisor error: Linux reports a few conditions with a
// different errno depending on the call that met them, so the one table below
// (errnoFor) takes the caller as a column.
type caller uint8

const (
	// socketCall is a socket's own call (bind, connect, sendmsg, recvmsg,
	// setsockopt) answered by a gVisor endpoint.
	socketCall caller = iota
	// stackSend is a packet the stack writes itself for a socket (our UDP,
	// IP options, fragments). Linux's ip_output reports a full device queue
	// as ENOBUFS, not EAGAIN, and a refused packet as EPERM.
	stackSend
	// stackConfig is the stack configuring gVisor (NICs, addresses, protocol
	// options, taps) with arguments it has already checked, as Linux's
	// netlink and sysctl handlers answer: a NIC that exists is EEXIST, an
	// argument gVisor rejects is EINVAL, a protocol it lacks EOPNOTSUPP.
	stackConfig
)

// Errno maps a gVisor error met by a socket call to the errno Linux reports
// for the same condition.
func Errno(e tcpip.Error) unix.Errno { return errnoFor(e, socketCall) }

// sendErrno is Errno for a packet the stack writes itself.
func sendErrno(e tcpip.Error) unix.Errno { return errnoFor(e, stackSend) }

// configErrno is Errno for the stack's own configuration of gVisor.
func configErrno(e tcpip.Error) unix.Errno { return errnoFor(e, stackConfig) }

// errnoFor is the one table of tcpip.Error to unix.Errno.
func errnoFor(e tcpip.Error, c caller) unix.Errno {
	switch e.(type) {
	case nil:
		return 0
	case *tcpip.ErrAborted, *tcpip.ErrConnectionAborted:
		return unix.ECONNABORTED
	case *tcpip.ErrAddressFamilyNotSupported:
		return unix.EAFNOSUPPORT
	case *tcpip.ErrAlreadyBound, *tcpip.ErrInvalidEndpointState, *tcpip.ErrInvalidOptionValue,
		*tcpip.ErrInvalidPortRange, *tcpip.ErrMalformedHeader, *tcpip.ErrMissingRequiredFields,
		*tcpip.ErrMulticastInputCannotBeOutput:
		return unix.EINVAL
	case *tcpip.ErrAlreadyConnected:
		return unix.EISCONN
	case *tcpip.ErrAlreadyConnecting:
		return unix.EALREADY
	case *tcpip.ErrConnectStarted:
		return unix.EINPROGRESS
	case *tcpip.ErrBadAddress:
		if c == stackConfig {
			return unix.EINVAL
		}
		return unix.EFAULT
	case *tcpip.ErrBadLocalAddress:
		return unix.EADDRNOTAVAIL
	case *tcpip.ErrNotPermitted:
		if c == stackSend {
			return unix.EPERM
		}
		return unix.EACCES
	case *tcpip.ErrBroadcastDisabled:
		return unix.EACCES
	case *tcpip.ErrBadBuffer:
		return unix.EFAULT
	case *tcpip.ErrClosedForReceive:
		// Reading after SHUT_RD is end of file, which callers turn into 0.
		return 0
	case *tcpip.ErrClosedForSend:
		return unix.EPIPE
	case *tcpip.ErrConnectionRefused:
		return unix.ECONNREFUSED
	case *tcpip.ErrConnectionReset:
		return unix.ECONNRESET
	case *tcpip.ErrDestinationRequired:
		return unix.EDESTADDRREQ
	case *tcpip.ErrDuplicateAddress, *tcpip.ErrPortInUse:
		return unix.EADDRINUSE
	case *tcpip.ErrDuplicateNICID:
		if c == stackConfig {
			return unix.EEXIST
		}
		return unix.EBUSY
	case *tcpip.ErrEndpointBusy:
		return unix.EBUSY
	case *tcpip.ErrInvalidNICID:
		if c == stackConfig {
			return unix.EINVAL
		}
		return unix.ENODEV
	case *tcpip.ErrUnknownNICID, *tcpip.ErrUnknownDevice:
		return unix.ENODEV
	case *tcpip.ErrMessageTooLong:
		return unix.EMSGSIZE
	case *tcpip.ErrNetworkUnreachable, *tcpip.ErrNoNet:
		return unix.ENETUNREACH
	case *tcpip.ErrHostUnreachable:
		return unix.EHOSTUNREACH
	case *tcpip.ErrHostDown:
		return unix.EHOSTDOWN
	case *tcpip.ErrNoBufferSpace:
		return unix.ENOBUFS
	case *tcpip.ErrNoPortAvailable:
		return unix.EAGAIN
	case *tcpip.ErrNoSuchFile:
		return unix.ENOENT
	case *tcpip.ErrNotConnected:
		return unix.ENOTCONN
	case *tcpip.ErrNotSupported, *tcpip.ErrQueueSizeNotSupported:
		return unix.EOPNOTSUPP
	case *tcpip.ErrTimeout:
		return unix.ETIMEDOUT
	case *tcpip.ErrUnknownProtocol:
		if c == stackConfig {
			return unix.EOPNOTSUPP
		}
		return unix.EPROTONOSUPPORT
	case *tcpip.ErrUnknownProtocolOption:
		return unix.ENOPROTOOPT
	case *tcpip.ErrWouldBlock:
		if c == stackSend {
			return unix.ENOBUFS
		}
		return unix.EAGAIN
	default:
		// A gVisor error we have not classified: fail loudly rather than
		// pretend success.
		return unix.EINVAL
	}
}
