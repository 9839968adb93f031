package endpoint

import (
	"net/netip"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"netsandbox/options"
)

// IP_OPTIONS on gVisor's TCP sockets. The options are set and read back
// like UDP's (ipopts.go); on the wire the stack's IPv4 wrapper adds them
// (stack/ipopts_out.go): a TCP connection registers them under its
// addresses (Stack.SetTCPIPOptions) before its SYN leaves and whenever
// they change.
//
// TCP's segment size shrinks by the option length as Linux's
// icsk_ext_hdr_len does (__tcp_mtu_to_mss): once the connection is
// established, gVisor's TCP is told the path MTU less the options (a
// "packet too big" it takes like an ICMP one), which lowers its payload
// size and leaves the MSS it advertised in the SYN alone, as in Linux.
// gVisor only ever lowers that size, so options shortened or removed on an
// established connection keep the smaller segments (Linux grows them back).
//
// A listener's options never reach the wire (Linux answers a SYN with the
// options of that SYN, reversed), and an accepted socket starts without
// any (tcp_v4_syn_recv_sock: inet_opt comes from the SYN).
//
// An AF_INET6 socket keeps its options for its IPv4 (v4-mapped)
// connection, the traffic IPv4's output builds; an IPv6 connection sends
// none (its addresses give no IPv4 registration: v4HookAddr).

// ipOptsReg is a TCP socket's IP_OPTIONS state on the wire; guarded by
// tcpSock.mu except active.
type ipOptsReg struct {
	active  atomic.Bool // TCP: a registration exists (fast path of sends)
	opts    *options.IPOptions
	remove  func()             // TCP: the stack registration
	watch   func()             // TCP: the peer MSS watch
	mssFor  *options.IPOptions // TCP: options the payload size was cut for
	mssEP   tcpip.Endpoint     // ... on this gVisor endpoint
	peerMSS int                // TCP: the MSS of an accepted SYN (0 = ask the stack)
	mss     tcpMaxseg          // TCP: TCP_MAXSEG (tcp_maxseg.go)
	mssClam int32              // TCP: the clamp the payload size was cut for
}

// pushIPOptions hands a TCP socket's current IP_OPTIONS to the stack; it
// runs with every option push (setsockopt, a new or accepted endpoint).
// Ping sockets with options have their headers built by the stack on each
// send (sendWithControl).
func (t *tcpSock) pushIPOptions(o sockOpts) {
	t.syncTCPIPOptions(netip.AddrPort{}, o.ext.ipOptions)
}

// syncTCPIPOptions re-registers a TCP socket's options under its current
// addresses; remote is the peer of a connect in progress (zero = ask
// gVisor). Sockets without a peer (unconnected, listening) register none.
func (t *tcpSock) syncTCPIPOptions(remote netip.AddrPort, opts *options.IPOptions) {
	t.mu.Lock()
	old := t.ipo.remove
	t.ipo.remove, t.ipo.opts = nil, opts
	t.ipo.active.Store(false)
	t.mu.Unlock()
	if old != nil {
		old()
	}
	ep := t.endpoint()
	if opts == nil || ep.State() == uint32(tcp.StateListen) {
		return
	}
	fa, e := ep.GetLocalAddress()
	if e != nil || fa.Port == 0 {
		return
	}
	local, v4 := t.v4HookAddr(fa)
	if !v4 {
		return // IPv6 traffic carries no IPv4 options
	}
	if !remote.IsValid() {
		ra, e := ep.GetRemoteAddress()
		if e != nil {
			return
		}
		if remote, v4 = t.v4HookAddr(ra); !v4 {
			return
		}
	}
	remove := t.s.SetTCPIPOptions(local, remote, opts, t.tcpIPOptionsPMTU)
	t.mu.Lock()
	if t.ipo.opts != opts {
		// Changed meanwhile: the newer call registers.
		t.mu.Unlock()
		remove()
		return
	}
	t.ipo.remove = remove
	t.ipo.active.Store(true)
	t.mu.Unlock()
	t.tcpIPOptionsMSS()
}

