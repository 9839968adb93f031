package fuzz

import (
	"errors"
	"net/netip"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"netsandbox/endpoint"
	"netsandbox/link/channel"
	"netsandbox/options"
	"netsandbox/stack"
)

// Ports of the sockets FuzzFrames keeps open; the seeds aim at them.
const (
	portBound     = 5000 // UDP bound to 0.0.0.0, member of mcastGroup
	portConnected = 5001 // UDP connected to peer:6000
	portRecvErr   = 5002 // UDP with IP_RECVERR, connected to peer:6001
	portListen    = 80   // TCP listener
	portTCPClient = 40000
	pingIdent     = 0x1234
)

var (
	mcastGroup    = netip.MustParseAddr("239.1.1.1")
	ssmGroup      = netip.MustParseAddr("232.1.1.1")
	blockedSource = netip.MustParseAddr("198.18.0.9")
)

// frameTarget is a stack with a socket of every kind open, as a hostile
// network finds it.
type frameTarget struct {
	s        *stack.Stack
	ch       *channel.Endpoint
	socks    []endpoint.Socket // every socket, drained with recvmsg
	udp      []endpoint.Socket // their error queues are drained too
	listener endpoint.Socket
	// Whether the options that are best effort took: the seed check
	// expects their effects only then.
	member, ssm, recvErrOn bool
}

