package endpoint

import (
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"netsandbox/options"
	"netsandbox/stack"
)

// pushOpts hands gVisor every option value it acts on.
func (g *gsock) pushOpts() error {
	o := g.optsSnapshot()
	so := g.endpoint().SocketOptions()
	so.SetReuseAddress(o.reuseAddr)
	so.SetReusePort(o.reusePort)
	so.SetBroadcast(o.broadcast)
	so.SetReceiveBufferSize(int64(o.rcvbuf), true)
	so.SetSendBufferSize(int64(o.sndbuf), true)
	so.SetKeepAlive(o.misc.keepalive)
	so.SetOutOfBandInline(o.misc.oobinline)
	so.SetLinger(tcpip.LingerOption{Enabled: o.misc.lingerOn, Timeout: time.Duration(o.misc.lingerSecs) * time.Second})
	if g.typ == unix.SOCK_RAW {
		so.SetHeaderIncluded(o.hdrincl)
	}
	// Linux lets SO_BINDTOIFINDEX name a missing interface; gVisor does
	// not, and such a socket can reach nothing either way.
	_ = so.SetBindToDevice(int32(o.bindIf))
	ttl := o.ttl
	if ttl < 0 {
		ttl = 0 // gVisor's "use the default"
	}
	if e := g.endpoint().SetSockOptInt(tcpip.IPv4TTLOption, ttl); e != nil {
		return errnoOf(e)
	}
	if e := g.endpoint().SetSockOptInt(tcpip.IPv4TOSOption, int(o.tos)); e != nil {
		return errnoOf(e)
	}
	if err := g.pushMcastOpts(); err != nil {
		return err
	}
	g.pushRecvOpts()
	g.pushIPOptions(o)
	if g.isTCP() {
		g.mu.Lock()
		user := g.ipo.mss.user
		g.mu.Unlock()
		if user != 0 {
			if err := g.pushTCPMaxseg(user); err != nil {
				return err
			}
		}
	}
	if e := g.endpoint().SetSockOptInt(tcpip.MTUDiscoverOption, int(gvisorPMTU(o.pmtudisc))); e != nil {
		return errnoOf(e)
	}
	g.ipid.SetPMTUMode(stack.PMTUMode(o.pmtudisc))
	g.pushTCPOpts() // tcp_opts_vals.go
	return nil
}

// takeErr converts a TCP error and, when it is the connection's pending
// error, marks it reported so SO_ERROR and poll stop showing it.
func (g *gsock) takeErr(e tcpip.Error) error {
	if e == nil {
		return nil
	}
	switch e.(type) {
	case *tcpip.ErrConnectionRefused, *tcpip.ErrConnectionReset, *tcpip.ErrTimeout, *tcpip.ErrConnectionAborted,
		*tcpip.ErrNetworkUnreachable, *tcpip.ErrHostUnreachable:
		g.mu.Lock()
		g.errTaken = true
		g.mu.Unlock()
	}
	return errOf(e)
}

// pendingErr is SO_ERROR: read and clear.
func (g *gsock) pendingErr() unix.Errno {
	if !g.isTCP() {
		if e := g.takeICMPErr(); e != 0 {
			return e
		}
		return errnoOf(g.endpoint().LastError())
	}
	if e := g.takeDiscErr(); e != 0 {
		return e
	}
	g.mu.Lock()
	taken := g.errTaken
	g.mu.Unlock()
	e := g.endpoint().LastError()
	if taken || e == nil {
		return 0
	}
	err := g.takeErr(e)
	if err == nil {
		return 0
	}
	return err.(unix.Errno)
}

func (g *gsock) SetSockOpt(level, name int, val []byte) error {
	if level == unix.SOL_TCP {
		return g.setTCPOpt(name, val)
	}
	if level == unix.SOL_RAW && g.typ == unix.SOCK_RAW {
		return g.setRawOpt(name, val)
	}
	if err := g.setCommon(level, name, val); err != nil {
		return err
	}
	if level == unix.SOL_IP && name == unix.IP_RECVERR {
		g.setRecvErrHook()
	}
	if level == unix.SOL_IP && name == unix.IP_MINTTL {
		g.syncMinTTL(netip.AddrPort{})
	}
	if level == unix.SOL_IP && name == unix.IP_ROUTER_ALERT {
		g.syncRouterAlert() // router_alert.go
	}
	return g.pushOpts()
}

func (g *gsock) GetSockOpt(level, name int, buf []byte) (int, error) {
	switch {
	case level == unix.SOL_SOCKET && name == unix.SO_ERROR:
		return putErrno(buf, g.pendingErr()), nil
	case level == unix.SOL_IP && name == unix.IP_MTU:
		return g.getIPMTU(buf)
	case level == unix.SOL_IP && name == unix.IP_PROTOCOL:
		return g.getIPProtocol(buf) // sockopts_ipproto.go
	case level == unix.SOL_IP && name == unix.IP_PKTOPTIONS && g.isTCP():
		return g.getIPPktoptions(buf) // sockopts_ipproto.go
	case level == unix.SOL_SOCKET && name == unix.SO_ACCEPTCONN:
		return options.PutSockInt(buf, int32(boolInt(g.endpoint().SocketOptions().GetAcceptConn()))), nil
	case level == unix.SOL_RAW && g.typ == unix.SOCK_RAW:
		return g.getRawOpt(name, buf)
	case level == unix.SOL_TCP && g.isTCP():
		if name == unix.TCP_INFO {
			return g.getTCPInfo(buf) // tcp_opts.go
		}
		if name == unix.TCP_MAXSEG {
			return g.getTCPMaxseg(buf) // tcp_maxseg.go
		}
		if handled, n, err := g.getTCPOpt(name, buf); handled {
			return n, err // tcp_opts_vals.go
		}
		return 0, unix.ENOPROTOOPT
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
