package fuzz

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/endpoint"
	"netsandbox/options"
	"netsandbox/stack"
)

// Bounds of one FuzzSocketCalls input.
const (
	maxCalls   = 48
	maxSockets = 8
	// waitTimeout bounds opWait; maxCalls of them stay far below
	// perInputTimeout.
	waitTimeout = 5 * time.Millisecond
)

// byteReader hands out the fuzz input; past its end every read is zero, so
// any input decodes into a valid call sequence.
type byteReader struct{ b []byte }

func (r *byteReader) empty() bool { return len(r.b) == 0 }

func (r *byteReader) u8() byte {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *byteReader) u16() uint16 { return uint16(r.u8())<<8 | uint16(r.u8()) }

// bytes returns the next n bytes (fewer at the end of the input).
func (r *byteReader) bytes(n int) []byte {
	n = min(n, len(r.b))
	v := append([]byte(nil), r.b[:n]...)
	r.b = r.b[n:]
	return v
}

// pick returns one of choices, chosen by the next byte.
func pick[T any](r *byteReader, choices ...T) T { return choices[int(r.u8())%len(choices)] }

// callOp is one kind of call the sequence fuzzer makes.
type callOp byte

const (
	opSocket callOp = iota
	opBind
	opConnect
	opListen
	opAccept
	opSetsockopt
	opGetsockopt
	opSendmsg
	opRecvmsg
	opShutdown
	opClose
	opGetpeername
	opWait
	opIoctl
	numOps
)

// callRunner runs decoded calls against one stack and checks each answer.
type callRunner struct {
	s     *stack.Stack
	fail  failFunc
	socks []endpoint.Socket
	trace []string
	// stream and disconnected track what knownDeviation needs: which
	// sockets are TCP, and which of those connect(AF_UNSPEC) or shutdown
	// may have reset.
	stream, disconnected map[endpoint.Socket]bool
	// saLen is the length of each socket's sockaddr: 16 for sockaddr_in,
	// 28 for sockaddr_in6 (a domain byte of 10 opens AF_INET6).
	saLen map[endpoint.Socket]int
}

func (c *callRunner) logf(format string, args ...any) {
	c.trace = append(c.trace, fmt.Sprintf(format, args...))
}

func newCallRunner(s *stack.Stack, fail failFunc) *callRunner {
	return &callRunner{s: s, fail: fail, stream: map[endpoint.Socket]bool{}, disconnected: map[endpoint.Socket]bool{},
		saLen: map[endpoint.Socket]int{}}
}

// check fails unless err is nil or an errno allowed for call.
func (c *callRunner) check(call string, err error) { c.checkArgs(call, err, callArgs{}) }

// checkOn is check for a call on so.
func (c *callRunner) checkOn(so endpoint.Socket, call string, err error, a callArgs) {
	a.tcpDisconnected = c.disconnected[so]
	c.checkArgs(call, err, a)
}

// checkArgs is check with the arguments knownDeviation looks at.
func (c *callRunner) checkArgs(call string, err error, a callArgs) {
	if call != "getsockname" && len(c.trace) > 0 {
		c.trace[len(c.trace)-1] += " = " + errName(err)
	}
	if err == nil {
		return
	}
	e, ok := err.(unix.Errno)
	switch {
	case !ok:
		c.fail("%s returned %T (%v), not unix.Errno; calls:\n%s", call, err, err, c.dump())
	case e == 0:
		c.fail("%s returned a non-nil error with errno 0; calls:\n%s", call, c.dump())
	case !allowedErrnos[call][e] && !knownDeviation(call, err, a):
		c.fail("%s returned %s, which Linux does not return for %s; calls:\n%s", call, unix.ErrnoName(e), call, c.dump())
	}
}

