package endpoint

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/options"
	"netsandbox/stack"
)

// Shutdown bits, as sk_shutdown.
const (
	rcvShutdown = 1
	sndShutdown = 2
)

// udpSock is a UDP socket on netsandbox's own transport.
type udpSock struct {
	base

	// bindMu guards the binding's life. Calls into the stack are made
	// under it but never under mu, which DeliverUDP takes: the stack may
	// deliver while it holds its own locks.
	bindMu  sync.Mutex
	binding *stack.UDPBinding // nil until bound (explicitly or implicitly)
	remote  netip.AddrPort    // valid when connected
	// connected mirrors remote.IsValid() for the delivery path, which
	// must not take bindMu.
	connected atomic.Bool
	// dgramMinTTL drops datagrams with a lower TTL on arrival; only a
	// personality sets it (SetDatagramMinTTL): Linux's IP_MINTTL is TCP's.
	dgramMinTTL atomic.Uint32
	// ipid numbers the datagrams of the connected socket (ipid_dgram.go).
	ipid     *stack.DatagramIPID
	userPort bool // bind(2) chose the port: disconnect keeps it
	// deferredAddr is the address of a bind(addr, 0) made under
	// IP_BIND_ADDRESS_NO_PORT: the port is taken by the first autobind.
	deferredAddr netip.Addr
	// lite makes it a UDP-Lite socket (udplite.go); liteSend and
	// liteRecv are its UDPLITE_SEND_CSCOV and UDPLITE_RECV_CSCOV, with
	// covSet once set.
	lite               bool
	liteSend, liteRecv atomic.Uint32

	mu    sync.Mutex // guards the receive side below
	shut  int
	queue dgramQueue
	rmem  int // sum of queued truesizes (sk_rmem_alloc)
	drops uint64
	soErr unix.Errno // pending asynchronous error (sk_err)
	errq  errQueue   // IP_RECVERR error queue (errqueue.go), charged to rmem
}

func newUDP(s *stack.Stack) (Socket, error) {
	u := &udpSock{}
	u.init(s, unix.SOCK_DGRAM, unix.IPPROTO_UDP)
	u.ipid = s.NewSocketIPID()
	return u, nil
}

// DeliverUDP queues a datagram from the stack, charging its truesize
// against SO_RCVBUF and dropping it when the buffer is full.
func (u *udpSock) DeliverUDP(d *stack.Datagram) {
	if uint32(d.TTL) < u.dgramMinTTL.Load() {
		return
	}
	size := udpTruesize(len(d.Payload))
	rcvbuf := u.optsSnapshot().rcvbuf
	u.mu.Lock()
	if !rcvbufHasSpace(u.rmem, rcvbuf, size) {
		u.drops++
		u.mu.Unlock()
		st := u.s.Stats()
		st.UDPRcvbufErrors.Add(1)
		st.UDPInErrors.Add(1)
		return
	}
	u.rmem += size
	u.queue.push(u.noteArrival(d, size))
	u.mu.Unlock()
	u.q.Notify(waiter.ReadableEvents)
}

func (u *udpSock) bindFlags() stack.UDPBindFlags {
	o := u.optsSnapshot()
	return stack.UDPBindFlags{ReuseAddr: o.reuseAddr, ReusePort: o.reusePort, BindToDevice: o.bindIf, FreeBind: o.freeBind(), PortRange: o.ext.portRange, Lite: u.lite}
}

func (u *udpSock) Bind(sa []byte) error {
	r, err := options.ParseBindAddr(sa)
	if err != nil {
		return err
	}
	if err := checkPrivilegedPort(u.s, r.Addr.Port()); err != nil {
		return err
	}
	u.bindMu.Lock()
	defer u.bindMu.Unlock()
	if u.isClosed() {
		return unix.EBADF // Close releases the binding under bindMu after marking
	}
	if u.binding != nil {
		return unix.EINVAL
	}
	if r.Addr.Port() == 0 && u.optsSnapshot().ext.bindNoPort {
		return u.deferPortLocked(r.Addr.Addr())
	}
	b, err := u.s.UDPBind(u, r.Addr, u.bindFlags())
	if err != nil {
		return err
	}
	u.binding = b
	u.userPort = r.Addr.Port() != 0
	return nil
}

