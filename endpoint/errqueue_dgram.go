package endpoint

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/options"
	"netsandbox/stack"
)

// gErrState is the error side of a raw or ping socket, which gVisor does
// not keep: the IP_RECVERR queue and the pending ICMP error (sk_err).
type gErrState struct {
	mu     sync.Mutex
	q      errQueue
	soErr  unix.Errno
	rmem   int // charge of the queued errors against SO_RCVBUF
	remove func()
}

// gErrStates holds the error state of the raw and ping sockets that
// registered with the stack's ICMP tap (*dgramSock -> *gErrState). It lives
// beside dgramSock so that sockets that never send pay nothing.
var gErrStates sync.Map

// errState is the socket's error state, nil before it registered.
func (g *dgramSock) errState() *gErrState {
	if v, ok := gErrStates.Load(g); ok {
		return v.(*gErrState)
	}
	return nil
}

// watchICMPErrors registers a raw or ping socket with the stack's ICMP tap
// (once): on its first send, or when IP_RECVERR is turned on, since a raw
// socket also hears errors about its protocol's datagrams sent by others.
func (g *dgramSock) watchICMPErrors() *gErrState {
	if st := g.errState(); st != nil {
		return st
	}
	st := &gErrState{}
	st.mu.Lock()
	defer st.mu.Unlock()
	if v, loaded := gErrStates.LoadOrStore(g, st); loaded {
		return v.(*gErrState)
	}
	st.remove = g.s.AddICMPErrorSocket(g.kind)
	return st
}

// unwatchICMPErrors undoes watchICMPErrors when the socket closes.
func (g *dgramSock) unwatchICMPErrors() {
	v, ok := gErrStates.LoadAndDelete(g)
	if !ok {
		return
	}
	st := v.(*gErrState)
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.remove != nil {
		st.remove()
	}
	st.q = errQueue{}
}

// Echo request, the only ICMP message ping sockets send.
const icmpEchoRequest = 8

// quotedDatagram is the datagram an ICMP error quotes, as a raw or ping
// socket's error handler reads it, with the socket's peer.
type quotedDatagram struct {
	st        *gErrState
	ihl       int
	proto     int
	src, dst  netip.Addr
	th        []byte // from the transport header on
	remote    netip.Addr
	connected bool
}

// matchQuote reads the quote of an ICMP error for this socket: none when
// the socket does not watch errors, is closing, the quote is short or its
// source is not the socket's bound address.
func (g *dgramSock) matchQuote(quote []byte) (quotedDatagram, bool) {
	st := g.errState()
	if st == nil || g.isClosed() || len(quote) < 28 {
		return quotedDatagram{}, false
	}
	q := quotedDatagram{
		st:    st,
		ihl:   int(quote[0]&0xf) * 4,
		proto: int(quote[9]),
		src:   netip.AddrFrom4([4]byte(quote[12:16])),
		dst:   netip.AddrFrom4([4]byte(quote[16:20])),
	}
	q.th = quote[q.ihl:]
	var local netip.Addr
	local, q.remote, q.connected = g.icmpMatchAddrs()
	if local.IsValid() && !local.IsUnspecified() && local != q.src {
		return quotedDatagram{}, false
	}
	return q, true
}

// QuotedICMPError is raw_err: raw_v4_match finds the socket by its
// protocol and addresses.
func (g *rawSock) QuotedICMPError(e *stack.ICMPError, quote []byte) bool {
	q, ok := g.matchQuote(quote)
	if !ok {
		return false
	}
	if q.proto != g.proto || g.proto == unix.IPPROTO_RAW || q.connected && q.remote != q.dst {
		return false
	}
	if t := header.ICMPv4Type(e.Type); t == header.ICMPv4Redirect || t == header.ICMPv4SrcQuench {
		return true
	}
	o := g.optsSnapshot()
	if !o.recvErr && !q.connected {
		return true
	}
	errno, hard := rawICMPErrno(e, o.pmtudisc)
	payload, hlen := q.th, q.ihl
	if o.hdrincl {
		payload, hlen = quote, 0
	}
	if !o.recvErr && !hard {
		return true
	}
	g.queueICMPError(q, e, quote, payload, hlen, errno, o)
	return true
}

