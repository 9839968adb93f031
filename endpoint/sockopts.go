package endpoint

import (
	"encoding/binary"
	"math"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/options"
	"netsandbox/stack"
)

// Linux's floors for SO_RCVBUF/SO_SNDBUF (SOCK_MIN_RCVBUF, SOCK_MIN_SNDBUF on
// x86_64) and TCP's initial buffer sizes (net.ipv4.tcp_rmem[1] and
// tcp_wmem[1], which the stack has no knob for yet).
const (
	sockMinRcvbuf  = 2304
	sockMinSndbuf  = 4608
	tcpDefaultRcv  = 131072
	tcpDefaultSnd  = 16384
	ifNameSize     = 16 // IFNAMSIZ
	timeoInfinite  = time.Duration(-1)
	sizeofTimeval  = 16
	maxTimeoutSecs = math.MaxInt64 / 1000 / 1000
	// usecPerTick is 1e6/HZ for the HZ=250 kernels (Debian, Ubuntu, the
	// test machine) whose rounding of SO_RCVTIMEO we reproduce.
	usecPerTick = 4000
)

// sockOpts are the option values our layer keeps for every socket kind; the
// gVisor-backed kinds mirror the ones gVisor acts on.
type sockOpts struct {
	rcvbuf, sndbuf                  int // as getsockopt reports them (doubled)
	reuseAddr, reusePort, broadcast bool
	bindIf                          int           // SO_BINDTODEVICE ifindex, 0 = none
	rcvTimeo, sndTimeo              time.Duration // timeoInfinite or >= 0
	ttl                             int           // -1 = net.ipv4.ip_default_ttl
	tos                             uint8
	hdrincl                         bool
	pmtudisc                        int // IP_MTU_DISCOVER, IP_PMTUDISC_*
	recvErr, recvErrRFC4884         bool
	misc                            miscOpts
	ext                             ipExtOpts  // ipopts.go
	tcp                             tcpOptVals // tcp_opts_vals.go
}

func defaultOpts(s *stack.Stack, typ, proto int) sockOpts {
	o := sockOpts{
		rcvbuf:   s.Sysctl().Int("net.core.rmem_default"),
		sndbuf:   s.Sysctl().Int("net.core.wmem_default"),
		rcvTimeo: timeoInfinite,
		sndTimeo: timeoInfinite,
		ttl:      -1,
		// inet_create turns IP_HDRINCL on for IPPROTO_RAW sockets.
		hdrincl: typ == unix.SOCK_RAW && proto == unix.IPPROTO_RAW,
		// inet_create: DONT when net.ipv4.ip_no_pmtu_disc is set, else WANT.
		pmtudisc: unix.IP_PMTUDISC_WANT,
		misc:     defaultMiscOpts(),
	}
	if s.Sysctl().Int("net.ipv4.ip_no_pmtu_disc") != 0 {
		o.pmtudisc = unix.IP_PMTUDISC_DONT
	}
	if typ == unix.SOCK_STREAM {
		o.rcvbuf, o.sndbuf = tcpDefaultRcv, tcpDefaultSnd
	}
	// inetsw's INET_PROTOSW_REUSE: raw and ping sockets start with
	// sk_reuse set, so ping sockets share identifiers (ping_get_port).
	if typ == unix.SOCK_RAW || typ == unix.SOCK_DGRAM && (proto == unix.IPPROTO_ICMP || proto == unix.IPPROTO_ICMPV6) {
		o.reuseAddr = true
	}
	return o
}

// effectiveTTL is the unicast TTL a packet leaves with.
func (b *base) effectiveTTL() uint8 {
	b.optMu.Lock()
	ttl := b.opts.ttl
	b.optMu.Unlock()
	if ttl < 0 {
		return uint8(b.s.Sysctl().DefaultTTL())
	}
	return uint8(ttl)
}

// optsSnapshot returns a copy of the option values.
func (b *base) optsSnapshot() sockOpts {
	b.optMu.Lock()
	defer b.optMu.Unlock()
	return b.opts
}

