package endpoint

import (
	"encoding/binary"
	"io"
	"math"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/options"
	"netsandbox/stack"
)

// tcpSock is a TCP socket: gVisor's TCP endpoint in the shared core, and
// what Linux keeps per socket that gVisor does not: connect(2)'s state and
// the pending error, deferred port choices, IP_MINTTL and IP_OPTIONS on
// the wire. Fields marked "mu" are guarded by gsock.mu.
type tcpSock struct {
	gsock

	// family is AF_INET, or AF_INET6 for a socket over gVisor's IPv6
	// endpoint (tcp6.go); set at creation.
	family int

	// conn: connect(2) has reported success (mu).
	conn bool
	// shut is sk_shutdown's RCV_SHUTDOWN as Linux reports it (mu).
	shut int
	// bound is the address bind(2) gave, restored after a reset (mu).
	bound netip.AddrPort
	// bound6 is an AF_INET6 socket's bind address as gVisor took it
	// (with the scope id), restored after a reset (mu).
	bound6 tcpip.FullAddress
	// pendingBind is the address of a bind(2) whose port waits for connect
	// or listen (IP_BIND_ADDRESS_NO_PORT, tcp_bindport.go); mu.
	pendingBind  netip.Addr
	pendingScope uint32 // an AF_INET6 pendingBind's scope id (mu)
	// errTaken: the pending error was reported once (SO_ERROR reads and
	// clears sk_err in Linux; gVisor keeps answering it); mu.
	errTaken bool
	tcpc     tcpConnState // connect(2) state, disconnect's error (tcp_connect.go); mu
	tcpx     tcpSynTimer  // when a connect gives up (tcp_opts_syn.go)
	minTTL   minTTLReg    // IP_MINTTL registration (tcp_minttl.go); mu
	minHops  minTTLReg    // IPV6_MINHOPCOUNT registration (tcp_minttl.go); mu
	ipo      ipOptsReg    // IP_OPTIONS on the wire (tcp_ipopts.go)
}

func newTCP(s *stack.Stack) (Socket, error) {
	t := &tcpSock{family: unix.AF_INET}
	err := t.open(s, unix.SOCK_STREAM, 0, func(q *waiter.Queue) (tcpip.Endpoint, tcpip.Error) {
		return s.Gvisor().NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, q)
	})
	if err != nil {
		return nil, err
	}
	if err := t.pushOpts(); err != nil {
		t.ep.Close()
		return nil, err
	}
	return t, nil
}

// pushOpts hands gVisor every option value it acts on.
func (t *tcpSock) pushOpts() error {
	o := t.optsSnapshot()
	if err := t.pushSockOpts(o); err != nil {
		return err
	}
	t.pushIPOptions(o)
	t.mu.Lock()
	user := t.ipo.mss.user
	t.mu.Unlock()
	if user != 0 {
		if err := t.pushTCPMaxseg(user); err != nil {
			return err
		}
	}
	if t.is6() {
		// The SOL_IPV6 values, IPV6_MTU_DISCOVER among them.
		if err := t.push6(); err != nil {
			return err
		}
	}
	if t.ipv4Traffic() {
		// IP_MTU_DISCOVER is the strategy of IPv4 traffic, an AF_INET6
		// socket's v4-mapped connection's too (tcp6.go).
		if err := t.pushPMTU(o); err != nil {
			return err
		}
	}
	t.pushTCPOpts() // tcp_opts_vals.go
	return nil
}

// resetTCP gives a socket whose blocking connect failed a fresh endpoint:
// Linux's inet_stream_connect disconnects it back to an unconnected socket
// that may connect again, keeping an explicit bind.
func (t *tcpSock) resetTCP() {
	ep, e := t.mk(t.q)
	if e != nil {
		return
	}
	v6only := t.is6() && t.v6only() // kept in the gVisor endpoint replaced here
	t.epMu.Lock()
	old := t.ep
	t.ep = ep
	t.epMu.Unlock()
	old.Close()
	ep.SocketOptions().SetV6Only(v6only)
	_ = t.pushOpts()
	t.mu.Lock()
	bound, bound6 := t.bound, t.bound6
	t.errTaken = false
	t.conn, t.tcpc.connecting = false, false // a fresh endpoint is an unconnected socket
	t.mu.Unlock()
	switch {
	case !bound.IsValid():
	case t.is6():
		_ = ep.Bind(bound6)
	default:
		_ = ep.Bind(t.tcpBindAddress(bound))
	}
}

