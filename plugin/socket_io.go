package plugin

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/context"
	"gvisor.dev/gvisor/pkg/errors/linuxerr"
	"gvisor.dev/gvisor/pkg/sentry/kernel"
	ktime "gvisor.dev/gvisor/pkg/sentry/ktime"
	"gvisor.dev/gvisor/pkg/sentry/socket"
	"gvisor.dev/gvisor/pkg/sentry/vfs"
	"gvisor.dev/gvisor/pkg/syserr"
	"gvisor.dev/gvisor/pkg/usermem"
	"gvisor.dev/gvisor/pkg/waiter"
)

const (
	// maxDatagram bounds the buffer a datagram is received into: no IPv4
	// packet is longer, so a larger user buffer changes nothing.
	maxDatagram = 1 << 16
	// maxControl bounds the control buffer (the sentry allows up to
	// maxControlLen, 10 MB, which no IPv4 control message needs).
	maxControl = 1 << 16
)

// dgramBufs holds the buffers a datagram crosses between the task's memory
// and the endpoint (a stream moves straight between them: StreamIO). A
// fresh one per call was a 64 KiB allocation per datagram received; the
// endpoint keeps no reference to the bytes once its call returns, so a
// buffer goes back when the call is done.
var dgramBufs = sync.Pool{New: func() any { b := make([]byte, maxDatagram); return &b }}

// RecvMsg implements socket.Socket.RecvMsg. The endpoint is given a
// control buffer of the caller's length (controlDataLen), so MSG_CTRUNC is
// set exactly when Linux sets it; the complete control messages it wrote
// are then carried to the sentry in socket.ControlMessages (cmsg.go).
func (s *sock) RecvMsg(t *kernel.Task, dst usermem.IOSequence, flags int, haveDeadline bool, deadline ktime.Time, senderRequested bool, controlDataLen uint64) (int, int, linux.SockAddr, uint32, socket.ControlMessages, *syserr.Error) {
	// With no control buffer the endpoint reports MSG_CTRUNC itself; with
	// one it is given room for every message and linuxControl cuts them
	// to the caller's length (cmsg.go).
	var oob []byte
	if controlDataLen > 0 {
		oob = make([]byte, max(min(controlDataLen, maxControl), fullControl))
	}
	w := wait{t: t, blocking: flags&(linux.MSG_DONTWAIT|linux.MSG_ERRQUEUE) == 0 && !s.nonblocking(), haveDeadline: haveDeadline, deadline: deadline}
	var n, oobn, rflags int
	var from []byte
	var serr *syserr.Error
	if s.stream != nil {
		n, oobn, rflags, serr = s.recvStream(w, dst, oob, flags)
	} else {
		n, oobn, rflags, from, serr = s.recvDatagram(w, dst, oob, flags)
	}
	if serr != nil {
		return 0, 0, nil, 0, socket.ControlMessages{}, serr
	}
	cmsgs := oob[:oobn]
	if uint64(len(oob)) > controlDataLen {
		var ctrunc bool
		cmsgs, ctrunc = linuxControl(cmsgs, int(controlDataLen))
		rflags &^= linux.MSG_CTRUNC
		if ctrunc {
			rflags |= linux.MSG_CTRUNC
		}
	}
	var sender linux.SockAddr
	var senderLen uint32
	if senderRequested && len(from) > 0 {
		sender, senderLen = sockaddr(from), uint32(len(from))
	}
	cm := controlMessagesFrom(cmsgs)
	if controlDataLen > 0 && sentryTruncates(&cm, int(min(controlDataLen, maxControl))) {
		rflags |= linux.MSG_CTRUNC
	}
	return n, rflags, sender, senderLen, cm, nil
}

// wait is how one call may block: s.retry's arguments.
type wait struct {
	t            *kernel.Task
	blocking     bool
	haveDeadline bool
	deadline     ktime.Time
}

// recvStream reads the stream straight into the task's memory (one copy,
// as gVisor's own sockets do).
func (s *sock) recvStream(w wait, dst usermem.IOSequence, oob []byte, flags int) (n, oobn, rflags int, serr *syserr.Error) {
	out := dst.Writer(w.t)
	serr = s.retry(w.t, waiter.ReadableEvents, w.blocking, w.haveDeadline, w.deadline, func() error {
		var err error
		n, oobn, rflags, _, err = s.stream.RecvTo(out, out.Len(), oob, flags|unix.MSG_DONTWAIT)
		if out.Len() == 0 && isErrno(err, unix.EFAULT) {
			// gVisor's TCP Read refuses an empty buffer with ErrBadBuffer
			// when data is queued; tcp_recvmsg returns 0 then (and waits
			// while nothing is queued, which the endpoint's EAGAIN gives).
			err = nil
		}
		return err
	})
	if serr != nil {
		return 0, 0, 0, serr
	}
	// MSG_WAITALL: keep reading until the buffer is full, the peer shuts
	// down, an error or a signal.
	if flags&linux.MSG_WAITALL == 0 || flags&linux.MSG_PEEK != 0 || !w.blocking {
		return n, oobn, rflags, nil
	}
	total, got := n, n
	for out.Len() > 0 && got > 0 {
		serr := s.retry(w.t, waiter.ReadableEvents, true, w.haveDeadline, w.deadline, func() error {
			var err error
			got, _, _, _, err = s.stream.RecvTo(out, out.Len(), nil, unix.MSG_DONTWAIT)
			return err
		})
		if serr != nil {
			break
		}
		total += got
	}
	return total, oobn, rflags, nil
}

