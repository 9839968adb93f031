package endpoint

import (
	"encoding/binary"
	"io"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/options"
	"netsandbox/stack"
)

// ICMPv6 errors on AF_INET6 raw and ping sockets, which gVisor's
// endpoints never see: the stack's ICMPv6 tap offers each error to every
// such socket (stack.AddICMP6ErrorSocket), which takes those quoting its
// own datagrams (raw_v6_match, ping_lookup) with rawv6_err's and
// ping_err's rules into an error state of its own (sock6.errs): the
// IPV6_RECVERR queue and the pending error that SO_ERROR, poll, the next
// send and the next receive report.

// watchICMP6Errors gives a raw or ping socket its error state; so is the
// socket itself.
func (k *sock6) watchICMP6Errors(so stack.ICMP6ErrorSocket) {
	k.errs = &gErrState{remove: k.s.AddICMP6ErrorSocket(so)}
}

// icmp6Matchable is what the match of an error needs of the socket: its
// bound address (unspecified for none), its peer and whether connected.
func (k *sock6) icmp6Matchable() (local, remote netip.Addr, connected bool) {
	if la, e := k.endpoint().GetLocalAddress(); e == nil && la.Addr.Len() == 16 {
		local = netip.AddrFrom16(la.Addr.As16())
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return local, k.remote.Addr(), k.conn
}

// recordICMP6 makes errno pending and, when queue, queues the ICMPv6
// error (payload from the quoted upper-layer header, msg_name the quoted
// destination with port 0).
func (k *sock6) recordICMP6(e *stack.ICMPError, quote, payload []byte, errno unix.Errno, queue bool) {
	se := icmpSockErr(e, errno)
	se.name = netip.AddrPortFrom(e.Dst.Addr(), 0)
	se.payload = append([]byte(nil), payload...)
	k.optMu.Lock()
	rfc4884 := k.v6.recvErrRFC4884
	k.optMu.Unlock()
	if rfc4884 {
		setRFC4884(&se, e, len(quote)-len(payload))
	}
	se.truesize = udpTruesize(header.IPv6MinimumSize + header.ICMPv6ErrorHeaderSize + len(quote))
	k.errs.record(se, queue, k.optsSnapshot().rcvbuf, errno)
	k.q.Notify(waiter.EventErr | waiter.EventIn)
}

// recvErr6 is IPV6_RECVERR's value, which gVisor's socket options hold.
func (k *sock6) recvErr6() bool { return k.endpoint().SocketOptions().GetIPv6RecvError() }

// QuotedICMP6Error is ping_err for an ICMPv6 socket: an error quoting an
// echo request with the socket's identifier, from its bound address if
// it has one; icmpv6_err_convert's errno, queued with IPV6_RECVERR and
// pending then, else pending only when fatal on a connected socket.
func (p *ping6Sock) QuotedICMP6Error(e *stack.ICMPError, quote []byte, inner int, proto uint8) {
	th := quote[inner:]
	if proto != unix.IPPROTO_ICMPV6 || th[0] != byte(header.ICMPv6EchoRequest) || p.isClosed() {
		return
	}
	local, _, connected := p.icmp6Matchable()
	if binary.BigEndian.Uint16(th[4:6]) != p.ident() || !local.IsUnspecified() && local.IsValid() && local != e.Src.Addr() {
		return
	}
	errno, hard := icmp6ErrConvert(e.Type, e.Code)
	recvErr := p.recvErr6()
	if !recvErr && (!hard || !connected) {
		return
	}
	p.recordICMP6(e, quote, th, errno, recvErr)
}

// QuotedICMP6Error is rawv6_err for the sockets raw_v6_match finds: the
// socket's protocol, its peer if connected and its bound address if any.
// An unconnected socket without IPV6_RECVERR ignores errors; a packet
// too big lowers the path MTU and is fatal under IPV6_PMTUDISC_DO only;
// with IPV6_RECVERR the error is queued and pending, without it pending
// when fatal.
func (r *raw6Sock) QuotedICMP6Error(e *stack.ICMPError, quote []byte, inner int, proto uint8) {
	if int(proto) != r.proto || r.isClosed() {
		return
	}
	local, remote, connected := r.icmp6Matchable()
	if connected && remote != e.Dst.Addr() || !local.IsUnspecified() && local.IsValid() && local != e.Src.Addr() {
		return
	}
	recvErr := r.recvErr6()
	if !recvErr && !connected {
		return
	}
	errno, hard := icmp6ErrConvert(e.Type, e.Code)
	if header.ICMPv6Type(e.Type) == header.ICMPv6PacketTooBig {
		r.s.LearnPMTU6(e.Dst.Addr(), int(e.Info))
		r.optMu.Lock()
		hard = r.v6.pmtudisc == unix.IPV6_PMTUDISC_DO
		r.optMu.Unlock()
	}
	if !recvErr && !hard {
		return
	}
	r.recordICMP6(e, quote, quote[inner:], errno, recvErr)
}

// takeErr6 is sock_error for a raw or ping socket: the pending ICMPv6
// error, read and cleared (0 for a TCP socket, which has no such state).
func (k *sock6) takeErr6() unix.Errno {
	if k.errs == nil {
		return 0
	}
	return k.errs.take()
}

// errPending6 tells poll about a raw or ping socket's error state.
func (k *sock6) errPending6() bool { return k.errs != nil && k.errs.pending() }

// recvErrQueue6 is ipv6_recv_error for a raw or ping socket.
func (k *sock6) recvErrQueue6(dst io.Writer, size int, oob []byte) (int, int, int, []byte, error) {
	e, ok := k.errs.pop()
	if !ok {
		return 0, 0, 0, nil, unix.EAGAIN
	}
	p := make([]byte, size)
	n, rflags := errPayload(p, &e)
	dst.Write(p[:n])
	k.optMu.Lock()
	v := k.v6
	k.optMu.Unlock()
	oobn, cflags := errCmsgs6(k.s, k.rx(), v, oob, &e)
	return n, oobn, rflags | cflags, sockaddr6Of(e.name, uint32(e.icmp.IfIndex)), nil
}

// closeErrs6 unregisters the socket from the tap as it closes.
func (k *sock6) closeErrs6() {
	if k.errs != nil {
		k.errs.remove()
		k.errs.purge()
	}
}

// checkSize6 is __ip6_append_data's size check for a raw or ping socket,
// which gVisor does not make against a learnt path MTU: under
// IPV6_PMTUDISC_DO, PROBE and INTERFACE (not OMIT: ip6_sk_ignore_df), or
// with IPV6_DONTFRAG (the option, or the control message in c, which
// overrides it), the packet (payload p and the IPv6 header) must fit the
// cork MTU: the path MTU, under PROBE and above the device's, lowered to
// IPV6_MTU; a refused send leaves ipv6_local_error's entry with
// IPV6_RECVERR (msg_name the destination, ee_info the MTU). Otherwise a
// larger one leaves in fragments (raw6_bigsend.go).
func (k *sock6) checkSize6(p []byte, dst netip.Addr, oif int, c options.IPv6SendControl) error {
	k.optMu.Lock()
	mode, dontFrag, fragSize := k.v6.pmtudisc, k.v6.dontFrag, k.v6.fragSize
	k.optMu.Unlock()
	if c.HasDontFrag {
		dontFrag = c.DontFrag
	}
	refuses := dontFrag || mode >= unix.IPV6_PMTUDISC_DO && mode != unix.IPV6_PMTUDISC_OMIT
	if !refuses || !dst.IsValid() {
		return nil
	}
	if oif == 0 {
		oif = k.optsSnapshot().bindIf
	}
	// The cork MTU, as UDP's sends and the fragments take it (mtus6).
	mtu, err := k.s.SendMTU6(&stack.UDPSend{Dst: netip.AddrPortFrom(dst, 0), IfIndex: oif, PMTU: stack.PMTUMode(mode), FragSize: fragSize})
	if err != nil {
		return nil // a routing failure is the write's to report
	}
	if header.IPv6MinimumSize+len(p) <= mtu {
		return nil
	}
	// fl6_dport: an ICMPv6 message's type and code share its bytes
	// (rawv6_probe_proto_opt, ping_v6_sendmsg).
	var port uint16
	if k.proto == unix.IPPROTO_ICMPV6 && len(p) >= 2 {
		port = uint16(p[0])<<8 | uint16(p[1])
	}
	k.noteLocalEMSGSIZE(netip.AddrPortFrom(dst, port), mtu)
	return unix.EMSGSIZE
}

// noteLocalEMSGSIZE is ipv6_local_error for a raw or ping socket's send
// refused for its size: under IPV6_RECVERR an SO_EE_ORIGIN_LOCAL EMSGSIZE
// entry with the MTU, msg_name name.
func (k *sock6) noteLocalEMSGSIZE(name netip.AddrPort, mtu int) {
	if !k.recvErr6() {
		return
	}
	se := sockErr{
		ee:       options.SockExtendedErr{Errno: uint32(unix.EMSGSIZE), Origin: unix.SO_EE_ORIGIN_LOCAL, Info: uint32(mtu)},
		name:     name,
		truesize: localErrTruesize,
		stamp:    time.Now().UnixNano(),
	}
	k.errs.queueLocal(se, k.optsSnapshot().rcvbuf)
	k.q.Notify(waiter.EventErr)
}
