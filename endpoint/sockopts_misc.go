package endpoint

import (
	"encoding/binary"
	"math"
	"net/netip"

	"golang.org/x/sys/unix"

	"netsandbox/options"
	"netsandbox/stack"
)

// The SOL_SOCKET options below follow sk_setsockopt/sk_getsockopt. Each is
// either acted on (SO_KEEPALIVE, SO_LINGER and SO_OOBINLINE by gVisor's TCP,
// SO_NO_CHECK by our UDP, SO_RCVLOWAT by our TCP reads and poll,
// SO_DONTROUTE by the route lookups) or, as in Linux, only kept for
// getsockopt on this socket kind (SO_DEBUG, SO_PRIORITY and SO_MARK steer
// debugging, queueing disciplines and policy routing, which the stack does
// not have; SO_KEEPALIVE, SO_LINGER, SO_OOBINLINE and SO_RCVLOWAT on UDP).

// miscOpts are those options' values.
type miscOpts struct {
	debug, keepalive, oobinline, noCheck, dontroute bool
	priority                                        int32
	mark                                            uint32
	lingerOn                                        bool
	lingerSecs                                      int32 // as getsockopt reports it
	rcvlowat                                        int32
	ext                                             sockExtOpts // sockopts_ext.go
}

func defaultMiscOpts() miscOpts { return miscOpts{rcvlowat: 1} }

const (
	sizeofLinger = 8
	// hz is the tick rate of the kernels whose SO_LINGER rounding we
	// reproduce (see usecPerTick).
	hz = 1000000 / usecPerTick
	// tcpRmemMax is net.ipv4.tcp_rmem[2]'s default, which caps a TCP
	// socket's SO_RCVLOWAT at half of it (tcp_set_rcvlowat).
	tcpRmemMax = 6291456
)

// setMiscLocked sets one of these options; optMu is held. v is the value
// read as an int (the caller checked optlen >= 4).
func (b *base) setMiscLocked(name int, v int32, val []byte) error {
	caps := b.s.Caps()
	m := &b.opts.misc
	on := v != 0
	switch name {
	case unix.SO_DEBUG:
		if on && !caps.Has(stack.CapNetAdmin) {
			return unix.EACCES
		}
		m.debug = on
	case unix.SO_KEEPALIVE:
		m.keepalive = on
	case unix.SO_OOBINLINE:
		m.oobinline = on
	case unix.SO_NO_CHECK:
		m.noCheck = on
	case unix.SO_DONTROUTE:
		m.dontroute = on
	case unix.SO_PRIORITY:
		if (v < 0 || v > 6) && !caps.Has(stack.CapNetRaw) && !caps.Has(stack.CapNetAdmin) {
			return unix.EPERM
		}
		m.priority = v
	case unix.SO_MARK:
		if !caps.Has(stack.CapNetRaw) && !caps.Has(stack.CapNetAdmin) {
			return unix.EPERM
		}
		m.mark = uint32(v)
	case unix.SO_LINGER:
		if len(val) < sizeofLinger {
			return unix.EINVAL
		}
		onoff := int32(binary.NativeEndian.Uint32(val[0:4]))
		secs := int32(binary.NativeEndian.Uint32(val[4:8]))
		if onoff == 0 {
			// Only the flag is cleared; the time is kept.
			m.lingerOn = false
			return nil
		}
		m.lingerOn = true
		m.lingerSecs = lingerSecs(secs)
	case unix.SO_RCVLOWAT:
		if v < 0 {
			v = math.MaxInt32
		}
		if b.typ == unix.SOCK_STREAM {
			v = min(v, tcpRmemMax>>1)
		}
		if v == 0 {
			v = 1
		}
		m.rcvlowat = v
	case unix.SO_SNDLOWAT:
		return unix.ENOPROTOOPT
	case unix.SO_PEEK_OFF:
		if !b.peekOffSupported() {
			return unix.EOPNOTSUPP
		}
		b.peekOff.set(v)
	case unix.SO_PASSCRED:
		// Credentials pass only over AF_UNIX and netlink (sk_may_scm_recv).
		return unix.EOPNOTSUPP
	default:
		return b.setSockExtLocked(name, v) // sockopts_ext.go
	}
	return nil
}

// lingerSecs is what SO_LINGER reads back after setting l_linger: the time
// is kept in jiffies of an unsigned long, so a negative value saturates at
// MAX_SCHEDULE_TIMEOUT, read back as LONG_MAX/HZ cut to an int.
func lingerSecs(secs int32) int32 {
	if secs < 0 {
		maxSecs := uint32(math.MaxInt64 / hz & math.MaxUint32)
		return int32(maxSecs)
	}
	return secs
}

// getMisc reads one of these options.
func (b *base) getMisc(name int, o sockOpts, buf []byte) (int, error) {
	m := o.misc
	var v int32
	switch name {
	case unix.SO_DEBUG:
		v = int32(boolInt(m.debug))
	case unix.SO_KEEPALIVE:
		v = int32(boolInt(m.keepalive))
	case unix.SO_OOBINLINE:
		v = int32(boolInt(m.oobinline))
	case unix.SO_NO_CHECK:
		v = int32(boolInt(m.noCheck))
	case unix.SO_DONTROUTE:
		v = int32(boolInt(m.dontroute))
	case unix.SO_PRIORITY:
		v = m.priority
	case unix.SO_MARK:
		v = int32(m.mark)
	case unix.SO_RCVLOWAT:
		v = m.rcvlowat
	case unix.SO_SNDLOWAT:
		v = 1
	case unix.SO_PEEK_OFF:
		if !b.peekOffSupported() {
			return 0, unix.EOPNOTSUPP
		}
		v = b.peekOff.get()
	case unix.SO_LINGER:
		var l [sizeofLinger]byte
		binary.NativeEndian.PutUint32(l[0:4], uint32(boolInt(m.lingerOn)))
		binary.NativeEndian.PutUint32(l[4:8], uint32(m.lingerSecs))
		return copy(buf, l[:]), nil
	case unix.SO_PASSCRED:
		return 0, unix.EOPNOTSUPP
	default:
		return b.getSockExt(name, o, buf) // sockopts_ext.go
	}
	return options.PutSockInt(buf, v), nil
}

// tosPriority is rt_tos2priority: the SO_PRIORITY an IP_TOS change sets.
func tosPriority(tos uint8) int32 {
	// ip_tos2prio by IPTOS_TOS(tos) >> 1 has four runs of four entries:
	// best effort, bulk, interactive, interactive bulk.
	prio := [4]int32{0, 2, 6, 4}
	return prio[(tos&0x1e)>>3]
}

// checkDontRoute is the route lookup with RT_SCOPE_LINK that SO_DONTROUTE
// or MSG_DONTROUTE asks for: only a destination on a directly connected
// network is reachable (ENETUNREACH otherwise).
func checkDontRoute(s *stack.Stack, dst netip.Addr, o sockOpts, flags int) error {
	if !o.misc.dontroute && flags&unix.MSG_DONTROUTE == 0 {
		return nil
	}
	return s.CheckOnLink(dst, o.bindIf)
}
