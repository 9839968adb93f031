package endpoint

import (
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"netsandbox/options"
)

// SendFrom implements StreamIO for an AF_INET6 stream: tcp_sendmsg queues
// all of src unless the socket may not block, returning a partial count
// when a later wait fails (a signal, SO_SNDTIMEO) after some was queued.
func (k *sock6) SendFrom(src Source, oob, to []byte, flags int) (int, error) {
	if k.isClosed() {
		return 0, unix.EBADF
	}
	if k.typ != unix.SOCK_STREAM || flags&unix.MSG_OOB != 0 {
		return 0, unix.EOPNOTSUPP
	}
	if _, err := options.ParseSocketSendControl(oob, sendCmsgPolicy(k.s)); err != nil {
		return 0, err
	}
	// tcp_sendmsg ignores the destination of a connected socket.
	wo := tcpip.WriteOptions{More: flags&unix.MSG_MORE != 0}
	deadline := deadlineAfter(k.optsSnapshot().sndTimeo)
	done := 0
	for {
		n, e := k.endpoint().Write(src, wo)
		done += int(n)
		if e == nil && src.Len() == 0 {
			return done, nil
		}
		if e != nil {
			if _, wb := e.(*tcpip.ErrWouldBlock); !wb {
				if done > 0 {
					return done, nil
				}
				return 0, errOf(e)
			}
		}
		if !k.mayBlock(flags) {
			if done > 0 {
				return done, nil
			}
			return 0, unix.EAGAIN
		}
		if _, err := k.waitReady(k.Readiness, unix.EPOLLOUT, deadline); err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
	}
}
