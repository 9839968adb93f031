package endpoint

import (
	"reflect"
	"unsafe"

	gsync "gvisor.dev/gvisor/pkg/sync"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// gVisor's TCP keeps the send queue's byte count (sndQueueInfo.SndBufUsed:
// written and not yet acknowledged) and the sender's SndUna/SndNxt, but
// exports no getter (tcpip.SendQueueSizeOption is not implemented for
// TCP). tcpSendQueue reads them by field name, under the locks gVisor
// takes for them (the endpoint's user lock, then sndQueueMu);
// TestTCPSendQueueLayout fails if a gVisor update moves them.

type tcpSendQ struct {
	unacked int // write_seq - snd_una
	unsent  int // write_seq - snd_nxt
}

// tcpSendQueue returns the send queue of a gVisor TCP endpoint; ok is
// false if ep is not one or the fields are not where expected.
func tcpSendQueue(ep tcpip.Endpoint) (q tcpSendQ, ok bool) {
	te, isTCP := ep.(*tcp.Endpoint)
	if !isTCP || te == nil {
		return q, false
	}
	v := reflect.ValueOf(te).Elem()
	sq := v.FieldByName("sndQueueInfo")
	if !sq.IsValid() {
		return q, false
	}
	muField := sq.FieldByName("sndQueueMu")
	used := sq.FieldByName("SndBufUsed")
	snd := v.FieldByName("snd")
	if !muField.IsValid() || muField.NumField() != 1 || muField.Field(0).Type() != reflect.TypeOf(gsync.Mutex{}) ||
		used.Kind() != reflect.Int || snd.Kind() != reflect.Pointer {
		return q, false
	}
	mu := (*gsync.Mutex)(unsafe.Pointer(muField.Field(0).UnsafeAddr()))

	te.LockUser()
	defer te.UnlockUser()
	inflight := 0
	if s := v.FieldByName("snd"); !s.IsNil() {
		st := s.Elem().FieldByName("TCPSenderState")
		una, nxt := st.FieldByName("SndUna"), st.FieldByName("SndNxt")
		if una.Kind() != reflect.Uint32 || nxt.Kind() != reflect.Uint32 {
			return q, false
		}
		inflight = int(uint32(nxt.Uint()) - uint32(una.Uint()))
	}
	mu.Lock()
	q.unacked = int(used.Int())
	mu.Unlock()
	// SndNxt also counts a sent FIN, which the byte count does not.
	q.unsent = max(0, q.unacked-inflight)
	return q, true
}
