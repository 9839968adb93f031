package endpoint

import (
	"bytes"
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"netsandbox/options"
)

// maxIPPayload is the largest length raw_sendmsg, ping and udp_sendmsg
// accept before anything else is checked (0xFFFF).
const maxIPPayload = 0xFFFF

// SendMsg is raw_sendmsg.
func (g *gsock) SendMsg(p, oob, to []byte, flags int) (int, error) {
	g.watchICMPErrors()
	if len(p) > maxIPPayload {
		return 0, unix.EMSGSIZE
	}
	if flags&unix.MSG_OOB != 0 {
		return 0, unix.EOPNOTSUPP
	}
	var dst netip.AddrPort
	if to != nil {
		// raw_sendmsg takes AF_UNSPEC as AF_INET; there is no port.
		r, err := options.ParseSendtoAddr(to)
		if err != nil {
			return 0, err
		}
		dst = netip.AddrPortFrom(r.Addr.Addr(), 0)
	}
	wo, sp, err := g.sendPrep(p, oob, dst, to != nil, flags)
	if err != nil {
		return 0, err
	}
	// sock_error where the send allocates with sock_alloc_send_skb: with
	// IP_HDRINCL (raw_send_hdrinc). Without it there is no transport
	// header, so __ip_append_data allocates with alloc_skb and leaves the
	// error to recvmsg and SO_ERROR (traceroute -I keeps sending while
	// "time exceeded" errors arrive).
	if g.optsSnapshot().hdrincl {
		if e := g.takeICMPErr(); e != 0 {
			return 0, e
		}
	}
	// gVisor takes no per-packet TOS, IPv4 pktinfo or output interface
	// for raw endpoints, nor IP options: those sends build their header
	// in the stack (gsock_sendctl.go, raw_ipopts.go), and so do
	// header-included packets above gVisor's limit (raw_bigsend.go).
	if handled, n, err := g.sendWithControl(p, wo.To, &sp, 0); handled {
		return n, err
	}
	if handled, n, err := g.sendRawWithOptions(p, wo.To, &sp); handled {
		return n, err
	}
	if handled, n, err := g.sendHdrinclAtMTU(p, wo.To); handled {
		return n, err
	}
	return g.write(p, wo)
}

// sendPrep is what raw_sendmsg and ping_v4_sendmsg check after their own
// checks of the payload and the address, in their order: the destination
// (to when hasTo, else the connected peer, EDESTADDRREQ without one), the
// control messages, SO_DONTROUTE/MSG_DONTROUTE, the size against the MTU.
func (g *gsock) sendPrep(p, oob []byte, to netip.AddrPort, hasTo bool, flags int) (tcpip.WriteOptions, sendParams, error) {
	var wo tcpip.WriteOptions
	if hasTo {
		fa := fullAddress(routeDst(to, g.localAddr()))
		wo.To = &fa
	} else {
		g.mu.Lock()
		conn := g.conn
		g.mu.Unlock()
		if !conn {
			return wo, sendParams{}, unix.EDESTADDRREQ
		}
	}
	sp, err := parseSendCmsgs(oob)
	if err != nil {
		return wo, sp, err
	}
	if sp.ttl != 0 {
		wo.ControlMessages.HasTTL, wo.ControlMessages.TTL = true, uint8(sp.ttl)
	}
	if err := g.checkSendDontRoute(wo.To, flags); err != nil {
		return wo, sp, err
	}
	if err := g.checkLocalMsgSize(p, wo.To); err != nil {
		return wo, sp, err
	}
	return wo, sp, nil
}

// write hands a datagram to the gVisor endpoint.
func (g *gsock) write(p []byte, wo tcpip.WriteOptions) (int, error) {
	n, e := g.endpoint().Write(bytes.NewReader(p), wo)
	if e != nil {
		return 0, errnoOf(e)
	}
	return int(n), nil
}

