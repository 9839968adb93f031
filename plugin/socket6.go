package plugin

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/sentry/fsimpl/sockfs"
	"gvisor.dev/gvisor/pkg/sentry/kernel"
	ktime "gvisor.dev/gvisor/pkg/sentry/ktime"
	"gvisor.dev/gvisor/pkg/sentry/socket"
	"gvisor.dev/gvisor/pkg/sentry/vfs"
	"gvisor.dev/gvisor/pkg/syserr"
	"gvisor.dev/gvisor/pkg/usermem"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/endpoint"
)

// sock6 is an AF_INET6 socket file: sock with the calls that carry a
// sockaddr answering in sockaddr_in6 (28 bytes, which the sentry must
// unmarshal as AF_INET6) and the capability check of inet6_bind.
//
// Hook wanted in socket.go/socket_io.go: if sock kept its family and
// used it where it names linux.AF_INET (Type, GetSockName, GetPeerName,
// Accept, RecvMsg's sender), sock6 would be sock with family AF_INET6.
type sock6 struct {
	sock
}

var _ socket.Socket = (*sock6)(nil)

// newSocketFile6 is newSocketFile for an AF_INET6 endpoint.
func newSocketFile6(t *kernel.Task, ep endpoint.Socket, skType linux.SockType, protocol int, flags uint32) (*vfs.FileDescription, *syserr.Error) {
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
	s := &sock6{sock: sock{ep: ep, q: wq.WaitQueue(), skType: skType, protocol: protocol}}
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

// Type implements socket.Socket.Type.
func (s *sock6) Type() (int, linux.SockType, int) { return linux.AF_INET6, s.skType, s.protocol }

// sockaddr6 unmarshals an endpoint's sockaddr: sockaddr_in6, or a
// shorter one as it is.
func sockaddr6(b []byte) linux.SockAddr {
	if len(b) < linux.SockAddrInet6Size {
		return socket.UnmarshalSockAddr(linux.AF_INET, b)
	}
	return socket.UnmarshalSockAddr(linux.AF_INET6, b)
}

// Bind implements socket.Socket.Bind: inet6_bind's port check needs
// CAP_NET_BIND_SERVICE of the task below
// net.ipv4.ip_unprivileged_port_start.
func (s *sock6) Bind(t *kernel.Task, sa []byte) *syserr.Error {
	if len(sa) >= 24 && binary.NativeEndian.Uint16(sa) == linux.AF_INET6 {
		port := int(binary.BigEndian.Uint16(sa[2:4]))
		if st := theStack.ns(); port != 0 && st != nil && port < st.Sysctl().Int("net.ipv4.ip_unprivileged_port_start") &&
			!nsCapable(t, linux.CAP_NET_BIND_SERVICE) {
			return syserr.ErrPermissionDenied
		}
	}
	return toSysErr(s.ep.Bind(sa))
}

// GetSockName implements socket.Socket.GetSockName.
func (s *sock6) GetSockName(*kernel.Task) (linux.SockAddr, uint32, *syserr.Error) {
	b, err := s.ep.GetSockName()
	if err != nil {
		return nil, 0, toSysErr(err)
	}
	return sockaddr6(b), uint32(len(b)), nil
}

// GetPeerName implements socket.Socket.GetPeerName.
func (s *sock6) GetPeerName(*kernel.Task) (linux.SockAddr, uint32, *syserr.Error) {
	b, err := s.ep.GetPeerName()
	if err != nil {
		return nil, 0, toSysErr(err)
	}
	return sockaddr6(b), uint32(len(b)), nil
}

// Accept implements socket.Socket.Accept.
func (s *sock6) Accept(t *kernel.Task, peerRequested bool, flags int, blocking bool) (int32, linux.SockAddr, uint32, *syserr.Error) {
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
	f, serr := newSocketFile6(t, child, s.skType, s.protocol, uint32(flags&unix.SOCK_NONBLOCK))
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
		addr, addrLen = sockaddr6(peer), uint32(len(peer))
	}
	return fd, addr, addrLen, nil
}

// maxDatagram6 bounds the buffer a datagram is received into: a UDP
// payload over IPv6 without jumbograms is shorter.
const maxDatagram6 = 1 << 16

// RecvMsg implements socket.Socket.RecvMsg. A stream is sock's; a
// datagram is read here so that its sender is a sockaddr_in6, with the
// control-message handling of sock.RecvMsg (cmsg.go).
func (s *sock6) RecvMsg(t *kernel.Task, dst usermem.IOSequence, flags int, haveDeadline bool, deadline ktime.Time, senderRequested bool, controlDataLen uint64) (int, int, linux.SockAddr, uint32, socket.ControlMessages, *syserr.Error) {
	if s.skType == linux.SOCK_STREAM {
		return s.sock.RecvMsg(t, dst, flags, haveDeadline, deadline, senderRequested, controlDataLen)
	}
	buf := make([]byte, min(dst.NumBytes(), maxDatagram6))
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
		return err
	})
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
	if _, err := dst.CopyOut(t, buf[:min(n, len(buf))]); err != nil {
		return 0, 0, nil, 0, socket.ControlMessages{}, syserr.FromError(err)
	}
	var sender linux.SockAddr
	var senderLen uint32
	if senderRequested && len(from) > 0 {
		sender, senderLen = sockaddr6(from), uint32(len(from))
	}
	cm := controlMessagesFrom(cmsgs)
	if controlDataLen > 0 && sentryTruncates(&cm, int(min(controlDataLen, maxControl))) {
		rflags |= linux.MSG_CTRUNC
	}
	return n, rflags, sender, senderLen, cm, nil
}

// tcpStater is what an AF_INET6 stream endpoint has instead of TCP_INFO
// (endpoint/inet6.go).
type tcpStater interface{ TCPState() uint8 }

// State implements socket.Socket.State, the "st" column of /proc/net/tcp6
// and /proc/net/udp6.
func (s *sock6) State() uint32 {
	if st, ok := s.ep.(tcpStater); ok && s.skType == linux.SOCK_STREAM {
		return uint32(st.TCPState())
	}
	return s.sock.State()
}
