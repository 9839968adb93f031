package stack

import (
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// TestErrnoCallers pins the rows where the caller changes the errno.
func TestErrnoCallers(t *testing.T) {
	rows := []struct {
		e                    tcpip.Error
		socket, send, config unix.Errno
	}{
		{&tcpip.ErrWouldBlock{}, unix.EAGAIN, unix.ENOBUFS, unix.EAGAIN},
		{&tcpip.ErrNotPermitted{}, unix.EACCES, unix.EPERM, unix.EACCES},
		{&tcpip.ErrBroadcastDisabled{}, unix.EACCES, unix.EACCES, unix.EACCES},
		{&tcpip.ErrDuplicateNICID{}, unix.EBUSY, unix.EBUSY, unix.EEXIST},
		{&tcpip.ErrEndpointBusy{}, unix.EBUSY, unix.EBUSY, unix.EBUSY},
		{&tcpip.ErrBadAddress{}, unix.EFAULT, unix.EFAULT, unix.EINVAL},
		{&tcpip.ErrInvalidNICID{}, unix.ENODEV, unix.ENODEV, unix.EINVAL},
		{&tcpip.ErrUnknownNICID{}, unix.ENODEV, unix.ENODEV, unix.ENODEV},
		{&tcpip.ErrUnknownProtocol{}, unix.EPROTONOSUPPORT, unix.EPROTONOSUPPORT, unix.EOPNOTSUPP},
		{&tcpip.ErrMessageTooLong{}, unix.EMSGSIZE, unix.EMSGSIZE, unix.EMSGSIZE},
		{nil, 0, 0, 0},
	}
	for _, r := range rows {
		if got := Errno(r.e); got != r.socket {
			t.Errorf("Errno(%v) = %v, want %v", r.e, got, r.socket)
		}
		if got := sendErrno(r.e); got != r.send {
			t.Errorf("sendErrno(%v) = %v, want %v", r.e, got, r.send)
		}
		if got := configErrno(r.e); got != r.config {
			t.Errorf("configErrno(%v) = %v, want %v", r.e, got, r.config)
		}
	}
}
