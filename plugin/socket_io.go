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
	// streamChunk bounds the bytes a stream socket moves per endpoint call.
	streamChunk = 1 << 18
	// maxControl bounds the control buffer (the sentry allows up to
	// maxControlLen, 10 MB, which no IPv4 control message needs).
	maxControl = 1 << 16
)

// ioBufs holds the buffers data crosses between the task's memory and the
// endpoint. A fresh one per call was a large allocation per read or write
// of a stream (up to streamChunk bytes, zeroed, then garbage): a tenth of
// the sentry's CPU in a TCP transfer. Stream sends and every receive use
// them (datagram sends keep a buffer of their own size); the endpoint
// keeps no reference to the bytes once its call returns (gVisor's TCP
// copies what it is given), so a buffer goes back when the call is done.
var ioBufs = sync.Pool{New: func() any { b := make([]byte, streamChunk); return &b }}

// ioBuf returns a pooled buffer of n <= streamChunk bytes and the handle to
// give back to ioBufs.
func ioBuf(n int64) ([]byte, *[]byte) {
	h := ioBufs.Get().(*[]byte)
	return (*h)[:n], h
}

// RecvMsg implements socket.Socket.RecvMsg. The endpoint is given a
// control buffer of the caller's length (controlDataLen), so MSG_CTRUNC is
// set exactly when Linux sets it; the complete control messages it wrote
// are then carried to the sentry in socket.ControlMessages (cmsg.go).
func (s *sock) RecvMsg(t *kernel.Task, dst usermem.IOSequence, flags int, haveDeadline bool, deadline ktime.Time, senderRequested bool, controlDataLen uint64) (int, int, linux.SockAddr, uint32, socket.ControlMessages, *syserr.Error) {
	want := dst.NumBytes()
	size := want
	if s.skType == linux.SOCK_STREAM {
		size = min(size, streamChunk)
	} else {
		size = min(size, maxDatagram)
	}
	buf, h := ioBuf(size)
	defer ioBufs.Put(h)
	// With no control buffer the endpoint reports MSG_CTRUNC itself; with
	// one it is given room for every message and linuxControl cuts them
	// to the caller's length (cmsg.go).
	var oob []byte
	if controlDataLen > 0 {
		oob = make([]byte, max(min(controlDataLen, maxControl), fullControl))
	}
	blocking := flags&(linux.MSG_DONTWAIT|linux.MSG_ERRQUEUE) == 0 && !s.nonblocking()
	var n, oobn, rflags int
	var from []byte
	serr := s.retry(t, waiter.ReadableEvents, blocking, haveDeadline, deadline, func() error {
		var err error
		n, oobn, rflags, from, err = s.ep.RecvMsg(buf, oob, flags|unix.MSG_DONTWAIT)
		if len(buf) == 0 && s.skType == linux.SOCK_STREAM && isErrno(err, unix.EFAULT) {
			// gVisor's TCP Read refuses an empty buffer with ErrBadBuffer
			// when data is queued; tcp_recvmsg returns 0 then (and waits
			// while nothing is queued, which the endpoint's EAGAIN gives).
			err = nil
		}
		return err
	})
	if serr != nil {
		return 0, 0, nil, 0, socket.ControlMessages{}, serr
	}
	copied := min(n, len(buf))
	cmsgs := oob[:oobn]
	if uint64(len(oob)) > controlDataLen {
		var ctrunc bool
		cmsgs, ctrunc = linuxControl(cmsgs, int(controlDataLen))
		rflags &^= linux.MSG_CTRUNC
		if ctrunc {
			rflags |= linux.MSG_CTRUNC
		}
	}
	if _, err := dst.CopyOut(t, buf[:copied]); err != nil {
		return 0, 0, nil, 0, socket.ControlMessages{}, syserr.FromError(err)
	}
	// MSG_WAITALL on a stream: keep reading until the buffer is full, the
	// peer shuts down, an error or a signal.
	if s.skType == linux.SOCK_STREAM && flags&linux.MSG_WAITALL != 0 && flags&linux.MSG_PEEK == 0 && blocking {
		total := int64(copied)
		for total < want && copied > 0 {
			rest := dst.DropFirst64(total)
			chunk := buf[:min(rest.NumBytes(), int64(len(buf)))]
			serr := s.retry(t, waiter.ReadableEvents, true, haveDeadline, deadline, func() error {
				var err error
				copied, _, _, _, err = s.ep.RecvMsg(chunk, nil, unix.MSG_DONTWAIT)
				return err
			})
			if serr != nil || copied == 0 {
				break
			}
			if _, err := rest.CopyOut(t, chunk[:copied]); err != nil {
				break
			}
			total += int64(copied)
		}
		n = int(total)
	}
	var sender linux.SockAddr
	var senderLen uint32
	if senderRequested && len(from) > 0 {
		sender, senderLen = socket.UnmarshalSockAddr(linux.AF_INET, from), uint32(len(from))
	}
	cm := controlMessagesFrom(cmsgs)
	if controlDataLen > 0 && sentryTruncates(&cm, int(min(controlDataLen, maxControl))) {
		rflags |= linux.MSG_CTRUNC
	}
	return n, rflags, sender, senderLen, cm, nil
}

// SendMsg implements socket.Socket.SendMsg.
func (s *sock) SendMsg(t *kernel.Task, src usermem.IOSequence, to []byte, flags int, haveDeadline bool, deadline ktime.Time, cms socket.ControlMessages) (int, *syserr.Error) {
	oob, serr := controlBytes(cms)
	if serr != nil {
		return 0, serr
	}
	blocking := flags&linux.MSG_DONTWAIT == 0 && !s.nonblocking()
	if s.skType != linux.SOCK_STREAM {
		buf := make([]byte, src.NumBytes())
		if _, err := src.CopyIn(t, buf); err != nil {
			return 0, syserr.FromError(err)
		}
		var n int
		serr := s.retry(t, waiter.WritableEvents, blocking, haveDeadline, deadline, func() error {
			var err error
			n, err = s.ep.SendMsg(buf, oob, to, flags|unix.MSG_DONTWAIT)
			return err
		})
		return n, serr
	}
	// A stream sends everything unless it would block on a non-blocking
	// socket, fails, or a signal or timeout comes after some was sent.
	total := 0
	buf, h := ioBuf(min(src.NumBytes(), streamChunk))
	defer ioBufs.Put(h)
	for {
		rest := src.DropFirst(total)
		chunk := buf[:min(rest.NumBytes(), int64(len(buf)))]
		if _, err := rest.CopyIn(t, chunk); err != nil {
			if total > 0 {
				return total, nil
			}
			return 0, syserr.FromError(err)
		}
		var n int
		serr := s.retry(t, waiter.WritableEvents, blocking, haveDeadline, deadline, func() error {
			var err error
			n, err = s.ep.SendMsg(chunk, oob, to, flags|unix.MSG_DONTWAIT)
			return err
		})
		total += n
		if serr != nil {
			if isSysErrno(serr, unix.EPIPE) && flags&linux.MSG_NOSIGNAL == 0 {
				t.SendSignal(kernel.SignalInfoPriv(linux.SIGPIPE))
			}
			if total > 0 && !isSysErrno(serr, unix.EPIPE) {
				return total, nil
			}
			return total, serr
		}
		if int64(total) >= src.NumBytes() || (!blocking && n < len(chunk)) {
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
