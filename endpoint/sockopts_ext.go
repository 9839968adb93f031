package endpoint

import (
	"golang.org/x/sys/unix"

	"netsandbox/options"
	"netsandbox/stack"
)

// More SOL_SOCKET options as sk_setsockopt/sk_getsockopt (Linux 6.18)
// answer them on an AF_INET socket:
//
//   - SO_PEERCRED, SO_PEERGROUPS, SO_PEERPIDFD: an inet socket has no peer
//     credentials: pid 0 and uid/gid -1 (cred_to_ucred of nothing), and
//     ENODATA.
//   - SO_PASSSEC, SO_PASSPIDFD, SO_PASSRIGHTS: credentials and rights
//     pass only over AF_UNIX and netlink (sk_may_scm_recv): EOPNOTSUPP,
//     as SO_PASSCRED.
//   - SO_BSDCOMPAT: accepted and ignored, reads 0.
//   - SO_BUSY_POLL, SO_PREFER_BUSY_POLL, SO_BUSY_POLL_BUDGET: busy polling
//     spins on a device queue's NAPI context, which netsandbox's links do
//     not have (Linux does not busy-poll such sockets either): the values
//     are kept, with Linux's checks.
//   - SO_TXREHASH (TCP only): whether a retransmission timeout picks a new
//     flow hash, which only steers multipath routing and device queue
//     choice, neither of which netsandbox has: kept.
//   - SO_SELECT_ERR_QUEUE: poll on a UDP, raw or ping socket adds EPOLLPRI
//     to the EPOLLERR of a pending error or a queued one (datagram_poll;
//     tcp_poll does not).
//   - SO_BUF_LOCK: the SOCK_SNDBUF_LOCK/SOCK_RCVBUF_LOCK bits, also set by
//     SO_SNDBUF/SO_RCVBUF; they stop buffer autotuning, which netsandbox's
//     TCP never does once its buffers are given (pushOpts): kept.

// Linux numbers golang.org/x/sys/unix does not name.
const (
	soBusyPollBudget = 70 // SO_BUSY_POLL_BUDGET
	soPassPidfd      = 76 // SO_PASSPIDFD
	soPeerPidfd      = 77 // SO_PEERPIDFD
	soPassRights     = 83 // SO_PASSRIGHTS

	sockSndbufLock  = 1 // SOCK_SNDBUF_LOCK
	sockRcvbufLock  = 2 // SOCK_RCVBUF_LOCK
	sockBufLockMask = sockSndbufLock | sockRcvbufLock
)

// sockExtOpts are those options' values.
type sockExtOpts struct {
	busyPoll       int32  // sk_ll_usec
	preferBusyPoll bool   // sk_prefer_busy_poll
	busyPollBudget uint16 // sk_busy_poll_budget
	selectErrQueue bool   // SOCK_SELECT_ERR_QUEUE
	noTxRehash     bool   // SO_TXREHASH 0; a fresh socket has net.core.txrehash (1)
	bufLock        uint8  // sk_userlocks & SOCK_BUF_LOCK_MASK
}

// setSockExtLocked sets one of these options; optMu is held and v is the
// int the caller read (optlen >= 4).
func (b *base) setSockExtLocked(name int, v int32) error {
	x := &b.opts.misc.ext
	admin := b.s.Caps().Has(stack.CapNetAdmin)
	switch name {
	case unix.SO_BSDCOMPAT:
	case unix.SO_PASSSEC, soPassPidfd, soPassRights:
		return unix.EOPNOTSUPP
	case unix.SO_SELECT_ERR_QUEUE:
		x.selectErrQueue = v != 0
	case unix.SO_BUSY_POLL:
		if v < 0 {
			return unix.EINVAL
		}
		x.busyPoll = v
	case unix.SO_PREFER_BUSY_POLL:
		if v != 0 && !admin {
			return unix.EPERM
		}
		x.preferBusyPoll = v != 0
	case soBusyPollBudget:
		if v > int32(x.busyPollBudget) && !admin {
			return unix.EPERM
		}
		if v < 0 || v > 0xffff {
			return unix.EINVAL
		}
		x.busyPollBudget = uint16(v)
	case unix.SO_TXREHASH:
		if b.typ != unix.SOCK_STREAM {
			return unix.EOPNOTSUPP
		}
		if v < -1 || v > 1 {
			return unix.EINVAL
		}
		x.noTxRehash = v == 0 // -1 (SOCK_TXREHASH_DEFAULT) takes the sysctl's 1
	case unix.SO_BUF_LOCK:
		if v&^sockBufLockMask != 0 {
			return unix.EINVAL
		}
		x.bufLock = uint8(v)
	default:
		return unix.ENOPROTOOPT
	}
	return nil
}

// getSockExt reads one of these options.
func (b *base) getSockExt(name int, o sockOpts, buf []byte) (int, error) {
	x := o.misc.ext
	var v int32
	switch name {
	case unix.SO_BSDCOMPAT:
	case unix.SO_PEERCRED:
		var cred [12]byte // struct ucred: pid 0, uid -1, gid -1
		options.PutInt32(cred[4:], -1)
		options.PutInt32(cred[8:], -1)
		return copy(buf, cred[:]), nil
	case unix.SO_PEERGROUPS, soPeerPidfd:
		return 0, unix.ENODATA
	case unix.SO_PASSSEC, soPassPidfd, soPassRights:
		return 0, unix.EOPNOTSUPP
	case unix.SO_SELECT_ERR_QUEUE:
		v = int32(boolInt(x.selectErrQueue))
	case unix.SO_BUSY_POLL:
		v = x.busyPoll
	case unix.SO_PREFER_BUSY_POLL:
		v = int32(boolInt(x.preferBusyPoll))
	case unix.SO_TXREHASH:
		if b.typ != unix.SOCK_STREAM {
			return 0, unix.EOPNOTSUPP
		}
		v = int32(boolInt(!x.noTxRehash))
	case unix.SO_BUF_LOCK:
		v = int32(x.bufLock)
	default:
		return 0, unix.ENOPROTOOPT
	}
	return options.PutSockInt(buf, v), nil
}

// errPri is what poll adds to EPOLLERR on a datagram socket:
// EPOLLPRI under SO_SELECT_ERR_QUEUE.
func (b *base) errPri() uint32 {
	b.optMu.Lock()
	defer b.optMu.Unlock()
	if b.opts.misc.ext.selectErrQueue {
		return unix.EPOLLPRI
	}
	return 0
}