// autobindLocked binds an ephemeral port on any address, as inet_autobind.
func (u *udpSock) autobindLocked() error {
	if u.binding != nil {
		return nil
	}
	if u.isClosed() {
		// A send racing Close: Close releases the binding under bindMu
		// after marking the socket closed, so none may be made now.
		return unix.EBADF
	}
	addr := netip.IPv4Unspecified()
	if u.deferredAddr.IsValid() {
		addr = u.deferredAddr
	}
	b, err := u.s.UDPBind(u, netip.AddrPortFrom(addr, 0), u.bindFlags())
	if err != nil {
		return err
	}
	u.binding = b
	return nil
}

// deferPortLocked is __inet_bind under IP_BIND_ADDRESS_NO_PORT: the address
// is judged as for a real bind (a trial binding, given back at once) and
// kept; no port is taken, so the socket may bind again.
func (u *udpSock) deferPortLocked(addr netip.Addr) error {
	b, err := u.s.UDPBind(u, netip.AddrPortFrom(addr, 0), u.bindFlags())
	if err != nil {
		return err
	}
	b.Release()
	u.deferredAddr = addr
	return nil
}

func (u *udpSock) Connect(sa []byte) error {
	r, err := options.ParseConnectAddr(sa)
	if err != nil {
		return err
	}
	u.bindMu.Lock()
	defer u.bindMu.Unlock()
	if r.Unspec {
		return u.disconnectLocked()
	}
	if err := u.autobindLocked(); err != nil {
		return err
	}
	r.Addr = routeDst(r.Addr, u.binding.Local().Addr())
	if err := checkBroadcastDst(u.s, u.binding.Local().Addr(), r.Addr.Addr(), u.optsSnapshot()); err != nil {
		return err
	}
	if err := checkDontRoute(u.s, r.Addr.Addr(), u.optsSnapshot(), 0); err != nil {
		return err
	}
	o := u.optsSnapshot()
	if err := u.binding.ConnectVia(r.Addr, unicastIf(o.bindIf, r.Addr.Addr(), o)); err != nil {
		return err
	}
	u.remote = r.Addr
	u.connected.Store(true)
	u.ipid.Connected()
	return nil
}

// disconnectLocked is udp_disconnect: the peer is forgotten, and a port
// the socket only got implicitly is given back.
func (u *udpSock) disconnectLocked() error {
	u.remote = netip.AddrPort{}
	u.connected.Store(false)
	u.ipid.Disconnected()
	if u.binding == nil {
		return nil
	}
	if err := u.binding.Connect(netip.AddrPort{}); err != nil {
		return err
	}
	if !u.userPort {
		u.binding = nil
	}
	return nil
}

func (u *udpSock) Listen(int) error { return unix.EOPNOTSUPP }

func (u *udpSock) Accept(flags int) (Socket, []byte, error) {
	if flags&^(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) != 0 {
		return nil, nil, unix.EINVAL
	}
	return nil, nil, unix.EOPNOTSUPP
}

func (u *udpSock) GetSockName() ([]byte, error) {
	u.bindMu.Lock()
	defer u.bindMu.Unlock()
	if u.binding == nil {
		if u.deferredAddr.IsValid() {
			return sockaddr(netip.AddrPortFrom(u.deferredAddr, 0)), nil
		}
		return sockaddr(netip.AddrPortFrom(netip.IPv4Unspecified(), 0)), nil
	}
	return sockaddr(u.binding.Local()), nil
}

func (u *udpSock) GetPeerName() ([]byte, error) {
	u.bindMu.Lock()
	defer u.bindMu.Unlock()
	// inet_getname: a peer with port 0 reads as not connected.
	if !u.remote.IsValid() || u.remote.Port() == 0 {
		return nil, unix.ENOTCONN
	}
	return sockaddr(u.remote), nil
}

