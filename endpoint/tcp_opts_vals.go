package endpoint

import (
	"bytes"
	"math"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/options"
	"netsandbox/stack"
)

// The tcp(7) options of do_tcp_setsockopt/do_tcp_getsockopt (Linux 6.18),
// with Linux's bounds, errno and read-back values. The values live in our
// layer (sockOpts.tcp, so an accepted socket starts from its listener's,
// as tcp_create_openreq_child's clone does) and each is handed to the
// mechanism that acts on it:
//
//   - TCP_NODELAY, TCP_CORK: gVisor's sender (Nagle, corking; gVisor sends
//     a corked partial segment after 200 ms, as Linux's probe timer does
//     after about an RTO).
//   - TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT: gVisor's keepalive timer
//     (probes are bare ACKs at SND.NXT-1; KEEPCNT unanswered ones abort the
//     connection with ETIMEDOUT).
//   - TCP_USER_TIMEOUT: gVisor's retransmit and keepalive timers (the
//     connection is aborted once data has waited that long for an ACK);
//     before the handshake ends, our SYN timer (tcp_opts_syn.go).
//   - TCP_SYNCNT: our SYN timer, which aborts the connect when Linux's
//     tcp_write_timeout would (gVisor's own SYN retry count is unused).
//   - TCP_LINGER2: gVisor's FIN-WAIT-2 timer for closed sockets.
//   - TCP_DEFER_ACCEPT: gVisor's passive handshake, which drops bare ACKs
//     until the time Linux's SYN-ACK retransmissions would take.
//   - TCP_CONGESTION: gVisor's congestion control (reno and cubic);
//     TCP_CC_INFO reads as Linux's does for them (nothing).
//   - TCP_NOTSENT_LOWAT: poll's EPOLLOUT (tcp_opts_lowat.go).
//   - TCP_INQ: the TCP_CM_INQ control message of recvmsg.
//
// Kept for getsockopt only, as the mechanism does not exist in gVisor:
// TCP_QUICKACK (gVisor's TCP acknowledges without delay, so there is no
// delayed-ACK mode to leave or enter), TCP_WINDOW_CLAMP (gVisor stores it
// too; Linux 6.18 itself replaces a receiver's clamp with its buffer's
// window once data arrives), TCP_THIN_LINEAR_TIMEOUTS (gVisor has no
// thin-stream RTO; TCP_THIN_DUPACK is accepted and ignored by Linux
// too).

// Linux's limits and defaults (include/net/tcp.h, tcp_sk_init).
const (
	maxTCPKeepIdle    = 32767 // MAX_TCP_KEEPIDLE
	maxTCPKeepIntvl   = 32767 // MAX_TCP_KEEPINTVL
	maxTCPKeepCnt     = 127   // MAX_TCP_KEEPCNT
	maxTCPSynCnt      = 127   // MAX_TCP_SYNCNT
	tcpKeepaliveTime  = 7200  // net.ipv4.tcp_keepalive_time (s)
	tcpKeepaliveIntvl = 75    // net.ipv4.tcp_keepalive_intvl (s)
	tcpKeepaliveProbe = 9     // net.ipv4.tcp_keepalive_probes
	tcpSynRetries     = 6     // net.ipv4.tcp_syn_retries
	tcpFinTimeout     = 60    // net.ipv4.tcp_fin_timeout (s)
	tcpFinTimeoutMax  = 120   // TCP_FIN_TIMEOUT_MAX / HZ
	tcpTimeoutInitSec = 1     // TCP_TIMEOUT_INIT / HZ
	tcpRTOMaxSec      = 120   // TCP_RTO_MAX / HZ
	tcpCANameMax      = 16    // TCP_CA_NAME_MAX
	tcpCMInq          = 36    // TCP_CM_INQ
	tcpIsMPTCP        = 43    // TCP_IS_MPTCP
)