// tcpBindAddress is gvisorBindAddress for TCP. Linux lets a TCP socket
// bind (and listen) on a multicast address, where no SYN ever arrives;
// gVisor's TCP accepts only local addresses unless a NIC is named, so lo
// is named: the socket keeps the address for getsockname and its port
// reservation. (A connect from such a socket, which Linux attempts with a
// multicast source, fails in gVisor with EADDRNOTAVAIL.)
func (t *tcpSock) tcpBindAddress(ap netip.AddrPort) tcpip.FullAddress {
	if ap.Addr().IsMulticast() {
		fa := bindAddress(ap)
		fa.NIC = loopbackIfIndex
		return fa
	}
	return t.gvisorBindAddress(ap)
}

func (t *tcpSock) Bind(sa []byte) error {
	if t.is6() {
		return t.bind6(sa) // tcp6.go
	}
	r, err := options.ParseBindAddr(sa)
	if err != nil {
		return err
	}
	// inet_bind judges the address before whether the socket is already
	// bound.
	if !bindableAddr(t.s, r.Addr.Addr()) && !t.optsSnapshot().freeBind() {
		return unix.EADDRNOTAVAIL
	}
	if err := checkPrivilegedPort(t.s, r.Addr.Port()); err != nil {
		return err
	}
	if r.Addr.Port() == 0 {
		if handled, err := t.tcpBindPortZero(r.Addr.Addr(), 0); handled {
			return err
		}
	}
	if err := errOf(t.endpoint().Bind(t.tcpBindAddress(r.Addr))); err != nil {
		return err
	}
	t.mu.Lock()
	t.bound = r.Addr
	t.mu.Unlock()
	t.syncMinTTL(netip.AddrPort{})
	return nil
}

func (t *tcpSock) Connect(sa []byte) error {
	if done, err := t.tcpConnectPre(sa); done {
		return err // AF_UNSPEC, or a connect already made or under way
	}
	if err := t.tcpConnectState(sa); err != nil {
		return err
	}
	dst, remote, err := t.connectDst(sa)
	if err != nil {
		return err
	}
	t.renewFailedTCP()
	if err := t.bindBeforeUse(); err != nil {
		return err
	}
	if err := t.minTTLBeforeConnect(remote); err != nil {
		return err
	}
	if err := t.ipOptionsBeforeConnect(remote); err != nil {
		return err
	}
	if err := t.pmtuBeforeConnect(remote); err != nil {
		return err
	}
	e := t.endpoint().Connect(dst)
	if _, started := e.(*tcpip.ErrConnectStarted); !started {
		if e == nil {
			t.markConnected()
			return nil
		}
		err := t.takeErr(e)
		if _, refused := e.(*tcpip.ErrConnectionRefused); refused {
			t.resetTCP()
		}
		return err
	}
	t.tcpConnectStarted()
	if !t.mayBlock(0) {
		return unix.EINPROGRESS
	}
	deadline := deadlineAfter(t.optsSnapshot().sndTimeo)
	if _, err := t.waitReady(t.Readiness, unix.EPOLLOUT, deadline); err != nil {
		if err == unix.EAGAIN {
			// A connect that times out while in progress is EINPROGRESS.
			return unix.EINPROGRESS
		}
		return err
	}
	if err := t.takeErr(t.endpoint().LastError()); err != nil {
		t.resetTCP()
		return err
	}
	t.markConnected()
	return nil
}

// connectDst is tcp_v4_connect's (or tcp_v6_connect's, connectDst6)
// reading of the destination: what gVisor connects to, and the peer the
// stack's hooks are registered under.
func (t *tcpSock) connectDst(sa []byte) (tcpip.FullAddress, netip.AddrPort, error) {
	if t.is6() {
		return t.connectDst6(sa)
	}
	r, err := options.ParseConnectAddr(sa)
	if err != nil {
		return tcpip.FullAddress{}, netip.AddrPort{}, err
	}
	r.Addr = routeDst(r.Addr, t.localAddr())
	if err := t.checkConnectDst(r.Addr.Addr()); err != nil {
		return tcpip.FullAddress{}, netip.AddrPort{}, err
	}
	if err := checkDontRoute(t.s, r.Addr.Addr(), t.optsSnapshot(), 0); err != nil {
		return tcpip.FullAddress{}, netip.AddrPort{}, err
	}
	return fullAddress(r.Addr), r.Addr, nil
}