func (g *gsock) RecvMsg(p, oob []byte, flags int) (int, int, int, []byte, error) {
	if flags&unix.MSG_ERRQUEUE != 0 {
		return g.recvGErrQueue(p, oob)
	}
	if flags&unix.MSG_OOB != 0 {
		return 0, 0, 0, nil, unix.EOPNOTSUPP
	}
	if e := g.takeICMPErr(); e != 0 {
		return 0, 0, 0, nil, e // sock_error in __skb_try_recv_datagram
	}
	return g.recvDatagram(p, oob, flags)
}

// readOnce reads what is there without blocking.
func (g *gsock) readOnce(p []byte, peek, needAddr bool) (tcpip.ReadResult, tcpip.Error) {
	w := tcpip.SliceWriter(p)
	return g.endpoint().Read(&tcpip.LimitedWriter{W: &w, N: int64(len(p))}, tcpip.ReadOptions{Peek: peek, NeedRemoteAddr: needAddr})
}

func (g *gsock) recvDatagram(p, oob []byte, flags int) (int, int, int, []byte, error) {
	peek := flags&unix.MSG_PEEK != 0
	deadline := deadlineAfter(g.optsSnapshot().rcvTimeo)
	for {
		g.dropFilteredICMP()
		hdr := g.peekFragHeader(p)
		ep := g.endpoint()
		res, e := g.readDatagram(p, peek)
		if e == nil {
			n, rflags := res.Count, 0
			if res.Total > res.Count {
				rflags |= unix.MSG_TRUNC
			}
			if flags&unix.MSG_TRUNC != 0 && !g.isPing() { // ping_recvmsg ignores MSG_TRUNC
				n = res.Total
			}
			// raw_recvmsg and ping_recvmsg report port 0.
			from := sockaddr(netip.AddrPortFrom(addrPortOf(res.RemoteAddr).Addr(), 0))
			if hdr == nil {
				hdr = p[:res.Count]
			}
			oobn, cflags := g.datagramCmsgs(oob, &res, p[:res.Count], hdr)
			return n, oobn, rflags | cflags, from, nil
		}
		if _, cr := e.(*tcpip.ErrClosedForReceive); cr {
			if g.isPing() && !g.isClosed() && g.endpoint() != ep {
				continue // a connect on another thread swapped the endpoint (pingSwap)
			}
			return 0, 0, 0, nil, nil
		}
		if _, wb := e.(*tcpip.ErrWouldBlock); !wb || !g.mayBlock(flags) {
			return 0, 0, 0, nil, errnoOf(e)
		}
		g.mu.Lock()
		shut := g.shut
		g.mu.Unlock()
		if shut&rcvShutdown != 0 {
			return 0, 0, 0, nil, nil
		}
		if _, err := g.waitReady(g.Readiness, unix.EPOLLIN, deadline); err != nil {
			return 0, 0, 0, nil, err
		}
	}
}

// checkSendDontRoute applies SO_DONTROUTE/MSG_DONTROUTE to a raw or ping
// send, whose route gVisor looks up without the link-scope limit.
func (g *gsock) checkSendDontRoute(to *tcpip.FullAddress, flags int) error {
	var dst netip.Addr
	if to != nil {
		dst = addrPortOf(*to).Addr()
	} else {
		g.mu.Lock()
		dst = g.remote.Addr()
		g.mu.Unlock()
	}
	if !dst.IsValid() {
		return nil
	}
	return checkDontRoute(g.s, dst, g.optsSnapshot(), flags)
}

// peekFragHeader returns the IP header of the next packet when the caller's
// buffer is too short to hold it and IP_RECVFRAGSIZE needs it to name the
// datagram (raw sockets only); nil otherwise.
func (g *gsock) peekFragHeader(p []byte) []byte {
	if g.rx()&rxFragSize == 0 || g.isPing() || len(p) >= header.IPv4MinimumSize {
		return nil
	}
	hb := make([]byte, header.IPv4MinimumSize)
	res, e := g.readOnce(hb, true, false)
	if e != nil {
		return nil
	}
	return hb[:res.Count]
}
