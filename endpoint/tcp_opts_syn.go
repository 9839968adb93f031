package endpoint

import (
	"reflect"
	"sync"
	"time"
	"unsafe"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// When a connect gives up (TCP_SYNCNT, TCP_USER_TIMEOUT). Linux's
// tcp_write_timeout ends a SYN_SENT socket at the first retransmission
// timer that finds either icsk_retransmits >= syn_retries +
// tcp_syn_linear_timeouts, or (after a first retransmission) the time
// since the first SYN past TCP_USER_TIMEOUT or, without one,
// tcp_model_timeout(syn_retries); the timer runs every second for the
// first tcp_syn_linear_timeouts retransmissions, then doubles up to
// TCP_RTO_MAX, and with TCP_USER_TIMEOUT it is cut to what is left of it.
// gVisor's handshake ignores its SYN count (tcpip.TCPSynCountOption is
// stored only) and TCP_USER_TIMEOUT, doubling its timer from one second
// until it passes 120 s (127 s in all). So when either option is set, our
// timer ends the handshake at Linux's time: gVisor's handshake timer is
// made to give up when it next fires, and fired at once, so the
// connection fails through gVisor's own path (ETIMEDOUT, no RST, as
// Linux); until then gVisor's limit is lifted. gVisor keeps its own
// retransmission schedule (SYNs at 0, 1, 3, 7, ... s where Linux sends
// them at 0, 1, 2, 3, 4, 5, 7, 11, ... s). Without either option the
// connect ends after gVisor's 127 s, where Linux's takes 131 s.

// tcpSynLinearTimeouts is net.ipv4.tcp_syn_linear_timeouts.
const tcpSynLinearTimeouts = 4

// tcpSynTimer is a socket's timer for the connect under way.
type tcpSynTimer struct {
	mu sync.Mutex
	t  *time.Timer
}

// linuxSynGiveUp is how long after its first SYN Linux gives a connect
// up: retries is TCP_SYNCNT (or tcp_syn_retries), userTimeout
// TCP_USER_TIMEOUT (0 = none). It follows tcp_retransmit_timer,
// tcp_write_timeout, retransmits_timed_out and
// tcp_clamp_rto_to_user_timeout.
func linuxSynGiveUp(retries int, userTimeout time.Duration) time.Duration {
	const (
		rtoInit = time.Second       // TCP_TIMEOUT_INIT
		rtoMax  = 120 * time.Second // TCP_RTO_MAX
		jiffy   = 4 * time.Millisecond
	)
	model := tcpModelTimeout(retries, rtoInit, rtoMax)
	var now time.Duration
	rto, next := rtoInit, rtoInit
	for retrans := 0; ; retrans++ {
		now += next
		// tcp_write_timeout, before this retransmission.
		if retrans >= retries+tcpSynLinearTimeouts {
			return now
		}
		if retrans > 0 {
			limit := model
			if userTimeout != 0 {
				limit = userTimeout
			}
			if now >= limit {
				return now
			}
		}
		// The retransmission; total_rto is retrans+1.
		if retrans+1 > tcpSynLinearTimeouts {
			rto = min(2*rto, rtoMax)
		}
		next = rto
		if userTimeout != 0 {
			if left := userTimeout - now; left <= 0 {
				next = jiffy
			} else {
				next = min(rto, left)
			}
		}
	}
}

// tcpModelTimeout is tcp_model_timeout: the time boundary retransmissions
// take with exponential backoff from rtoBase capped at rtoMax.
func tcpModelTimeout(boundary int, rtoBase, rtoMax time.Duration) time.Duration {
	thresh := 0
	for rtoBase<<(thresh+1) <= rtoMax {
		thresh++ // ilog2(rtoMax / rtoBase)
	}
	if boundary <= thresh {
		return time.Duration((2<<boundary)-1) * rtoBase
	}
	return time.Duration((2<<thresh)-1)*rtoBase + time.Duration(boundary-thresh)*rtoMax
}

// armSynTimer starts the give-up timer of the connect just started, if
// TCP_SYNCNT or TCP_USER_TIMEOUT asks for Linux's timing.
func (t *tcpSock) armSynTimer() {
	o := t.tcpOpts()
	if o.synCnt == 0 && o.userTimeout == 0 {
		return
	}
	ep := t.endpoint()
	tep, ok := ep.(*tcp.Endpoint)
	if !ok {
		return
	}
	tep.LockUser()
	bt, ok := gvisorSynBackoff(tep)
	if ok {
		*bt.maxTimeout = 1 << 50 // never gVisor's own give-up
	}
	tep.UnlockUser()
	if !ok {
		return // an unknown gVisor layout: its own limit stays
	}
	after := linuxSynGiveUp(int(o.synRetries()), time.Duration(o.userTimeout)*time.Millisecond)
	t.tcpx.mu.Lock()
	defer t.tcpx.mu.Unlock()
	if t.tcpx.t != nil {
		t.tcpx.t.Stop()
	}
	t.tcpx.t = time.AfterFunc(after, func() { t.synGiveUp(tep) })
}

// synGiveUp ends ep's handshake if it still runs.
func (t *tcpSock) synGiveUp(tep *tcp.Endpoint) {
	if t.isClosed() || t.endpoint() != tcpip.Endpoint(tep) {
		return
	}
	tep.LockUser()
	defer tep.UnlockUser()
	if tep.EndpointState() != tcp.StateSynSent {
		return
	}
	if bt, ok := gvisorSynBackoff(tep); ok {
		// backoffTimer.reset doubles timeout and fails past maxTimeout.
		*bt.maxTimeout = *bt.timeout
		bt.t.Reset(0)
	}
}

// synBackoff is gVisor's handshake retransmission timer (backoffTimer).
type synBackoff struct {
	timeout, maxTimeout *time.Duration
	t                   tcpip.Timer
}

// gvisorSynBackoff finds the handshake timer of tep (endpoint.h,
// handshake.retransmitTimer: unexported, reached by field name; the
// caller holds tep's user lock, which guards them).
// TestSynBackoffLayout fails if a gVisor update moves them.
func gvisorSynBackoff(tep *tcp.Endpoint) (bt synBackoff, ok bool) {
	h := reflect.ValueOf(tep).Elem().FieldByName("h")
	if !h.IsValid() || h.Kind() != reflect.Pointer || h.IsNil() {
		return bt, false
	}
	rt := h.Elem().FieldByName("retransmitTimer")
	if !rt.IsValid() || rt.Kind() != reflect.Pointer || rt.IsNil() {
		return bt, false
	}
	v := rt.Elem()
	durType := reflect.TypeOf(time.Duration(0))
	to, mx, tf := v.FieldByName("timeout"), v.FieldByName("maxTimeout"), v.FieldByName("t")
	if !to.IsValid() || !mx.IsValid() || !tf.IsValid() || to.Type() != durType || mx.Type() != durType ||
		tf.Type() != reflect.TypeOf((*tcpip.Timer)(nil)).Elem() {
		return bt, false
	}
	t, isTimer := reflect.NewAt(tf.Type(), unsafe.Pointer(tf.UnsafeAddr())).Elem().Interface().(tcpip.Timer)
	if !isTimer || t == nil {
		return bt, false
	}
	bt.timeout = (*time.Duration)(unsafe.Pointer(to.UnsafeAddr()))
	bt.maxTimeout = (*time.Duration)(unsafe.Pointer(mx.UnsafeAddr()))
	bt.t = t
	return bt, true
}