// setCommon applies an option kept in our layer, with sk_setsockopt's and
// do_ip_setsockopt's checks in their order. It answers ENOPROTOOPT for
// anything else; socket kinds handle their own options before calling it.
func (b *base) setCommon(level, name int, val []byte) error {
	if handled, err := b.setRecvOpt(level, name, val); handled {
		return err
	}
	switch level {
	case unix.SOL_SOCKET:
		return b.setSocketLevel(name, val)
	case unix.SOL_IP:
		return b.setIPLevel(name, val)
	}
	return unix.ENOPROTOOPT
}

func (b *base) setSocketLevel(name int, val []byte) error {
	// SO_BINDTODEVICE takes a string and is dispatched before the int
	// length check.
	if name == unix.SO_BINDTODEVICE {
		return b.setBindToDevice(val)
	}
	v32, err := options.ParseSockInt(val)
	if err != nil {
		return err
	}
	v := int(v32)
	on := v != 0
	sys := b.s.Sysctl()
	b.optMu.Lock()
	defer b.optMu.Unlock()
	switch name {
	case unix.SO_REUSEADDR:
		b.opts.reuseAddr = on
	case unix.SO_REUSEPORT:
		b.opts.reusePort = on
	case unix.SO_BROADCAST:
		b.opts.broadcast = on
	case unix.SO_RCVBUF:
		// min_t(u32, val, rmem_max): a negative value is a huge unsigned one.
		b.opts.rcvbuf = bufSize(clampU32(v, sys.Int("net.core.rmem_max")), sockMinRcvbuf)
		b.opts.misc.ext.bufLock |= sockRcvbufLock // SO_BUF_LOCK (sockopts_ext.go)
	case unix.SO_SNDBUF:
		b.opts.sndbuf = bufSize(clampU32(v, sys.Int("net.core.wmem_max")), sockMinSndbuf)
		b.opts.misc.ext.bufLock |= sockSndbufLock
	case unix.SO_RCVBUFFORCE, unix.SO_SNDBUFFORCE:
		if !b.s.Caps().Has(stack.CapNetAdmin) {
			return unix.EPERM
		}
		if name == unix.SO_RCVBUFFORCE {
			b.opts.rcvbuf = bufSize(max(v, 0), sockMinRcvbuf)
			b.opts.misc.ext.bufLock |= sockRcvbufLock
		} else {
			b.opts.sndbuf = bufSize(max(v, 0), sockMinSndbuf)
			b.opts.misc.ext.bufLock |= sockSndbufLock
		}
	case unix.SO_BINDTOIFINDEX:
		b.optMu.Unlock()
		err := b.bindToIndex(v)
		b.optMu.Lock()
		return err
	case unix.SO_RCVTIMEO_OLD, unix.SO_SNDTIMEO_OLD, unix.SO_RCVTIMEO_NEW, unix.SO_SNDTIMEO_NEW:
		// The _NEW forms take struct __kernel_sock_timeval, which on
		// 64-bit Linux is laid out as struct timeval.
		d, err := parseTimeval(val)
		if err != nil {
			return err
		}
		if name == unix.SO_RCVTIMEO_OLD || name == unix.SO_RCVTIMEO_NEW {
			b.opts.rcvTimeo = d
		} else {
			b.opts.sndTimeo = d
		}
	default:
		return b.setMiscLocked(name, v32, val)
	}
	return nil
}

// clampU32 is min_t(u32, v, limit).
func clampU32(v, limit int) int {
	if uint32(int32(v)) > uint32(limit) {
		return limit
	}
	return v
}

// bufSize is Linux's doubling of a requested buffer size with its floor.
func bufSize(v, floor int) int {
	v = min(v, math.MaxInt32/2)
	return max(v*2, floor)
}

// parseTimeval reads a struct timeval for SO_RCVTIMEO/SO_SNDTIMEO as
// sock_set_timeout does: short is EINVAL, usec out of range EDOM, a negative
// time means "do not wait", zero means forever.
func parseTimeval(val []byte) (time.Duration, error) {
	if len(val) < sizeofTimeval {
		return 0, unix.EINVAL
	}
	sec := int64(binary.NativeEndian.Uint64(val[0:8]))
	usec := int64(binary.NativeEndian.Uint64(val[8:16]))
	if usec < 0 || usec >= 1000000 {
		return 0, unix.EDOM
	}
	if sec < 0 {
		return 0, nil
	}
	if sec == 0 && usec == 0 || sec >= maxTimeoutSecs {
		return timeoInfinite, nil
	}
	// Linux keeps the timeout in jiffies, rounding microseconds up to the
	// next tick; getsockopt then reports whole ticks.
	ticks := (usec + usecPerTick - 1) / usecPerTick
	return time.Duration(sec)*time.Second + time.Duration(ticks*usecPerTick)*time.Microsecond, nil
}

