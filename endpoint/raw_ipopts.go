package endpoint

import (
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// sendRawWithOptions is raw_sendmsg for a datagram that carries IP options
// (the socket's IP_OPTIONS or an IP_RETOPTS message): gVisor's raw endpoint
// cannot add them, so the stack builds the header (Stack.SendRawIP).
// handled is false when the socket has no options object (never set, no
// IP_RETOPTS message) and gVisor sends the datagram.
func (g *rawSock) sendRawWithOptions(p []byte, to *tcpip.FullAddress, sp *sendParams) (handled bool, n int, err error) {
	o := g.optsSnapshot()
	opts := o.ext.ipOptions
	if sp.hasOpts {
		if opts, err = g.compileIPOptions(sp.opts); err != nil {
			return true, 0, err
		}
	}
	if o.hdrincl {
		// "IP options + IP_HDRINCL is non-sense" (raw_sendmsg): any
		// option set, even an empty one, refuses the send.
		if sp.hasOpts || o.ext.ipOptionsSet {
			return true, 0, unix.EINVAL
		}
		return false, 0, nil
	}
	// gVisor's raw endpoint reads a TTL of 0 as "the default": a socket
	// whose TTL is 0 (SetTTLZero) needs the stack's header too.
	if !sp.hasOpts && !o.ext.ipOptionsSet && o.ttl != 0 && !g.beyondGvisorRawMTU(p, to) {
		return false, 0, nil
	}
	g.mu.Lock()
	remote, conn := g.remote, g.conn
	g.mu.Unlock()
	dst := remote.Addr()
	if to != nil {
		dst = addrPortOf(*to).Addr()
	}
	m := g.rawSend(o, g.localAddr(), dst, o.bindIf, conn, opts, p)
	if sp.ttl != 0 {
		m.TTL = uint8(sp.ttl)
	}
	if err := g.s.SendRawIP(&m); err != nil {
		return true, 0, err
	}
	return true, len(p), nil
}