// renewFailedTCP gives a socket whose earlier connect failed (its error
// already reported, e.g. by a recv after a refused nonblocking connect) a
// fresh endpoint, as resetTCP does after a failed blocking connect: on Linux
// such a socket is closed and a new connect starts a new connection, where
// gVisor's endpoint would answer ECONNABORTED.
func (t *tcpSock) renewFailedTCP() {
	switch tcp.EndpointState(t.endpoint().State()) {
	case tcp.StateError, tcp.StateClose:
		t.resetTCP()
	}
}

// tcpConnectState is inet_stream_connect's state test, made after the
// AF_UNSPEC test and before tcp_v4_connect looks at the address: a
// connected socket, or one that is not closed (listening), is EISCONN.
func (t *tcpSock) tcpConnectState(sa []byte) error {
	if len(sa) < 2 || binary.NativeEndian.Uint16(sa) == unix.AF_UNSPEC {
		return nil
	}
	t.mu.Lock()
	conn := t.conn
	t.mu.Unlock()
	if conn || t.endpoint().State() == uint32(tcp.StateListen) {
		return unix.EISCONN
	}
	return nil
}

func (t *tcpSock) markConnected() {
	t.mu.Lock()
	t.conn, t.tcpc.connecting = true, false
	t.mu.Unlock()
}

// checkConnectDst is the destination rule gVisor lacks: tcp_v4_connect
// refuses multicast and broadcast routes with ENETUNREACH.
func (t *tcpSock) checkConnectDst(dst netip.Addr) error {
	if dst.IsMulticast() || t.s.IsBroadcast(dst) {
		if _, _, err := t.s.RouteSource(dst, t.optsSnapshot().bindIf); err != nil {
			return err
		}
		return unix.ENETUNREACH
	}
	return nil
}

func (t *tcpSock) Listen(backlog int) error {
	// __sys_listen caps the backlog at net.core.somaxconn, comparing it
	// as unsigned so a negative backlog means the maximum.
	if somax := t.s.Sysctl().Int("net.core.somaxconn"); uint32(int32(backlog)) > uint32(somax) {
		backlog = somax
	}
	if err := t.bindBeforeUse(); err != nil {
		return err
	}
	// sk_acceptq_is_full lets backlog+1 connections wait; gVisor's
	// queue holds as many as it is given.
	if err := errOf(t.endpoint().Listen(backlog + 1)); err != nil {
		return err
	}
	t.noteListen(backlog)
	t.syncMinTTL(netip.AddrPort{})
	return nil
}

func (t *tcpSock) Accept(flags int) (Socket, []byte, error) {
	if flags&^(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) != 0 {
		return nil, nil, unix.EINVAL
	}
	deadline := deadlineAfter(t.optsSnapshot().rcvTimeo)
	for {
		var peer tcpip.FullAddress
		nep, nq, e := t.endpoint().Accept(&peer)
		if e == nil {
			ns := &tcpSock{family: t.family}
			ns.ep, ns.mk, ns.conn = nep, t.mk, true
			ns.init(t.s, t.typ, t.proto)
			ns.q = nq
			// Linux clones the listener's socket options into the child.
			ns.opts = t.optsSnapshot()
			t.optMu.Lock()
			ns.v6 = t.v6
			t.optMu.Unlock()
			ns.rxBits.Store(t.rxBits.Load())
			ns.memb.noAll.Store(t.memb.noAll.Load())
			ns.acceptTCPOpts() // tcp_opts_vals.go
			ns.acceptIPOptions()
			ns.peekOff.set(t.peekOff.get())
			_ = ns.pushOpts()
			ns.track()
			t.mu.Lock()
			ns.minTTL.ever = t.minTTL.ever
			ns.minHops.ever = t.minHops.ever
			t.mu.Unlock()
			ns.syncMinTTL(netip.AddrPort{})
			ns.SetNonblock(flags&unix.SOCK_NONBLOCK != 0)
			return ns, t.sockaddrOf(peer), nil
		}
		if _, wb := e.(*tcpip.ErrWouldBlock); !wb || !t.mayBlock(0) {
			return nil, nil, stack.Errno(e)
		}
		if _, err := t.waitReady(t.Readiness, unix.EPOLLIN, deadline); err != nil {
			return nil, nil, err
		}
	}
}

func (t *tcpSock) GetSockName() ([]byte, error) {
	if sa, ok := t.sockNameDeferred(); ok {
		return sa, nil
	}
	fa, e := t.endpoint().GetLocalAddress()
	if e != nil {
		return nil, stack.Errno(e)
	}
	return t.sockaddrOf(fa), nil
}