// SendMsg follows inet_sendmsg and udp_sendmsg: autobind first, then the
// length, flag, address and control-message checks in Linux's order, the
// broadcast permission, the IPv4 size limit and finally SHUT_WR.
func (u *udpSock) SendMsg(p, oob, to []byte, flags int) (int, error) {
	if u.isClosed() {
		return 0, unix.EBADF // a closed fd; and no autobind of a closed socket
	}
	src, remote, shut, err := u.sendEnds()
	if err != nil {
		return 0, err
	}
	if len(p) > 0xFFFF {
		return 0, unix.EMSGSIZE
	}
	if flags&unix.MSG_OOB != 0 {
		return 0, unix.EOPNOTSUPP
	}
	dst, err := udpSendDst(to, src, remote)
	if err != nil {
		return 0, err
	}
	return u.sendTo(src, remote, shut, dst, p, oob, flags, false)
}

// sendTo is udp_sendmsg from its control messages on, for a datagram from
// src to dst (remote: the connected peer, if any). mapped is an AF_INET6
// socket's v4-mapped send, whose ip_cmsg_send also takes IPV6_PKTINFO.
func (u *udpSock) sendTo(src, remote netip.AddrPort, shut int, dst netip.AddrPort, p, oob []byte, flags int, mapped bool) (int, error) {
	sp, err := u.sendCmsgs(oob, mapped)
	if err != nil {
		return 0, err
	}
	var cmsgOpts *options.IPOptions
	if sp.hasOpts {
		// Compiled while ip_cmsg_send reads the messages.
		if cmsgOpts, err = u.compileIPOptions(sp.opts); err != nil {
			return 0, err
		}
	}
	o := u.optsSnapshot()
	if err := checkBroadcastDst(u.s, src.Addr(), dst.Addr(), o); err != nil {
		return 0, err
	}
	if len(p) > stack.MaxUDPPayload {
		u.noteSendError(unix.EMSGSIZE, &stack.UDPSend{Src: src, Dst: dst, IfIndex: o.bindIf, PMTU: stack.PMTUMode(o.pmtudisc)}, remote)
		return 0, unix.EMSGSIZE
	}
	if shut&sndShutdown != 0 {
		return 0, unix.EPIPE
	}
	m := stack.UDPSend{
		Src:     src,
		Dst:     dst,
		IfIndex: o.bindIf,
		TTL:     u.effectiveTTL(),
		TOS:     o.tos,
		TTLZero: o.ttl == 0, // only SetTTLZero stores 0 (personality.go)
		// IP_TRANSPARENT sends from a non-local address (FLOWI_FLAG_ANYSRC).
		AnySource: o.ext.transparent,
		PMTU:      stack.PMTUMode(o.pmtudisc),
		// Linux's "connected" for the IP ID is a peer address being set.
		Connected:  remote.IsValid(),
		IPID:       u.ipid,
		NoChecksum: o.misc.noCheck,
		DontRoute:  o.misc.dontroute || flags&unix.MSG_DONTROUTE != 0,
		IPOptions:  o.ext.ipOptions,
		Payload:    p,
	}
	u.applyMcastOpts(&m)
	if u.lite {
		u.applyLite(&m)
	}
	if err := applyUDPCmsgs(u.s, &m, sp, cmsgOpts); err != nil {
		return 0, err
	}
	m.IfIndex = unicastIf(m.IfIndex, m.Dst.Addr(), o)
	if err := u.takeSendErr(&m); err != nil {
		return 0, err
	}
	if err := u.s.SendUDP(&m); err != nil {
		if err == unix.ENOBUFS && !o.recvErr {
			// udp_send_skb: a full device queue is counted (SndbufErrors)
			// and reported only to a socket that asked for errors.
			u.s.Stats().UDPSndbufErrors.Add(1)
			return len(p), nil
		}
		u.noteSendError(err, &m, remote)
		return 0, err
	}
	return len(p), nil
}