// ipOptionsBeforeConnect registers the options of a TCP socket about to
// connect to remote, so that its SYN carries them: the socket gets its
// port first (as minTTLBeforeConnect does). A source route is routed to
// its first hop, as tcp_v4_connect routes to opt.faddr.
func (t *tcpSock) ipOptionsBeforeConnect(remote netip.AddrPort) error {
	t.maxsegBeforeConnect() // tcp_maxseg.go
	o := t.optsSnapshot()
	opts := o.ext.ipOptions
	if opts == nil {
		return nil
	}
	if t.is6() {
		// An AF_INET6 socket's options go on its IPv4 (v4-mapped)
		// connection only, as tcp_v4_connect's inet_opt.
		if !remote.Addr().Is4In6() {
			return nil
		}
		remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
	}
	if hop := opts.FirstHop; hop.IsValid() {
		if _, _, err := t.s.RouteFrom(t.localAddr(), hop, o.bindIf); err != nil {
			return err
		}
	}
	if t.endpoint().State() == uint32(tcp.StateInitial) {
		a, scope := t.pendingBindAddr()
		if err := t.bindEphemeral(a, scope, o.ext.portRange); err != nil {
			return err
		}
	}
	stop := t.s.WatchPeerMSS(remote)
	t.mu.Lock()
	old := t.ipo.watch
	t.ipo.watch = stop
	t.mu.Unlock()
	if old != nil {
		old()
	}
	t.syncTCPIPOptions(remote, opts)
	return nil
}

// tcpIPOptionsMSS cuts an established connection's payload size for its
// options and its TCP_MAXSEG clamp (tcp_maxseg.go), once per set of
// options, clamp and endpoint. Sends call it before writing, so no data
// leaves with the larger size.
func (t *tcpSock) tcpIPOptionsMSS() {
	withOpts := t.ipo.active.Load()
	if !withOpts && !t.ipo.mss.active.Load() {
		return
	}
	ep := t.endpoint()
	switch tcp.EndpointState(ep.State()) {
	case tcp.StateEstablished, tcp.StateCloseWait:
	default:
		return // gVisor builds its sender when the handshake completes
	}
	t.mu.Lock()
	opts, peerMSS, clamp := t.ipo.opts, t.ipo.peerMSS, t.ipo.mss.clamp
	if !withOpts {
		opts = nil
	}
	done := t.ipo.mssFor == opts && t.ipo.mssClam == clamp && t.ipo.mssEP == ep
	t.mu.Unlock()
	if done || opts == nil && clamp == 0 {
		return
	}
	la, e1 := ep.GetLocalAddress()
	ra, e2 := ep.GetRemoteAddress()
	te, ok := ep.(gstack.TransportEndpoint)
	if e1 != nil || e2 != nil || !ok {
		return
	}
	var hop netip.Addr
	var optLen int
	if opts != nil {
		hop, optLen = opts.FirstHop, opts.Len()
	}
	mtu, err := t.s.TCPOptionsMTU(addrPortOf(la), addrPortOf(ra), hop, optLen, peerMSS, 0, tcpClampRoom(ep, int(clamp)))
	if err != nil {
		return
	}
	te.HandleError(optionsRoom(mtu), nil)
	t.mu.Lock()
	t.ipo.mssFor, t.ipo.mssClam, t.ipo.mssEP = opts, clamp, ep
	t.mu.Unlock()
}

