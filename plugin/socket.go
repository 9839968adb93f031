package plugin

import (
	"errors"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/context"
	gerrors "gvisor.dev/gvisor/pkg/errors"
	"gvisor.dev/gvisor/pkg/errors/linuxerr"
	"gvisor.dev/gvisor/pkg/marshal"
	"gvisor.dev/gvisor/pkg/sentry/fsimpl/sockfs"
	"gvisor.dev/gvisor/pkg/sentry/kernel"
	ktime "gvisor.dev/gvisor/pkg/sentry/ktime"
	"gvisor.dev/gvisor/pkg/sentry/socket"
	"gvisor.dev/gvisor/pkg/sentry/vfs"
	"gvisor.dev/gvisor/pkg/syserr"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/endpoint"
)

// waitQueuer is what every endpoint.Socket has: the queue it announces
// readiness changes on (endpoint/waitqueue.go).
type waitQueuer interface{ WaitQueue() *waiter.Queue }

// sock is a sentry socket over a netsandbox endpoint.Socket. The endpoint
// never blocks (it is non-blocking from its creation): blocking, deadlines
// and signals are the sentry's, through the endpoint's wait queue.
type sock struct {
	vfsfd vfs.FileDescription
	vfs.FileDescriptionDefaultImpl
	vfs.DentryMetadataFileDescriptionImpl
	vfs.LockFD
	socket.SendReceiveTimeout

	ep       endpoint.Socket
	stream   endpoint.StreamIO // ep, when its data moves without a buffer between (SOCK_STREAM)
	q        *waiter.Queue
	family   int // AF_INET or AF_INET6
	skType   linux.SockType
	protocol int

	// rdhup holds the companion entries of EPOLLRDHUP-only waiters
	// (EventRegister).
	rdhupMu sync.Mutex
	rdhup   map[*waiter.Entry]*waiter.Entry
}

var _ socket.Socket = (*sock)(nil)

// newSocketFile wraps ep, a socket of family, in a socket file; flags may
// hold O_NONBLOCK.
func newSocketFile(t *kernel.Task, ep endpoint.Socket, family int, skType linux.SockType, protocol int, flags uint32) (*vfs.FileDescription, *syserr.Error) {
	wq, ok := ep.(waitQueuer)
	if !ok {
		ep.Close()
		return nil, syserr.ErrInvalidArgument
	}
	ep.SetNonblock(true)
	switch {
	case skType == linux.SOCK_STREAM && protocol == 0:
		protocol = linux.IPPROTO_TCP
	case skType == linux.SOCK_DGRAM && protocol == 0:
		protocol = linux.IPPROTO_UDP
	}
	mnt := t.Kernel().SocketMount()
	d := sockfs.NewDentry(t, mnt)
	defer d.DecRef(t)
	s := &sock{ep: ep, q: wq.WaitQueue(), family: family, skType: skType, protocol: protocol}
	if st, ok := ep.(endpoint.StreamIO); ok && skType == linux.SOCK_STREAM {
		s.stream = st
	}
	s.LockFD.Init(&vfs.FileLocks{})
	if err := s.vfsfd.Init(s, linux.O_RDWR|(flags&linux.O_NONBLOCK), t.Credentials(), mnt, d, &vfs.FileDescriptionOptions{
		DenyPRead:         true,
		DenyPWrite:        true,
		UseDentryMetadata: true,
		SpecialFile:       true,
	}); err != nil {
		ep.Close()
		return nil, syserr.FromError(err)
	}
	return &s.vfsfd, nil
}

// toSysErr converts an endpoint's error (a unix.Errno) for the sentry.
func toSysErr(err error) *syserr.Error {
	if err == nil {
		return nil
	}
	var en unix.Errno
	if errors.As(err, &en) {
		return syserr.FromHost(en)
	}
	var ge *gerrors.Error
	if errors.As(err, &ge) {
		return syserr.FromError(ge)
	}
	return syserr.FromHost(unix.EIO)
}

func isErrno(err error, e unix.Errno) bool {
	var en unix.Errno
	return errors.As(err, &en) && en == e
}

// nonblocking reports whether the file is in O_NONBLOCK mode.
func (s *sock) nonblocking() bool { return s.vfsfd.StatusFlags()&linux.O_NONBLOCK != 0 }

// block waits until one of mask (or an error or hang-up) may hold, the
// deadline passes (EAGAIN) or a signal arrives (EINTR, restartable). The
// entry is registered by the caller before it last tried the operation, so
// no wake-up is lost.
func (s *sock) block(t *kernel.Task, ch chan struct{}, haveDeadline bool, deadline ktime.Time) *syserr.Error {
	if err := t.BlockWithDeadline(ch, haveDeadline, deadline); err != nil {
		if linuxerr.Equals(linuxerr.ETIMEDOUT, err) {
			return syserr.ErrTryAgain
		}
		return syserr.FromError(err)
	}
	return nil
}

