package endpoint

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/options"
	"netsandbox/stack"
)

// Raw AF_INET6 sockets (net/ipv6/raw.c) over gVisor's IPv6 raw endpoint,
// which already delivers a packet without its IPv6 header (unlike IPv4),
// puts and verifies the checksum at IPV6_CHECKSUM's offset and applies
// the ICMPv6 type filter at queueing time, as rawv6_rcv does. Our layer
// decodes the options, sockaddrs and control messages with Linux's rules.
// IPV6_HDRINCL (and IPPROTO_RAW sockets, which start with it) sends are
// netsandbox's (raw6_hdrincl.go). Missing: IPV6_CHECKSUM changed on an
// ICMPv6 socket through SOL_RAW (gVisor keeps ICMPv6's at offset 2).
// ICMPv6 errors about the socket's packets are ours (inet6_icmperr.go):
// gVisor's raw endpoint queues none.

// ipv6MHProtocol is IPPROTO_MH, whose raw sockets checksum at offset 4.
const ipv6MHProtocol = 135

type raw6Sock struct {
	sock6

	// csumOffset is IPV6_CHECKSUM: where the checksum goes, -1 for none
	// (guarded by optMu).
	csumOffset int
	// filter is ICMPV6_FILTER's struct icmp6_filter (optMu).
	filter [icmp6FilterLen]byte
	// bound is what bind(2) named, kept when connect(AF_UNSPEC) gives the
	// socket a fresh gVisor endpoint (mu).
	bound    tcpip.FullAddress
	hasBound bool
	// hdrincl is IPV6_HDRINCL: sends carry their own IPv6 header
	// (raw6_hdrincl.go); IPPROTO_RAW sockets start with it (optMu).
	hdrincl bool
}

func newRaw6(s *stack.Stack, proto int) (Socket, error) {
	r := &raw6Sock{sock6: sock6{gsock: gsock{v6: defaultV6Opts()}}, csumOffset: -1, hdrincl: proto == unix.IPPROTO_RAW}
	switch proto {
	case unix.IPPROTO_ICMPV6:
		r.csumOffset = header.ICMPv6ChecksumOffset // rawv6_init_sk
	case ipv6MHProtocol:
		r.csumOffset = 4
	}
	mk := func(q *waiter.Queue) (tcpip.Endpoint, tcpip.Error) {
		// An IPPROTO_RAW socket sends only (raw6_hdrincl.go): its
		// gVisor endpoint receives nothing.
		return s.Gvisor().NewRawEndpoint(tcpip.TransportProtocolNumber(proto), header.IPv6ProtocolNumber, q, proto != unix.IPPROTO_RAW)
	}
	if err := r.open(s, unix.SOCK_RAW, proto, mk); err != nil {
		return nil, err
	}
	if err := r.pushRaw(); err != nil {
		r.ep.Close()
		return nil, err
	}
	r.watchICMP6Errors(r)
	return r, nil
}

// pushRaw hands gVisor the socket's options and the raw ones.
func (r *raw6Sock) pushRaw() error {
	if err := r.push(); err != nil {
		return err
	}
	r.optMu.Lock()
	off, f := r.csumOffset, r.filter
	r.optMu.Unlock()
	ep := r.endpoint()
	if r.proto == unix.IPPROTO_ICMPV6 {
		return errOf(ep.SetSockOpt(gvisorICMPv6Filter(f)))
	}
	return errOf(ep.SetSockOptInt(tcpip.IPv6Checksum, off))
}

