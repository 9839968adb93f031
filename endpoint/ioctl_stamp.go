package endpoint

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"netsandbox/options"
)

// sockStamp is sk_stamp, the time SIOCGSTAMP reports: that of the last
// datagram recvmsg handed out, as sock_recv_cmsgs/sock_recv_timestamp
// record it.
type sockStamp struct {
	// v is 0 before any record (SK_DEFAULT_STAMP: ENOENT), stampNone
	// after a datagram without a receive time was read (the next
	// SIOCGSTAMP takes the time then), else Unix nanoseconds.
	v atomic.Int64
	// on is SOCK_TIMESTAMP, set by the first SIOCGSTAMP: from then on
	// arrivals are stamped and every read records its datagram's time.
	on atomic.Bool
}

const stampNone = -1

func (s *sockStamp) write(kt int64) {
	if kt == 0 {
		kt = stampNone
	}
	s.v.Store(kt)
}

// wanted tells the receive path to note arrival times for SIOCGSTAMP.
func (s *sockStamp) wanted() bool { return s.on.Load() }

// noteRecv records the datagram just read (kt its arrival time, 0 if none
// was taken) as sock_recv_cmsgs does for UDP and raw sockets: with
// SO_TIMESTAMP or SO_RXQ_OVFL on, sock_recv_timestamp writes it unless
// SO_TIMESTAMP is on; otherwise it is written once SIOCGSTAMP was used,
// and a first read marks the socket as having received.
func (s *sockStamp) noteRecv(f rxFlags, kt int64) {
	switch {
	case f&(rxStamp|rxQueueOvfl) != 0:
		if f&rxStamp == 0 {
			s.write(kt)
		}
	case s.on.Load():
		s.write(kt)
	case s.v.Load() == 0:
		s.write(0)
	}
}

// noteRecvPing is ping_recvmsg's sock_recv_timestamp: written unless
// SO_TIMESTAMP is on.
func (s *sockStamp) noteRecvPing(f rxFlags, kt int64) {
	if f&rxStamp == 0 {
		s.write(kt)
	}
}

// get is sock_gettstamp: ENOENT before anything was read, the current
// time (kept) if the datagram had none, then a struct timeval or
// timespec into arg.
func (s *sockStamp) get(arg []byte, timeval bool) error {
	s.on.Store(true)
	v := s.v.Load()
	if v == 0 {
		return unix.ENOENT
	}
	if v == stampNone {
		v = time.Now().UnixNano()
		s.v.Store(v)
	}
	tv := options.Timeval(v, timeval)
	if copy(arg, tv[:]) < len(tv) {
		return unix.EFAULT // copy_to_user wrote what fits before the fault
	}
	return nil
}

// noteRecvStamp records a raw or ping datagram just read for SIOCGSTAMP
// (gVisor stamps every arrival).
func (g *dgramSock) noteRecvStamp(f rxFlags, cm *tcpip.ReceivableControlMessages) {
	var kt int64
	if cm.HasTimestamp {
		kt = cm.Timestamp.UnixNano()
	}
	g.kind.noteStamp(f, kt)
}