// retry runs op until it stops answering EAGAIN, blocking between tries
// for the events in mask. With blocking false it runs op once.
func (s *sock) retry(t *kernel.Task, mask waiter.EventMask, blocking, haveDeadline bool, deadline ktime.Time, op func() error) *syserr.Error {
	err := op()
	if !blocking || !isErrno(err, unix.EAGAIN) {
		return toSysErr(err)
	}
	e, ch := waiter.NewChannelEntry(mask | waiter.EventErr | waiter.EventHUp)
	s.q.EventRegister(&e)
	defer s.q.EventUnregister(&e)
	for {
		err = op()
		if !isErrno(err, unix.EAGAIN) {
			return toSysErr(err)
		}
		if serr := s.block(t, ch, haveDeadline, deadline); serr != nil {
			return serr
		}
	}
}

// Release implements vfs.FileDescriptionImpl.Release.
func (s *sock) Release(ctx context.Context) {
	if k := kernel.KernelFromContext(ctx); k != nil {
		k.DeleteSocket(&s.vfsfd)
	}
	s.ep.Close()
}

// Epollable implements vfs.FileDescriptionImpl.Epollable.
func (s *sock) Epollable() bool { return true }

// Readiness implements waiter.Waitable.Readiness.
func (s *sock) Readiness(mask waiter.EventMask) waiter.EventMask {
	return waiter.EventMaskFromLinux(s.ep.Readiness(mask.ToLinux()))
}

// EventRegister implements waiter.Waitable.EventRegister. gVisor's TCP
// announces the peer's FIN as readable only (readyToRead notifies
// waiter.ReadableEvents), so a waiter for EPOLLRDHUP alone would sleep
// through it; Linux wakes every waiter on a state change
// (sock_def_wakeup). Such a waiter gets a companion entry that passes the
// readable, hang-up and error events on to it as EPOLLRDHUP: poll, select
// and epoll check the readiness again, so a wake-up without a FIN costs a
// spurious check only.
func (s *sock) EventRegister(e *waiter.Entry) error {
	s.q.EventRegister(e)
	if m := e.Mask(); m&waiter.EventRdHUp != 0 && m&waiter.ReadableEvents == 0 {
		rd := waiter.NewFunctionEntry(waiter.ReadableEvents|waiter.EventHUp|waiter.EventErr, func(waiter.EventMask) {
			e.NotifyEvent(waiter.EventRdHUp)
		})
		s.rdhupMu.Lock()
		if s.rdhup == nil {
			s.rdhup = make(map[*waiter.Entry]*waiter.Entry)
		}
		if old, ok := s.rdhup[e]; ok {
			s.q.EventUnregister(old)
		}
		s.rdhup[e] = &rd
		s.rdhupMu.Unlock()
		s.q.EventRegister(&rd)
	}
	return nil
}

// EventUnregister implements waiter.Waitable.EventUnregister.
func (s *sock) EventUnregister(e *waiter.Entry) {
	s.q.EventUnregister(e)
	s.rdhupMu.Lock()
	rd, ok := s.rdhup[e]
	delete(s.rdhup, e)
	s.rdhupMu.Unlock()
	if ok {
		s.q.EventUnregister(rd)
	}
}

// Type implements socket.Socket.Type.
func (s *sock) Type() (int, linux.SockType, int) { return s.family, s.skType, s.protocol }

// sockaddr unmarshals a sockaddr from the endpoint for the sentry: an
// AF_INET6 socket's are sockaddr_in6 (28 bytes), an AF_INET socket's
// sockaddr_in.
func sockaddr(b []byte) linux.SockAddr {
	if len(b) >= linux.SockAddrInet6Size {
		return socket.UnmarshalSockAddr(linux.AF_INET6, b)
	}
	return socket.UnmarshalSockAddr(linux.AF_INET, b)
}

// State implements socket.Socket.State, the "st" column of /proc/net/tcp
// and /proc/net/udp (pkg/sentry/fsimpl/proc/task_net.go): a TCP socket's
// state as TCP_INFO's tcpi_state numbers it; for the others Linux's
// sk_state, TCP_ESTABLISHED once connected, TCP_CLOSE before.
func (s *sock) State() uint32 {
	if s.skType != linux.SOCK_STREAM {
		if _, err := s.ep.GetPeerName(); err == nil {
			return linux.TCP_ESTABLISHED
		}
		return linux.TCP_CLOSE
	}
	var b [1]byte
	if n, err := s.ep.GetSockOpt(linux.SOL_TCP, linux.TCP_INFO, b[:]); err != nil || n < 1 {
		return 0
	}
	return uint32(b[0])
}

// Bind implements socket.Socket.Bind. The task's CAP_NET_BIND_SERVICE is
// checked here (bindCapCheck); the stack's are all held.
func (s *sock) Bind(t *kernel.Task, sa []byte) *syserr.Error {
	if serr := s.bindCapCheck(t, sa); serr != nil {
		return serr
	}
	return toSysErr(s.ep.Bind(sa))
}

// Listen implements socket.Socket.Listen. The sentry's listen(2) caps
// the backlog at 1024 and then adds one for gVisor's own stack, whose
// queue check lacks Linux's off-by-one (syscalls/linux/sys_socket.go
// backlog++); the endpoint has Linux's check already, so the one is taken
// back.
func (s *sock) Listen(_ *kernel.Task, backlog int) *syserr.Error {
	if backlog > 0 {
		backlog--
	}
	return toSysErr(s.ep.Listen(backlog))
}