func errName(err error) string {
	if e, ok := err.(unix.Errno); ok && e != 0 {
		return unix.ErrnoName(e)
	}
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func (c *callRunner) dump() string { return strings.Join(c.trace, "\n") }

// sock returns the socket the next byte names, or nil if none is open.
func (c *callRunner) sock(r *byteReader) (int, endpoint.Socket) {
	i := int(r.u8())
	if len(c.socks) == 0 {
		return -1, nil
	}
	i %= len(c.socks)
	return i, c.socks[i]
}

// sockaddr decodes a sockaddr: mostly well-formed sockaddr_in to addresses
// the stack knows, sometimes arbitrary bytes.
func sockaddr(r *byteReader) []byte {
	port := pick(r, uint16(0), 5000, 5001, 80, 7, r.u16())
	var a netip.Addr
	switch r.u8() % 8 {
	case 0:
		return r.bytes(int(r.u8() % 24))
	case 1:
		b := options.SockaddrIn(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port))
		binary.NativeEndian.PutUint16(b, unix.AF_UNSPEC)
		return b
	case 2:
		a = netip.AddrFrom4([4]byte{198, 18, 0, r.u8()})
	case 3:
		a = netip.IPv4Unspecified()
	case 4:
		a = pick(r, netip.MustParseAddr("224.0.0.1"), netip.MustParseAddr("239.1.1.1"),
			netip.MustParseAddr("255.255.255.255"), netip.MustParseAddr("198.18.0.255"))
	case 5:
		return nil
	default:
		a = netip.AddrFrom4([4]byte{127, 0, 0, pick(r, byte(1), 2, r.u8())})
	}
	b := options.SockaddrIn(netip.AddrPortFrom(a, port))
	// Sometimes a length other than 16: longer is allowed, shorter is not.
	switch r.u8() % 8 {
	case 0:
		b = b[:r.u8()%16]
	case 1:
		b = append(b, make([]byte, r.u8()%16)...)
	}
	return b
}

// structVal decodes a well-formed option structure of the kinds ip(7)
// and socket(7) take, so that the option handlers get past their length
// checks: ip_mreq, ip_mreqn, ip_mreq_source (groups 224.0.0.1/239.1.1.1,
// interfaces by address or index), struct timeval, struct linger.
func structVal(r *byteReader) []byte {
	group := pick(r, []byte{224, 0, 0, 1}, []byte{239, 1, 1, 1}, []byte{127, 0, 0, 1})
	iface := pick(r, []byte{0, 0, 0, 0}, []byte{127, 0, 0, 1}, []byte{198, 18, 0, 2})
	src := []byte{198, 18, 0, r.u8()}
	num := make([]byte, 8)
	binary.NativeEndian.PutUint64(num, uint64(r.u8()))
	switch r.u8() % 5 {
	case 0: // ip_mreq
		return append(append([]byte(nil), group...), iface...)
	case 1: // ip_mreqn: group, address, ifindex
		ifindex := make([]byte, 4)
		binary.NativeEndian.PutUint32(ifindex, uint32(r.u8()%4))
		return append(append(append([]byte(nil), group...), iface...), ifindex...)
	case 2: // ip_mreq_source: group, interface, source
		return append(append(append([]byte(nil), group...), iface...), src...)
	case 3: // struct timeval: seconds, microseconds
		return append(num, num...)
	default: // struct linger: l_onoff, l_linger
		return num
	}
}

// control decodes sendmsg control bytes: none, arbitrary bytes, or a few
// well-formed messages with arbitrary types and bodies.
func control(r *byteReader) []byte {
	switch r.u8() % 4 {
	case 0:
		return r.bytes(int(r.u8() % 64))
	case 1, 2:
		var b []byte
		for n := r.u8() % 3; n > 0; n-- {
			level := pick(r, int32(unix.SOL_IP), unix.SOL_SOCKET, unix.SOL_UDP, int32(r.u8()))
			b = options.AppendCmsg(b, level, int32(r.u8()%40), r.bytes(int(r.u8()%24)))
		}
		return b
	}
	return nil
}

// sockaddrLen is the sockaddr length of a socket in domain.
func sockaddrLen(domain int) int {
	if domain == unix.AF_INET6 {
		return unix.SizeofSockaddrInet6
	}
	return unix.SizeofSockaddrInet4
}