// queueICMPError records an ICMP error the socket took: sk_err, and with
// IP_RECVERR the error queue entry (payload from offset hlen of the
// quote's headers, for RFC 4884).
func (g *dgramSock) queueICMPError(q quotedDatagram, e *stack.ICMPError, quote, payload []byte, hlen int, errno unix.Errno, o sockOpts) {
	se := icmpSockErr(e, errno)
	se.name = netip.AddrPortFrom(q.dst, 0)
	se.payload = append([]byte(nil), payload...)
	se.truesize = udpTruesize(28 + len(quote))
	if o.recvErrRFC4884 {
		setRFC4884(&se, e, hlen)
	}
	q.st.record(se, o.recvErr, o.rcvbuf, errno)
	g.q.Notify(waiter.EventErr | waiter.EventIn)
}

// record makes errno the pending error (sk_err) and, when queue, adds se
// to the queue if the receive buffer admits it.
func (st *gErrState) record(se sockErr, queue bool, rcvbuf int, errno unix.Errno) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if queue {
		st.queueLocked(se, rcvbuf)
	}
	st.soErr = errno
}

// queueLocal adds a local error (ip_local_error), which leaves sk_err as
// it is, if the receive buffer admits it.
func (st *gErrState) queueLocal(se sockErr, rcvbuf int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.queueLocked(se, rcvbuf)
}

func (st *gErrState) queueLocked(se sockErr, rcvbuf int) {
	if errQueueAdmits(st.rmem, rcvbuf, se.truesize) {
		st.rmem += se.truesize
		st.q.push(se)
	}
}

// take is sock_error: the pending error, read and cleared.
func (st *gErrState) take() unix.Errno {
	st.mu.Lock()
	defer st.mu.Unlock()
	e := st.soErr
	st.soErr = 0
	return e
}

// pending tells poll about the error state (EPOLLERR).
func (st *gErrState) pending() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.soErr != 0 || st.q.len() > 0
}

// pop dequeues the oldest error (errQueue.dequeue).
func (st *gErrState) pop() (sockErr, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.q.dequeue(&st.soErr, &st.rmem)
}

// purge is skb_errqueue_purge.
func (st *gErrState) purge() {
	st.mu.Lock()
	defer st.mu.Unlock()
	for st.q.len() > 0 {
		st.rmem -= st.q.pop().truesize
	}
}

// pingICMPErrno is ping_err's classification.
func pingICMPErrno(e *stack.ICMPError, pmtudisc int) (errno unix.Errno, hard, ok bool) {
	switch header.ICMPv4Type(e.Type) {
	case header.ICMPv4SrcQuench, header.ICMPv4Redirect: // other sockets ignore these
		return unix.EREMOTEIO, false, true
	case header.ICMPv4ParamProblem:
		return unix.EPROTO, true, true
	case header.ICMPv4DstUnreachable:
		if header.ICMPv4Code(e.Code) == header.ICMPv4FragmentationNeeded {
			if pmtudisc == unix.IP_PMTUDISC_DONT {
				return 0, false, false
			}
			return unix.EMSGSIZE, true, true
		}
		errno, hard := unreachErrno(e.Code)
		return errno, hard, true
	}
	return unix.EHOSTUNREACH, false, true
}

// rawICMPErrno is raw_err's classification: frag-needed is hard unless the
// socket lets its packets be fragmented, but reported either way.
func rawICMPErrno(e *stack.ICMPError, pmtudisc int) (unix.Errno, bool) {
	switch header.ICMPv4Type(e.Type) {
	case header.ICMPv4ParamProblem:
		return unix.EPROTO, true
	case header.ICMPv4DstUnreachable:
		if header.ICMPv4Code(e.Code) == header.ICMPv4FragmentationNeeded {
			return unix.EMSGSIZE, pmtudisc != unix.IP_PMTUDISC_DONT
		}
		return unreachErrno(e.Code)
	}
	return unix.EHOSTUNREACH, false
}