func newFrameTarget(fail failFunc) *frameTarget {
	s, ch := newStack(fail)
	ft := &frameTarget{s: s, ch: ch}
	open := func(typ, proto int) endpoint.Socket {
		so, err := endpoint.New(s, unix.AF_INET, typ|unix.SOCK_NONBLOCK, proto)
		if err != nil {
			ft.close()
			fail("socket(%d, %d): %v", typ, proto, err)
		}
		ft.socks = append(ft.socks, so)
		return so
	}
	must := func(what string, err error) {
		if err != nil {
			ft.close()
			fail("%s: %v", what, err)
		}
	}
	sa := func(a netip.Addr, port uint16) []byte { return options.SockaddrIn(netip.AddrPortFrom(a, port)) }
	any4 := netip.IPv4Unspecified()
	one := []byte{1, 0, 0, 0}

	bound := open(unix.SOCK_DGRAM, 0)
	must("bind udp", bound.Bind(sa(any4, portBound)))
	g, l := mcastGroup.As4(), localAddr.As4()
	// Options are best effort: the target is the receive path, not them.
	ft.member = bound.SetSockOpt(unix.SOL_IP, unix.IP_ADD_MEMBERSHIP, append(g[:], l[:]...)) == nil
	// Source filters: 239.1.1.1 excludes blockedSource; 232.1.1.1 is
	// joined for peerAddr only (source-specific).
	bs, ssm, pa := blockedSource.As4(), ssmGroup.As4(), peerAddr.As4()
	_ = bound.SetSockOpt(unix.SOL_IP, unix.IP_BLOCK_SOURCE, append(append(g[:], l[:]...), bs[:]...))
	ft.ssm = bound.SetSockOpt(unix.SOL_IP, unix.IP_ADD_SOURCE_MEMBERSHIP, append(append(ssm[:], l[:]...), pa[:]...)) == nil
	for _, o := range []int{unix.IP_PKTINFO, unix.IP_RECVTTL, unix.IP_RECVTOS, unix.IP_RECVOPTS, unix.IP_RETOPTS, unix.IP_RECVORIGDSTADDR} {
		_ = bound.SetSockOpt(unix.SOL_IP, o, one)
	}
	_ = bound.SetSockOpt(unix.SOL_SOCKET, unix.SO_RXQ_OVFL, one)
	_ = bound.SetSockOpt(unix.SOL_SOCKET, unix.SO_BROADCAST, one)

	connected := open(unix.SOCK_DGRAM, unix.IPPROTO_UDP)
	must("bind udp connected", connected.Bind(sa(any4, portConnected)))
	must("connect udp", connected.Connect(sa(peerAddr, 6000)))

	recvErr := open(unix.SOCK_DGRAM, 0)
	ft.recvErrOn = recvErr.SetSockOpt(unix.SOL_IP, unix.IP_RECVERR, one) == nil
	must("bind udp recverr", recvErr.Bind(sa(any4, portRecvErr)))
	must("connect udp recverr", recvErr.Connect(sa(peerAddr, 6001)))
	ft.udp = []endpoint.Socket{bound, connected, recvErr}

	open(unix.SOCK_RAW, unix.IPPROTO_ICMP)
	open(unix.SOCK_RAW, unix.IPPROTO_UDP)
	ping := open(unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
	must("bind ping", ping.Bind(sa(any4, pingIdent)))

	ft.listener = open(unix.SOCK_STREAM, 0)
	must("bind tcp", ft.listener.Bind(sa(any4, portListen)))
	must("listen", ft.listener.Listen(16))

	client := open(unix.SOCK_STREAM, 0)
	must("bind tcp client", client.Bind(sa(localAddr, portTCPClient)))
	if err := client.Connect(sa(peerAddr, 7000)); err != unix.EINPROGRESS {
		ft.close()
		fail("nonblocking connect: %v, want EINPROGRESS", err)
	}
	drainWire(ch)
	return ft
}

// drain empties every receive and error queue without blocking, and
// accepts and closes pending connections. Every answer must be nil or an
// errno.
func (ft *frameTarget) drain(fail failFunc) {
	var p [65536]byte
	var oob [1024]byte
	check := func(what string, err error) bool {
		if err == nil {
			return true
		}
		var e unix.Errno
		if !errors.As(err, &e) {
			fail("%s: error %T %v is not an errno", what, err, err)
		}
		return false
	}
	for _, so := range ft.socks {
		for i := 0; i < 64; i++ {
			_, _, _, _, err := so.RecvMsg(p[:], oob[:], unix.MSG_DONTWAIT)
			if !check("recvmsg", err) {
				break
			}
		}
	}
	for _, so := range ft.udp {
		for i := 0; i < 64; i++ {
			_, _, _, _, err := so.RecvMsg(p[:], oob[:], unix.MSG_DONTWAIT|unix.MSG_ERRQUEUE)
			if !check("recvmsg errqueue", err) {
				break
			}
		}
	}
	for i := 0; i < 8; i++ {
		c, _, err := ft.listener.Accept(unix.SOCK_NONBLOCK)
		if !check("accept", err) {
			break
		}
		_, _, _, _, err = c.RecvMsg(p[:], oob[:], unix.MSG_DONTWAIT)
		check("recvmsg accepted", err)
		check("close accepted", c.Close())
	}
	drainWire(ft.ch)
}

func (ft *frameTarget) close() {
	for _, so := range ft.socks {
		so.Close()
	}
	ft.s.Close()
}

// FuzzFrames feeds frames from a hostile network into a stack with a socket
// of every kind open. Properties: no panic, no input takes longer than
// perInputTimeout (deadlock), every socket call answers nil or an errno,
// every frame ends in exactly one outcome stack.Accounting counts (or in a
// documented gap), and goroutines return to the baseline once the stack is
// closed.
func FuzzFrames(f *testing.F) {
	for _, seed := range frameSeeds() {
		f.Add(seed.data)
	}
	runtime.GC()
	baseline := runtime.NumGoroutine()
	f.Fuzz(func(t *testing.T, data []byte) {
		frames := decodeFrames(data)
		bounded(t, func(fail failFunc) {
			ft := newFrameTarget(fail)
			defer ft.close()
			for i, fr := range frames {
				before := ft.s.Accounting()
				ft.ch.Inject(fr)
				// Only one socket listens on each port, so a frame (a
				// fragment completes at most one datagram) ends in exactly
				// one counted outcome, or in a documented gap.
				checkFrameAccounting(fail, i, fr, before, ft.s.Accounting())
				ft.drain(fail)
			}
		})
		checkGoroutines(t, baseline)
	})
}
