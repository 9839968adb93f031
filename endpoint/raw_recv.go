package endpoint

import "gvisor.dev/gvisor/pkg/tcpip"

// readDatagram reads one raw or ping datagram into p. gVisor refuses a
// zero-length read with ErrBadBuffer (EFAULT) after dequeuing the
// datagram; raw_recvmsg and ping_recvmsg copy nothing and report the
// datagram as truncated, so a zero-length read is made through a 1-byte
// buffer and reported as 0 bytes of res.Total.
func (g *gsock) readDatagram(p []byte, peek bool) (tcpip.ReadResult, tcpip.Error) {
	if len(p) > 0 {
		return g.readOnce(p, peek, true)
	}
	var one [1]byte
	res, e := g.readOnce(one[:], peek, true)
	res.Count = 0
	return res, e
}
