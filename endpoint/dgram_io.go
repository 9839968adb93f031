package endpoint

import (
	"bytes"
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"netsandbox/stack"
)

// maxIPPayload is the largest length raw_sendmsg, ping and udp_sendmsg
// accept before anything else is checked (0xFFFF).
const maxIPPayload = 0xFFFF

// sendPrep is what raw_sendmsg and ping_v4_sendmsg check after their own
// checks of the payload and the address, in their order: the destination
// (to when hasTo, else the connected peer, EDESTADDRREQ without one), the
// control messages, SO_DONTROUTE/MSG_DONTROUTE, the size against the MTU.
func (g *dgramSock) sendPrep(p, oob []byte, to netip.AddrPort, hasTo bool, flags int) (tcpip.WriteOptions, sendParams, error) {
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
	sp, err := g.sendCmsgs(oob, false)
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
		return 0, stack.Errno(e)
	}
	return int(n), nil
}

func (g *dgramSock) RecvMsg(p, oob []byte, flags int) (int, int, int, []byte, error) {
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

func (g *dgramSock) recvDatagram(p, oob []byte, flags int) (int, int, int, []byte, error) {
	peek := flags&unix.MSG_PEEK != 0
	deadline := deadlineAfter(g.optsSnapshot().rcvTimeo)
	for {
		g.kind.dropUnwanted()
		hdr := g.peekFragHeader(p)
		ep := g.endpoint()
		res, e := g.readDatagram(p, peek)
		if e == nil {
			n, rflags := res.Count, 0
			if res.Total > res.Count {
				rflags |= unix.MSG_TRUNC
			}
			if flags&unix.MSG_TRUNC != 0 {
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
			if !g.isClosed() && g.endpoint() != ep {
				continue // a ping connect on another thread swapped the endpoint (pingSwap)
			}
			return 0, 0, 0, nil, nil
		}
		if _, wb := e.(*tcpip.ErrWouldBlock); !wb || !g.mayBlock(flags) {
			return 0, 0, 0, nil, stack.Errno(e)
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
func (g *dgramSock) checkSendDontRoute(to *tcpip.FullAddress, flags int) error {
	dst := g.sendDst(to)
	if !dst.IsValid() {
		return nil
	}
	return checkDontRoute(g.s, dst, g.optsSnapshot(), flags)
}

// peekFragHeader returns the IP header of the next packet when the caller's
// buffer is too short to hold it and IP_RECVFRAGSIZE needs it to name the
// datagram (raw sockets only); nil otherwise.
func (g *dgramSock) peekFragHeader(p []byte) []byte {
	if g.rx()&rxFragSize == 0 || !g.ipHeader || len(p) >= header.IPv4MinimumSize {
		return nil
	}
	hb := make([]byte, header.IPv4MinimumSize)
	res, e := g.readOnce(hb, true, false)
	if e != nil {
		return nil
	}
	return hb[:res.Count]
}

// readDatagram reads one raw or ping datagram into p. gVisor refuses a
// zero-length read with ErrBadBuffer (EFAULT) after dequeuing the
// datagram; raw_recvmsg and ping_recvmsg copy nothing and report the
// datagram as truncated, so a zero-length read is made through a 1-byte
// buffer and reported as 0 bytes of res.Total.
func (g *dgramSock) readDatagram(p []byte, peek bool) (tcpip.ReadResult, tcpip.Error) {
	if len(p) > 0 {
		return g.readOnce(p, peek, true)
	}
	var one [1]byte
	res, e := g.readOnce(one[:], peek, true)
	res.Count = 0
	return res, e
}

// sendDst is a send's destination: the sendto address to, or the
// connected peer when to is nil (invalid without one).
func (g *dgramSock) sendDst(to *tcpip.FullAddress) netip.Addr {
	if to != nil {
		return addrPortOf(*to).Addr()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.remote.Addr()
}
