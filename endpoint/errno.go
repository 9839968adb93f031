package endpoint

import (
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// errnoOf maps a gVisor error to the errno Linux reports for the same
// condition. It is the only place tcpip.Error turns into unix.Errno, so
// every gVisor-backed socket answers with one vocabulary.
func errnoOf(e tcpip.Error) unix.Errno {
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

// errOf is errnoOf returning a Go error (nil for no error).
func errOf(e tcpip.Error) error {
	if e == nil {
		return nil
	}
	if n := errnoOf(e); n != 0 {
		return n
	}
	return nil
}
