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
	return k.sendStream(src, flags, k.Readiness, func() (int64, tcpip.Error) {
		return k.endpoint().Write(src, wo)
	}, errOf)
}