// Bind is rawv6_bind: a sockaddr shorter than SIN6_LEN_RFC2133 or of
// another family is EINVAL, a v4-mapped address EADDRNOTAVAIL, a
// connected socket EINVAL; a link-local address needs an interface (the
// scope id, else the bound device), any other one but multicast must be
// local. A raw socket may bind again.
func (r *raw6Sock) Bind(b []byte) error {
	sa, err := options.ParseSockaddrIn6(b)
	if err != nil {
		return err
	}
	if options.SockaddrFamily(b) != unix.AF_INET6 {
		return unix.EINVAL
	}
	a := sa.Addr
	if a.Is4In6() {
		return unix.EADDRNOTAVAIL
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conn {
		return unix.EINVAL
	}
	fa := addr6(sa)
	if !a.IsUnspecified() {
		if a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() {
			if fa.NIC == 0 {
				fa.NIC = tcpip.NICID(r.optsSnapshot().bindIf)
			}
			if fa.NIC == 0 {
				return unix.EINVAL
			}
			if _, ok := r.s.InterfaceByIndex(int(fa.NIC)); !ok {
				return unix.ENODEV
			}
		}
		if !a.IsMulticast() && !r.s.IsLocalAddr6(a) && !r.optsSnapshot().freeBind() {
			return unix.EADDRNOTAVAIL
		}
	}
	if r.hasBound {
		// gVisor binds once; a fresh endpoint takes the new address.
		r.reopenRawLocked()
	}
	if e := r.bindEndpoint6(fa); e != nil {
		return errOf(e)
	}
	r.bound, r.hasBound = fa, true
	return nil
}

// reopenRawLocked gives the socket a fresh gVisor endpoint with its
// options (gVisor's raw endpoint neither rebinds nor disconnects).
func (r *raw6Sock) reopenRawLocked() {
	r.reopenLocked()
	_ = r.pushRaw()
}

// Connect is inet_dgram_connect then ip6_datagram_connect_v6_only.
func (r *raw6Sock) Connect(b []byte) error {
	if len(b) < 2 {
		return unix.EINVAL
	}
	if options.SockaddrFamily(b) == unix.AF_UNSPEC {
		// udp_disconnect: the bound address stays.
		r.mu.Lock()
		defer r.mu.Unlock()
		if !r.conn {
			return nil
		}
		r.reopenRawLocked()
		if r.hasBound {
			_ = r.bindEndpoint6(r.bound)
		}
		r.remote, r.conn = netip.AddrPort{}, false
		return nil
	}
	sa, err := parseConnect6(b)
	if err != nil {
		return err
	}
	if sa.Addr.Is4In6() {
		// gVisor's IPv6 raw endpoint carries no IPv4.
		return unix.ENETUNREACH
	}
	return r.connectKeepingPort(sa)
}

// parseConnect6 is ip6_datagram_connect_v6_only's reading of the
// sockaddr: another family is EAFNOSUPPORT, then one shorter than
// SIN6_LEN_RFC2133 EINVAL.
func parseConnect6(b []byte) (options.SockaddrIn6, error) {
	if options.SockaddrFamily(b) != unix.AF_INET6 {
		return options.SockaddrIn6{}, unix.EAFNOSUPPORT
	}
	return options.ParseSockaddrIn6(b)
}

// connectKeepingPort connects the gVisor endpoint (which takes no port:
// a raw socket has none, a ping socket's is its identifier) and keeps
// the port the caller named for getpeername (inet_dport).
func (k *sock6) connectKeepingPort(sa options.SockaddrIn6) error {
	port := sa.Port
	sa.Port = 0
	if err := k.connectDgram(sa); err != nil {
		return err
	}
	k.mu.Lock()
	a := k.remote.Addr()
	if a.IsUnspecified() {
		a = netip.IPv6Loopback() // ip6_datagram_connect: :: is ::1
	}
	k.remote = netip.AddrPortFrom(a, port)
	k.mu.Unlock()
	return nil
}

// dgramPeerName is inet6_getname's peer for raw and ping sockets: what
// connect(2) named, ENOTCONN before.
func (k *sock6) dgramPeerName() ([]byte, error) {
	k.mu.Lock()
	conn, remote := k.conn, k.remote
	k.mu.Unlock()
	if !conn {
		return nil, unix.ENOTCONN
	}
	return options.SockaddrIn6Bytes(remote, 0), nil
}

func (r *raw6Sock) GetPeerName() ([]byte, error) { return r.dgramPeerName() }

// GetSockName: a raw socket's "port" is its protocol (inet6_create sets
// inet_sport from it).
func (r *raw6Sock) GetSockName() ([]byte, error) {
	fa, e := r.endpoint().GetLocalAddress()
	if e != nil {
		return nil, errOf(e)
	}
	fa.Port = uint16(r.proto)
	return sockaddr6(fa), nil
}

// SendMsg is rawv6_sendmsg: the sockaddr's port, when not 0, must be the
// socket's protocol; :: means ::1; an ICMPv6 socket reads the type and
// code first (rawv6_probe_proto_opt: EFAULT when the message is shorter);
// a message too short for the checksum at IPV6_CHECKSUM's offset is
// EINVAL (gVisor's raw Write checks it as rawv6_push_pending_frames).
func (r *raw6Sock) SendMsg(p, oob, to []byte, flags int) (int, error) {
	if r.isClosed() {
		return 0, unix.EBADF
	}
	if flags&unix.MSG_OOB != 0 {
		return 0, unix.EOPNOTSUPP
	}
	var wo tcpip.WriteOptions
	if to != nil {
		sa, err := options.ParseSockaddrIn6(to)
		if err != nil {
			return 0, err
		}
		if fam := options.SockaddrFamily(to); fam != unix.AF_UNSPEC && fam != unix.AF_INET6 {
			return 0, unix.EAFNOSUPPORT
		}
		// The port is the protocol: another one than the socket's only
		// on an IPPROTO_RAW socket, never above 255.
		if sa.Port != 0 && int(sa.Port) != r.proto && r.proto != unix.IPPROTO_RAW || sa.Port > 255 {
			return 0, unix.EINVAL
		}
		fa := addr6(sa)
		fa.Port = 0
		if len(to) < unix.SizeofSockaddrInet6 {
			fa.NIC = 0
		}
		if sa.Addr.IsUnspecified() {
			fa.Addr = tcpip.AddrFrom16(netip.IPv6Loopback().As16())
		}
		wo.To = &fa
	} else {
		r.mu.Lock()
		conn := r.conn
		r.mu.Unlock()
		if !conn {
			return 0, unix.EDESTADDRREQ
		}
	}
	c, err := options.ParseIPv6SendControl(oob, sendCmsgPolicy(r.s))
	if err != nil {
		return 0, err
	}
	if err := r.sendControl(c, &wo); err != nil {
		return 0, err
	}
	dst6, _ := r.sendDst6(wo.To)
	if err := r.steerUnicast6(&wo, dst6); err != nil { // IPV6_UNICAST_IF
		return 0, err
	}
	if r.hdrinclOn() {
		return r.sendHeaderIncluded(p, wo.To, c) // raw6_hdrincl.go
	}
	if r.proto == unix.IPPROTO_RAW {
		return r.sendProtoRaw(p, wo.To, c) // raw6_hdrincl.go
	}
	tclass := -1
	if c.HasTClass {
		tclass = c.TClass & 0xff
	}
	switch r.proto {
	case unix.IPPROTO_ICMPV6:
		if len(p) < 2 {
			return 0, unix.EFAULT
		}
	case ipv6MHProtocol:
		if len(p) < 4 {
			return 0, unix.EFAULT
		}
	}
	dst, oif := r.sendDst6(wo.To)
	if wo.To != nil {
		if dst.Is4In6() {
			return 0, unix.ENETUNREACH // no IPv6 route to it
		}
		if err := r.checkMulticastDst(dst, wo.To.NIC); err != nil {
			return 0, err
		}
	}
	if err := r.checkSize6(p, dst, oif, c); err != nil {
		return 0, err
	}
	if handled, n, err := r.sendFragmented(p, dst, oif, wo, tclass, r.rawChecksumAt(), -1); handled {
		return n, err // raw6_bigsend.go
	}
	var n int
	err = r.blockOn(flags, unix.EPOLLOUT, r.optsSnapshot().sndTimeo, func() error {
		var err error
		n, err = r.write(p, wo, tclass)
		return err
	})
	return n, err
}

// RecvMsg is rawv6_recvmsg: MSG_OOB is EOPNOTSUPP.
func (r *raw6Sock) RecvMsg(p, oob []byte, flags int) (int, int, int, []byte, error) {
	if flags&unix.MSG_OOB != 0 {
		return 0, 0, 0, nil, unix.EOPNOTSUPP
	}
	return r.sock6.RecvMsg(p, oob, flags)
}

func (r *raw6Sock) SetSockOpt(level, name int, val []byte) error {
	if r.isClosed() {
		return unix.EBADF
	}
	switch {
	case level == unix.SOL_ICMPV6:
		if r.proto != unix.IPPROTO_ICMPV6 {
			return unix.EOPNOTSUPP
		}
		if name != icmpv6FilterOpt {
			return unix.ENOPROTOOPT
		}
		r.optMu.Lock()
		r.filter = setICMP6Filter(r.filter, val)
		f := r.filter
		r.optMu.Unlock()
		return errOf(r.endpoint().SetSockOpt(gvisorICMPv6Filter(f)))
	case level == unix.SOL_RAW, level == unix.SOL_IPV6 && (name == unix.IPV6_CHECKSUM || name == ipv6HdrIncl):
		return r.setRawOpt(level, name, val)
	}
	return r.sock6.SetSockOpt(level, name, val)
}

// setRawOpt is do_rawv6_setsockopt: an int (EINVAL when shorter);
// IPV6_HDRINCL any value; IPV6_CHECKSUM at SOL_IPV6 on an ICMPv6 socket
// is EINVAL (RFC 3542), an odd offset EINVAL, a negative one turns the
// checksum off.
func (r *raw6Sock) setRawOpt(level, name int, val []byte) error {
	v, err := intVal(val)
	if err != nil {
		return err
	}
	switch name {
	case ipv6HdrIncl:
		r.optMu.Lock()
		r.hdrincl = v != 0
		r.optMu.Unlock()
		return nil
	case unix.IPV6_CHECKSUM:
	default:
		return unix.ENOPROTOOPT
	}
	if r.proto == unix.IPPROTO_ICMPV6 && level == unix.SOL_IPV6 {
		return unix.EINVAL
	}
	if v > 0 && v&1 != 0 {
		return unix.EINVAL
	}
	if v < 0 {
		v = -1
	}
	if r.proto == unix.IPPROTO_ICMPV6 {
		if v != header.ICMPv6ChecksumOffset {
			// Linux's SOL_RAW extension; gVisor keeps ICMPv6's checksum
			// at 2: missing.
			return unix.ENOPROTOOPT
		}
		return nil
	}
	if e := r.endpoint().SetSockOptInt(tcpip.IPv6Checksum, v); e != nil {
		return errOf(e)
	}
	r.optMu.Lock()
	r.csumOffset = v
	r.optMu.Unlock()
	return nil
}

func (r *raw6Sock) GetSockOpt(level, name int, buf []byte) (int, error) {
	if r.isClosed() {
		return 0, unix.EBADF
	}
	switch {
	case level == unix.SOL_ICMPV6:
		if r.proto != unix.IPPROTO_ICMPV6 {
			return 0, unix.EOPNOTSUPP
		}
		if name != icmpv6FilterOpt {
			return 0, unix.ENOPROTOOPT
		}
		r.optMu.Lock()
		f := r.filter
		r.optMu.Unlock()
		return copy(buf, f[:]), nil // rawv6_geticmpfilter: at most 32 bytes
	case level == unix.SOL_RAW, level == unix.SOL_IPV6 && (name == unix.IPV6_CHECKSUM || name == ipv6HdrIncl):
		r.optMu.Lock()
		v, hdrincl := r.csumOffset, r.hdrincl
		r.optMu.Unlock()
		switch name {
		case ipv6HdrIncl:
			return putInt6(buf, boolInt(hdrincl)), nil
		case unix.IPV6_CHECKSUM:
			return putInt6(buf, v), nil
		}
		return 0, unix.ENOPROTOOPT
	}
	return r.sock6.GetSockOpt(level, name, buf)
}

// icmp6FilterLen is sizeof(struct icmp6_filter): 256 bits, one per type.
const icmp6FilterLen = 32

// icmpv6FilterOpt is ICMPV6_FILTER (SOL_ICMPV6).
const icmpv6FilterOpt = 1

// setICMP6Filter is rawv6_seticmpfilter: at most 32 bytes are copied over
// the filter's first bytes; a shorter value leaves the rest.
func setICMP6Filter(f [icmp6FilterLen]byte, val []byte) [icmp6FilterLen]byte {
	copy(f[:], val)
	return f
}

// gvisorICMPv6Filter is the filter as gVisor's raw endpoint reads it: a
// set bit blocks the type, in host-order 32-bit words as Linux's
// icmpv6_filter reads them.
func gvisorICMPv6Filter(f [icmp6FilterLen]byte) *tcpip.ICMPv6Filter {
	var g tcpip.ICMPv6Filter
	for i := range g.DenyType {
		g.DenyType[i] = binary.NativeEndian.Uint32(f[4*i:])
	}
	return &g
}

// sendDst6 is where a send goes: msg_name's address and interface, else
// the connected peer's.
func (r *raw6Sock) sendDst6(to *tcpip.FullAddress) (netip.Addr, int) {
	if to != nil {
		return netip.AddrFrom16(to.Addr.As16()), int(to.NIC)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.remote.Addr(), 0
}