func (t *tcpSock) GetPeerName() ([]byte, error) {
	fa, e := t.endpoint().GetRemoteAddress()
	if e != nil {
		return nil, stack.Errno(e)
	}
	return t.sockaddrOf(fa), nil
}

// SendFrom implements StreamIO (stream_io.go).
func (t *tcpSock) SendFrom(src Source, oob, to []byte, flags int) (int, error) {
	if err := t.checkStreamCmsgs(oob); err != nil {
		return 0, err
	}
	if flags&unix.MSG_OOB != 0 {
		// Urgent data is not implemented.
		return 0, unix.EOPNOTSUPP
	}
	if e := t.takeDiscErr(); e != 0 {
		return 0, e
	}
	return t.sendStream(src, flags, t.Readiness, func() (int64, tcpip.Error) {
		t.tcpIPOptionsMSS()
		return t.writeStream(src, tcpip.WriteOptions{More: flags&unix.MSG_MORE != 0}) // tcp_opts_cork.go
	}, t.takeErr) // a connection's error is reported once
}

// RecvTo implements StreamIO (stream_io.go).
func (t *tcpSock) RecvTo(dst io.Writer, size int, oob []byte, flags int) (int, int, int, []byte, error) {
	if flags&unix.MSG_ERRQUEUE != 0 {
		// TCP queues only timestamps and zerocopy notices there, which
		// netsandbox does not produce: always empty.
		return 0, 0, 0, nil, unix.EAGAIN
	}
	if flags&unix.MSG_OOB != 0 {
		return 0, 0, 0, nil, unix.EINVAL // tcp_recv_urg without urgent data
	}
	if e := t.takeDiscErr(); e != 0 {
		return 0, 0, 0, nil, e
	}
	n, err := t.recvStream(dst, size, flags)
	oobn, cflags := t.streamCmsgs(oob, n, err)
	return n, oobn, cflags, nil, err
}

func (t *tcpSock) recvStream(dst io.Writer, size, flags int) (int, error) {
	peek := flags&unix.MSG_PEEK != 0
	waitAll := flags&unix.MSG_WAITALL != 0 && !peek
	if off := int(t.peekOff.get()); peek && off >= 0 {
		return t.peekStreamAtOffset(dst, size, flags, off)
	}
	deadline := deadlineAfter(t.optsSnapshot().rcvTimeo)
	if !waitAll {
		if err := t.waitLowat(size, flags, deadline); err != nil {
			return 0, err
		}
	}
	done := 0
	if !peek {
		defer func() {
			t.peekOff.bwd(done) // a read moves SO_PEEK_OFF back by what it took
			// gVisor sizes the receive buffer from what the reader takes
			// per round trip only when told (its own sockets tell it after
			// every read): Linux's tcp_rcv_space_adjust.
			if done > 0 {
				t.endpoint().ModerateRecvBuf(done)
			}
		}()
	}
	for {
		res, e := t.readStreamTo(dst, size-done, peek)
		done += res.Count
		switch e.(type) {
		case nil:
			if !waitAll || done == size {
				return done, nil
			}
		case *tcpip.ErrClosedForReceive:
			return done, nil // end of stream
		case *tcpip.ErrWouldBlock:
			if done > 0 && !waitAll {
				return done, nil
			}
		case *tcpip.ErrInvalidEndpointState, *tcpip.ErrNotConnected:
			if done > 0 {
				return done, nil
			}
			return 0, unix.ENOTCONN
		case *tcpip.ErrBadBuffer:
			if size == 0 {
				// gVisor's answer to a zero-length read of queued
				// data; tcp_recvmsg_locked copies nothing and returns
				// 0. (With nothing queued its target is still 1 byte:
				// EAGAIN, or wait.)
				return 0, nil
			}
			if done > 0 {
				return done, nil
			}
			return 0, t.takeErr(e)
		default:
			if done > 0 {
				return done, nil
			}
			return 0, t.takeErr(e) // a connection's error is reported once
		}
		if !t.mayBlock(flags) {
			if done > 0 {
				return done, nil
			}
			return 0, unix.EAGAIN
		}
		if _, err := t.waitReady(t.Readiness, unix.EPOLLIN|unix.EPOLLRDHUP, deadline); err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
	}
}

