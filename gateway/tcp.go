package gateway

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

const (
	// tcpMaxInFlight bounds connections between the sandbox's SYN and the
	// host connect's outcome.
	tcpMaxInFlight = 512
	tcpDialTimeout = 10 * time.Second
	// relayBuffer is each direction's fixed copy buffer: the only data a
	// relay holds besides the two sockets' own (bounded) buffers.
	relayBuffer = 64 << 10
)

// startTCP terminates every TCP connection the sandbox opens in the stack:
// the forwarder completes the handshake only after the host connect
// succeeded, and answers a refused or failed one with a RST.
func (gw *Gateway) startTCP() {
	fwd := tcp.NewForwarder(gw.g, 0, tcpMaxInFlight, gw.handleTCP)
	gw.g.SetTransportProtocolHandler(tcp.ProtocolNumber, func(id gstack.TransportEndpointID, pkt *gstack.PacketBuffer) bool {
		if pkt.NICID != gw.nic || gw.closed.Load() {
			return false
		}
		if gw.noteSYN(id, pkt) {
			return true
		}
		return fwd.HandlePacket(id, pkt)
	})
}

func (gw *Gateway) handleTCP(r *tcp.ForwarderRequest) {
	id := r.ID()
	src := netip.AddrPortFrom(addrOf(id.RemoteAddress), id.RemotePort)
	dst := netip.AddrPortFrom(addrOf(id.LocalAddress), id.LocalPort)
	to, ok, why := gw.target(ProtoTCP, dst)
	if !ok {
		gw.stats.Denied.Add(1)
		gw.logf("tcp %s -> %s refused: %s", src, dst, why)
		r.Complete(true)
		return
	}
	if gw.relays.Load() >= int64(gw.cfg.MaxFlows) {
		gw.stats.Failed.Add(1)
		gw.logf("tcp %s -> %s refused: %d connections relayed already", src, dst, gw.relays.Load())
		r.Complete(true)
		return
	}
	if !gw.begin(nil) {
		r.Complete(true)
		return
	}
	defer gw.wg.Done()
	syn, _ := gw.syns.take(id)
	if gw.isDNS(dst.Addr()) && gw.domainPolicy() != nil {
		gw.serveDNSTCP(r, src, dst, to, syn) // each query decided (dns_tcp.go)
		return
	}
	if gw.isGatewayAddr(dst.Addr()) {
		syn.ttl = 0 // the gateway's own connection: the host's default TTL
	} else if gw.cfg.Policy != nil && gw.cfg.Policy.NeedsName(ProtoTCP, dst.Port()) {
		gw.holdTCP(r, src, dst, to, syn)
		return
	}
	ctx, cancel := context.WithTimeout(gw.ctx, tcpDialTimeout)
	host, icmpErr, err := gw.dialHost(ctx, to, syn.ttl, syn.tos)
	cancel()
	if err != nil {
		gw.stats.Failed.Add(1)
		gw.logf("tcp %s -> %s failed: %v", src, dst, err)
		gw.refuseTCP(r, syn, icmpErr, err)
		return
	}
	_, sb, ok := gw.acceptSandbox(r, src, dst)
	if !ok {
		host.Close()
		return
	}
	gw.stats.TCPFlows.Add(1)
	start := time.Now()
	up, down := gw.relay(sb, host)
	gw.logf("tcp %s -> %s up %d B down %d B %.3fs", src, dst, up, down, time.Since(start).Seconds())
}

// halfCloser is a stream whose write side can be shut alone.
type halfCloser interface {
	io.ReadWriteCloser
	CloseWrite() error
}

// relay copies both ways with fixed buffers, passes each FIN on as a
// half-close, and closes both once both directions ended or the gateway
// closes. It returns the bytes copied sandbox->world and world->sandbox.
func (gw *Gateway) relay(sandbox, world halfCloser) (up, down int64) {
	gw.relays.Add(1)
	defer gw.relays.Add(-1)
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-gw.done:
			sandbox.Close()
			world.Close()
		case <-finished:
		}
	}()
	downDone := make(chan int64, 1)
	go func() {
		n := copyCounted(sandbox, world, &gw.stats.BytesIn)
		sandbox.CloseWrite()
		downDone <- n
	}()
	up = copyCounted(world, sandbox, &gw.stats.BytesOut)
	world.CloseWrite()
	down = <-downDone
	sandbox.Close()
	world.Close()
	return up, down
}

type counter interface{ Add(int64) int64 }

func copyCounted(dst io.Writer, src io.Reader, total counter) int64 {
	buf := make([]byte, relayBuffer)
	var n int64
	for {
		m, err := src.Read(buf)
		if m > 0 {
			w, werr := dst.Write(buf[:m])
			n += int64(w)
			total.Add(int64(w))
			if werr != nil {
				return n
			}
		}
		if err != nil {
			return n
		}
	}
}

