package stack

import (
	"net"
	"net/netip"
	"reflect"
	"sort"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/qdisc/fifo"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// Interface describes one network interface as SIOCGIFCONF and friends
// would.
type Interface struct {
	Index    int
	Name     string
	MTU      uint32
	Addrs    []netip.Prefix
	Loopback bool
	MAC      net.HardwareAddr
}

// route is one entry of our copy of the route table.
type route struct {
	dst     netip.Prefix
	gw      netip.Addr
	ifindex int
	auto    bool // the prefix route AddAddress installed (Linux's proto kernel)
}

// An InterfaceOption configures an interface AddInterface makes.
type InterfaceOption func(*gstack.NICOptions, gstack.LinkEndpoint) error

// WithTxQueue gives the interface a transmit queue, as a Linux device's
// qdisc: queues FIFO queues of length packets each (a flow always goes to
// the same one, so its packets stay in order), each drained by its own
// goroutine that hands the link every packet waiting at once. A sender
// then returns once its packet is queued, and a link whose writes are
// system calls (link/fdbased) makes one sendmmsg for a burst instead of
// one per packet, such as the ACKs of a TCP download. A full queue drops
// the packet, as a full qdisc does. Fewer than one queue or one packet is
// EINVAL from AddInterface.
func WithTxQueue(queues, length int) InterfaceOption {
	return func(o *gstack.NICOptions, ep gstack.LinkEndpoint) error {
		if queues < 1 || length < 1 {
			return unix.EINVAL
		}
		o.QDisc = fifo.New(ep, queues, length)
		return nil
	}
}

// AddInterface attaches ep as a new NIC named name and enables it. The
// ifindex is gVisor's NICID, allocated in order like Linux allocates ifindex.
func (s *Stack) AddInterface(name string, ep gstack.LinkEndpoint, opts ...InterfaceOption) (int, error) {
	if name == "" || len(name) >= unix.IFNAMSIZ || isNil(ep) {
		return 0, unix.EINVAL
	}
	if _, ok := s.InterfaceByName(name); ok {
		return 0, unix.EEXIST
	}
	defer s.invalidateRoutes()
	id := s.g.NextNICID()
	ep = s.tapFragments(ep, int(id))
	nicOpts := gstack.NICOptions{Name: name}
	for _, o := range opts {
		if err := o(&nicOpts, ep); err != nil {
			return 0, err
		}
	}
	if e := s.g.CreateNICWithOptions(id, ep, nicOpts); e != nil {
		if nicOpts.QDisc != nil {
			nicOpts.QDisc.Close() // its goroutines run from fifo.New on
		}
		return 0, configErrno(e)
	}
	// conf.<name>.* and neigh.<name>.* (sysctl_dev.go)
	if err := s.sysctl.addDevice(int(id), name, ep.Capabilities()&gstack.CapabilityLoopback != 0); err != nil {
		return 0, err
	}
	return int(id), nil
}

// AddAddress assigns p (address and prefix length) to the interface.
func (s *Stack) AddAddress(ifindex int, p netip.Prefix) error {
	if !p.IsValid() || !p.Addr().Is4() {
		return unix.EINVAL
	}
	if !s.g.HasNIC(tcpip.NICID(ifindex)) {
		return unix.ENODEV
	}
	s.sysctl.pinDevice(ifindex) // conf/default no longer reaches it (sysctl_dev.go)
	pa := tcpip.ProtocolAddress{
		Protocol: header.IPv4ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{
			Address:   tcpip.AddrFrom4(p.Addr().As4()),
			PrefixLen: p.Bits(),
		},
	}
	if e := s.g.AddProtocolAddress(tcpip.NICID(ifindex), pa, gstack.AddressProperties{}); e != nil {
		return configErrno(e)
	}
	s.refreshBroadcasts()
	s.invalidateRoutes()
	// Linux adds the subnet's prefix route with the address (not for /32).
	if p.Bits() < 32 {
		if err := s.addRoute(p.Masked(), netip.Addr{}, ifindex, true); err != nil && err != unix.EEXIST {
			return err
		}
	}
	return nil
}

// refreshBroadcasts rebuilds the set of directed broadcast addresses that
// IsBroadcast reads on every send; addresses change rarely, sends often.
func (s *Stack) refreshBroadcasts() {
	var bcast []netip.Addr
	for _, ifc := range s.Interfaces() {
		for _, p := range ifc.Addrs {
			if p.Bits() < 31 { // /31 and /32 have no broadcast address
				bcast = append(bcast, lastAddr(p))
			}
		}
	}
	s.bcast.Store(&bcast)
}

// AddRoute adds a route to dst through gw (invalid gw = on-link) on the
// interface. gVisor's route table is first-match, so the table is kept
// sorted by prefix length, longest first, which gives Linux's
// longest-prefix-match result. Adding the prefix route AddAddress made
// takes it over and succeeds, where Linux answers EEXIST: programs written
// before AddAddress made it add it themselves.
func (s *Stack) AddRoute(dst netip.Prefix, gw netip.Addr, ifindex int) error {
	return s.addRoute(dst, gw, ifindex, false)
}

func (s *Stack) addRoute(dst netip.Prefix, gw netip.Addr, ifindex int, auto bool) error {
	if !dst.IsValid() || !dst.Addr().Is4() || (gw.IsValid() && !gw.Is4()) {
		return unix.EINVAL
	}
	if !s.g.HasNIC(tcpip.NICID(ifindex)) {
		return unix.ENODEV
	}
	dst = dst.Masked()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.routes {
		if r.dst == dst && r.ifindex == ifindex && r.gw == gw {
			if r.auto && !auto {
				// Callers written before AddAddress added the prefix
				// route add it themselves: take it over, no EEXIST.
				s.routes[i].auto = false
				return nil
			}
			return unix.EEXIST
		}
	}
	s.routes = append(s.routes, route{dst: dst, gw: gw, ifindex: ifindex, auto: auto})
	sort.SliceStable(s.routes, func(i, j int) bool { return s.routes[i].dst.Bits() > s.routes[j].dst.Bits() })
	table := make([]tcpip.Route, 0, len(s.routes))
	for _, r := range s.routes {
		sub, err := tcpip.NewSubnet(tcpip.AddrFrom4(r.dst.Addr().As4()), tcpip.MaskFromBytes(prefixMask(r.dst.Bits())))
		if err != nil {
			return unix.EINVAL
		}
		tr := tcpip.Route{Destination: sub, NIC: tcpip.NICID(r.ifindex)}
		if r.gw.IsValid() {
			tr.Gateway = tcpip.AddrFrom4(r.gw.As4())
		}
		table = append(table, tr)
	}
	s.g.SetRouteTable(append(table, s.routes6...)) // IPv6's after (ipv6.go)
	s.invalidateRoutes()
	return nil
}

// prefixMask returns the 4-byte netmask of a prefix length.
func prefixMask(bits int) []byte {
	m := ^uint32(0) << (32 - bits)
	if bits == 0 {
		m = 0
	}
	return []byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}
}