// tcpOptVals are a TCP socket's option values. Zero values are Linux's
// fresh socket's: the keepalive and SYN counts of 0 read back as the
// sysctl defaults, as Linux's 0 does.
type tcpOptVals struct {
	nodelay, cork       bool
	keepIdle, keepIntvl int32 // seconds; 0 = the sysctl's
	keepCnt             int32 // 0 = the sysctl's
	synCnt              int32 // icsk_syn_retries; 0 = the sysctl's
	linger2             int32 // -1, 0 (the sysctl's) or seconds up to 120
	deferAccept         uint8 // rskq_defer_accept: SYN-ACK retransmissions
	windowClamp         int32
	userTimeout         uint32 // ms
	notsentLowat        uint32 // 0 = net.ipv4.tcp_notsent_lowat (UINT_MAX)
	pingpong            bool   // delayed-ACK mode: TCP_QUICKACK reads 0
	thinLTO             bool
	inq                 bool
	cc                  string // set by TCP_CONGESTION; "" = the stack's default
}

func (v tcpOptVals) keepIdleSecs() int32  { return orDefault(v.keepIdle, tcpKeepaliveTime) }
func (v tcpOptVals) keepIntvlSecs() int32 { return orDefault(v.keepIntvl, tcpKeepaliveIntvl) }
func (v tcpOptVals) keepCount() int32     { return orDefault(v.keepCnt, tcpKeepaliveProbe) }
func (v tcpOptVals) synRetries() int32    { return orDefault(v.synCnt, tcpSynRetries) }

func orDefault(v, def int32) int32 {
	if v == 0 {
		return def
	}
	return v
}

// tcpOpts returns the socket's TCP option values.
func (t *tcpSock) tcpOpts() tcpOptVals {
	t.optMu.Lock()
	defer t.optMu.Unlock()
	return t.opts.tcp
}

// setTCPVals applies fn to the values under optMu and, if it succeeds,
// hands the result to gVisor.
func (t *tcpSock) setTCPVals(fn func(v *tcpOptVals) error) error {
	t.optMu.Lock()
	err := fn(&t.opts.tcp)
	t.optMu.Unlock()
	if err != nil {
		return err
	}
	t.pushTCPOpts()
	return nil
}

// setTCPOpt is do_tcp_setsockopt.
func (t *tcpSock) setTCPOpt(name int, val []byte) error {
	switch name {
	case unix.TCP_CONGESTION:
		return t.setTCPCongestion(val)
	case unix.TCP_ULP, unix.TCP_FASTOPEN_KEY:
		return unix.ENOPROTOOPT // string options netsandbox does not have
	}
	v, err := options.ParseSockInt(val)
	if err != nil {
		return err
	}
	switch name {
	case unix.TCP_MAXSEG:
		return t.setTCPMaxseg(val) // tcp_maxseg.go
	case unix.TCP_NODELAY:
		return t.setTCPNodelay(v != 0)
	case unix.TCP_CORK:
		return t.setTCPVals(func(o *tcpOptVals) error { o.cork = v != 0; return nil })
	case unix.TCP_KEEPIDLE:
		return t.setTCPVals(bounded(v, 1, maxTCPKeepIdle, func(o *tcpOptVals) { o.keepIdle = v }))
	case unix.TCP_KEEPINTVL:
		return t.setTCPVals(bounded(v, 1, maxTCPKeepIntvl, func(o *tcpOptVals) { o.keepIntvl = v }))
	case unix.TCP_KEEPCNT:
		return t.setTCPVals(bounded(v, 1, maxTCPKeepCnt, func(o *tcpOptVals) { o.keepCnt = v }))
	case unix.TCP_SYNCNT:
		return t.setTCPVals(bounded(v, 1, maxTCPSynCnt, func(o *tcpOptVals) { o.synCnt = v }))
	case unix.TCP_LINGER2:
		return t.setTCPVals(func(o *tcpOptVals) error {
			switch {
			case v < 0:
				o.linger2 = -1
			case v > tcpFinTimeoutMax:
				o.linger2 = tcpFinTimeoutMax
			default:
				o.linger2 = v
			}
			return nil
		})
	case unix.TCP_DEFER_ACCEPT:
		return t.setTCPVals(func(o *tcpOptVals) error {
			o.deferAccept = secsToRetrans(v, tcpTimeoutInitSec, tcpRTOMaxSec)
			return nil
		})
	case unix.TCP_WINDOW_CLAMP:
		return t.setTCPWindowClamp(v)
	case unix.TCP_QUICKACK:
		// __tcp_sock_set_quickack: 0 enters delayed-ACK mode, anything
		// else leaves it (an even value re-enters it only when an ACK
		// is scheduled, which gVisor never leaves pending).
		return t.setTCPVals(func(o *tcpOptVals) error { o.pingpong = v == 0; return nil })
	case unix.TCP_THIN_LINEAR_TIMEOUTS:
		return t.setTCPVals(bounded(v, 0, 1, func(o *tcpOptVals) { o.thinLTO = v == 1 }))
	case unix.TCP_THIN_DUPACK:
		if v < 0 || v > 1 {
			return unix.EINVAL
		}
		return nil // Linux validates and ignores it
	case unix.TCP_USER_TIMEOUT:
		return t.setTCPVals(bounded(v, 0, math.MaxInt32, func(o *tcpOptVals) { o.userTimeout = uint32(v) }))
	case unix.TCP_NOTSENT_LOWAT:
		err := t.setTCPVals(func(o *tcpOptVals) error { o.notsentLowat = uint32(v); return nil })
		t.q.Notify(waiter.WritableEvents) // sk_write_space: writability may have changed
		return err
	case unix.TCP_INQ:
		return t.setTCPVals(bounded(v, 0, 1, func(o *tcpOptVals) { o.inq = v == 1 }))
	}
	return unix.ENOPROTOOPT
}