// sendEnds binds the socket if it is not (inet_autobind) and returns its
// local and connected addresses and shutdown state for one send.
func (u *udpSock) sendEnds() (src, remote netip.AddrPort, shut int, err error) {
	u.bindMu.Lock()
	err = u.autobindLocked()
	if u.binding != nil {
		src = u.binding.Local()
	}
	remote = u.remote
	u.bindMu.Unlock()
	u.mu.Lock()
	shut = u.shut
	u.mu.Unlock()
	switch {
	case err == unix.EBADF:
		return src, remote, shut, err
	case err != nil:
		return src, remote, shut, unix.EAGAIN
	}
	return src, remote, shut, nil
}

// udpSendDst is a send's destination: the address given (port 0 is
// EINVAL) or, without one, the connected peer (EDESTADDRREQ if none).
func udpSendDst(to []byte, src, remote netip.AddrPort) (netip.AddrPort, error) {
	if to == nil {
		if !remote.IsValid() {
			return netip.AddrPort{}, unix.EDESTADDRREQ
		}
		return remote, nil
	}
	r, err := options.ParseSendtoAddr(to)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if r.Addr.Port() == 0 {
		return netip.AddrPort{}, unix.EINVAL
	}
	return routeDst(r.Addr, src.Addr()), nil
}

// applyUDPCmsgs lets a send's control messages override the socket's TTL,
// TOS, IP options and source (IP_PKTINFO) for this datagram.
func applyUDPCmsgs(s *stack.Stack, m *stack.UDPSend, sp sendParams, opts *options.IPOptions) error {
	if sp.ttl != 0 {
		m.TTL = uint8(sp.ttl)
	}
	if sp.tos >= 0 {
		m.TOS = uint8(sp.tos)
	}
	if sp.hasOpts {
		m.IPOptions = opts
	}
	if sp.hasPktinfo {
		return applySendPktinfo(s, m, sp.pktinfo)
	}
	return nil
}

// RecvMsg follows udp_recvmsg: a pending error comes first, then the
// oldest datagram; MSG_TRUNC reports the datagram's real length.
func (u *udpSock) RecvMsg(p, oob []byte, flags int) (int, int, int, []byte, error) {
	if u.isClosed() {
		return 0, 0, 0, nil, unix.EBADF
	}
	if flags&unix.MSG_ERRQUEUE != 0 {
		return u.recvErrQueue(p, oob)
	}
	deadline := deadlineAfter(u.optsSnapshot().rcvTimeo)
	for {
		u.mu.Lock()
		if e := u.soErr; e != 0 {
			u.soErr = 0
			u.mu.Unlock()
			return 0, 0, 0, nil, e
		}
		peekOff := int(u.peekOff.get())
		if flags&unix.MSG_PEEK != 0 && peekOff >= 0 {
			if head, n, rflags, from, ok := u.peekAtOffsetLocked(p, flags, peekOff); ok {
				u.mu.Unlock()
				oobn, cflags := u.recvCmsgs(oob, &head)
				return n, oobn, rflags | cflags, from, nil
			}
		} else if u.queue.len() > 0 {
			// Control messages are built outside the lock: pktinfo for a
			// broadcast may ask the stack for a route.
			head := *u.queue.front()
			n, rflags, from := u.takeLocked(p, flags)
			u.mu.Unlock()
			oobn, cflags := u.recvCmsgs(oob, &head)
			return n, oobn, rflags | cflags, from, nil
		}
		shut := u.shut
		u.mu.Unlock()
		if !u.mayBlock(flags) {
			return 0, 0, 0, nil, unix.EAGAIN
		}
		if shut&rcvShutdown != 0 {
			return 0, 0, 0, nil, nil
		}
		ready := u.Readiness
		if flags&unix.MSG_PEEK != 0 && peekOff >= 0 {
			ready = u.peekReady
		}
		if _, err := u.waitReady(ready, unix.EPOLLIN, deadline); err != nil {
			return 0, 0, 0, nil, err
		}
	}
}