// streamCmsgs is tcp_recv_timestamp: with SO_TIMESTAMP{,NS} on, a read
// that copied data reports a receive time (gVisor keeps none per segment,
// so the time of the read stands in for it); SOL_IP receive flags add
// nothing on TCP.
func (t *tcpSock) streamCmsgs(oob []byte, n int, err error) (int, int) {
	if err != nil {
		return 0, 0
	}
	b := options.NewCmsgBuilder(oob)
	if n > 0 {
		putTimestamp(&b, t.rx(), 0)
	}
	t.putInq(&b) // TCP_INQ, also at the end of the stream (tcp_opts_notsent.go)
	return b.Len(), b.Flags()
}

func (t *tcpSock) SetSockOpt(level, name int, val []byte) error {
	if level == unix.SOL_TCP {
		return t.setTCPOpt(name, val)
	}
	if t.is6() {
		if handled, err := t.setSockOpt6(level, name, val); handled {
			return err // tcp6.go
		}
	}
	if err := t.setCommon(level, name, val); err != nil {
		return err
	}
	if level == unix.SOL_IP && name == unix.IP_MINTTL {
		t.syncMinTTL(netip.AddrPort{})
	}
	return t.pushOpts()
}

func (t *tcpSock) GetSockOpt(level, name int, buf []byte) (int, error) {
	if t.is6() {
		if handled, n, err := t.getSockOpt6(level, name, buf); handled {
			return n, err // tcp6.go
		}
	}
	switch {
	case level == unix.SOL_SOCKET && name == unix.SO_ERROR:
		return putErrno(buf, t.pendingErr()), nil
	case level == unix.SOL_SOCKET && name == unix.SO_ACCEPTCONN:
		return options.PutSockInt(buf, int32(boolInt(t.endpoint().SocketOptions().GetAcceptConn()))), nil
	case level == unix.SOL_SOCKET && (name == unix.SO_RCVBUF || name == unix.SO_SNDBUF):
		return t.getBufSize(name, buf)
	case level == unix.SOL_IP && name == unix.IP_MTU:
		return t.getIPMTU(buf)
	case level == unix.SOL_IP && name == unix.IP_PROTOCOL:
		return t.getIPProtocol(buf) // sockopts_ipproto.go
	case level == unix.SOL_IP && name == unix.IP_PKTOPTIONS:
		return t.getIPPktoptions(buf) // sockopts_ipproto.go
	case level == unix.SOL_TCP:
		switch name {
		case unix.TCP_INFO:
			return t.getTCPInfo(buf) // tcp_opts.go
		case unix.TCP_MAXSEG:
			return t.getTCPMaxseg(buf) // tcp_maxseg.go
		}
		if handled, n, err := t.getTCPOpt(name, buf); handled {
			return n, err // tcp_opts_vals.go
		}
		return 0, unix.ENOPROTOOPT
	}
	return t.getCommon(level, name, buf)
}

// takeErr converts a TCP error and, when it is the connection's pending
// error, marks it reported so SO_ERROR and poll stop showing it.
func (t *tcpSock) takeErr(e tcpip.Error) error {
	if e == nil {
		return nil
	}
	switch e.(type) {
	case *tcpip.ErrConnectionRefused, *tcpip.ErrConnectionReset, *tcpip.ErrTimeout, *tcpip.ErrConnectionAborted,
		*tcpip.ErrNetworkUnreachable, *tcpip.ErrHostUnreachable:
		t.mu.Lock()
		t.errTaken = true
		t.mu.Unlock()
	}
	return errOf(e)
}

// pendingErr is SO_ERROR: read and clear.
func (t *tcpSock) pendingErr() unix.Errno {
	if e := t.takeDiscErr(); e != 0 {
		return e
	}
	t.mu.Lock()
	taken := t.errTaken
	t.mu.Unlock()
	e := t.endpoint().LastError()
	if taken || e == nil {
		return 0
	}
	err := t.takeErr(e)
	if err == nil {
		return 0
	}
	return err.(unix.Errno)
}

func (t *tcpSock) Ioctl(req uint, arg []byte) error { return t.ioctl(req, arg, t.tcpIoctl) }

func (t *tcpSock) Readiness(mask uint32) uint32 {
	r := t.endpoint().Readiness(waiter.EventMaskFromLinux(mask)).ToLinux()
	r = t.filterLowat(r, int(t.optsSnapshot().misc.rcvlowat))
	r = t.filterNotsent(r) // tcp_opts_notsent.go
	return t.tcpPoll(r) & mask
}