// bounded is a setTCPVals change that takes v only within [lo, hi]: the
// range checks of do_tcp_setsockopt, EINVAL outside.
func bounded(v, lo, hi int32, set func(*tcpOptVals)) func(*tcpOptVals) error {
	return func(o *tcpOptVals) error {
		if v < lo || v > hi {
			return unix.EINVAL
		}
		set(o)
		return nil
	}
}

// setTCPNodelay is __tcp_sock_set_nodelay: turning Nagle off also pushes
// what is queued, a corked partial segment included.
func (t *tcpSock) setTCPNodelay(on bool) error {
	var flush bool
	err := t.setTCPVals(func(o *tcpOptVals) error {
		flush = on && o.cork
		o.nodelay = on
		return nil
	})
	if flush {
		so := t.endpoint().SocketOptions()
		so.SetCorkOption(false) // sends the held segment
		so.SetCorkOption(true)
	}
	return err
}

// setTCPWindowClamp is tcp_set_window_clamp: 0 clears the clamp only on
// a closed socket; anything else is raised to SOCK_MIN_RCVBUF/2.
func (t *tcpSock) setTCPWindowClamp(v int32) error {
	return t.setTCPVals(func(o *tcpOptVals) error {
		if v == 0 {
			if linuxTCPState(tcp.EndpointState(t.endpoint().State())) != tcpClose {
				return unix.EINVAL
			}
			o.windowClamp = 0
			return nil
		}
		o.windowClamp = max(v, sockMinRcvbuf/2)
		return nil
	})
}

// tcpClose is TCP_CLOSE in include/net/tcp_states.h.
const tcpClose = 7

// getTCPOpt answers the options of this file; handled is false for the
// others.
func (t *tcpSock) getTCPOpt(name int, buf []byte) (handled bool, n int, err error) {
	o := t.tcpOpts()
	var v int32
	switch name {
	case unix.TCP_NODELAY:
		v = int32(boolInt(o.nodelay))
	case unix.TCP_CORK:
		v = int32(boolInt(o.cork))
	case unix.TCP_KEEPIDLE:
		v = o.keepIdleSecs()
	case unix.TCP_KEEPINTVL:
		v = o.keepIntvlSecs()
	case unix.TCP_KEEPCNT:
		v = o.keepCount()
	case unix.TCP_SYNCNT:
		v = o.synRetries()
	case unix.TCP_LINGER2:
		v = o.linger2
		if v == 0 {
			v = tcpFinTimeout
		}
	case unix.TCP_DEFER_ACCEPT:
		v = retransToSecs(o.deferAccept, tcpTimeoutInitSec, tcpRTOMaxSec)
	case unix.TCP_WINDOW_CLAMP:
		v = o.windowClamp
	case unix.TCP_QUICKACK:
		v = int32(boolInt(!o.pingpong))
	case unix.TCP_THIN_LINEAR_TIMEOUTS:
		v = int32(boolInt(o.thinLTO))
	case unix.TCP_THIN_DUPACK:
		v = 0
	case unix.TCP_USER_TIMEOUT:
		v = int32(o.userTimeout)
	case unix.TCP_NOTSENT_LOWAT:
		v = int32(o.notsentLowat)
	case unix.TCP_INQ:
		v = int32(boolInt(o.inq))
	case tcpIsMPTCP:
		v = 0 // a plain TCP socket
	case unix.TCP_CONGESTION:
		return true, t.getTCPCongestion(buf), nil
	case unix.TCP_CC_INFO:
		// The algorithm's get_info: reno and cubic, the ones gVisor has,
		// have none, so Linux copies nothing.
		return true, 0, nil
	default:
		return false, 0, nil
	}
	return true, options.PutSockInt(buf, v), nil
}

