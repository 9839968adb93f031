package endpoint

import (
	"reflect"
	"sync/atomic"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"netsandbox/options"
	"netsandbox/stack"
)

// TCP_MAXSEG as Linux has it (net/ipv4/tcp.c do_tcp_setsockopt and
// do_tcp_getsockopt, tcp_output.c tcp_connect_init, tcp_minisocks.c):
//
//   - setsockopt stores user_mss: an int (optlen < 4: EINVAL), 0 clears
//     it, anything else outside TCP_MIN_MSS..MAX_TCP_WINDOW is EINVAL. It
//     works in any state but only takes effect at the next connect or SYN.
//   - getsockopt answers user_mss when it is set and the socket is CLOSE
//     or LISTEN, else mss_cache: TCP_MSS_DEFAULT (536) before any
//     connection, the current send MSS on one.
//   - connect makes user_mss the connection's clamp (rx_opt.mss_clamp):
//     the SYN advertises min(user_mss, route MSS) and the send MSS is
//     min(path MTU - 40, peer's MSS, clamp) - IP options - TCP options
//     (__tcp_mtu_to_mss, tcp_mtu_to_mss). Before the SYN-ACK the peer's
//     MSS is taken as 536 (tcp_v4_connect).
//   - an accepted socket inherits the listener's user_mss (the clone),
//     which advertised min(user_mss, route MSS) in the SYN-ACK and clamped
//     the peer's MSS (tcp_parse_options with the listener's user_mss).
//
// gVisor's TCP advertises its userMSS (tcpip.MaxSegOption, which rejects
// 0) in its SYN and SYN-ACK and copies it to accepted endpoints, but never
// clamps what it sends; its getsockopt answers a fixed default. So the
// value lives here, gVisor is given what it needs for the SYN, and the
// send size is clamped the way IP options cut it (tcp_ipopts.go): gVisor
// is told a "packet too big" that leaves the clamped payload.
//
// gVisor's payload size keeps room for SACK blocks (28 bytes more than
// Linux's when both timestamps and SACK are on), so its size for a path
// is below Linux's; a clamp that lies below that gives Linux's exact
// payload, one between the two gives gVisor's (it can only lower the
// size). getsockopt and TCP_INFO report Linux's mss_cache either way.

const (
	maxTCPWindow    = 32767 // MAX_TCP_WINDOW: the largest user_mss
	tcpTSOptionLen  = 12    // TCPOLEN_TSTAMP_ALIGNED
	maxIPv4AdvMSS   = 65535 - header.IPv4MinimumSize - header.TCPMinimumSize
	gvisorNoUserMSS = header.TCPMaximumMSS // gVisor's userMSS meaning "none"
)

// tcpMaxseg is a TCP socket's TCP_MAXSEG state; user and clamp are
// guarded by tcpSock.mu.
type tcpMaxseg struct {
	user   int32       // user_mss (0 = unset)
	clamp  int32       // the connection's clamp: user_mss at connect or of the listener (0 = none)
	active atomic.Bool // clamp != 0: sends check the payload size
}

// setTCPMaxseg is setsockopt(SOL_TCP, TCP_MAXSEG).
func (t *tcpSock) setTCPMaxseg(val []byte) error {
	v, err := options.ParseSockInt(val)
	if err != nil {
		return err
	}
	if v != 0 && (v < tcpMinMSS || v > maxTCPWindow) {
		return unix.EINVAL
	}
	t.mu.Lock()
	t.ipo.mss.user = v
	t.mu.Unlock()
	return t.pushTCPMaxseg(v)
}

// pushTCPMaxseg gives gVisor's endpoint user_mss, which it reads when it
// builds a SYN or SYN-ACK (and copies to accepted endpoints): at set, and
// on each fresh endpoint a failed connect leaves (pushOpts).
func (t *tcpSock) pushTCPMaxseg(v int32) error {
	gv := int(v)
	if gv == 0 {
		gv = gvisorNoUserMSS
	}
	if e := t.endpoint().SetSockOptInt(tcpip.MaxSegOption, gv); e != nil {
		return stack.Errno(e)
	}
	return nil
}

// getTCPMaxseg is getsockopt(SOL_TCP, TCP_MAXSEG).
func (t *tcpSock) getTCPMaxseg(buf []byte) (int, error) {
	t.mu.Lock()
	user := t.ipo.mss.user
	t.mu.Unlock()
	switch linuxTCPState(tcp.EndpointState(t.endpoint().State())) {
	case 7, 10: // TCP_CLOSE, TCP_LISTEN
		if user != 0 {
			return options.PutSockInt(buf, user), nil
		}
	}
	return options.PutSockInt(buf, int32(t.sndMSS())), nil
}

