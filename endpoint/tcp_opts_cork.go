package endpoint

import (
	"gvisor.dev/gvisor/pkg/tcpip"
)

// TCP_CORK's full segments. Linux holds back only the partial segment at
// the end of what is queued (tcp_mss_split_point cuts a corked send at the
// last full segment), so a header written before a body leaves in full
// segments. gVisor's sender holds a queued segment shorter than its MSS,
// but sends a longer one whole, its tail included, and sends a short
// held segment alone when the next one is too long to join it. So a
// corked write is handed to gVisor in pieces cut where Linux's segments
// end: what completes the unsent tail to a full segment (gVisor merges
// the two), the full segments after it, and the new tail, which gVisor
// then holds. (gVisor arms its 200 ms cork timer only once until a full
// segment goes out, so a later held tail waits for the uncork.)

// writeStream queues what it can of src on the connection.
func (t *tcpSock) writeStream(src Source, wo tcpip.WriteOptions) (int64, tcpip.Error) {
	ep := t.endpoint()
	if !ep.SocketOptions().GetCorkOption() {
		return ep.Write(src, wo)
	}
	in, ok := tcpInternalsOf(ep, t.s.Gvisor().Clock())
	q, qok := tcpSendQueue(ep)
	if !ok || !qok || in.maxPayload <= 0 {
		return ep.Write(src, wo)
	}
	mss := in.maxPayload
	fill := (mss - q.unsent%mss) % mss
	total := src.Len()
	if fill >= total {
		return ep.Write(src, wo)
	}
	full := (total - fill) / mss * mss
	var done int64
	for _, size := range []int{fill, full, total - fill - full} {
		if size == 0 {
			continue
		}
		n, e := ep.Write(&limitedSource{src: src, n: size}, wo)
		done += n
		if e != nil || n < int64(size) {
			return done, e
		}
	}
	return done, nil
}