// secsToRetrans converts seconds to SYN-ACK retransmissions as
// TCP_DEFER_ACCEPT stores them: the fewest whose timeouts add up to at
// least seconds (net/ipv4/tcp.c secs_to_retrans).
func secsToRetrans(seconds, timeout, rtoMax int32) uint8 {
	if seconds <= 0 {
		return 0
	}
	res, period := 1, timeout
	for seconds > period && res < 255 {
		res++
		timeout <<= 1
		if timeout > rtoMax {
			timeout = rtoMax
		}
		period += timeout
	}
	return uint8(res)
}

// retransToSecs is retrans_to_secs: the seconds retrans retransmissions
// take.
func retransToSecs(retrans uint8, timeout, rtoMax int32) int32 {
	if retrans == 0 {
		return 0
	}
	period := timeout
	for retrans--; retrans > 0; retrans-- {
		timeout <<= 1
		if timeout > rtoMax {
			timeout = rtoMax
		}
		period += timeout
	}
	return period
}

// setTCPCongestion is TCP_CONGESTION's set: the name is the first
// TCP_CA_NAME_MAX-1 bytes up to a NUL; an unknown name is ENOENT; without
// CAP_NET_ADMIN only reno and the default (tcp_allowed_congestion_control)
// may be chosen.
func (t *tcpSock) setTCPCongestion(val []byte) error {
	if len(val) < 1 {
		return unix.EINVAL
	}
	name := val[:min(len(val), tcpCANameMax-1)]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	cc := string(name)
	if !t.ccAvailable(cc) {
		return unix.ENOENT
	}
	if !t.s.Caps().Has(stack.CapNetAdmin) && cc != "reno" && cc != t.defaultCC() {
		return unix.EPERM
	}
	return t.setTCPVals(func(o *tcpOptVals) error { o.cc = cc; return nil })
}

// ccAvailable tells whether gVisor's TCP has congestion control name.
func (t *tcpSock) ccAvailable(name string) bool {
	var avail tcpip.TCPAvailableCongestionControlOption
	if e := t.s.Gvisor().TransportProtocolOption(tcp.ProtocolNumber, &avail); e != nil {
		return false
	}
	for _, n := range bytes.Fields([]byte(avail)) {
		if string(n) == name {
			return true
		}
	}
	return false
}

// defaultCC is the stack's default congestion control.
func (t *tcpSock) defaultCC() string {
	var cc tcpip.CongestionControlOption
	if e := t.s.Gvisor().TransportProtocolOption(tcp.ProtocolNumber, &cc); e != nil {
		return ""
	}
	return string(cc)
}

// getTCPCongestion copies the algorithm's name, NUL-padded to
// TCP_CA_NAME_MAX, cut to the caller's length.
func (t *tcpSock) getTCPCongestion(buf []byte) int {
	var cc tcpip.CongestionControlOption
	if e := t.endpoint().GetSockOpt(&cc); e != nil {
		cc = tcpip.CongestionControlOption(t.defaultCC())
	}
	var name [tcpCANameMax]byte
	copy(name[:tcpCANameMax-1], cc)
	return copy(buf, name[:])
}