// sndMSS is Linux's mss_cache for the socket.
func (t *tcpSock) sndMSS() int {
	ep := t.endpoint()
	t.tcpIPOptionsMSS() // the payload size first gets its cut, as sends do
	clamp, optLen := t.mssCut()
	switch tcp.EndpointState(ep.State()) {
	case tcp.StateSynSent, tcp.StateConnecting:
		// tcp_connect_init: the peer's MSS is not known yet
		// (mss_clamp = TCP_MSS_DEFAULT unless user_mss), the header has
		// room for timestamps (net.ipv4.tcp_timestamps, which gVisor's
		// SYN always offers).
		if clamp == 0 {
			clamp = tcpMSSDefault
		}
		t.mu.Lock()
		if o := t.ipo.opts; o != nil {
			optLen = o.Len()
		}
		t.mu.Unlock()
		mss := clamp
		if mtu, hdr := t.routeMTU(); mtu > 0 {
			mss = min(mss, int(mtu-hdr))
		}
		return max(mss-optLen, minSndMSS) - tcpTSOptionLen
	}
	in, ok := tcpInternalsOf(ep, t.s.Gvisor().Clock())
	if !ok {
		return tcpMSSDefault
	}
	return linuxSndMSS(in, clamp, optLen)
}

// mssCut is the connection's TCP_MAXSEG clamp (0 = none) and the length
// of the IP options its payload size was cut for.
func (t *tcpSock) mssCut() (clamp, optLen int) {
	ep := t.endpoint()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ipo.mssFor != nil && t.ipo.mssEP == ep {
		optLen = t.ipo.mssFor.Len()
	}
	return int(t.ipo.mss.clamp), optLen
}

// minSndMSS is net.ipv4.tcp_min_snd_mss (the stack does not let it change).
const minSndMSS = 48

// linuxSndMSS turns gVisor's payload size into Linux's mss_cache. gVisor's
// size is min(path, peer MSS) less the room it keeps for TCP options
// (maxOptionRoom), or what tcpIPOptionsMSS cut it to: min(that, clamp less
// the timestamps), less the IP options. Linux's is min(path, peer MSS,
// clamp) less the IP options and the timestamps; no MSS exceeds what an
// IPv4 route advertises (65495, ipv4_default_advmss), which Linux peers
// announce on loopback where gVisor announces one more.
func linuxSndMSS(in tcpInternals, clamp, optLen int) int {
	ts := 0
	if in.ts {
		ts = tcpTSOptionLen
	}
	path := in.maxPayload + maxOptionRoom(in.ts, in.sack) + optLen
	path = min(path, maxIPv4AdvMSS)
	if clamp > 0 {
		path = min(path, clamp)
	}
	return max(path-optLen, minSndMSS) - ts
}

// maxOptionRoom is what gVisor's sender keeps for TCP options in each
// segment (Endpoint.maxOptionSize): the aligned timestamp option and, with
// SACK, as many SACK blocks as fit in the 40 option bytes.
func maxOptionRoom(ts, sack bool) int {
	n := 0
	if ts {
		n = tcpTSOptionLen
	}
	if sack {
		left := header.TCPOptionsMaximumSize - n - 2 // two NOPs
		n += 2 + 2 + min((left-2)/8, header.TCPMaxSACKBlocks)*8
	}
	return n
}

// tcpClampRoom is the clamp in the units of the MTU gVisor is told: the
// payload that clamp leaves in Linux (less the timestamps) plus the room
// gVisor keeps for options, so that gVisor's payload becomes Linux's.
// 0 means no clamp.
func tcpClampRoom(ep tcpip.Endpoint, clamp int) int {
	if clamp == 0 {
		return 0
	}
	tep, ok := ep.(*tcp.Endpoint)
	if !ok {
		return 0
	}
	tep.LockUser()
	ts, sack := tep.SendTSOk, tep.SACKPermitted
	tep.UnlockUser()
	n := clamp + maxOptionRoom(ts, sack)
	if ts {
		n -= tcpTSOptionLen
	}
	return n
}

// maxsegBeforeConnect makes user_mss the clamp of the connection about to
// start (tcp_connect_init).
func (t *tcpSock) maxsegBeforeConnect() {
	t.mu.Lock()
	t.ipo.mss.clamp = t.ipo.mss.user
	t.ipo.mss.active.Store(t.ipo.mss.clamp != 0)
	t.ipo.mssEP = nil // a new connection gets its cut again
	t.mu.Unlock()
}

// acceptMaxseg gives an accepted socket the listener's user_mss, which
// gVisor copied into the new endpoint when the SYN came (its userMSS,
// read by reflection: gVisor answers a default for it once connected),
// as the socket's user_mss and its connection's clamp. The socket is not
// shared yet.
func (t *tcpSock) acceptMaxseg() {
	t.ipo.mss.user, t.ipo.mss.clamp = 0, 0
	tep, ok := t.ep.(*tcp.Endpoint)
	if !ok {
		return
	}
	tep.LockUser()
	f := reflect.ValueOf(tep).Elem().FieldByName("userMSS")
	var v uint64
	if f.IsValid() && f.CanUint() {
		v = f.Uint()
	}
	tep.UnlockUser()
	if v >= tcpMinMSS && v <= maxTCPWindow {
		t.ipo.mss.user, t.ipo.mss.clamp = int32(v), int32(v)
	}
	t.ipo.mss.active.Store(t.ipo.mss.clamp != 0)
}