func putTimeval(buf []byte, d time.Duration) int {
	var tv [sizeofTimeval]byte
	if d > 0 {
		binary.NativeEndian.PutUint64(tv[0:8], uint64(d/time.Second))
		binary.NativeEndian.PutUint64(tv[8:16], uint64((d%time.Second)/time.Microsecond))
	}
	return copy(buf, tv[:])
}

// setBindToDevice follows sock_setbindtodevice: the name is cut to 15
// bytes and ends at the first NUL; "" unbinds; an unknown name is ENODEV.
func (b *base) setBindToDevice(val []byte) error {
	if len(val) > ifNameSize-1 {
		val = val[:ifNameSize-1]
	}
	name := string(val)
	for i := range len(name) {
		if name[i] == 0 {
			name = name[:i]
			break
		}
	}
	index := 0
	if name != "" {
		ifc, ok := b.s.InterfaceByName(name)
		if !ok {
			return unix.ENODEV
		}
		index = ifc.Index
	}
	return b.bindToIndexChecked(index)
}

// bindToIndex is SO_BINDTOIFINDEX: negative is EINVAL; Linux does not
// check that the interface exists.
func (b *base) bindToIndex(index int) error {
	if index < 0 {
		return unix.EINVAL
	}
	return b.bindToIndexChecked(index)
}

// bindToIndexChecked is sock_bindtoindex_locked: changing an existing
// binding needs CAP_NET_RAW.
func (b *base) bindToIndexChecked(index int) error {
	b.optMu.Lock()
	defer b.optMu.Unlock()
	if b.opts.bindIf != 0 && !b.s.Caps().Has(stack.CapNetRaw) {
		return unix.EPERM
	}
	b.opts.bindIf = index
	return nil
}

func (b *base) setIPLevel(name int, val []byte) error {
	if name == unix.IP_OPTIONS {
		return b.setIPOptions(val) // compiled before optMu is taken (ipopts.go)
	}
	v32, _ := options.ParseIPInt(val)
	v := int(v32)
	b.optMu.Lock()
	defer b.optMu.Unlock()
	switch name {
	case unix.IP_TTL:
		if len(val) < 1 || v != -1 && (v < 1 || v > 255) {
			return unix.EINVAL
		}
		b.opts.ttl = v
	case unix.IP_TOS:
		tos := uint8(v)
		if b.typ == unix.SOCK_STREAM {
			// TCP owns the ECN bits: keep the socket's, drop the caller's.
			const ecnMask = 3
			tos = tos&^ecnMask | b.opts.tos&ecnMask
		}
		if tos != b.opts.tos {
			// __ip_sock_set_tos: a new TOS sets the priority too.
			b.opts.misc.priority = tosPriority(tos)
		}
		b.opts.tos = tos
	case unix.IP_HDRINCL:
		if b.typ != unix.SOCK_RAW {
			return unix.ENOPROTOOPT
		}
		b.opts.hdrincl = v != 0
	case unix.IP_MTU_DISCOVER:
		if v < unix.IP_PMTUDISC_DONT || v > unix.IP_PMTUDISC_OMIT {
			return unix.EINVAL
		}
		b.opts.pmtudisc = v
	case unix.IP_RECVERR:
		b.opts.recvErr = v != 0
	case unix.IP_RECVERR_RFC4884:
		if v < 0 || v > 1 {
			return unix.EINVAL
		}
		b.opts.recvErrRFC4884 = v != 0
	default:
		return b.setIPExtLocked(name, val, v)
	}
	return nil
}

// getCommon reads an option kept in our layer; socket kinds answer their
// own options (SO_ERROR, SO_ACCEPTCONN) before calling it.
func (b *base) getCommon(level, name int, buf []byte) (int, error) {
	if handled, n, err := b.getRecvOpt(level, name, buf); handled {
		return n, err
	}
	switch level {
	case unix.SOL_SOCKET:
		return b.getSocketLevel(name, buf)
	case unix.SOL_IP:
		return b.getIPLevel(name, buf)
	}
	if level == b.protocolLevel() {
		return 0, unix.ENOPROTOOPT
	}
	// The protocol's getsockopt passes any other level to ip_getsockopt,
	// whose do_ip_getsockopt answers EOPNOTSUPP (setsockopt: ENOPROTOOPT).
	return 0, unix.EOPNOTSUPP
}