// recvDatagram receives one datagram through a pooled buffer.
func (s *sock) recvDatagram(w wait, dst usermem.IOSequence, oob []byte, flags int) (n, oobn, rflags int, from []byte, serr *syserr.Error) {
	h := dgramBufs.Get().(*[]byte)
	defer dgramBufs.Put(h)
	buf := (*h)[:min(dst.NumBytes(), maxDatagram)]
	serr = s.retry(w.t, waiter.ReadableEvents, w.blocking, w.haveDeadline, w.deadline, func() error {
		var err error
		n, oobn, rflags, from, err = s.ep.RecvMsg(buf, oob, flags|unix.MSG_DONTWAIT)
		return err
	})
	if serr != nil {
		return 0, 0, 0, nil, serr
	}
	if _, err := dst.CopyOut(w.t, buf[:min(n, len(buf))]); err != nil {
		return 0, 0, 0, nil, syserr.FromError(err)
	}
	return n, oobn, rflags, from, nil
}

// SendMsg implements socket.Socket.SendMsg.
func (s *sock) SendMsg(t *kernel.Task, src usermem.IOSequence, to []byte, flags int, haveDeadline bool, deadline ktime.Time, cms socket.ControlMessages) (int, *syserr.Error) {
	oob, serr := controlBytes(cms)
	if serr != nil {
		return 0, serr
	}
	w := wait{t: t, blocking: flags&linux.MSG_DONTWAIT == 0 && !s.nonblocking(), haveDeadline: haveDeadline, deadline: deadline}
	if s.stream != nil {
		return s.sendStream(w, src, oob, to, flags)
	}
	buf := make([]byte, src.NumBytes())
	if _, err := src.CopyIn(t, buf); err != nil {
		return 0, syserr.FromError(err)
	}
	var n int
	serr = s.retry(t, waiter.WritableEvents, w.blocking, haveDeadline, deadline, func() error {
		var err error
		n, err = s.ep.SendMsg(buf, oob, to, flags|unix.MSG_DONTWAIT)
		return err
	})
	return n, serr
}

// sendStream queues the task's data straight from its memory (one copy). A
// stream sends everything unless it would block on a non-blocking socket,
// fails, or a signal or timeout comes after some was sent.
func (s *sock) sendStream(w wait, src usermem.IOSequence, oob, to []byte, flags int) (int, *syserr.Error) {
	in := src.Reader(w.t)
	total := 0
	for {
		var n int
		serr := s.retry(w.t, waiter.WritableEvents, w.blocking, w.haveDeadline, w.deadline, func() error {
			var err error
			n, err = s.stream.SendFrom(in, oob, to, flags|unix.MSG_DONTWAIT)
			return err
		})
		total += n
		if serr != nil {
			if isSysErrno(serr, unix.EPIPE) && flags&linux.MSG_NOSIGNAL == 0 {
				w.t.SendSignal(kernel.SignalInfoPriv(linux.SIGPIPE))
			}
			if total > 0 && !isSysErrno(serr, unix.EPIPE) {
				return total, nil
			}
			return total, serr
		}
		if in.Len() == 0 || !w.blocking {
			return total, nil
		}
	}
}

// timeoutFlags turns SO_RCVTIMEO or SO_SNDTIMEO (the sentry's nanoseconds:
// 0 none, negative for a non-blocking file) into the flags and deadline of
// one recvmsg or sendmsg.
func timeoutFlags(t *kernel.Task, timeout int64) (flags int, haveDeadline bool, deadline ktime.Time) {
	switch {
	case timeout > 0:
		return 0, true, t.Kernel().MonotonicClock().Now().Add(time.Duration(timeout))
	case timeout < 0:
		return linux.MSG_DONTWAIT, false, ktime.Time{}
	}
	return 0, false, ktime.Time{}
}

// Read implements vfs.FileDescriptionImpl.Read: recv(2) with no flags,
// honouring SO_RCVTIMEO.
func (s *sock) Read(ctx context.Context, dst usermem.IOSequence, opts vfs.ReadOptions) (int64, error) {
	if opts.Flags != 0 {
		return 0, linuxerr.EOPNOTSUPP
	}
	t := kernel.TaskFromContext(ctx)
	if t == nil {
		return 0, linuxerr.EINVAL
	}
	flags, haveDeadline, deadline := timeoutFlags(t, s.RecvTimeout())
	n, _, _, _, cms, serr := s.RecvMsg(t, dst, flags, haveDeadline, deadline, false, 0)
	cms.Release(t)
	if serr != nil {
		return 0, serr.ToError()
	}
	return int64(n), nil
}

// Write implements vfs.FileDescriptionImpl.Write: send(2) with no flags,
// honouring SO_SNDTIMEO.
func (s *sock) Write(ctx context.Context, src usermem.IOSequence, opts vfs.WriteOptions) (int64, error) {
	if opts.Flags != 0 {
		return 0, linuxerr.EOPNOTSUPP
	}
	t := kernel.TaskFromContext(ctx)
	if t == nil {
		return 0, linuxerr.EINVAL
	}
	flags, haveDeadline, deadline := timeoutFlags(t, s.SendTimeout())
	n, serr := s.SendMsg(t, src, nil, flags, haveDeadline, deadline, socket.ControlMessages{})
	if serr != nil {
		return int64(n), serr.ToError()
	}
	return int64(n), nil
}
