package endpoint

import (
	"encoding/binary"
	"net/netip"
	"sync"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/options"
	"netsandbox/stack"
)

// pingSock is an ICMP datagram socket (net/ipv4/ping.c): gVisor's ICMP
// endpoint in the shared core, and the echo identifier the stack's table
// hands out (ping_ident.go).
type pingSock struct {
	dgramSock

	// pingMu orders the socket's bind, connect and disconnect (write)
	// before its sends (read); it guards ping.
	pingMu sync.RWMutex
	ping   pingIdent
	// deliverMu orders deliveries (PingDeliver) with the swap of the
	// gVisor endpoint (pingSwap), so that no reply lands on the old
	// endpoint after its queue moved, or ahead of the moved ones.
	deliverMu sync.Mutex
}

// newPing creates an ICMP datagram socket; ping_init_sock allows it only to
// a gid inside net.ipv4.ping_group_range.
func newPing(s *stack.Stack) (Socket, error) {
	lo, hi := s.Sysctl().Pair("net.ipv4.ping_group_range")
	if gid := int64(s.GID()); gid < int64(lo) || gid > int64(hi) {
		return nil, unix.EACCES
	}
	p := &pingSock{}
	err := p.openDatagram(s, unix.SOCK_DGRAM, unix.IPPROTO_ICMP, func(q *waiter.Queue) (tcpip.Endpoint, tcpip.Error) {
		return s.Gvisor().NewEndpoint(icmp.ProtocolNumber4, ipv4.ProtocolNumber, q)
	}, p)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Bind is ping_bind: the address is judged before whether the socket
// already holds an identifier.
func (p *pingSock) Bind(sa []byte) error {
	r, err := options.ParseBindAddr(sa)
	if err != nil {
		return err
	}
	if !bindableAddr(p.s, r.Addr.Addr()) && !p.optsSnapshot().freeBind() {
		return unix.EADDRNOTAVAIL
	}
	return p.pingBind(r.Addr)
}

func (p *pingSock) Connect(sa []byte) error {
	p.pingMu.Lock()
	defer p.pingMu.Unlock()
	// inet_dgram_connect: an AF_UNSPEC address disconnects; any other
	// first gives the socket an identifier (inet_autobind), before
	// ip4_datagram_connect reads the address.
	if len(sa) >= 2 && binary.NativeEndian.Uint16(sa) != unix.AF_UNSPEC {
		if err := p.pingAutobind(); err != nil {
			return err
		}
	}
	r, err := options.ParseConnectAddr(sa)
	if err != nil {
		return err
	}
	if r.Unspec {
		p.disconnected()
		return p.pingDisconnect()
	}
	r.Addr = routeDst(r.Addr, p.localAddr())
	if err := p.checkDatagramDst(r.Addr.Addr()); err != nil {
		return err
	}
	if err := errOf(p.pingConnect(fullAddress(r.Addr))); err != nil {
		return err
	}
	p.connected(r.Addr)
	return nil
}

// GetSockName: a socket without an identifier answers the address bind(2)
// named, or any, and identifier 0.
func (p *pingSock) GetSockName() ([]byte, error) {
	if ap, ok := p.pingSockName(); ok {
		return sockaddr(ap), nil
	}
	fa, e := p.endpoint().GetLocalAddress()
	if e != nil {
		return nil, stack.Errno(e)
	}
	return sockaddr(addrPortOf(fa)), nil
}

// SendMsg is ping_v4_sendmsg.
func (p *pingSock) SendMsg(b, oob, to []byte, flags int) (int, error) {
	p.watchICMPErrors()
	// inet_send_prepare gives the socket its identifier before
	// ping_v4_sendmsg looks at anything; pingMu stays read-locked so that
	// no connect(AF_UNSPEC) swaps the endpoint under the send.
	if err := p.pingSendPrepare(); err != nil {
		return 0, err
	}
	defer p.pingMu.RUnlock()
	if len(b) > maxIPPayload {
		return 0, unix.EMSGSIZE
	}
	if err := checkPingRequest(b); err != nil {
		return 0, err
	}
	if flags&unix.MSG_OOB != 0 {
		return 0, unix.EOPNOTSUPP
	}
	var dst netip.AddrPort
	if to != nil {
		// Unlike raw_sendmsg, AF_UNSPEC is not taken as AF_INET.
		ap, fam, err := options.ParseSockaddrIn(to)
		if err != nil {
			return 0, err
		}
		if fam != unix.AF_INET {
			return 0, unix.EAFNOSUPPORT
		}
		dst = ap
	}
	wo, sp, err := p.sendPrep(b, oob, dst, to != nil, flags)
	if err != nil {
		return 0, err
	}
	// sock_error where ip_append_data allocates with sock_alloc_send_skb
	// (the ICMP header is its transport header).
	if e := p.takeICMPErr(); e != 0 {
		return 0, e
	}
	// gVisor's ICMP endpoint takes no per-packet TOS, IPv4 pktinfo,
	// output interface or IP options: those sends have their header built
	// in the stack (dgram_sendctl.go), with the socket's identifier.
	ident := p.ping.ident
	finish := func(m *stack.RawSend) (err error) {
		m.Protocol = unix.IPPROTO_ICMP
		m.Payload, err = pingRequest(b, ident)
		return err
	}
	if handled, n, err := p.sendWithControl(b, wo.To, &sp, true, finish); handled {
		return n, err
	}
	return p.write(b, wo)
}

// RecvMsg is ping_recvmsg, which ignores MSG_TRUNC in the caller's flags:
// it returns the bytes copied, not the datagram's length.
func (p *pingSock) RecvMsg(b, oob []byte, flags int) (int, int, int, []byte, error) {
	return p.dgramSock.RecvMsg(b, oob, flags&^unix.MSG_TRUNC)
}

// checkPingRequest is ping_common_sendmsg's check of the user's ICMP header:
// it must be whole and an echo request.
func checkPingRequest(p []byte) error {
	if len(p) < header.ICMPv4MinimumSize {
		return unix.EINVAL
	}
	if header.ICMPv4(p).Type() != header.ICMPv4Echo || header.ICMPv4(p).Code() != 0 {
		return unix.EINVAL
	}
	return nil
}

// pingRequest is what ping_v4_sendmsg puts on the wire for the user's
// echo request p: the socket's ident in place of the user's and the
// checksum computed anew.
func pingRequest(p []byte, ident uint16) ([]byte, error) {
	if ident == 0 {
		return nil, unix.EAGAIN
	}
	req := append([]byte(nil), p...)
	binary.BigEndian.PutUint16(req[4:6], ident)
	req[2], req[3] = 0, 0
	binary.BigEndian.PutUint16(req[2:4], ^checksum.Checksum(req, 0))
	return req, nil
}

func (p *pingSock) GetSockOpt(level, name int, buf []byte) (int, error) {
	if level == unix.SOL_IP && name == unix.IP_PROTOCOL {
		return p.getIPProtocol(buf) // sockopts_ipproto.go
	}
	return p.dgramSock.GetSockOpt(level, name, buf)
}

func (p *pingSock) Ioctl(req uint, arg []byte) error { return p.ioctl(req, arg, nil) }

func (p *pingSock) Close() error {
	if !p.beginClose() {
		return unix.EBADF
	}
	p.unwatchICMPErrors()
	p.dropMemberships()
	p.pingClose()
	return nil
}

// QuotedICMPError is ping_err: an error quoting an echo request, for the
// socket ping_lookup finds by its identifier (the newest of those sharing
// it whose address and device fit).
func (p *pingSock) QuotedICMPError(e *stack.ICMPError, quote []byte) bool {
	q, ok := p.matchQuote(quote)
	if !ok {
		return false
	}
	th := q.th
	if q.proto != unix.IPPROTO_ICMP || th[0] != icmpEchoRequest || th[1] != 0 {
		return false
	}
	id := uint16(th[4])<<8 | uint16(th[5])
	if so := p.s.PingLookup(id, q.src, e.IfIndex); so == nil || so != stack.PingSocket(p) {
		return false
	}
	o := p.optsSnapshot()
	errno, hard, ok := pingICMPErrno(e, o.pmtudisc)
	if !ok {
		return true
	}
	if !o.recvErr && (!hard || !q.connected) {
		return true
	}
	p.queueICMPError(q, e, quote, th, q.ihl, errno, o)
	return true
}

// dropUnwanted: a ping socket's replies were matched by identifier on
// arrival (PingDeliver); nothing queued is refused later.
func (p *pingSock) dropUnwanted() {}

// noteStamp is ping_recvmsg's sock_recv_timestamp.
func (p *pingSock) noteStamp(f rxFlags, kt int64) { p.stamp.noteRecvPing(f, kt) }

// pktinfoSpecDst: ping_queue_rcv_skb skips ipv4_pktinfo_prepare, so Linux
// reports spec_dst 0.0.0.0 on ping sockets (measured).
func (p *pingSock) pktinfoSpecDst(*stack.Datagram) netip.Addr { return netip.Addr{} }
