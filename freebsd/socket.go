package freebsd

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/endpoint"
	"netsandbox/stack"
)

// Socket is an AF_INET socket with FreeBSD's IP-level ABI (see the package
// doc). It is safe for concurrent use as endpoint sockets are.
type Socket struct {
	in  endpoint.Socket
	st  *stack.Stack
	typ int

	mu sync.Mutex
	o  bsdOpts
}

// bsdOpts are the inpcb fields FreeBSD keeps and reads back itself.
type bsdOpts struct {
	ttl, tos, minttl uint8
	ipopts           []byte // as ip_pcbopts stores them: first hop, then options
	recvDstAddr      bool
	recvTTL          bool
	recvTOS          bool
	recvIF           bool
	recvOpts         bool
	recvRetOpts      bool
	dontFrag         bool
	onesBcast        bool
	bindAny          bool
	portRange        int
	hdrincl          bool
	imo              *moptions
	rawBroadcast     bool // SO_BROADCAST as set on a raw socket
}

// New makes a FreeBSD-personality socket on st, with socket(2)'s checks as
// endpoint.New makes them (the type and protocol numbers of AF_INET are the
// same on both systems).
func New(st *stack.Stack, domain, typ, proto int) (*Socket, error) {
	in, err := endpoint.New(st, domain, typ, proto)
	if err != nil {
		return nil, err
	}
	return wrap(st, in, typ&0xf)
}

