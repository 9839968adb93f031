package nsnet

import (
	"context"
	"io"
	"net"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/endpoint"
	"netsandbox/options"
	"netsandbox/stack"
)

// TCPConn is a connected TCP socket; it implements net.Conn.
type TCPConn struct {
	fd            *fd
	local, remote netip.AddrPort
}

var _ net.Conn = (*TCPConn)(nil)

func newTCPConn(s endpoint.Socket) *TCPConn {
	return &TCPConn{fd: newFD(s), local: localOf(s), remote: peerOf(s)}
}

// DialTCP connects to raddr from laddr (the zero AddrPort lets the stack
// choose the source address and port).
func DialTCP(st *stack.Stack, laddr, raddr netip.AddrPort) (*TCPConn, error) {
	return dialTCP(context.Background(), st, laddr, raddr)
}

func dialTCP(ctx context.Context, st *stack.Stack, laddr, raddr netip.AddrPort) (*TCPConn, error) {
	fail := func(err error) (*TCPConn, error) {
		if err == errCanceled {
			err = ctx.Err()
		}
		return nil, opError("dial", "tcp", tcpAddr(laddr), tcpAddr(raddr), err)
	}
	if err := checkAddr4(raddr); err != nil || !raddr.IsValid() {
		if err == nil {
			err = unix.EDESTADDRREQ
		}
		return fail(err)
	}
	if err := checkAddr4(laddr); err != nil {
		return fail(err)
	}
	s, err := newSocket(st, unix.SOCK_STREAM, 0)
	if err != nil {
		return fail(err)
	}
	if laddr.IsValid() {
		if err := s.Bind(sockaddr(laddr)); err != nil {
			s.Close()
			return fail(err)
		}
	}
	f := newFD(s)
	if dl, ok := ctx.Deadline(); ok {
		f.wd.set(dl)
	}
	// A nonblocking connect answers EINPROGRESS; completion shows as
	// writability and the outcome is SO_ERROR, as connect(2) documents.
	err = s.Connect(sockaddr(raddr))
	if err == unix.EINPROGRESS {
		err = f.do(&f.wd, waiter.WritableEvents, ctx.Done(), func() error {
			if s.Readiness(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
				return unix.EAGAIN
			}
			return soError(s)
		})
	}
	if err != nil {
		f.close()
		return fail(err)
	}
	f.wd.set(time.Time{})
	return &TCPConn{fd: f, local: localOf(s), remote: peerOf(s)}, nil
}

// soError reads and clears SO_ERROR.
func soError(s endpoint.Socket) error {
	var b [4]byte
	if _, err := s.GetSockOpt(unix.SOL_SOCKET, unix.SO_ERROR, b[:]); err != nil {
		return err
	}
	if e := options.Int32(b[:]); e != 0 {
		return unix.Errno(e)
	}
	return nil
}

func newSocket(st *stack.Stack, typ, proto int) (endpoint.Socket, error) {
	return endpoint.New(st, unix.AF_INET, typ, proto) // EINVAL for a nil stack
}

func (c *TCPConn) err(op string, err error) error {
	return opError(op, "tcp", tcpAddr(c.local), tcpAddr(c.remote), err)
}

