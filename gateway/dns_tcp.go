package gateway

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// DNS over TCP to the gateway's DNS address under a domain policy (RFC 1035
// 4.2.2, RFC 7766): the gateway reads the sandbox's stream message by
// message (a two-byte length, then the message; several may be pipelined)
// and decides each query as a UDP one (dnsRefusal): a name the policy
// denies outright gets the gateway's NXDOMAIN, anything else goes to the
// resolver over one TCP connection, opened at the first such message. The
// resolver's messages are read the same way, learnt from (snoopDNS) and
// passed on whole, so the gateway's own answers never split one.
//
// Bounds: a message is at most 65535 bytes (what a length can say); each
// must arrive whole within dnsTCPIdle of the previous one (or of the
// connect), else the connection ends, and so does one whose message the
// client cut with a FIN. Writes to either side give up after dnsTCPIdle.

// dnsTCPIdle bounds the wait for each message from the sandbox, and for
// the resolver's answers once the sandbox finished sending; a variable for
// tests.
var dnsTCPIdle = dnsIdle

// dnsConn is one side of a DNS-over-TCP connection.
type dnsConn interface {
	halfCloser
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

// readDNSFrame reads one length-prefixed message into *buf (grown as
// needed, at most 2+65535 bytes) and returns it with its length prefix.
// A stream that ends or fails before the first byte of a frame returns the
// error alone; cut reports whether part of a frame had arrived.
func readDNSFrame(r io.Reader, buf *[]byte) (frame []byte, cut bool, err error) {
	var l [2]byte
	n, err := io.ReadFull(r, l[:])
	if err != nil {
		return nil, n > 0, err
	}
	size := 2 + int(binary.BigEndian.Uint16(l[:]))
	if cap(*buf) < size {
		*buf = make([]byte, size)
	}
	frame = (*buf)[:size]
	copy(frame, l[:])
	if _, err := io.ReadFull(r, frame[2:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, true, err
	}
	return frame, false, nil
}

// appendDNSFrame appends msg with its length prefix (msg is at most 65535
// bytes: a query's or an answer built from one).
func appendDNSFrame(b, msg []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(msg)))
	return append(b, msg...)
}

// dnsRefusal is the gateway's own answer to a query to its DNS address
// whose name the policy denies outright (NXDOMAIN), with the name and the
// deciding rule; nil when the message goes to the resolver (no domain
// policy, not a query, no host name, or a name not denied). UDP and TCP
// queries are decided here alike.
func (gw *Gateway) dnsRefusal(msg []byte) (answer []byte, name string, by *Rule) {
	p := gw.domainPolicy()
	if p == nil {
		return nil, "", nil
	}
	q, err := parseDNSQuestion(msg)
	if err != nil || q.isResponse || !q.opcodeQuery || q.name == "" {
		return nil, "", nil
	}
	deny, by := p.RefusesName(q.name)
	if !deny {
		return nil, "", nil
	}
	return dnsNXDomain(msg, q), q.name, by
}

// serveDNSTCP completes the sandbox's connection to the DNS address at
// once (a denied query needs no resolver) and serves it. The caller has
// registered with wg.
func (gw *Gateway) serveDNSTCP(r *tcp.ForwarderRequest, src, dst, to netip.AddrPort, syn synInfo) {
	ep, sb, ok := gw.acceptSandbox(r, src, dst)
	if !ok {
		return
	}
	gw.stats.TCPFlows.Add(1)
	s := &dnsTCP{
		gw: gw, src: src, dst: dst, sb: sb,
		reset: func() { ep.Abort(); sb.Close() },
		dial: func() (dnsConn, error) {
			ctx, cancel := context.WithTimeout(gw.ctx, tcpDialTimeout)
			defer cancel()
			host, _, err := gw.dialHost(ctx, to, 0, syn.tos)
			if err != nil {
				return nil, err
			}
			return host, nil
		},
	}
	start := time.Now()
	up, down := s.serve()
	gw.logf("tcp %s -> %s dns up %d B down %d B %.3fs", src, dst, up, down, time.Since(start).Seconds())
}

// dnsTCP is one sandbox connection to the DNS address.
type dnsTCP struct {
	gw       *Gateway
	src, dst netip.AddrPort
	sb       dnsConn
	reset    func()                  // aborts sb (a RST)
	dial     func() (dnsConn, error) // connects to the resolver

	wmu sync.Mutex // one whole frame at a time to the sandbox

	mu     sync.Mutex
	host   dnsConn // the resolver, once dialled
	closed bool    // the gateway closed: no dial any more

	downDone chan struct{} // the resolver's reader ended (set with host)
	down     int64         // bytes passed to the sandbox (after downDone)
}

var errDNSTCPClosed = errors.New("gateway closed")