// Shutdown implements socket.Socket.Shutdown.
func (s *sock) Shutdown(_ *kernel.Task, how int) *syserr.Error {
	return toSysErr(s.ep.Shutdown(how))
}

// GetSockName implements socket.Socket.GetSockName.
func (s *sock) GetSockName(*kernel.Task) (linux.SockAddr, uint32, *syserr.Error) {
	b, err := s.ep.GetSockName()
	if err != nil {
		return nil, 0, toSysErr(err)
	}
	return sockaddr(b), uint32(len(b)), nil
}

// GetPeerName implements socket.Socket.GetPeerName.
func (s *sock) GetPeerName(*kernel.Task) (linux.SockAddr, uint32, *syserr.Error) {
	b, err := s.ep.GetPeerName()
	if err != nil {
		return nil, 0, toSysErr(err)
	}
	return sockaddr(b), uint32(len(b)), nil
}

// GetPeerCreds implements socket.Socket.GetPeerCreds: AF_INET sockets
// carry no credentials (SO_PEERCRED reaches GetSockOpt).
func (s *sock) GetPeerCreds(*kernel.Task) (marshal.Marshallable, *syserr.Error) {
	return nil, syserr.ErrNotSupported
}

// Connect implements socket.Socket.Connect. A blocking connect waits, up
// to SO_SNDTIMEO as Linux's does, for the handshake and then connects once
// more to learn its result, as __inet_stream_connect loops and gVisor's
// netstack socket does: the endpoint, non-blocking, answers that second
// connect as a non-blocking socket's next connect (0 once established,
// the error once refused, resetting the socket for another try); reading
// SO_ERROR instead would leave the endpoint's pending state behind (the
// next connect answered 0 where Linux says EISCONN, and a refused socket
// could not connect again). On timeout it answers EINPROGRESS. A
// blocking connect that finds the handshake already under way (EALREADY:
// the call restarted after a signal, such as the Go runtime's preemption
// SIGURG, interrupted its wait) waits for it too, as
// __inet_stream_connect does in SS_CONNECTING.
func (s *sock) Connect(t *kernel.Task, sa []byte, blocking bool) *syserr.Error {
	err := s.ep.Connect(sa)
	if !blocking || !isErrno(err, unix.EINPROGRESS) && !isErrno(err, unix.EALREADY) {
		return toSysErr(err)
	}
	var haveDeadline bool
	var deadline ktime.Time
	if dl := s.SendTimeout(); dl > 0 {
		deadline = t.Kernel().MonotonicClock().Now().Add(time.Duration(dl))
		haveDeadline = true
	}
	e, ch := waiter.NewChannelEntry(waiter.WritableEvents | waiter.EventErr | waiter.EventHUp)
	s.q.EventRegister(&e)
	defer s.q.EventUnregister(&e)
	for {
		if s.ep.Readiness(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
			err := s.ep.Connect(sa)
			if !isErrno(err, unix.EALREADY) && !isErrno(err, unix.EINPROGRESS) {
				return toSysErr(err)
			}
		}
		if serr := s.block(t, ch, haveDeadline, deadline); serr != nil {
			if serr == syserr.ErrTryAgain {
				return syserr.FromHost(unix.EINPROGRESS)
			}
			return serr
		}
	}
}

// Accept implements socket.Socket.Accept.
func (s *sock) Accept(t *kernel.Task, peerRequested bool, flags int, blocking bool) (int32, linux.SockAddr, uint32, *syserr.Error) {
	var (
		child endpoint.Socket
		peer  []byte
	)
	var haveDeadline bool
	var deadline ktime.Time
	if dl := s.RecvTimeout(); dl > 0 {
		deadline = t.Kernel().MonotonicClock().Now().Add(time.Duration(dl))
		haveDeadline = true
	}
	serr := s.retry(t, waiter.ReadableEvents, blocking, haveDeadline, deadline, func() error {
		var err error
		child, peer, err = s.ep.Accept(flags & unix.SOCK_NONBLOCK)
		return err
	})
	if serr != nil {
		return 0, nil, 0, serr
	}
	f, serr := newSocketFile(t, child, s.family, s.skType, s.protocol, uint32(flags&unix.SOCK_NONBLOCK))
	if serr != nil {
		return 0, nil, 0, serr
	}
	defer f.DecRef(t)
	fd, err := t.NewFDFrom(0, f, kernel.FDFlags{CloseOnExec: flags&unix.SOCK_CLOEXEC != 0})
	if err != nil {
		return 0, nil, 0, syserr.FromError(err)
	}
	t.Kernel().RecordSocket(f)
	var addr linux.SockAddr
	var addrLen uint32
	if peerRequested && peer != nil {
		addr, addrLen = sockaddr(peer), uint32(len(peer))
	}
	return fd, addr, addrLen, nil
}

// isSysErrno reports whether a sentry error is errno e.
func isSysErrno(serr *syserr.Error, e unix.Errno) bool {
	return serr != nil && uint32(serr.ToLinux()) == uint32(e)
}
