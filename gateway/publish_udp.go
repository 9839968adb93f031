package gateway

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"netsandbox/stack"
)

// pubUDPSession is one host client of a published UDP port: its datagrams go
// to the sandbox from a binding of its own on the gateway address, and the
// sandbox's answers to that binding go back to the client.
type pubUDPSession struct {
	gw      *Gateway
	pc      *net.UDPConn
	client  netip.AddrPort
	sandbox netip.AddrPort
	b       *stack.UDPBinding
	last    atomic.Int64
	start   time.Time
	in, out atomic.Int64
}

// DeliverUDP runs on the stack's delivery path: a non-blocking send to the
// client (a full host buffer drops the datagram).
func (p *pubUDPSession) DeliverUDP(d *stack.Datagram) {
	if d.Src != p.sandbox {
		return
	}
	p.last.Store(time.Now().UnixNano())
	if n, err := p.pc.WriteToUDPAddrPort(d.Payload, p.client); err == nil {
		p.out.Add(int64(n))
		p.gw.stats.BytesIn.Add(int64(n))
	}
}

// DeliverICMPError: the sandbox's port unreachable ends nothing here; the
// client only stops hearing answers, as through a NAT.
func (p *pubUDPSession) DeliverICMPError(*stack.ICMPError) {}

// PublishUDP receives datagrams on host and sends each client's to sandbox
// (the sandbox's address and port) from a gateway port of its own, so the
// sandbox's replies find their way back. Sessions end after UDPIdle.
func (gw *Gateway) PublishUDP(host, sandbox netip.AddrPort) error {
	pc, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(host))
	if err != nil {
		return err
	}
	if !gw.begin(pc) {
		pc.Close()
		return errClosed
	}
	var mu sync.Mutex
	sessions := map[netip.AddrPort]*pubUDPSession{}
	end := func(s *pubUDPSession) {
		s.b.Release()
		gw.logf("udp %s -> published %s in %d B out %d B %.3fs", s.client, sandbox, s.in.Load(), s.out.Load(), time.Since(s.start).Seconds())
	}
	go func() {
		defer gw.wg.Done()
		defer func() {
			mu.Lock()
			for _, s := range sessions {
				end(s)
			}
			mu.Unlock()
		}()
		buf := make([]byte, 65536)
		lastSweep := time.Now()
		for {
			pc.SetReadDeadline(time.Now().Add(time.Second))
			n, client, err := pc.ReadFromUDPAddrPort(buf)
			if time.Since(lastSweep) > time.Second {
				lastSweep = time.Now()
				mu.Lock()
				for k, s := range sessions {
					if time.Since(time.Unix(0, s.last.Load())) > gw.cfg.UDPIdle {
						delete(sessions, k)
						end(s)
					}
				}
				mu.Unlock()
			}
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					continue
				}
				return
			}
			client = netip.AddrPortFrom(client.Addr().Unmap(), client.Port())
			mu.Lock()
			s := sessions[client]
			if s == nil && len(sessions) < gw.cfg.MaxFlows {
				s = &pubUDPSession{gw: gw, pc: pc, client: client, sandbox: sandbox, start: time.Now()}
				b, err := gw.cfg.Stack.UDPBind(s, netip.AddrPortFrom(gw.cfg.Gateway, 0), stack.UDPBindFlags{})
				if err == nil {
					err = b.Connect(sandbox)
					if err != nil {
						b.Release()
					}
				}
				if err != nil {
					gw.stats.Failed.Add(1)
					s = nil
				} else {
					s.b = b
					sessions[client] = s
					gw.stats.UDPFlows.Add(1)
				}
			}
			mu.Unlock()
			if s == nil {
				continue
			}
			s.last.Store(time.Now().UnixNano())
			payload := append([]byte(nil), buf[:n]...)
			if gw.cfg.Stack.SendUDP(&stack.UDPSend{Src: s.b.Local(), Dst: sandbox, IfIndex: gw.cfg.NIC, Payload: payload}) == nil {
				s.in.Add(int64(n))
				gw.stats.BytesOut.Add(int64(n))
			}
		}
	}()
	return nil
}