// takeLocked copies the head datagram into p and dequeues it unless
// MSG_PEEK.
func (u *udpSock) takeLocked(p []byte, flags int) (int, int, []byte) {
	e := u.queue.front()
	payload := e.d.Payload
	n := copy(p, payload)
	rflags := 0
	if n < len(payload) {
		rflags |= unix.MSG_TRUNC
	}
	if flags&unix.MSG_TRUNC != 0 {
		n = len(payload)
	}
	from := sockaddr(e.d.Src)
	if flags&unix.MSG_PEEK == 0 {
		u.rmem -= e.truesize
		u.queue.pop()
		u.peekOff.bwd(n)
	}
	return n, rflags, from
}

// Readiness is datagram_poll.
func (u *udpSock) Readiness(mask uint32) uint32 {
	pri := u.errPri() // SO_SELECT_ERR_QUEUE (sockopts_ext.go)
	u.mu.Lock()
	defer u.mu.Unlock()
	var r uint32
	if u.soErr != 0 || u.errQueuedLocked() {
		r |= unix.EPOLLERR | pri
	}
	if u.shut&rcvShutdown != 0 {
		r |= unix.EPOLLRDHUP | unix.EPOLLIN | unix.EPOLLRDNORM
	}
	if u.shut == rcvShutdown|sndShutdown {
		r |= unix.EPOLLHUP
	}
	if u.queue.len() > 0 {
		r |= unix.EPOLLIN | unix.EPOLLRDNORM
	}
	// Sends complete synchronously, so the socket is always writable.
	r |= unix.EPOLLOUT | unix.EPOLLWRNORM | unix.EPOLLWRBAND
	return r & mask
}

func (u *udpSock) Wait(mask uint32, deadline time.Time) (uint32, error) {
	return u.waitReady(u.Readiness, mask, deadline)
}

// Shutdown is inet_shutdown for a datagram socket: an unconnected socket
// answers ENOTCONN yet records the shutdown all the same.
func (u *udpSock) Shutdown(how int) error {
	if how < unix.SHUT_RD || how > unix.SHUT_RDWR {
		return unix.EINVAL
	}
	u.bindMu.Lock()
	connected := u.remote.IsValid()
	u.bindMu.Unlock()
	u.mu.Lock()
	u.shut |= how + 1
	u.mu.Unlock()
	u.q.Notify(waiter.EventIn | waiter.EventOut | waiter.EventHUp | waiter.EventRdHUp)
	if !connected {
		return unix.ENOTCONN
	}
	return nil
}

func (u *udpSock) Close() error {
	if !u.beginClose() {
		return unix.EBADF
	}
	u.dropMemberships()
	u.bindMu.Lock()
	if u.binding != nil {
		u.binding.Release()
		u.binding = nil
	}
	u.bindMu.Unlock()
	u.mu.Lock()
	u.queue = dgramQueue{}
	u.rmem = 0
	u.mu.Unlock()
	return nil
}

func (u *udpSock) SetSockOpt(level, name int, val []byte) error {
	if level == unix.SOL_UDP || level == solUDPLite {
		return u.setUDPLevel(name, val) // udplite.go
	}
	if err := u.setCommon(level, name, val); err != nil {
		return err
	}
	if level == unix.SOL_IP && name == unix.IP_RECVERR && !u.optsSnapshot().recvErr {
		u.purgeErrQueue()
	}
	return nil
}

func (u *udpSock) GetSockOpt(level, name int, buf []byte) (int, error) {
	if level == unix.SOL_SOCKET {
		switch name {
		case unix.SO_ERROR:
			u.mu.Lock()
			e := u.soErr
			u.soErr = 0
			u.mu.Unlock()
			return putErrno(buf, e), nil
		case unix.SO_ACCEPTCONN:
			return options.PutSockInt(buf, 0), nil
		case unix.SO_PROTOCOL:
			if u.lite {
				return options.PutSockInt(buf, solUDPLite), nil
			}
		}
	}
	if level == unix.SOL_UDP || level == solUDPLite {
		return u.getUDPLevel(name, buf) // udplite.go
	}
	if level == unix.SOL_IP && name == unix.IP_MTU {
		return u.getIPMTU(buf)
	}
	if level == unix.SOL_IP && name == unix.IP_PROTOCOL {
		return u.getIPProtocol(buf) // sockopts_ipproto.go
	}
	return u.getCommon(level, name, buf)
}
