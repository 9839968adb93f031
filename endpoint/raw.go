package endpoint

import (
	"net/netip"
	"sync/atomic"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/options"
	"netsandbox/stack"
)

// rawSock is a raw IPv4 socket (net/ipv4/raw.c): gVisor's raw endpoint in
// the datagram core, ICMP_FILTER, router alert delivery, and the sends
// gVisor's raw endpoint cannot make (raw_ipopts.go, raw_bigsend.go).
type rawSock struct {
	dgramSock

	// icmpFilter is ICMP_FILTER's mask (IPPROTO_ICMP sockets,
	// icmpfilter.go).
	icmpFilter atomic.Uint32
}

func newRaw(s *stack.Stack, proto int) (Socket, error) {
	r := &rawSock{}
	r.ipHeader = true
	if proto != unix.IPPROTO_RAW {
		// Counted before gVisor registers the endpoint, so rawGate never
		// skips a packet it could receive.
		s.RawOpened(proto)
	}
	err := r.openDatagram(s, unix.SOCK_RAW, proto, func(q *waiter.Queue) (tcpip.Endpoint, tcpip.Error) {
		// An IPPROTO_RAW socket is send-only with the header included; it
		// is not associated with a protocol for receiving.
		return s.Gvisor().NewRawEndpoint(tcpip.TransportProtocolNumber(proto), ipv4.ProtocolNumber, q, proto != unix.IPPROTO_RAW)
	}, r)
	if err != nil {
		if proto != unix.IPPROTO_RAW {
			s.RawClosed(proto) // no endpoint, or closed by openDatagram
		}
		return nil, err
	}
	return r, nil
}

func (g *rawSock) Bind(sa []byte) error {
	r, err := options.ParseBindAddr(sa)
	if err != nil {
		return err
	}
	// raw_bind has no port; a raw socket stays bound to its protocol.
	r.Addr = netip.AddrPortFrom(r.Addr.Addr(), 0)
	g.mu.Lock()
	conn := g.conn
	g.mu.Unlock()
	if conn {
		return unix.EINVAL // raw_bind: sk_state != TCP_CLOSE
	}
	// raw_bind judges the address before whether the socket is already
	// bound.
	if !bindableAddr(g.s, r.Addr.Addr()) && !g.optsSnapshot().freeBind() {
		return unix.EADDRNOTAVAIL
	}
	return errOf(g.endpoint().Bind(g.gvisorBindAddress(r.Addr)))
}

func (g *rawSock) Connect(sa []byte) error {
	r, err := options.ParseConnectAddr(sa)
	if err != nil {
		return err
	}
	if r.Unspec {
		g.disconnected()
		e := g.endpoint().Disconnect()
		if _, ok := e.(*tcpip.ErrNotSupported); ok {
			return nil
		}
		return errOf(e)
	}
	r.Addr = routeDst(r.Addr, g.localAddr())
	if err := g.checkDatagramDst(r.Addr.Addr()); err != nil {
		return err
	}
	addr := fullAddress(r.Addr)
	addr.Port = 0
	if err := errOf(g.endpoint().Connect(addr)); err != nil {
		return err
	}
	g.connected(r.Addr)
	return nil
}

func (g *rawSock) GetSockName() ([]byte, error) {
	fa, e := g.endpoint().GetLocalAddress()
	if e != nil {
		return nil, stack.Errno(e)
	}
	// A raw socket's "port" is its protocol number (inet_create sets
	// inet_sport from it).
	return sockaddr(netip.AddrPortFrom(addrPortOf(fa).Addr(), uint16(g.proto))), nil
}

// SendMsg is raw_sendmsg.
func (g *rawSock) SendMsg(p, oob, to []byte, flags int) (int, error) {
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
	// in the stack (dgram_sendctl.go, raw_ipopts.go), and so do
	// header-included packets above gVisor's limit (raw_bigsend.go).
	if handled, n, err := g.sendWithControl(p, wo.To, &sp, false, nil); handled {
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

func (g *rawSock) SetSockOpt(level, name int, val []byte) error {
	if level == unix.SOL_RAW {
		return g.setRawOpt(name, val)
	}
	if err := g.setSockOpt(level, name, val); err != nil {
		return err
	}
	if level == unix.SOL_IP && name == unix.IP_ROUTER_ALERT {
		g.syncRouterAlert() // router_alert.go
	}
	return g.pushOpts()
}

func (g *rawSock) GetSockOpt(level, name int, buf []byte) (int, error) {
	switch {
	case level == unix.SOL_RAW:
		return g.getRawOpt(name, buf)
	case level == unix.SOL_IP && name == unix.IP_PROTOCOL:
		return g.getIPProtocol(buf) // sockopts_ipproto.go
	}
	return g.dgramSock.GetSockOpt(level, name, buf)
}

// noteStamp is raw_recvmsg's sock_recv_timestamp.
func (g *rawSock) noteStamp(f rxFlags, kt int64) { g.stamp.noteRecv(f, kt) }

// pktinfoSpecDst is the spec_dst ipv4_pktinfo_prepare records for a raw
// socket.
func (g *rawSock) pktinfoSpecDst(d *stack.Datagram) netip.Addr { return specDst(g.s, d) }

func (g *rawSock) Close() error {
	if !g.beginClose() {
		return unix.EBADF
	}
	g.unwatchICMPErrors()
	g.dropMemberships() // raw sockets' (ip_mc_drop_socket)
	g.leaveRouterAlert()
	g.endpoint().Close()
	if g.proto != unix.IPPROTO_RAW {
		g.s.RawClosed(g.proto) // gVisor's Close unregistered it
	}
	return nil
}