// serve reads the sandbox's queries until it ends, then waits for the
// resolver's answers to what was sent, and closes both. It returns the
// bytes sent to the resolver and passed back.
func (s *dnsTCP) serve() (up, down int64) {
	gw := s.gw
	gw.relays.Add(1)
	defer gw.relays.Add(-1)
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-gw.done:
			s.closeAll()
		case <-finished:
		}
	}()

	var buf []byte
	graceful := false // the sandbox finished sending: answers still due
	for {
		s.sb.SetReadDeadline(time.Now().Add(dnsTCPIdle))
		frame, cut, err := readDNSFrame(s.sb, &buf)
		if err != nil {
			switch {
			case cut:
				gw.stats.DNSDropped.Add(1)
				gw.logf("dns tcp %s -> %s: message cut short: %v", s.src, s.dst, err)
			case err == io.EOF:
				graceful = true
			case isNetTimeout(err):
				gw.logf("dns tcp %s -> %s: idle %v, closed", s.src, s.dst, dnsTCPIdle)
			}
			break
		}
		msg := frame[2:]
		if len(msg) < dnsHeaderLen {
			// No header, so no ID to answer with: dropped, and the
			// stream is still in step.
			gw.stats.DNSDropped.Add(1)
			gw.logf("dns tcp %s -> %s: %d-byte message dropped", s.src, s.dst, len(msg))
			continue
		}
		if ans, name, by := gw.dnsRefusal(msg); ans != nil {
			gw.stats.Denied.Add(1)
			gw.logf("dns %s -> %s %s refused: denied by policy (%s)", s.src, s.dst, name, ruleText(by))
			if s.toSandbox(appendDNSFrame(nil, ans)) != nil {
				break
			}
			continue
		}
		host, err := s.upstream()
		if err != nil {
			if !errors.Is(err, errDNSTCPClosed) {
				gw.stats.Failed.Add(1)
				gw.logf("dns tcp %s -> %s failed: %v", s.src, s.dst, err)
			}
			s.reset()
			return up, 0
		}
		host.SetWriteDeadline(time.Now().Add(dnsTCPIdle))
		n, err := host.Write(frame)
		up += int64(n)
		gw.stats.BytesOut.Add(int64(n))
		if err != nil {
			break
		}
	}

	s.mu.Lock()
	host := s.host
	s.mu.Unlock()
	if host != nil {
		if graceful {
			host.CloseWrite()
			host.SetReadDeadline(time.Now().Add(dnsTCPIdle))
		} else {
			host.Close()
		}
		<-s.downDone
		down = s.down
	}
	s.sb.Close()
	if host != nil {
		host.Close()
	}
	return up, down
}

// upstream is the resolver's connection, dialled at the first call; its
// answers are passed to the sandbox from then on.
func (s *dnsTCP) upstream() (dnsConn, error) {
	s.mu.Lock()
	h, closed := s.host, s.closed
	s.mu.Unlock()
	if h != nil {
		return h, nil
	}
	if closed {
		return nil, errDNSTCPClosed
	}
	h, err := s.dial()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		h.Close()
		return nil, errDNSTCPClosed
	}
	s.host = h
	s.downDone = make(chan struct{})
	s.mu.Unlock()
	go s.answers(h)
	return h, nil
}

// answers passes the resolver's messages to the sandbox, learning names
// from each first, until the resolver ends; then it half-closes the
// sandbox's side.
func (s *dnsTCP) answers(h dnsConn) {
	defer close(s.downDone)
	var buf []byte
	for {
		frame, cut, err := readDNSFrame(h, &buf)
		if err != nil {
			if cut {
				s.gw.logf("dns tcp %s -> %s: resolver's message cut short: %v", s.src, s.dst, err)
			}
			break
		}
		s.gw.snoopDNS(frame[2:])
		if err := s.toSandbox(frame); err != nil {
			h.Close() // the sandbox is gone: so are the answers
			break
		}
		s.down += int64(len(frame))
		s.gw.stats.BytesIn.Add(int64(len(frame)))
	}
	s.wmu.Lock()
	s.sb.CloseWrite()
	s.wmu.Unlock()
}

// toSandbox writes one whole frame to the sandbox.
func (s *dnsTCP) toSandbox(frame []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.sb.SetWriteDeadline(time.Now().Add(dnsTCPIdle))
	_, err := s.sb.Write(frame)
	return err
}

// closeAll ends the connection when the gateway closes.
func (s *dnsTCP) closeAll() {
	s.mu.Lock()
	s.closed = true
	h := s.host
	s.mu.Unlock()
	s.sb.Close()
	if h != nil {
		h.Close()
	}
}

// isNetTimeout tells a deadline's error, from the host's sockets or gonet.
func isNetTimeout(err error) bool {
	var ne net.Error
	return isTimeout(err) || (errors.As(err, &ne) && ne.Timeout())
}