// tcpPoll corrects gVisor's TCP readiness to tcp_poll's: a socket that is
// not connected is writable and hung up; a closed one is ready for
// everything except EPOLLERR, which only a pending error raises, and never
// EPOLLPRI/EPOLLWRBAND without urgent data.
func (t *tcpSock) tcpPoll(r uint32) uint32 {
	switch tcp.EndpointState(t.endpoint().State()) {
	case tcp.StateInitial, tcp.StateBound:
		r |= unix.EPOLLOUT | unix.EPOLLWRNORM | unix.EPOLLHUP
		r = t.tcpPollErr(r)
	case tcp.StateClose, tcp.StateError, tcp.StateTimeWait:
		r &^= unix.EPOLLPRI | unix.EPOLLWRBAND | unix.EPOLLERR
		t.mu.Lock()
		taken := t.errTaken
		t.mu.Unlock()
		if tcp.EndpointState(t.endpoint().State()) == tcp.StateError && !taken {
			r |= unix.EPOLLERR
		}
	}
	return r
}

func (t *tcpSock) Wait(mask uint32, deadline time.Time) (uint32, error) {
	return t.waitReady(t.Readiness, mask, deadline)
}

func (t *tcpSock) Shutdown(how int) error {
	var f tcpip.ShutdownFlags
	switch how {
	case unix.SHUT_RD:
		f = tcpip.ShutdownRead
	case unix.SHUT_WR:
		f = tcpip.ShutdownWrite
	case unix.SHUT_RDWR:
		f = tcpip.ShutdownRead | tcpip.ShutdownWrite
	default:
		return unix.EINVAL
	}
	if t.endpoint().State() == uint32(tcp.StateSynSent) {
		return t.tcpDisconnect() // inet_shutdown disconnects a SYN_SENT socket
	}
	if err := errOf(t.endpoint().Shutdown(f)); err != nil {
		return err
	}
	if f&tcpip.ShutdownRead != 0 {
		t.mu.Lock()
		t.shut |= rcvShutdown
		t.mu.Unlock()
	}
	return nil
}

func (t *tcpSock) Close() error {
	if !t.beginClose() {
		return unix.EBADF
	}
	t.dropMinTTL()
	t.dropIPOptions()
	t.dropMemberships()
	t.dropMemberships6() // an AF_INET6 socket's (mcast6_member.go)
	t.endpoint().Close()
	t.lingerWait()
	return nil
}

// lingerWait is sk_stream_wait_close: with SO_LINGER on and a non-zero
// time, close(2) returns once the FIN is acknowledged (the connection left
// FIN-WAIT-1, CLOSING and LAST-ACK) or the time is up; a negative l_linger
// means no limit, as MAX_SCHEDULE_TIMEOUT. (Linger 0 is gVisor's: it
// resets the connection.)
func (t *tcpSock) lingerWait() {
	m := t.optsSnapshot().misc
	if !m.lingerOn || m.lingerSecs == 0 {
		return
	}
	var deadline time.Time
	if m.lingerSecs > 0 {
		deadline = time.Now().Add(time.Duration(m.lingerSecs) * time.Second)
	}
	const tick = 5 * time.Millisecond
	for {
		switch tcp.EndpointState(t.endpoint().State()) {
		case tcp.StateFinWait1, tcp.StateClosing, tcp.StateLastAck:
		default:
			return
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return
		}
		time.Sleep(tick)
	}
}

// getBufSize is SO_RCVBUF or SO_SNDBUF on a TCP socket. Until the user
// fixes a buffer (SOCK_*BUF_LOCK) Linux grows it with the connection
// (tcp_sndbuf_expand when it is established, tcp_rcv_space_adjust as the
// reader keeps up) and reports the grown size; gVisor's tuning of the same
// buffer is that size here. It never reads below the socket's own value.
func (t *tcpSock) getBufSize(name int, buf []byte) (int, error) {
	o := t.optsSnapshot()
	so := t.endpoint().SocketOptions()
	v, lock, tuned := o.rcvbuf, uint8(sockRcvbufLock), so.GetReceiveBufferSize()
	if name == unix.SO_SNDBUF {
		v, lock, tuned = o.sndbuf, sockSndbufLock, so.GetSendBufferSize()
	}
	if o.misc.ext.bufLock&lock == 0 && tuned > int64(v) {
		v = int(min(tuned, math.MaxInt32))
	}
	return options.PutSockInt(buf, int32(v)), nil
}