// Read reads stream data; io.EOF after the peer's FIN.
func (c *TCPConn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	var n int
	err := c.fd.do(&c.fd.rd, waiter.ReadableEvents, nil, func() (err error) {
		n, _, _, _, err = c.fd.s.RecvMsg(b, nil, 0)
		return err
	})
	if err != nil {
		return n, c.err("read", err)
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// Write writes all of b unless an error or the write deadline stops it.
func (c *TCPConn) Write(b []byte) (int, error) {
	total := 0
	for total < len(b) {
		var n int
		err := c.fd.do(&c.fd.wd, waiter.WritableEvents, nil, func() (err error) {
			n, err = c.fd.s.SendMsg(b[total:], nil, nil, unix.MSG_NOSIGNAL)
			return err
		})
		total += n
		if err != nil {
			return total, c.err("write", err)
		}
	}
	return total, nil
}

// Close closes the connection and wakes every call blocked on it.
func (c *TCPConn) Close() error { return c.closeErr(c.fd.close()) }

func (c *TCPConn) closeErr(err error) error {
	if err != nil {
		return c.err("close", err)
	}
	return nil
}

// CloseRead and CloseWrite shut one direction down (shutdown(2)).
func (c *TCPConn) CloseRead() error {
	return c.closeErr(c.fd.s.Shutdown(unix.SHUT_RD))
}

func (c *TCPConn) CloseWrite() error {
	return c.closeErr(c.fd.s.Shutdown(unix.SHUT_WR))
}

func (c *TCPConn) LocalAddr() net.Addr                { return net.TCPAddrFromAddrPort(c.local) }
func (c *TCPConn) RemoteAddr() net.Addr               { return net.TCPAddrFromAddrPort(c.remote) }
func (c *TCPConn) LocalAddrPort() netip.AddrPort      { return c.local }
func (c *TCPConn) RemoteAddrPort() netip.AddrPort     { return c.remote }
func (c *TCPConn) SetDeadline(t time.Time) error      { c.fd.setDeadline(t); return nil }
func (c *TCPConn) SetReadDeadline(t time.Time) error  { c.fd.rd.set(t); return nil }
func (c *TCPConn) SetWriteDeadline(t time.Time) error { c.fd.wd.set(t); return nil }

// Socket returns the underlying socket for options this type does not
// wrap. It is in nonblocking mode; do not change that.
func (c *TCPConn) Socket() endpoint.Socket { return c.fd.s }

// SetNoDelay sets TCP_NODELAY.
func (c *TCPConn) SetNoDelay(on bool) error {
	return c.setInt(unix.IPPROTO_TCP, unix.TCP_NODELAY, boolInt(on))
}

func (c *TCPConn) setInt(level, name, v int) error {
	return c.err("set", setInt(c.fd.s, level, name, v))
}

// TCPListener is a listening TCP socket; it implements net.Listener.
type TCPListener struct {
	fd    *fd
	local netip.AddrPort
}

var _ net.Listener = (*TCPListener)(nil)

// ListenTCP binds laddr and listens (backlog SOMAXCONN, 4096 as on Linux).
func ListenTCP(st *stack.Stack, laddr netip.AddrPort) (*TCPListener, error) {
	fail := func(err error) (*TCPListener, error) {
		return nil, opError("listen", "tcp", nil, tcpAddr(laddr), err)
	}
	if err := checkAddr4(laddr); err != nil {
		return fail(err)
	}
	s, err := newSocket(st, unix.SOCK_STREAM, 0)
	if err != nil {
		return fail(err)
	}
	// SO_REUSEADDR as package net sets it, so a restarted server can bind
	// while old connections sit in TIME_WAIT.
	if err := setInt(s, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		s.Close()
		return fail(err)
	}
	if err := s.Bind(sockaddr(laddr)); err != nil {
		s.Close()
		return fail(err)
	}
	if err := s.Listen(unix.SOMAXCONN); err != nil {
		s.Close()
		return fail(err)
	}
	return &TCPListener{fd: newFD(s), local: localOf(s)}, nil
}

// Accept waits for the next connection.
func (l *TCPListener) Accept() (net.Conn, error) { return l.AcceptTCP() }

// AcceptTCP is Accept with the concrete type.
func (l *TCPListener) AcceptTCP() (*TCPConn, error) {
	var ns endpoint.Socket
	err := l.fd.do(&l.fd.rd, waiter.ReadableEvents, nil, func() (err error) {
		ns, _, err = l.fd.s.Accept(unix.SOCK_NONBLOCK)
		return err
	})
	if err != nil {
		return nil, opError("accept", "tcp", nil, tcpAddr(l.local), err)
	}
	return newTCPConn(ns), nil
}

// Close stops listening and wakes a blocked Accept.
func (l *TCPListener) Close() error {
	if err := l.fd.close(); err != nil {
		return opError("close", "tcp", nil, tcpAddr(l.local), err)
	}
	return nil
}

func (l *TCPListener) Addr() net.Addr                { return net.TCPAddrFromAddrPort(l.local) }
func (l *TCPListener) AddrPort() netip.AddrPort      { return l.local }
func (l *TCPListener) SetDeadline(t time.Time) error { l.fd.rd.set(t); return nil }