// acceptTCPOpts adjusts an accepted socket's copy of its listener's
// values as Linux's child socket has them: rskq_defer_accept belongs to
// the listener's accept queue, which the child starts without.
func (t *tcpSock) acceptTCPOpts() {
	t.optMu.Lock()
	t.opts.tcp.deferAccept = 0
	t.optMu.Unlock()
}

// noteListenTCPOpts is inet_csk_listen_start's reset of the ACK state
// (inet_csk_delack_init): a listener leaves delayed-ACK mode.
func (t *tcpSock) noteListenTCPOpts() {
	t.optMu.Lock()
	t.opts.tcp.pingpong = false
	t.optMu.Unlock()
}

// pushTCPOpts hands gVisor the values it acts on, each only when gVisor's
// differs (setting a keepalive value restarts gVisor's keepalive timer).
func (t *tcpSock) pushTCPOpts() {
	o := t.tcpOpts()
	ep := t.endpoint()
	so := ep.SocketOptions()
	if so.GetDelayOption() == o.nodelay {
		so.SetDelayOption(!o.nodelay)
	}
	if so.GetCorkOption() != o.cork {
		so.SetCorkOption(o.cork)
	}
	if so.GetQuickAck() == o.pingpong {
		so.SetQuickAck(!o.pingpong)
	}
	var idle tcpip.KeepaliveIdleOption
	if want := tcpip.KeepaliveIdleOption(time.Duration(o.keepIdleSecs()) * time.Second); ep.GetSockOpt(&idle) != nil || idle != want {
		_ = ep.SetSockOpt(&want)
	}
	var intvl tcpip.KeepaliveIntervalOption
	if want := tcpip.KeepaliveIntervalOption(time.Duration(o.keepIntvlSecs()) * time.Second); ep.GetSockOpt(&intvl) != nil || intvl != want {
		_ = ep.SetSockOpt(&want)
	}
	if n, e := ep.GetSockOptInt(tcpip.KeepaliveCountOption); e != nil || n != int(o.keepCount()) {
		_ = ep.SetSockOptInt(tcpip.KeepaliveCountOption, int(o.keepCount()))
	}
	var uto tcpip.TCPUserTimeoutOption
	if want := tcpip.TCPUserTimeoutOption(time.Duration(o.userTimeout) * time.Millisecond); ep.GetSockOpt(&uto) != nil || uto != want {
		_ = ep.SetSockOpt(&want)
	}
	var lt tcpip.TCPLingerTimeoutOption
	if want := gvisorLinger2(o.linger2); ep.GetSockOpt(&lt) != nil || lt != want {
		_ = ep.SetSockOpt(&want)
	}
	var da tcpip.TCPDeferAcceptOption
	if want := tcpip.TCPDeferAcceptOption(time.Duration(retransToSecs(o.deferAccept, tcpTimeoutInitSec, tcpRTOMaxSec)) * time.Second); ep.GetSockOpt(&da) != nil || da != want {
		_ = ep.SetSockOpt(&want)
	}
	if n, e := ep.GetSockOptInt(tcpip.TCPSynCountOption); e != nil || n != int(o.synRetries()) {
		_ = ep.SetSockOptInt(tcpip.TCPSynCountOption, int(o.synRetries()))
	}
	if o.windowClamp != 0 {
		_ = ep.SetSockOptInt(tcpip.TCPWindowClampOption, int(o.windowClamp))
	}
	if o.cc != "" {
		var cc tcpip.CongestionControlOption
		if want := tcpip.CongestionControlOption(o.cc); ep.GetSockOpt(&cc) != nil || cc != want {
			_ = ep.SetSockOpt(&want)
		}
	}
}

// gvisorLinger2 is the FIN-WAIT-2 lifetime gVisor is given for
// TCP_LINGER2: the sysctl's for 0, none (an immediate close) for a
// negative value.
func gvisorLinger2(v int32) tcpip.TCPLingerTimeoutOption {
	switch {
	case v < 0:
		return -1
	case v == 0:
		return tcpip.TCPLingerTimeoutOption(tcpFinTimeout * time.Second)
	}
	return tcpip.TCPLingerTimeoutOption(time.Duration(v) * time.Second)
}
