package gateway

import (
	"context"
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

const (
	// holdBytes and holdTime bound what a TCP flow decided by name waits
	// for: the client's first bytes, up to a ClientHello or a request head.
	holdBytes = 4096
	holdTime  = 2 * time.Second
)

// holdTCP relays a TCP flow a domain rule may decide. Unlike other flows
// the handshake with the sandbox completes first (the name is in the
// client's first bytes, which it sends only once connected); then the
// gateway reads up to holdBytes for holdTime, takes the TLS SNI or HTTP
// Host from them, decides, and only if allowed connects to the destination
// and replays the bytes. A denied or failed flow is reset. The caller has
// registered with wg.
func (gw *Gateway) holdTCP(r *tcp.ForwarderRequest, src, dst, to netip.AddrPort, syn synInfo) {
	ep, sb, ok := gw.acceptSandbox(r, src, dst)
	if !ok {
		return
	}
	reset := func() {
		ep.Abort()
		sb.Close()
	}
	// A held flow counts as relayed: MaxFlows bounds them, Drain waits.
	gw.relays.Add(1)
	head, name := gw.sniffName(sb)
	gw.relays.Add(-1)
	if gw.closed.Load() {
		reset()
		return
	}
	allow, why := gw.decide(Flow{Proto: ProtoTCP, Dst: dst, Presented: name})
	shown := ""
	if name != "" {
		shown = " (" + name + ")"
	}
	if !allow {
		gw.stats.Denied.Add(1)
		gw.logf("tcp %s -> %s%s refused: %s", src, dst, shown, why)
		reset()
		return
	}
	ctx, cancel := context.WithTimeout(gw.ctx, tcpDialTimeout)
	host, _, err := gw.dialHost(ctx, to, syn.ttl, syn.tos)
	cancel()
	if err != nil {
		// The sandbox is connected already: all it can get is a reset.
		gw.stats.Failed.Add(1)
		gw.logf("tcp %s -> %s%s failed: %v", src, dst, shown, err)
		reset()
		return
	}
	if len(head) > 0 {
		if _, err := host.Write(head); err != nil {
			host.Close()
			gw.stats.Failed.Add(1)
			reset()
			return
		}
		gw.stats.BytesOut.Add(int64(len(head)))
	}
	gw.stats.TCPFlows.Add(1)
	start := time.Now()
	up, down := gw.relay(sb, host)
	gw.logf("tcp %s -> %s%s up %d B down %d B %.3fs", src, dst, shown, up+int64(len(head)), down, time.Since(start).Seconds())
}

// sniffName reads the client's first bytes until a TLS ClientHello or an
// HTTP/1.x request head is complete, neither can follow, holdBytes are in,
// holdTime passed or the client half-closed. It returns the bytes and the
// name found ("" none).
func (gw *Gateway) sniffName(sb *gonet.TCPConn) ([]byte, string) {
	buf := make([]byte, 0, holdBytes)
	sb.SetReadDeadline(time.Now().Add(holdTime))
	defer sb.SetReadDeadline(time.Time{})
	// Close does not wait out the hold.
	stop := context.AfterFunc(gw.ctx, func() { sb.SetReadDeadline(time.Now()) })
	defer stop()
	for len(buf) < cap(buf) && !gw.closed.Load() {
		n, err := sb.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if name, done := sniffBytes(buf); done {
			return buf, name
		}
		if err != nil { // deadline, half-close or reset: decide on what came
			break
		}
	}
	name, _ := sniffBytes(buf)
	return buf, name
}

// sniffBytes runs the TLS and HTTP parsers on a stream's first bytes: done
// once one found its message or both know it is not theirs.
func sniffBytes(b []byte) (name string, done bool) {
	if len(b) == 0 {
		return "", false
	}
	tn, ts := parseClientHelloSNI(b)
	if ts == sniffFound {
		return tn, true
	}
	hn, hs := parseHTTPHost(b)
	if hs == sniffFound {
		return hn, true
	}
	return "", ts == sniffNot && hs == sniffNot
}