// InterfaceByName returns the interface called name.
func (s *Stack) InterfaceByName(name string) (Interface, bool) {
	for _, ifc := range s.Interfaces() {
		if ifc.Name == name {
			return ifc, true
		}
	}
	return Interface{}, false
}

// InterfaceByIndex returns the interface with ifindex i.
func (s *Stack) InterfaceByIndex(i int) (Interface, bool) {
	if i <= 0 {
		return Interface{}, false
	}
	info, ok := s.g.SingleNICInfo(tcpip.NICID(i))
	if !ok {
		return Interface{}, false
	}
	return interfaceOf(i, info), true
}

// Interfaces returns every interface, ordered by ifindex.
func (s *Stack) Interfaces() []Interface {
	infos := s.g.NICInfo()
	out := make([]Interface, 0, len(infos))
	for id, info := range infos {
		out = append(out, interfaceOf(int(id), &info))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

func interfaceOf(id int, info *gstack.NICInfo) Interface {
	ifc := Interface{
		Index:    id,
		Name:     info.Name,
		MTU:      info.MTU,
		Loopback: info.Flags.Loopback,
	}
	if la := info.LinkAddress; len(la) == 6 {
		ifc.MAC = net.HardwareAddr([]byte(la))
	}
	for _, pa := range info.ProtocolAddresses {
		if pa.Protocol != header.IPv4ProtocolNumber {
			continue
		}
		a := netip.AddrFrom4(pa.AddressWithPrefix.Address.As4())
		ifc.Addrs = append(ifc.Addrs, netip.PrefixFrom(a, pa.AddressWithPrefix.PrefixLen))
	}
	return ifc
}

// IsLocalAddr reports whether a is assigned to an interface, including every
// address of 127.0.0.0/8 (Linux routes the whole block to lo as local).
func (s *Stack) IsLocalAddr(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	if a.IsLoopback() {
		return true
	}
	return s.g.CheckLocalAddress(0, header.IPv4ProtocolNumber, tcpip.AddrFrom4(a.As4())) != 0
}

// AddrIfIndex returns the interface a is assigned to (0 when none). Only
// assigned addresses count: lo, being promiscuous, also holds a temporary
// copy of a local address while a connection over lo to it lives, which
// gVisor's own lookup (CheckLocalAddress, in map order) may pick instead.
func (s *Stack) AddrIfIndex(a netip.Addr) int {
	if !a.Is4() {
		return 0
	}
	ga := tcpip.AddrFrom4(a.As4())
	best := 0
	for id, pas := range s.g.AllAddresses() {
		for _, pa := range pas {
			if pa.Protocol == header.IPv4ProtocolNumber && pa.AddressWithPrefix.Address == ga && (best == 0 || int(id) < best) {
				best = int(id) // the lowest ifindex when several hold it
			}
		}
	}
	return best
}

// IsBroadcast reports whether a is the limited broadcast address or the
// directed broadcast address of a local subnet.
func (s *Stack) IsBroadcast(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	if a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return true
	}
	if bcast := s.bcast.Load(); bcast != nil {
		for _, b := range *bcast {
			if a == b {
				return true
			}
		}
	}
	return false
}

// lastAddr returns the highest address of p (its directed broadcast).
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := ^uint32(0) >> p.Bits()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// isNil reports a nil link endpoint, also a typed nil pointer in the
// interface, which would crash at the first method call.
func isNil(ep gstack.LinkEndpoint) bool {
	if ep == nil {
		return true
	}
	v := reflect.ValueOf(ep)
	return v.Kind() == reflect.Pointer && v.IsNil()
}