// step decodes and runs one call.
func (c *callRunner) step(r *byteReader) {
	op := callOp(r.u8() % byte(numOps))
	if op == opSocket {
		domain := pick(r, unix.AF_INET, unix.AF_INET, unix.AF_INET, int(r.u8()))
		typ := pick(r, unix.SOCK_DGRAM, unix.SOCK_STREAM, unix.SOCK_RAW, int(r.u8()&0xf))
		proto := pick(r, 0, unix.IPPROTO_UDP, unix.IPPROTO_TCP, unix.IPPROTO_ICMP, unix.IPPROTO_RAW,
			unix.IPPROTO_IGMP, int(r.u8()))
		typ |= unix.SOCK_NONBLOCK | pick(r, 0, unix.SOCK_CLOEXEC)
		c.logf("socket(%d, %#x, %d)", domain, typ, proto)
		so, err := endpoint.New(c.s, domain, typ, proto)
		c.check("socket", err)
		if err == nil {
			if len(c.socks) >= maxSockets {
				c.check("close", so.Close())
				return
			}
			c.socks = append(c.socks, so)
			c.stream[so] = typ&0xf == unix.SOCK_STREAM
			c.saLen[so] = sockaddrLen(domain)
		}
		return
	}
	i, so := c.sock(r)
	if so == nil {
		return
	}
	switch op {
	case opBind:
		sa := sockaddr(r)
		c.logf("bind(s%d, %x)", i, sa)
		c.check("bind", so.Bind(sa))
	case opConnect:
		sa := sockaddr(r)
		c.logf("connect(s%d, %x)", i, sa)
		err := so.Connect(sa)
		c.checkOn(so, "connect", err, callArgs{})
		if err == nil && c.stream[so] && len(sa) >= 2 && binary.NativeEndian.Uint16(sa) == unix.AF_UNSPEC {
			c.disconnected[so] = true
		}
	case opListen:
		backlog := int(int8(r.u8()))
		c.logf("listen(s%d, %d)", i, backlog)
		c.check("listen", so.Listen(backlog))
	case opAccept:
		flags := unix.SOCK_NONBLOCK | pick(r, 0, unix.SOCK_CLOEXEC, 1<<int(r.u8()%31))
		c.logf("accept(s%d, %#x)", i, flags)
		ns, _, err := so.Accept(flags)
		c.check("accept", err)
		if err == nil {
			if len(c.socks) >= maxSockets {
				c.check("close", ns.Close())
			} else {
				c.socks = append(c.socks, ns)
				c.stream[ns] = true
				c.saLen[ns] = c.saLen[so]
			}
		}
	case opSetsockopt:
		level := pick(r, unix.SOL_SOCKET, unix.SOL_IP, unix.SOL_TCP, unix.SOL_UDP)
		name := int(r.u8() % 81)
		raw := r.bytes(int(r.u8() % 48))
		var val []byte
		// The structure is decoded only when chosen, so that the other
		// choices read no more bytes than the seeds were written for.
		switch r.u8() % 6 {
		case 0:
			val = []byte{1, 0, 0, 0}
		case 1:
			val = []byte{0, 0, 0, 0}
		case 2:
			val = []byte{0xff, 0xff, 0xff, 0xff}
		case 3:
			val = nil
		case 4:
			val = raw
		case 5:
			val = structVal(r)
		}
		if level == unix.SOL_SOCKET && name == unix.SO_LINGER && len(val) >= 8 && binary.NativeEndian.Uint32(val[4:]) > 1 {
			// close() waits out l_linger seconds, as on Linux, even on a
			// non-blocking socket; more than a second would look like a
			// deadlock to bounded.
			val = append([]byte(nil), val...)
			binary.NativeEndian.PutUint32(val[4:], 1)
		}
		c.logf("setsockopt(s%d, %d, %s, %x)", i, level, options.Name(level, name), val)
		c.check("setsockopt", so.SetSockOpt(level, name, val))
	case opGetsockopt:
		level := pick(r, unix.SOL_SOCKET, unix.SOL_IP, unix.SOL_TCP, unix.SOL_UDP)
		name := int(r.u8() % 81)
		buf := make([]byte, pick(r, 4, 0, 1, 16, int(r.u8())))
		c.logf("getsockopt(s%d, %d, %s, len %d)", i, level, options.Name(level, name), len(buf))
		n, err := so.GetSockOpt(level, name, buf)
		c.check("getsockopt", err)
		if err == nil && (n < 0 || n > len(buf)) {
			c.fail("getsockopt returned optlen %d for a %d-byte buffer; calls:\n%s", n, len(buf), c.dump())
		}
	case opSendmsg:
		p := make([]byte, pick(r, 0, 1, 100, 1472, 1473, 65507, 65508, int(r.u16())))
		oob := control(r)
		to := pick(r, nil, sockaddr(r))
		flags := unix.MSG_DONTWAIT | pick(r, 0, unix.MSG_DONTROUTE, unix.MSG_MORE, unix.MSG_CONFIRM,
			unix.MSG_NOSIGNAL, unix.MSG_OOB, unix.MSG_EOR, 1<<int(r.u8()%31))
		c.logf("sendmsg(s%d, %d bytes, oob %x, to %x, %#x)", i, len(p), oob, to, flags)
		n, err := so.SendMsg(p, oob, to, flags)
		c.checkOn(so, "sendmsg", err, callArgs{bufLen: len(p)})
		if err == nil && (n < 0 || n > len(p)) {
			c.fail("sendmsg of %d bytes returned %d; calls:\n%s", len(p), n, c.dump())
		}
	case opRecvmsg:
		p := make([]byte, pick(r, 0, 1, 2048, 65536))
		oob := make([]byte, pick(r, 0, 16, 20, 24, 256, int(r.u8())))
		flags := unix.MSG_DONTWAIT | pick(r, 0, unix.MSG_PEEK, unix.MSG_TRUNC, unix.MSG_ERRQUEUE,
			unix.MSG_OOB, unix.MSG_WAITALL, unix.MSG_CMSG_CLOEXEC, 1<<int(r.u8()%31))
		c.logf("recvmsg(s%d, %d, %d, %#x)", i, len(p), len(oob), flags)
		n, oobn, _, from, err := so.RecvMsg(p, oob, flags)
		c.checkOn(so, "recvmsg", err, callArgs{bufLen: len(p)})
		if err == nil && (n < 0 || oobn < 0 || oobn > len(oob) || (flags&unix.MSG_TRUNC == 0 && n > len(p)) || len(from) > 16) {
			c.fail("recvmsg(%d, %d) returned n=%d oobn=%d from %d bytes; calls:\n%s", len(p), len(oob), n, oobn, len(from), c.dump())
		}
	case opShutdown:
		how := pick(r, unix.SHUT_RD, unix.SHUT_WR, unix.SHUT_RDWR, int(int8(r.u8())))
		c.logf("shutdown(s%d, %d)", i, how)
		err := so.Shutdown(how)
		c.check("shutdown", err)
		if err == nil && c.stream[so] {
			c.disconnected[so] = true
		}
	case opClose:
		c.logf("close(s%d)", i)
		c.check("close", so.Close())
		c.socks = append(c.socks[:i], c.socks[i+1:]...)
	case opWait:
		// A short bounded wait lets gVisor's TCP goroutines finish a
		// handshake so that accept and the data path get reached.
		mask := pick(r, uint32(unix.EPOLLIN), unix.EPOLLOUT, uint32(r.u8()))
		c.logf("wait(s%d, %#x)", i, mask)
		_, err := so.Wait(mask, time.Now().Add(waitTimeout))
		c.check("wait", err)
	case opIoctl:
		req := pick(r, uint(unix.SIOCINQ), unix.SIOCOUTQ, unix.SIOCOUTQNSD, unix.SIOCGSTAMP, unix.SIOCGSTAMPNS,
			unix.SIOCGIFCONF, unix.SIOCGIFFLAGS, unix.SIOCGIFADDR, unix.SIOCGIFNAME, unix.SIOCGIFHWADDR,
			unix.SIOCATMARK, 0x8900|uint(r.u8()), uint(r.u16())<<16|uint(r.u16()))
		if req&0xffffffff == 0x5421 {
			return // FIONBIO could make the socket blocking
		}
		var arg []byte
		if n := int(r.u8()); n < 250 {
			arg = append(r.bytes(n%64), make([]byte, n/64*16)...)
		}
		c.logf("ioctl(s%d, %#x, %x)", i, req, arg)
		c.check("ioctl", so.Ioctl(req, arg))
	case opGetpeername:
		c.logf("getpeername(s%d)", i)
		sa, err := so.GetPeerName()
		c.check("getpeername", err)
		if err == nil && len(sa) != c.saLen[so] {
			c.fail("getpeername returned a %d-byte sockaddr; calls:\n%s", len(sa), c.dump())
		}
	}
}

