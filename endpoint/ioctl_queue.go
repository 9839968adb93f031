package endpoint

import (
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"netsandbox/stack"
)

// The protocols' own ioctls: queue sizes.

// udpIoctl is udp_ioctl. SIOCINQ is the payload size of the next
// datagram (first_packet_length), 0 when none is queued. SIOCOUTQ is
// sk_wmem_alloc: a datagram is charged to its sender until the device
// lets go of it, and our sends hand it over before they return, so
// nothing is ever outstanding (Linux also reports 0 once the datagram has
// left; only one waiting for ARP stays charged there).
func (u *udpSock) udpIoctl(req uint32) (int32, error) {
	switch req {
	case unix.SIOCOUTQ:
		return 0, nil
	case unix.SIOCINQ:
		u.mu.Lock()
		defer u.mu.Unlock()
		if u.queue.len() == 0 {
			return 0, nil
		}
		return int32(len(u.queue.front().d.Payload)), nil
	}
	return 0, errNoIoctlCmd
}

// rawIoctl is raw_ioctl: SIOCINQ is the length of the next packet, IP
// header included; SIOCOUTQ as for UDP. (A queued packet that ICMP_FILTER
// or a multicast filter will drop at the next read still counts here;
// Linux drops those before queueing.)
func (g *rawSock) rawIoctl(req uint32) (int32, error) {
	switch req {
	case unix.SIOCOUTQ:
		return 0, nil
	case unix.SIOCINQ:
		v, e := g.endpoint().GetSockOptInt(tcpip.ReceiveQueueSizeOption)
		if e != nil {
			return 0, stack.Errno(e)
		}
		return int32(v), nil
	}
	return 0, errNoIoctlCmd
}

// tcpIoctl is tcp_ioctl: SIOCINQ the bytes readable (tcp_inq),
// SIOCOUTQ the bytes not yet acknowledged (write_seq - snd_una),
// SIOCOUTQNSD those not yet sent (write_seq - snd_nxt); EINVAL on a
// listener, 0 while the handshake runs; SIOCATMARK whether the next byte
// is urgent data.
func (t *tcpSock) tcpIoctl(req uint32) (int32, error) {
	switch req {
	case unix.SIOCINQ, unix.SIOCOUTQ, unix.SIOCOUTQNSD:
	case unix.SIOCATMARK:
		// gVisor's TCP does not keep urgent data apart (MSG_OOB is not
		// implemented), so there is no mark to be at.
		return 0, nil
	default:
		return 0, errNoIoctlCmd
	}
	ep := t.endpoint()
	switch tcp.EndpointState(ep.State()) {
	case tcp.StateListen:
		return 0, unix.EINVAL
	case tcp.StateSynSent, tcp.StateSynRecv:
		return 0, nil
	}
	if req == unix.SIOCINQ {
		v, e := ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption)
		if e != nil {
			return 0, stack.Errno(e)
		}
		return int32(v), nil
	}
	q, ok := tcpSendQueue(ep)
	if !ok {
		return 0, unix.EOPNOTSUPP
	}
	if req == unix.SIOCOUTQ {
		return int32(q.unacked), nil
	}
	return int32(q.unsent), nil
}
