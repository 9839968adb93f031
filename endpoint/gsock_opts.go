package endpoint

import (
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"netsandbox/options"
	"netsandbox/stack"
)

// pushOpts hands gVisor every option value it acts on.
func (g *dgramSock) pushOpts() error {
	o := g.optsSnapshot()
	if err := g.pushSockOpts(o); err != nil {
		return err
	}
	g.endpoint().SocketOptions().SetHeaderIncluded(o.hdrincl) // set on raw sockets only
	if err := g.pushMcastOpts(); err != nil {
		return err
	}
	g.pushRecvOpts()
	if err := g.pushPMTU(o); err != nil {
		return err
	}
	g.ipid.SetPMTUMode(stack.PMTUMode(o.pmtudisc))
	return nil
}

// pushSockOpts hands gVisor the SOL_SOCKET values it acts on, the TTL and
// the TOS: what every kind pushes first.
func (g *gsock) pushSockOpts(o sockOpts) error {
	so := g.endpoint().SocketOptions()
	so.SetReuseAddress(o.reuseAddr)
	so.SetReusePort(o.reusePort)
	so.SetBroadcast(o.broadcast)
	// A TCP socket's buffers grow with the connection, as Linux's do,
	// until the user fixes them (SO_RCVBUF, SO_SNDBUF, SO_BUF_LOCK:
	// SOCK_*BUF_LOCK): gVisor stops tuning a buffer once it is set.
	tcp := g.typ == unix.SOCK_STREAM
	if !tcp || o.misc.ext.bufLock&sockRcvbufLock != 0 {
		so.SetReceiveBufferSize(int64(o.rcvbuf), true)
	}
	if !tcp || o.misc.ext.bufLock&sockSndbufLock != 0 {
		so.SetSendBufferSize(int64(o.sndbuf), true)
	}
	so.SetKeepAlive(o.misc.keepalive)
	so.SetOutOfBandInline(o.misc.oobinline)
	so.SetLinger(tcpip.LingerOption{Enabled: o.misc.lingerOn, Timeout: time.Duration(o.misc.lingerSecs) * time.Second})
	// Linux lets SO_BINDTOIFINDEX name a missing interface; gVisor does
	// not, and such a socket can reach nothing either way.
	_ = so.SetBindToDevice(int32(o.bindIf))
	ttl := o.ttl
	if ttl < 0 {
		ttl = 0 // gVisor's "use the default"
	}
	if e := g.endpoint().SetSockOptInt(tcpip.IPv4TTLOption, ttl); e != nil {
		return stack.Errno(e)
	}
	if e := g.endpoint().SetSockOptInt(tcpip.IPv4TOSOption, int(o.tos)); e != nil {
		return stack.Errno(e)
	}
	return nil
}

// pushPMTU hands gVisor IP_MTU_DISCOVER.
func (g *gsock) pushPMTU(o sockOpts) error {
	if e := g.endpoint().SetSockOptInt(tcpip.MTUDiscoverOption, int(gvisorPMTU(o.pmtudisc))); e != nil {
		return stack.Errno(e)
	}
	return nil
}

// pendingErr is SO_ERROR on a raw or ping socket: read and clear.
func (g *dgramSock) pendingErr() unix.Errno {
	if e := g.takeICMPErr(); e != 0 {
		return e
	}
	return stack.Errno(g.endpoint().LastError())
}

func (g *dgramSock) SetSockOpt(level, name int, val []byte) error {
	if err := g.setSockOpt(level, name, val); err != nil {
		return err
	}
	return g.pushOpts()
}

// setSockOpt records an option of a raw or ping socket; the caller pushes
// the values to gVisor (pushOpts).
func (g *dgramSock) setSockOpt(level, name int, val []byte) error {
	if level == unix.SOL_TCP {
		return unix.ENOPROTOOPT
	}
	if err := g.setCommon(level, name, val); err != nil {
		return err
	}
	if level == unix.SOL_IP && name == unix.IP_RECVERR {
		g.setRecvErrHook()
	}
	return nil
}

// GetSockOpt answers what raw and ping sockets answer alike; each kind
// answers IP_PROTOCOL (and raw SOL_RAW) itself.
func (g *dgramSock) GetSockOpt(level, name int, buf []byte) (int, error) {
	switch {
	case level == unix.SOL_SOCKET && name == unix.SO_ERROR:
		return putErrno(buf, g.pendingErr()), nil
	case level == unix.SOL_IP && name == unix.IP_MTU:
		return g.getIPMTU(buf)
	case level == unix.SOL_SOCKET && name == unix.SO_ACCEPTCONN:
		return options.PutSockInt(buf, int32(boolInt(g.endpoint().SocketOptions().GetAcceptConn()))), nil
	}
	return g.getCommon(level, name, buf)
}

// gvisorPMTU maps IP_MTU_DISCOVER to gVisor's strategies, which decide DF
// only: INTERFACE and OMIT send without DF, as DONT does.
func gvisorPMTU(mode int) tcpip.PMTUDStrategy {
	switch mode {
	case unix.IP_PMTUDISC_WANT:
		return tcpip.PMTUDiscoveryWant
	case unix.IP_PMTUDISC_DO:
		return tcpip.PMTUDiscoveryDo
	case unix.IP_PMTUDISC_PROBE:
		return tcpip.PMTUDiscoveryProbe
	}
	return tcpip.PMTUDiscoveryDont
}

// getIPMTU is IP_MTU on a gVisor-backed socket: the path MTU towards the
// connected peer, ENOTCONN without one.
func (g *gsock) getIPMTU(buf []byte) (int, error) {
	mtu, err := g.pathMTU() // gsock6_opts.go: an AF_INET6 socket's IPv6 route too
	if err != nil {
		return 0, err
	}
	return options.PutIPInt(buf, int32(mtu)), nil
}