// invariants hold after every call: getsockname on every open socket
// answers a sockaddr of its family's length or an allowed errno.
func (c *callRunner) invariants() {
	for i, so := range c.socks {
		sa, err := so.GetSockName()
		c.check("getsockname", err)
		if err == nil && len(sa) != c.saLen[so] {
			c.fail("getsockname(s%d) returned a %d-byte sockaddr; calls:\n%s", i, len(sa), c.dump())
		}
	}
}

// FuzzSocketCalls decodes its input into a sequence of up to maxCalls
// non-blocking socket calls with arbitrary arguments against one stack
// (lo plus an Ethernet NIC with 198.18.0.2/24). Properties: no panic, no
// call blocks (the input finishes within perInputTimeout), every call
// answers nil or an errno that Linux can return for that call, never
// another error type, and getsockname works on every open socket after
// every call.
func FuzzSocketCalls(f *testing.F) {
	for _, seed := range callSeeds() {
		f.Add(seed)
	}
	runtime.GC()
	baseline := runtime.NumGoroutine()
	f.Fuzz(func(t *testing.T, data []byte) {
		bounded(t, func(fail failFunc) {
			s, ch := newStack(fail)
			c := newCallRunner(s, fail)
			defer func() {
				for _, so := range c.socks {
					so.Close()
				}
				s.Close()
			}()
			r := &byteReader{b: data}
			for n := 0; n < maxCalls && !r.empty(); n++ {
				c.step(r)
				c.invariants()
				drainWire(ch)
			}
		})
		checkGoroutines(t, baseline)
	})
}