func wrap(st *stack.Stack, in endpoint.Socket, typ int) (*Socket, error) {
	s := &Socket{in: in, st: st, typ: typ}
	// udp_attach, rip_attach, tcp_attach: inp_ip_ttl = V_ip_defttl.
	s.o.ttl = uint8(st.Sysctl().Int("net.ipv4.ip_default_ttl"))
	if typ == unix.SOCK_RAW {
		// rip_attach leaves INP_HDRINCL off whatever the protocol;
		// Linux turns it on for IPPROTO_RAW. rip_output always allows
		// broadcasts: the wrapped socket gets SO_BROADCAST, and the
		// option's value is kept here (rawBroadcast).
		if err := in.SetSockOpt(unix.SOL_IP, unix.IP_HDRINCL, le32(0)); err != nil {
			in.Close()
			return nil, err
		}
		if err := in.SetSockOpt(unix.SOL_SOCKET, unix.SO_BROADCAST, le32(1)); err != nil {
			in.Close()
			return nil, err
		}
	}
	if s.dgramLike() {
		// FreeBSD's own multicast limits apply (mcast.go), not Linux's.
		if err := endpoint.SetMulticastLimits(in, ipMaxMemberships+1, maxSourcesPerMembership, true); err != nil {
			in.Close()
			return nil, err
		}
		// FreeBSD sets DF on UDP and raw datagrams only with IP_DONTFRAG
		// (udp_output, rip_output); Linux's default would set it.
		if err := in.SetSockOpt(unix.SOL_IP, unix.IP_MTU_DISCOVER, le32(unix.IP_PMTUDISC_DONT)); err != nil {
			in.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *Socket) dgramLike() bool { return s.typ == unix.SOCK_DGRAM || s.typ == unix.SOCK_RAW }

func le32(v int) []byte {
	b := make([]byte, 4)
	binary.LittleEndian.PutUint32(b, uint32(v))
	return b
}

// Inner is the wrapped Linux-personality socket.
func (s *Socket) Inner() endpoint.Socket { return s.in }

// Bind takes a FreeBSD struct sockaddr_in (ParseBindSockaddrIn). A port in
// net.inet.ip.portrange.reservedlow..reservedhigh needs the privilege of
// reserved ports (in_pcbbind_setup: EACCES without it); port 0 takes one
// from the socket's IP_PORTRANGE.
func (s *Socket) Bind(sa []byte) error {
	ap, err := ParseBindSockaddrIn(sa)
	if err != nil {
		return err
	}
	if p := int(ap.Port()); p != 0 {
		k := Sysctl(s.st)
		if p <= k.int("net.inet.ip.portrange.reservedhigh") && p >= k.int("net.inet.ip.portrange.reservedlow") &&
			!s.st.Caps().Has(stack.CapNetBindService) {
			return unix.EACCES
		}
		return s.in.Bind(linuxOf(ap))
	}
	if s.typ == unix.SOCK_RAW {
		return s.in.Bind(linuxOf(ap))
	}
	cur, err := s.localPort()
	if err != nil {
		return err
	}
	if cur.Port() != 0 {
		return unix.EINVAL // in_pcbbind: already bound
	}
	return s.bindAuto(ap.Addr())
}

// Connect takes a FreeBSD struct sockaddr_in; an unbound socket first gets
// its port from its IP_PORTRANGE (in_pcbconnect_setup binds it).
func (s *Socket) Connect(sa []byte) error {
	l, err := linuxSockaddr(sa)
	if err != nil {
		return err
	}
	if err := s.autobind(); err != nil {
		return err
	}
	return s.in.Connect(l)
}

// Listen binds an unbound socket from its IP_PORTRANGE first, as
// tcp_usr_listen's in_pcbbind(inp, NULL) does.
func (s *Socket) Listen(backlog int) error {
	if err := s.autobind(); err != nil {
		return err
	}
	return s.in.Listen(backlog)
}

// Accept returns the new connection with the same personality.
func (s *Socket) Accept(flags int) (*Socket, []byte, error) {
	a, sa, err := s.in.Accept(flags)
	if err != nil || a == nil {
		return nil, bsdSockaddr(sa), err
	}
	c := &Socket{in: a, st: s.st, typ: s.typ}
	s.mu.Lock()
	c.o = s.o
	c.o.ipopts = append([]byte(nil), s.o.ipopts...)
	c.o.imo = nil
	s.mu.Unlock()
	return c, bsdSockaddr(sa), nil
}

func (s *Socket) GetSockName() ([]byte, error) {
	sa, err := s.in.GetSockName()
	return bsdSockaddr(sa), err
}

func (s *Socket) GetPeerName() ([]byte, error) {
	sa, err := s.in.GetPeerName()
	return bsdSockaddr(sa), err
}

func (s *Socket) Shutdown(how int) error { return s.in.Shutdown(how) }

// Close closes the socket; its multicast sources leave the stack's
// per-group count (net.inet.ip.mcast.maxgrpsrc).
func (s *Socket) Close() error {
	s.mu.Lock()
	if s.o.imo != nil {
		for _, m := range s.o.imo.members {
			for _, src := range m.sources {
				Sysctl(s.st).releaseGroupSource(m.ifindex, m.group, src)
			}
		}
		s.o.imo = nil
	}
	s.mu.Unlock()
	return s.in.Close()
}

func (s *Socket) Ioctl(req uint, arg []byte) error { return s.in.Ioctl(req, arg) }
func (s *Socket) Readiness(mask uint32) uint32     { return s.in.Readiness(mask) }
func (s *Socket) SetNonblock(v bool)               { s.in.SetNonblock(v) }
func (s *Socket) Wait(mask uint32, deadline time.Time) (uint32, error) {
	return s.in.Wait(mask, deadline)
}

// flagMap pairs FreeBSD's msghdr flags with Linux's.
var flagMap = [...][2]int{
	{MSG_OOB, unix.MSG_OOB},
	{MSG_PEEK, unix.MSG_PEEK},
	{MSG_DONTROUTE, unix.MSG_DONTROUTE},
	{MSG_EOR, unix.MSG_EOR},
	{MSG_TRUNC, unix.MSG_TRUNC},
	{MSG_WAITALL, unix.MSG_WAITALL},
	{MSG_DONTWAIT, unix.MSG_DONTWAIT},
	{MSG_NOSIGNAL, unix.MSG_NOSIGNAL},
}

// linuxFlags converts call flags; MSG_TRUNC is an output flag on FreeBSD
// (soreceive has no "return the real length" request), so it is not
// passed, and bits FreeBSD does not define are dropped.
func linuxFlags(f int) int {
	out := 0
	for _, p := range flagMap {
		if f&p[0] != 0 && p[0] != MSG_TRUNC {
			out |= p[1]
		}
	}
	return out
}

// bsdFlags converts msg_flags handed back by the wrapped socket.
func bsdFlags(f int) int {
	out := 0
	for _, p := range flagMap {
		if f&p[1] != 0 {
			out |= p[0]
		}
	}
	return out
}

// isLocal is ifa_ifwithaddr_check: an address of one of the interfaces.
func (s *Socket) isLocal(a netip.Addr) bool {
	for _, ifc := range s.st.Interfaces() {
		for _, p := range ifc.Addrs {
			if p.Addr() == a {
				return true
			}
		}
	}
	return false
}
