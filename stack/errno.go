package stack

import (
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// Errno maps a gVisor error met by a socket call (bind, connect, sendmsg,
// recvmsg, setsockopt answered by a gVisor endpoint) to the errno Linux
// reports for the same condition. It is the one table of tcpip.Error to
// unix.Errno; sendErrno and configErrno hold the few rows where the
// stack's own calls read an error differently.
func Errno(e tcpip.Error) unix.Errno {
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
		return unix.EFAULT
	case *tcpip.ErrBadLocalAddress:
		return unix.EADDRNOTAVAIL
	case *tcpip.ErrBroadcastDisabled, *tcpip.ErrNotPermitted:
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
	case *tcpip.ErrDuplicateNICID, *tcpip.ErrEndpointBusy:
		return unix.EBUSY
	case *tcpip.ErrInvalidNICID, *tcpip.ErrUnknownNICID, *tcpip.ErrUnknownDevice:
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
		return unix.EPROTONOSUPPORT
	case *tcpip.ErrUnknownProtocolOption:
		return unix.ENOPROTOOPT
	case *tcpip.ErrWouldBlock:
		return unix.EAGAIN
	default:
		// A gVisor error we have not classified: fail loudly rather than
		// pretend success.
		return unix.EINVAL
	}
}

// sendErrno is Errno for a packet the stack writes itself for a socket
// (our UDP, IP options, fragments), as Linux's ip_output reports it: a
// full device queue is ENOBUFS, not EAGAIN, and a refused packet EPERM.
func sendErrno(e tcpip.Error) unix.Errno {
	switch e.(type) {
	case *tcpip.ErrWouldBlock:
		return unix.ENOBUFS
	case *tcpip.ErrNotPermitted:
		return unix.EPERM
	}
	return Errno(e)
}

// configErrno is Errno for the stack configuring gVisor (NICs, addresses,
// protocol options, taps) with arguments it has checked already, as
// Linux's netlink and sysctl handlers answer: a NIC that exists is EEXIST,
// an argument gVisor rejects EINVAL, a protocol it lacks EOPNOTSUPP.
func configErrno(e tcpip.Error) unix.Errno {
	switch e.(type) {
	case *tcpip.ErrDuplicateNICID:
		return unix.EEXIST
	case *tcpip.ErrBadAddress, *tcpip.ErrInvalidNICID:
		return unix.EINVAL
	case *tcpip.ErrUnknownProtocol:
		return unix.EOPNOTSUPP
	}
	return Errno(e)
}