// protocolLevel is the option level the socket's own protocol answers
// (udp_getsockopt, tcp_getsockopt, raw_getsockopt); ping sockets have
// none (-1).
func (b *base) protocolLevel() int {
	switch {
	case b.typ == unix.SOCK_STREAM:
		return unix.SOL_TCP
	case b.typ == unix.SOCK_RAW:
		return unix.SOL_RAW
	case b.proto == unix.IPPROTO_ICMP:
		return -1
	}
	return unix.SOL_UDP
}

func (b *base) getSocketLevel(name int, buf []byte) (int, error) {
	o := b.optsSnapshot()
	var v int
	switch name {
	case unix.SO_TYPE:
		v = b.typ
	case unix.SO_PROTOCOL:
		v = b.protocolNumber()
	case unix.SO_DOMAIN:
		v = unix.AF_INET
	case unix.SO_REUSEADDR:
		v = boolInt(o.reuseAddr)
	case unix.SO_REUSEPORT:
		v = boolInt(o.reusePort)
	case unix.SO_BROADCAST:
		v = boolInt(o.broadcast)
	case unix.SO_RCVBUF:
		v = o.rcvbuf
	case unix.SO_SNDBUF:
		v = o.sndbuf
	case unix.SO_BINDTOIFINDEX:
		v = o.bindIf
	case unix.SO_BINDTODEVICE:
		return b.getBindToDevice(o.bindIf, buf)
	case unix.SO_RCVTIMEO_OLD, unix.SO_RCVTIMEO_NEW:
		return putTimeval(buf, o.rcvTimeo), nil
	case unix.SO_SNDTIMEO_OLD, unix.SO_SNDTIMEO_NEW:
		return putTimeval(buf, o.sndTimeo), nil
	default:
		return b.getMisc(name, o, buf)
	}
	return options.PutSockInt(buf, int32(v)), nil
}

// protocolNumber is SO_PROTOCOL: the protocol inet_create settled on.
func (b *base) protocolNumber() int {
	if b.proto != 0 {
		return b.proto
	}
	if b.typ == unix.SOCK_STREAM {
		return unix.IPPROTO_TCP
	}
	return unix.IPPROTO_UDP
}

// getBindToDevice follows sock_getbindtodevice: a buffer shorter than
// IFNAMSIZ is EINVAL, an unbound socket reads as empty, an index with no
// interface behind it is ENODEV; the name is returned with its NUL.
func (b *base) getBindToDevice(index int, buf []byte) (int, error) {
	if len(buf) < ifNameSize {
		return 0, unix.EINVAL
	}
	if index == 0 {
		return 0, nil
	}
	ifc, ok := b.s.InterfaceByIndex(index)
	if !ok {
		return 0, unix.ENODEV
	}
	n := copy(buf, ifc.Name)
	buf[n] = 0
	return n + 1, nil
}

func (b *base) getIPLevel(name int, buf []byte) (int, error) {
	o := b.optsSnapshot()
	var v int
	switch name {
	case unix.IP_TTL:
		v = int(b.effectiveTTL())
	case unix.IP_TOS:
		v = int(o.tos)
	case unix.IP_HDRINCL:
		v = boolInt(o.hdrincl)
	case unix.IP_MTU_DISCOVER:
		v = o.pmtudisc
	case unix.IP_RECVERR:
		v = boolInt(o.recvErr)
	case unix.IP_RECVERR_RFC4884:
		v = boolInt(o.recvErrRFC4884)
	case unix.IP_MTU:
		// Socket kinds answer for a connected socket; without a cached
		// route (sk_dst_cache) Linux has no MTU to give.
		return 0, unix.ENOTCONN
	default:
		return b.getIPExt(name, o, buf)
	}
	return options.PutIPInt(buf, int32(v)), nil
}

// putErrno answers SO_ERROR.
func putErrno(buf []byte, e unix.Errno) int {
	return options.PutSockInt(buf, int32(e))
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}