// icmpMatchAddrs returns the socket's bound address and its peer.
func (g *dgramSock) icmpMatchAddrs() (local, remote netip.Addr, connected bool) {
	g.mu.Lock()
	remote, connected = g.remote.Addr(), g.conn
	g.mu.Unlock()
	return g.localAddr(), remote, connected
}

// takeICMPErr is sock_error for raw and ping sockets: the pending ICMP
// error, read and cleared.
func (g *dgramSock) takeICMPErr() unix.Errno {
	if st := g.errState(); st != nil {
		return st.take()
	}
	return 0
}

// icmpErrPending tells poll about the error state (EPOLLERR).
func (g *dgramSock) icmpErrPending() bool {
	st := g.errState()
	return st != nil && st.pending()
}

// recvGErrQueue is ip_recv_error for raw and ping sockets.
func (g *dgramSock) recvGErrQueue(p, oob []byte) (int, int, int, []byte, error) {
	st := g.errState()
	if st == nil {
		return 0, 0, 0, nil, unix.EAGAIN
	}
	e, ok := st.pop()
	if !ok {
		return 0, 0, 0, nil, unix.EAGAIN
	}
	n, rflags := errPayload(p, &e)
	oobn, cflags := g.errCmsgs(oob, &e)
	return n, oobn, rflags | cflags, sockaddr(e.name), nil
}

// setRecvErrHook follows an IP_RECVERR change: on registers the socket
// with the tap, off purges the queue (skb_errqueue_purge).
func (g *dgramSock) setRecvErrHook() {
	if g.optsSnapshot().recvErr {
		g.watchICMPErrors()
		return
	}
	if st := g.errState(); st != nil {
		st.purge()
	}
}

// checkLocalMsgSize is the size check of __ip_append_data (raw and ping
// sockets) and raw_send_hdrinc that gVisor does not make: a datagram above
// the MTU fails with EMSGSIZE where Linux refuses it, leaving a local
// error with the MTU when IP_RECVERR is on. to is the sendto address, nil
// for the connected peer.
func (g *dgramSock) checkLocalMsgSize(p []byte, to *tcpip.FullAddress) error {
	o := g.optsSnapshot()
	dst := g.sendDst(to)
	if !dst.Is4() {
		return nil
	}
	hdrincl := o.hdrincl // IP_HDRINCL exists on raw sockets only
	mode := stack.PMTUMode(o.pmtudisc)
	// raw_send_hdrinc compares with the device MTU whatever the mode;
	// ip_append_data refuses only in the modes that do not fragment.
	if !hdrincl && mode != stack.PMTUDo && mode != stack.PMTUProbe && mode != stack.PMTUInterface {
		return nil
	}
	size := len(p)
	if !hdrincl {
		size += 20
	}
	mtu := g.sendMTUTo(dst, mode, hdrincl)
	if mtu == 0 || size <= mtu {
		return nil
	}
	if o.recvErr {
		st := g.watchICMPErrors()
		se := sockErr{
			ee:       options.SockExtendedErr{Errno: uint32(unix.EMSGSIZE), Origin: unix.SO_EE_ORIGIN_LOCAL, Info: uint32(mtu)},
			name:     netip.AddrPortFrom(dst, 0),
			truesize: localErrTruesize,
			stamp:    time.Now().UnixNano(),
		}
		st.queueLocal(se, o.rcvbuf)
		g.q.Notify(waiter.EventErr)
	}
	return unix.EMSGSIZE
}

// sendMTUTo is the MTU a raw or ping datagram to dst is held to: the
// device MTU for IP_HDRINCL and for PROBE/INTERFACE, else the path MTU.
func (g *dgramSock) sendMTUTo(dst netip.Addr, mode stack.PMTUMode, device bool) int {
	src := g.localAddr()
	ifindex := g.optsSnapshot().bindIf
	if !device && mode < stack.PMTUProbe {
		mtu, err := g.s.PathMTU(src, dst, ifindex)
		if err != nil {
			return 0
		}
		return mtu
	}
	_, idx, err := g.s.RouteFrom(src, dst, ifindex)
	if err != nil {
		return 0
	}
	ifc, ok := g.s.InterfaceByIndex(idx)
	if !ok {
		return 0
	}
	return min(int(ifc.MTU), 0xffff)
}
