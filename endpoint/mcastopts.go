package endpoint

import (
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"netsandbox/options"
	"netsandbox/stack"
)

// mcastOpts are IP_MULTICAST_TTL and IP_MULTICAST_LOOP, guarded by optMu.
// The zero value is Linux's default: TTL 1, loopback on.
type mcastOpts struct {
	ttl    uint8
	ttlSet bool // ttl holds a value set by the user
	noLoop bool
	// IP_MULTICAST_IF (mcast_sockopt.go): Linux's mc_index and mc_addr.
	ifIndex int
	ifAddr  netip.Addr
}

func (m mcastOpts) effectiveTTL() uint8 {
	if m.ttlSet {
		return m.ttl
	}
	return 1
}

// setMcastOpt follows do_ip_setsockopt for IP_MULTICAST_TTL (not on
// stream sockets; empty is EINVAL; -1 means 1; 0..255) and
// IP_MULTICAST_LOOP (empty is EINVAL; any non-zero value is on).
func (b *base) setMcastOpt(name int, val []byte) (handled bool, err error) {
	if handled, err := b.setMembershipOpt(name, val); handled {
		return true, err
	}
	if name != unix.IP_MULTICAST_TTL && name != unix.IP_MULTICAST_LOOP {
		return false, nil
	}
	v, _ := options.ParseIPInt(val)
	b.optMu.Lock()
	defer b.optMu.Unlock()
	if name == unix.IP_MULTICAST_LOOP {
		if len(val) < 1 {
			return true, unix.EINVAL
		}
		b.mcast.noLoop = v == 0
		return true, nil
	}
	if b.typ == unix.SOCK_STREAM || len(val) < 1 {
		return true, unix.EINVAL
	}
	if v == -1 {
		v = 1
	}
	if v < 0 || v > 255 {
		return true, unix.EINVAL
	}
	b.mcast.ttl, b.mcast.ttlSet = uint8(v), true
	return true, nil
}

func (b *base) getMcastOpt(name int, buf []byte) (handled bool, n int, err error) {
	if handled, n, err := b.getMembershipOpt(name, buf); handled {
		return true, n, err
	}
	b.optMu.Lock()
	m := b.mcast
	b.optMu.Unlock()
	switch name {
	case unix.IP_MULTICAST_TTL:
		return true, options.PutIPInt(buf, int32(m.effectiveTTL())), nil
	case unix.IP_MULTICAST_LOOP:
		return true, options.PutIPInt(buf, int32(boolInt(!m.noLoop))), nil
	}
	return false, 0, nil
}

// applyMcastOpts gives a datagram to a multicast group the socket's
// multicast TTL (__ip_make_skb: a per-message IP_TTL still wins, the
// unicast IP_TTL does not apply) and its loopback choice.
func (b *base) applyMcastOpts(m *stack.UDPSend) {
	if !m.Dst.Addr().IsMulticast() {
		return
	}
	b.optMu.Lock()
	mc := b.mcast
	b.optMu.Unlock()
	m.TTL = mc.effectiveTTL()
	m.NoMulticastLoop = mc.noLoop
	b.applyMulticastIf(m, mc)
}

// pushMcastOpts hands the multicast TTL, loopback and interface to a gVisor
// raw or ping endpoint (TCP never sends to a group).
func (g *gsock) pushMcastOpts() error {
	g.optMu.Lock()
	mc := g.mcast
	g.optMu.Unlock()
	g.endpoint().SocketOptions().SetMulticastLoop(!mc.noLoop)
	if e := g.endpoint().SetSockOptInt(tcpip.MulticastTTLOption, int(mc.effectiveTTL())); e != nil {
		return stack.Errno(e)
	}
	// IP_MULTICAST_IF, checked by setMulticastIf: the interface is known
	// to exist and to agree with SO_BINDTODEVICE.
	ifc := tcpip.MulticastInterfaceOption{NIC: tcpip.NICID(mc.ifIndex)}
	if a := mc.ifAddr; a.Is4() && !a.IsUnspecified() {
		ifc.InterfaceAddr = tcpip.AddrFrom4(a.As4())
	}
	if e := g.endpoint().SetSockOpt(&ifc); e != nil {
		return stack.Errno(e)
	}
	return nil
}