// tcpIPOptionsPMTU cuts the payload size for the options again after a
// "fragmentation needed" with path MTU pmtu, which gVisor took without
// them; it runs on the stack's receive path, as gVisor's own handling.
func (t *tcpSock) tcpIPOptionsPMTU(pmtu int) {
	ep := t.endpoint()
	la, e1 := ep.GetLocalAddress()
	ra, e2 := ep.GetRemoteAddress()
	te, ok := ep.(gstack.TransportEndpoint)
	if e1 != nil || e2 != nil || !ok {
		return
	}
	t.mu.Lock()
	opts, peerMSS, clamp := t.ipo.opts, t.ipo.peerMSS, t.ipo.mss.clamp
	t.mu.Unlock()
	if opts == nil {
		return
	}
	mtu, err := t.s.TCPOptionsMTU(addrPortOf(la), addrPortOf(ra), opts.FirstHop, opts.Len(), peerMSS, pmtu, tcpClampRoom(ep, int(clamp)))
	if err != nil {
		return
	}
	te.HandleError(optionsRoom(mtu), nil)
}

// dropIPOptions removes the socket's registrations (close). A connection
// still sends after close (its FIN, retransmissions), and Linux sends
// those with the options (the socket keeps inet_opt until it is freed),
// so the registration stays until gVisor's endpoint is closed, checked
// every half second for at most dropIPOptionsWait.
func (t *tcpSock) dropIPOptions() {
	t.mu.Lock()
	remove, watch := t.ipo.remove, t.ipo.watch
	t.ipo.remove, t.ipo.watch = nil, nil
	t.ipo.active.Store(false)
	t.mu.Unlock()
	release := func() {
		if remove != nil {
			remove()
		}
		if watch != nil {
			watch()
		}
	}
	if remove == nil {
		release()
		return
	}
	ep := t.endpoint()
	deadline := time.Now().Add(dropIPOptionsWait)
	var check func()
	check = func() {
		switch tcp.EndpointState(ep.State()) {
		case tcp.StateClose, tcp.StateError, tcp.StateInitial, tcp.StateBound:
			release()
			return
		}
		if time.Now().After(deadline) {
			release()
			return
		}
		time.AfterFunc(500*time.Millisecond, check)
	}
	time.AfterFunc(500*time.Millisecond, check)
}

// dropIPOptionsWait bounds how long a closed connection keeps its options
// registered: past gVisor's TIME_WAIT (60 s) and FIN_WAIT_2 (60 s).
const dropIPOptionsWait = 3 * time.Minute

// acceptIPOptions gives an accepted socket, whose options were cloned
// from the listener, Linux's: those its SYN asked for (reversed), else
// none. The socket is not shared yet.
func (t *tcpSock) acceptIPOptions() {
	t.acceptMaxseg() // tcp_maxseg.go
	t.opts.ext.ipOptions, t.opts.ext.ipOptionsSet = nil, false
	la, e1 := t.ep.GetLocalAddress()
	ra, e2 := t.ep.GetRemoteAddress()
	if e1 != nil || e2 != nil || la.Addr.Len() != 4 || ra.Addr.Len() != 4 {
		return // an IPv6 SYN has no IPv4 options
	}
	if o, mss := t.s.TakeSYNIPOptions(addrPortOf(la), addrPortOf(ra)); o != nil {
		t.opts.ext.ipOptions, t.opts.ext.ipOptionsSet = o, true
		t.ipo.peerMSS = mss
	}
}

// optionsRoom is the "packet too big" that tells gVisor's TCP the MTU left
// once the options are in the header.
type optionsRoom uint32

func (optionsRoom) Origin() tcpip.SockErrOrigin     { return tcpip.SockExtErrorOriginLocal }
func (optionsRoom) Type() uint8                     { return 0 }
func (optionsRoom) Code() uint8                     { return 0 }
func (m optionsRoom) Info() uint32                  { return uint32(m) }
func (optionsRoom) Kind() gstack.TransportErrorKind { return gstack.PacketTooBigTransportError }

// ipOptionsUnsupported is IP_OPTIONS on a TCP or ping socket of a stack
// whose IPv4 cannot add them (a gateway stack); UDP and raw sockets send
// their own headers.
func (b *base) ipOptionsUnsupported() bool {
	return !b.isUDP() && b.typ != unix.SOCK_RAW && !b.s.IPOptionsOutputSupported()
}
