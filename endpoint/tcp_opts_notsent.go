package endpoint

import (
	"math"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"netsandbox/options"
)

// TCP_NOTSENT_LOWAT and TCP_INQ, which gVisor's TCP does not have.

// filterNotsent drops EPOLLOUT from a TCP readiness while TCP_NOTSENT_LOWAT
// says the socket holds too much unsent data: tcp_poll asks
// __sk_stream_is_writeable(sk, 1), whose tcp_stream_memory_free wants
// twice the unsent bytes (write_seq - snd_nxt) below the mark. Without
// the option the mark is net.ipv4.tcp_notsent_lowat (UINT_MAX), which no
// queue reaches. As in tcp_poll, only a connection that may still send is
// concerned. (tcp_sendmsg checks the mark too, with the unsent bytes
// once, but only when it needs a new buffer: the partial one at the tail
// of the queue, up to 64 KB with GSO, still takes data; netsandbox sends
// leave that to gVisor's send buffer.)
func (t *tcpSock) filterNotsent(r uint32) uint32 {
	if r&(unix.EPOLLOUT|unix.EPOLLWRNORM) == 0 {
		return r
	}
	lowat := t.tcpOpts().notsentLowat
	if lowat == 0 {
		return r
	}
	ep := t.endpoint()
	switch tcp.EndpointState(ep.State()) {
	case tcp.StateEstablished, tcp.StateCloseWait:
	default:
		return r
	}
	q, ok := tcpSendQueue(ep) // ioctl_tcpq.go
	if ok && uint64(q.unsent)<<1 >= uint64(lowat) {
		r &^= unix.EPOLLOUT | unix.EPOLLWRNORM
	}
	return r
}

// putInq adds TCP_CM_INQ to a TCP recvmsg that returned without error
// when TCP_INQ is on: the bytes left to read (tcp_inq_hint), or 1 at the
// end of the stream so that the reader goes on to read it.
func (t *tcpSock) putInq(b *options.CmsgBuilder) {
	if !t.tcpOpts().inq {
		return
	}
	ep := t.endpoint()
	inq, e := ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption)
	if e != nil {
		inq = 0
	}
	if inq == 0 && finReceived(tcp.EndpointState(ep.State())) {
		inq = 1 // SOCK_DONE
	}
	b.PutInt32(unix.SOL_TCP, tcpCMInq, int32(min(inq, math.MaxInt32)))
}

// finReceived tells whether a connection has seen its end: the peer's FIN,
// a reset or an abort (SOCK_DONE).
func finReceived(s tcp.EndpointState) bool {
	switch s {
	case tcp.StateCloseWait, tcp.StateLastAck, tcp.StateClosing, tcp.StateTimeWait, tcp.StateClose, tcp.StateError:
		return true
	}
	return false
}
