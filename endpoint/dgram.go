package endpoint

import (
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/stack"
)

// dgramSock is the core raw and ping sockets share over gsock: the
// connect(2) peer, shutdown flags, IP ID numbering, the ICMP error queue,
// and the send and receive paths of raw_sendmsg/ping_v4_sendmsg and
// raw_recvmsg/ping_recvmsg where they agree. What differs is asked of
// kind, the socket above it.
type dgramSock struct {
	gsock

	// kind is the rawSock or pingSock this core belongs to.
	kind dgramKind
	// ipHeader: the data a read returns starts with the IP header (raw
	// sockets); a ping socket's starts with the ICMP header.
	ipHeader bool
	// ipid numbers the socket's datagrams (stack.DatagramIPID).
	ipid *stack.DatagramIPID

	remote netip.AddrPort // the connect(2) address, for getpeername (mu)
	conn   bool           // connected (mu)
	// shut is sk_shutdown (mu), kept here because Linux records it even
	// on an unconnected raw or ping socket and gVisor does not.
	shut int
}

// dgramKind is what the shared datagram paths ask of the kind: the ICMP
// errors it takes (registered with the stack's ICMP tap,
// errqueue_dgram.go), the queued packets its filters refuse, how a read
// is stamped for SIOCGSTAMP and the IP_PKTINFO spec_dst it reports.
type dgramKind interface {
	stack.ICMPErrorSocket
	dropUnwanted()
	noteStamp(f rxFlags, kt int64)
	pktinfoSpecDst(d *stack.Datagram) netip.Addr
}

// openDatagram opens a raw or ping socket: its endpoint, IP ID counter and
// options.
func (g *dgramSock) openDatagram(s *stack.Stack, typ, proto int, mk func(*waiter.Queue) (tcpip.Endpoint, tcpip.Error), kind dgramKind) error {
	if err := g.open(s, typ, proto, mk); err != nil {
		return err
	}
	g.ipid = s.NewDatagramIPID(g.ep)
	g.kind = kind
	if err := g.pushOpts(); err != nil {
		g.ep.Close()
		return err
	}
	return nil
}

// checkDatagramDst is ip4_datagram_connect's judgement of the peer:
// SO_BROADCAST for a broadcast address, then SO_DONTROUTE's on-link rule.
func (g *dgramSock) checkDatagramDst(dst netip.Addr) error {
	if err := checkBroadcastDst(g.s, g.localAddr(), dst, g.optsSnapshot()); err != nil {
		return err
	}
	return checkDontRoute(g.s, dst, g.optsSnapshot(), 0)
}

// connected records the peer of a raw or ping connect(2).
func (g *dgramSock) connected(remote netip.AddrPort) {
	g.mu.Lock()
	g.remote, g.conn = remote, true
	g.mu.Unlock()
	g.ipid.Connected()
	g.watchICMPErrors() // raw_err and ping_err report to connected sockets
}

// disconnected forgets the peer (connect(AF_UNSPEC)).
func (g *dgramSock) disconnected() {
	g.mu.Lock()
	g.remote, g.conn = netip.AddrPort{}, false
	g.mu.Unlock()
	g.ipid.Disconnected()
}

func (g *dgramSock) Listen(int) error { return unix.EOPNOTSUPP }

func (g *dgramSock) Accept(flags int) (Socket, []byte, error) {
	if flags&^(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) != 0 {
		return nil, nil, unix.EINVAL
	}
	return nil, nil, unix.EOPNOTSUPP
}

// GetPeerName is inet_getname: no destination port means not connected,
// which is how raw sockets connected without a port answer too.
func (g *dgramSock) GetPeerName() ([]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.conn || g.remote.Port() == 0 {
		return nil, unix.ENOTCONN
	}
	return sockaddr(g.remote), nil
}