// PublishTCP accepts connections on host and connects each to sandbox
// (the sandbox's address and port) from the gateway address; both IPv6
// for an IPv6 sandbox address (from Gateway6).
func (gw *Gateway) PublishTCP(host, sandbox netip.AddrPort) error {
	network := "tcp4"
	if sandbox.Addr().Is6() {
		if !gw.cfg.Gateway6.IsValid() {
			return errors.New("gateway: no IPv6 to publish to")
		}
		network = "tcp6"
	}
	l, err := net.Listen(network, host.String())
	if err != nil {
		return err
	}
	if !gw.begin(l) {
		l.Close()
		return errClosed
	}
	go func() {
		defer gw.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			gw.wg.Add(1) // the loop's own count keeps wg above zero
			go func() {
				defer gw.wg.Done()
				gw.publishedTCP(c.(*net.TCPConn), sandbox)
			}()
		}
	}()
	return nil
}

func (gw *Gateway) publishedTCP(c *net.TCPConn, sandbox netip.AddrPort) {
	ctx, cancel := context.WithTimeout(gw.ctx, tcpDialTimeout)
	defer cancel()
	from, proto := gw.cfg.Gateway, tcpip.NetworkProtocolNumber(ipv4.ProtocolNumber)
	if sandbox.Addr().Is6() {
		from, proto = gw.cfg.Gateway6, ipv6.ProtocolNumber
	}
	sb, err := gonet.DialTCPWithBind(ctx, gw.g,
		tcpip.FullAddress{NIC: gw.nic, Addr: gAddr(from)},
		tcpip.FullAddress{NIC: gw.nic, Addr: gAddr(sandbox.Addr()), Port: sandbox.Port()},
		proto)
	if err != nil {
		gw.stats.Failed.Add(1)
		gw.logf("tcp %s -> published %s failed: %v", c.RemoteAddr(), sandbox, err)
		c.Close()
		return
	}
	gw.stats.TCPFlows.Add(1)
	start := time.Now()
	in, out := gw.relay(c, sb)
	gw.logf("tcp %s -> published %s in %d B out %d B %.3fs", c.RemoteAddr(), sandbox, in, out, time.Since(start).Seconds())
}

// refuseTCP answers a SYN whose host connect failed the way the world
// answered the host: the ICMP error from the real offender, a "no route"
// from the gateway when the host has none, else a RST.
func (gw *Gateway) refuseTCP(r *tcp.ForwarderRequest, syn synInfo, ie *hostICMPError, err error) {
	switch {
	case syn.head == nil:
		r.Complete(true)
	case isV6(syn.head):
		gw.refuseTCP6(r, syn, ie, err) // tcp6.go
	case ie != nil:
		r.Complete(false)
		gw.relayICMPError(ie.offender, ie.typ, ie.code, ie.info, syn.head, ie.ttl)
	case errors.Is(err, unix.ENETUNREACH):
		r.Complete(false)
		gw.sendICMPError(gw.cfg.Gateway, uint8(header.ICMPv4DstUnreachable), uint8(header.ICMPv4NetUnreachable), 0, syn.head)
	case errors.Is(err, unix.EHOSTUNREACH):
		r.Complete(false)
		gw.sendICMPError(gw.cfg.Gateway, uint8(header.ICMPv4DstUnreachable), uint8(header.ICMPv4HostUnreachable), 0, syn.head)
	default:
		r.Complete(true)
	}
}

// acceptSandbox completes the sandbox's handshake of a forwarded flow and
// wraps its endpoint; when the handshake fails, the flow is counted and
// logged, and nothing more is sent.
func (gw *Gateway) acceptSandbox(r *tcp.ForwarderRequest, src, dst netip.AddrPort) (tcpip.Endpoint, *gonet.TCPConn, bool) {
	var wq waiter.Queue
	ep, e := r.CreateEndpoint(&wq)
	if e != nil {
		gw.stats.Failed.Add(1)
		gw.logf("tcp %s -> %s: sandbox side: %s", src, dst, e)
		// CreateEndpoint fails mostly after its SYN-ACK went out: the
		// sandbox reset the half-open connection (a raw-socket SYN, as
		// hping3 or traceroute -T send, which the sandbox's kernel
		// resets), or never acknowledged it. A RST now would answer a
		// reset, or a SYN already answered (RFC 9293 3.10.7.3: a reset
		// is never answered): the request ends without one.
		r.Complete(false)
		return nil, nil, false
	}
	r.Complete(false)
	// A relay passes on each write as it comes: Nagle, on by default as
	// in Linux, would hold small writes back for an ACK.
	ep.SocketOptions().SetDelayOption(false)
	return ep, gonet.NewTCPConn(&wq, ep), true
}
