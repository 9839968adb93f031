package endpoint

import (
	"encoding/binary"
	"math"
	"net/netip"
	"reflect"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// TCP_INFO: struct tcp_info as Linux 6.18 lays it out (280 bytes);
// getsockopt copies min(optlen, 280) bytes and answers that length
// (do_tcp_getsockopt). Fields come from gVisor where it keeps them; where
// it does not, the value is Linux's when Linux's is fixed (a fresh
// socket's initial RTO, MSS and ssthresh, a listener's few fields, the
// reordering default, unlimited pacing), else 0. Not given (0): ato,
// retransmits/probes/backoff, lost/retrans, last_data_recv/last_ack_recv,
// rcv_ssthresh, rcv_rtt, rcv_space, total_retrans, bytes_*, delivery
// figures, busy times, rcv_wnd; a listener's unacked (gVisor does not
// expose its accept queue length); rcv_mss after data arrived (Linux
// measures segments, reported here as the initial estimate); min_rtt is
// the smoothed RTT.
const tcpInfoLen = 280

// Offsets in struct tcp_info.
const (
	tiState        = 0
	tiCAState      = 1
	tiOptions      = 5
	tiWscale       = 6 // snd_wscale:4 (low), rcv_wscale:4
	tiFlags        = 7 // delivery_rate_app_limited:1, fastopen_client_fail:2
	tiRTO          = 8
	tiSndMSS       = 16
	tiRcvMSS       = 20
	tiUnacked      = 24
	tiSacked       = 28
	tiLastDataSent = 44
	tiPMTU         = 60
	tiRTT          = 68
	tiRTTVar       = 72
	tiSndSsthresh  = 76
	tiSndCwnd      = 80
	tiAdvMSS       = 84
	tiReordering   = 88
	tiPacingRate   = 104
	tiMaxPacing    = 112
	tiSegsOut      = 136
	tiSegsIn       = 140
	tiMinRTT       = 148
	tiSndWnd       = 228
)

// Linux's constants for a socket without a connection.
const (
	tcpTimeoutInitUS   = 1000000    // TCP_TIMEOUT_INIT
	tcpInitMdevUS      = 250000     // rttvar before a sample
	tcpMSSDefault      = 536        // TCP_MSS_DEFAULT
	tcpMinMSS          = 88         // TCP_MIN_MSS
	tcpInfiniteSsthres = 0x7fffffff // TCP_INFINITE_SSTHRESH
	tcpInitCwnd        = 10         // TCP_INIT_CWND
	tcpReorderingDflt  = 3          // net.ipv4.tcp_reordering
	tcpiOptTimestamps  = 1
	tcpiOptSACK        = 2
	tcpiOptWscale      = 4
)

// getTCPInfo answers getsockopt(SOL_TCP, TCP_INFO).
func (t *tcpSock) getTCPInfo(buf []byte) (int, error) {
	var b [tcpInfoLen]byte
	t.fillTCPInfo(&b)
	return copy(buf, b[:]), nil
}

// linuxTCPState maps gVisor's states to include/net/tcp_states.h.
func linuxTCPState(s tcp.EndpointState) uint8 {
	switch s {
	case tcp.StateEstablished:
		return 1
	case tcp.StateSynSent:
		return 2
	case tcp.StateSynRecv:
		return 3
	case tcp.StateFinWait1:
		return 4
	case tcp.StateFinWait2:
		return 5
	case tcp.StateCloseWait:
		return 8
	case tcp.StateLastAck:
		return 9
	case tcp.StateListen:
		return 10
	case tcp.StateClosing:
		return 11
	}
	// TCP_CLOSE: initial, bound, closed, error, and time-wait: Linux's
	// tcp_time_wait hands that state to a timewait sock and closes the
	// socket the user holds (tcp_done).
	return 7
}

// linuxCAState maps gVisor's congestion states to tcp_ca_state.
func linuxCAState(s tcpip.CongestionControlState) uint8 {
	switch s {
	case tcpip.Disorder:
		return 1 // TCP_CA_Disorder
	case tcpip.FastRecovery, tcpip.SACKRecovery:
		return 3 // TCP_CA_Recovery
	case tcpip.RTORecovery:
		return 4 // TCP_CA_Loss
	}
	return 0 // TCP_CA_Open
}

func (t *tcpSock) fillTCPInfo(b *[tcpInfoLen]byte) {
	le := binary.LittleEndian // struct tcp_info is in host order (amd64/arm64)
	put32 := func(off int, v uint32) { le.PutUint32(b[off:], v) }
	ep := t.endpoint()
	state := tcp.EndpointState(ep.State())
	b[tiState] = linuxTCPState(state)
	// Reported for every state, listeners included.
	le.PutUint64(b[tiPacingRate:], math.MaxUint64) // not paced
	le.PutUint64(b[tiMaxPacing:], math.MaxUint64)  // SO_MAX_PACING_RATE unset
	put32(tiReordering, tcpReorderingDflt)
	put32(tiSndCwnd, tcpInitCwnd)
	if state == tcp.StateListen {
		put32(tiSacked, uint32(t.listenBacklog()))
		return
	}
	b[tiFlags] = 1 // rate_app_limited: nothing sent beyond what the app gave
	put32(tiRTO, tcpTimeoutInitUS)
	put32(tiSndMSS, tcpMSSDefault)
	put32(tiRTTVar, tcpInitMdevUS)
	put32(tiSndSsthresh, tcpInfiniteSsthres)
	put32(tiMinRTT, math.MaxUint32)

	var info tcpip.TCPInfoOption
	if e := ep.GetSockOpt(&info); e != nil {
		return
	}
	b[tiCAState] = linuxCAState(info.CcState)
	if st, ok := ep.Stats().(*tcp.Stats); ok {
		put32(tiSegsOut, uint32(st.SegmentsSent.Value()))
		put32(tiSegsIn, uint32(st.SegmentsReceived.Value()))
	}
	t.tcpIPOptionsMSS() // the payload size gets its cut first, as sends do
	in, ok := tcpInternalsOf(ep, t.s.Gvisor().Clock())
	if !ok {
		return // no connection: the fresh socket's values stay
	}
	clamp, optLen := t.mssCut() // tcp_maxseg.go
	var opts uint8
	if in.ts {
		opts |= tcpiOptTimestamps
	}
	if in.sack {
		opts |= tcpiOptSACK
	}
	if in.sndScale > 0 || in.rcvScale > 0 {
		opts |= tcpiOptWscale
		b[tiWscale] = in.sndScale&0xf | in.rcvScale<<4
	}
	b[tiOptions] = opts
	put32(tiRTO, uint32(info.RTO.Microseconds()))
	put32(tiRTT, uint32(info.RTT.Microseconds()))
	put32(tiRTTVar, uint32(info.RTTVar.Microseconds()))
	if info.RTT > 0 {
		put32(tiMinRTT, uint32(info.RTT.Microseconds()))
	}
	put32(tiSndSsthresh, min(info.SndSsthresh, tcpInfiniteSsthres))
	put32(tiSndCwnd, info.SndCwnd)
	put32(tiUnacked, uint32(in.outstanding))
	put32(tiSacked, uint32(in.sackedOut))
	put32(tiSndWnd, uint32(in.sndWnd))
	if in.sinceSendMS >= 0 {
		put32(tiLastDataSent, uint32(in.sinceSendMS))
	}
	mss := uint32(linuxSndMSS(in, clamp, optLen)) // mss_cache
	put32(tiSndMSS, mss)
	if mtu, hdr := t.routeMTU(); mtu > 0 {
		put32(tiPMTU, mtu)
		advmss := mtu - hdr // as dst_metric_advmss
		if clamp > 0 {
			advmss = min(advmss, uint32(clamp)) // tcp_mss_clamp
		}
		if in.ts {
			advmss -= 12 // the aligned timestamp option, as the handshake leaves it
		}
		put32(tiAdvMSS, advmss)
		// tcp_initialize_rcv_mss: the estimate before data arrives.
		put32(tiRcvMSS, max(min(advmss, mss, tcpMSSDefault), tcpMinMSS))
	}
}

// routeMTU is the path MTU to the peer (icsk_pmtu_cookie), 0 if unknown,
// and the IP and TCP headers' size in it.
func (t *tcpSock) routeMTU() (mtu, hdr uint32) {
	remote, e := t.endpoint().GetRemoteAddress()
	if e != nil {
		return 0, 0
	}
	if remote.Addr.Len() == 16 {
		// An AF_INET6 socket's IPv6 peer (a v4-mapped one is IPv4's).
		m, err := t.pathMTU() // gsock6_opts.go
		if err != nil {
			return 0, 0
		}
		return uint32(m), header.IPv6MinimumSize + header.TCPMinimumSize
	}
	if remote.Addr.Len() != 4 {
		return 0, 0
	}
	var local netip.Addr
	if l, e := t.endpoint().GetLocalAddress(); e == nil && l.Addr.Len() == 4 {
		local = netip.AddrFrom4(l.Addr.As4())
	}
	m, err := t.s.PathMTU(local, netip.AddrFrom4(remote.Addr.As4()), t.optsSnapshot().bindIf)
	if err != nil {
		return 0, 0
	}
	return uint32(m), header.IPv4MinimumSize + header.TCPMinimumSize
}

// tcpInternals is what struct tcp_info needs from gVisor's connection
// state that tcpip.TCPInfoOption leaves out.
type tcpInternals struct {
	ts, sack               bool
	sndScale, rcvScale     uint8
	maxPayload             int
	outstanding, sackedOut int
	sndWnd                 int
	sinceSendMS            int64
}

// tcpInternalsOf reads gVisor's sender and receiver state (unexported
// fields, read by reflection under the endpoint's user lock; gVisor has no
// accessor). ok is false when the endpoint has no connection state or its
// layout is not the one this code knows. This and the other reflective
// reads in endpoint/ (userMSS, SIOCOUTQ's queue, the SYN timer) are written
// against gVisor v0.0.0-20260905035102-160fafc42237; TestGVisorTCPLayout
// and TestSynBackoffLayout fail when an upgrade moves a field.
func tcpInternalsOf(ep tcpip.Endpoint, clock tcpip.Clock) (in tcpInternals, ok bool) {
	tep, isTCP := ep.(*tcp.Endpoint)
	if !isTCP {
		return in, false
	}
	tep.LockUser()
	defer tep.UnlockUser()
	in.ts, in.sack = tep.SendTSOk, tep.SACKPermitted
	v := reflect.ValueOf(tep).Elem()
	snd, rcv := v.FieldByName("snd"), v.FieldByName("rcv")
	if !snd.IsValid() || !rcv.IsValid() || snd.Kind() != reflect.Pointer || rcv.Kind() != reflect.Pointer || snd.IsNil() || rcv.IsNil() {
		return in, false
	}
	ss := snd.Elem().FieldByName("TCPSenderState")
	rs := rcv.Elem().FieldByName("TCPReceiverState")
	if !ss.IsValid() || !rs.IsValid() {
		return in, false
	}
	intOf := func(s reflect.Value, name string) (int64, bool) {
		f := s.FieldByName(name)
		switch {
		case !f.IsValid():
			return 0, false
		case f.CanInt():
			return f.Int(), true
		case f.CanUint():
			return int64(f.Uint()), true
		}
		return 0, false
	}
	var vals [6]int64
	for i, q := range []struct {
		s    reflect.Value
		name string
	}{{ss, "SndWndScale"}, {rs, "RcvWndScale"}, {ss, "MaxPayloadSize"}, {ss, "Outstanding"}, {ss, "SackedOut"}, {ss, "SndWnd"}} {
		x, found := intOf(q.s, q.name)
		if !found {
			return in, false
		}
		vals[i] = x
	}
	in.sndScale, in.rcvScale = uint8(vals[0]), uint8(vals[1])
	in.maxPayload, in.outstanding, in.sackedOut, in.sndWnd = int(vals[2]), int(vals[3]), int(vals[4]), int(vals[5])
	in.sinceSendMS = -1
	if last := ss.FieldByName("LastSendTime"); last.IsValid() {
		if t, ok := monotonicOf(last); ok && t != (tcpip.MonotonicTime{}) {
			in.sinceSendMS = clock.NowMonotonic().Sub(t).Milliseconds()
		}
	}
	return in, true
}

// monotonicOf reads a tcpip.MonotonicTime field reached by reflection.
func monotonicOf(v reflect.Value) (tcpip.MonotonicTime, bool) {
	if v.Type() != reflect.TypeOf(tcpip.MonotonicTime{}) || !v.CanAddr() {
		return tcpip.MonotonicTime{}, false
	}
	return *(*tcpip.MonotonicTime)(v.Addr().UnsafePointer()), true
}

// listenBacklog is sk_max_ack_backlog: listen(2)'s backlog after the
// somaxconn cap.
func (t *tcpSock) listenBacklog() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tcpc.backlog
}

// noteListen records the backlog listen(2) settled on.
func (t *tcpSock) noteListen(backlog int) {
	t.mu.Lock()
	t.tcpc.backlog = backlog
	t.mu.Unlock()
	t.noteListenTCPOpts() // tcp_opts_vals.go
}
