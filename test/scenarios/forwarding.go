package scenarios

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// Sends forced through lo, with IPv4 forwarding on in various ways and
// off (issue 11: a Docker host runs with ip_forward=1, and namespaces
// inherit it), and the same sends through eth0 and by the route.
//
// Linux (net/ipv4/route.c, ip_route_output_key_hash_rcu): with an output
// interface given (SO_BINDTODEVICE, IP_UNICAST_IF, IP_PKTINFO's ifindex)
// fib_lookup only takes next hops on that interface; lo has none towards
// another host, so the lookup fails and the "routing tables are wrong,
// assume the destination is on link" branch makes a unicast route through
// lo, its source inet_select_addr(lo, 0, RT_SCOPE_LINK): lo's 127.0.0.1 has
// host scope, so the first address of another interface. __mkroute_output
// marks a route through a loopback device RTCF_LOCAL, whose input is
// ip_local_deliver; loopback_xmit keeps the route on the packet, and
// ip_rcv_finish uses it instead of an input route lookup, so the datagram
// is delivered to this host's own sockets (a socket bound to the wildcard
// address and the destination port gets it, IP_PKTINFO ifindex 1), never
// forwarded and never on the wire. Forwarding is read only by the input
// route lookup (IN_DEV_FORWARD in ip_route_input_slow), which this packet
// never meets: every forwarding setting gives the same answer. Nothing
// answers the looped packet either: an ICMP error or echo reply would be
// sent from the destination address (fib_compute_spec_dst), which is not
// local, and ip_route_output_key_hash_rcu refuses a non-local source.
//
// Each scenario sets the forwarding knobs on the DUT (restored after it),
// sends through lo by each means and normally, and records the send's
// result, what the peer's link carries (an AF_PACKET tap on the peer's
// eth0) and what the DUT's own sockets get.

// fwdMode is a forwarding setting: conf/<dev>/forwarding values, set in
// order (conf/all first: it copies itself to every interface).
type fwdMode struct {
	name string
	kv   []string // dev, value pairs
}

var fwdModes = []fwdMode{
	{"off", []string{"all", "0"}},                   // Linux's default, for comparison
	{"all", []string{"all", "1"}},                   // ip_forward=1, as Docker leaves it
	{"eth0", []string{"all", "0", "eth0", "1"}},     // only eth0 forwards
	{"lo", []string{"all", "0", "lo", "1"}},         // only lo forwards
	{"all-but-lo", []string{"all", "1", "lo", "0"}}, // every interface but lo
}

// fwdSet applies m on the DUT and records the knobs.
func fwdSet(e *harness.Env, m fwdMode) {
	for i := 0; i+1 < len(m.kv); i += 2 {
		n := "net.ipv4.conf." + m.kv[i] + ".forwarding"
		e.Check(n+"="+m.kv[i+1], e.SetSysctl(e.DUT, n, m.kv[i+1]))
	}
	sysctlReads(e, forwardKnobs...)
}

// peerEth0 is the peer's ifindex for its link to the DUT.
const peerEth0 = 2

// peerWire is an AF_PACKET tap on the peer's link to the DUT: every IPv4
// packet the DUT puts on the wire, whatever its addresses.
func peerWire(e *harness.Env) harness.Sock {
	t := e.Socket(e.Peer, unix.AF_PACKET, unix.SOCK_DGRAM, int(htons(unix.ETH_P_IP)))
	sll := make([]byte, 20)
	binary.NativeEndian.PutUint16(sll[0:], unix.AF_PACKET)
	binary.BigEndian.PutUint16(sll[2:], unix.ETH_P_IP)
	binary.NativeEndian.PutUint32(sll[4:], peerEth0)
	e.Check("peer wire tap bind eth0", t.Bind(sll))
	return t
}

// wireRecv records the first packet arriving on the peer's wire tap
// within 300 ms that match accepts, header without the IP ID and payload;
// or that none came.
func wireRecv(e *harness.Env, op string, tap harness.Sock, match func(ip []byte) bool) {
	deadline := time.Now().Add(300 * time.Millisecond)
	buf := make([]byte, 2048)
	for i := 0; i < 32 && time.Now().Before(deadline); i++ {
		if r, _ := tap.Poll(unix.EPOLLIN, time.Until(deadline)); r == 0 {
			break
		}
		n, _, _, from, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		// sockaddr_ll: pkttype at 10; the peer's own sends are outgoing.
		if err != nil || n < 20 || len(from) < 11 || from[10] == unix.PACKET_OUTGOING || !match(buf[:n]) {
			continue
		}
		ihl := int(buf[0]&0xf) * 4
		e.Rec(op, ipHeaderNoID(buf[:n]), buf[ihl:n])
		return
	}
	e.Rec(op, "nothing")
}

// udpTo matches UDP datagrams to port.
func udpTo(port int) func([]byte) bool {
	return func(b []byte) bool {
		ihl := int(b[0]&0xf) * 4
		return b[9] == unix.IPPROTO_UDP && len(b) >= ihl+4 && int(binary.BigEndian.Uint16(b[ihl+2:])) == port
	}
}

// echoWith matches ICMP echo requests with identifier id.
func echoWith(id int) func([]byte) bool {
	return func(b []byte) bool {
		ihl := int(b[0]&0xf) * 4
		return b[9] == unix.IPPROTO_ICMP && len(b) >= ihl+8 && b[ihl] == 8 &&
			int(binary.BigEndian.Uint16(b[ihl+4:])) == id
	}
}

// localRecv records the first thing a DUT socket gets within 300 ms: for
// a raw socket the header and payload of a packet match accepts, for a
// datagram socket a datagram with its sender and control messages; or
// that nothing came.
func localRecv(e *harness.Env, op string, s harness.Sock, raw bool, match func([]byte) bool) {
	deadline := time.Now().Add(300 * time.Millisecond)
	buf, oob := make([]byte, 2048), make([]byte, 256)
	for i := 0; i < 16 && time.Now().Before(deadline); i++ {
		if r, _ := s.Poll(unix.EPOLLIN, time.Until(deadline)); r == 0 {
			break
		}
		n, oobn, fl, from, err := s.RecvMsg(buf, oob, unix.MSG_DONTWAIT)
		if err != nil {
			e.Rec(op, err)
			continue
		}
		if raw {
			if n < 20 || !match(buf[:n]) {
				continue
			}
			ihl := int(buf[0]&0xf) * 4
			e.Rec(op, n, fl, ipHeaderNoID(buf[:n]), buf[min(ihl, n):n])
		} else {
			e.Rec(op, n, fl, e.SA(from), buf[:n], harness.Cmsgs(oob[:oobn]))
		}
		return
	}
	e.Rec(op, "nothing")
}

// fwdVia is one way of forcing a send through an interface.
type fwdVia struct {
	op    string
	setup func(e *harness.Env, s harness.Sock) // socket options, recorded
	oob   func(e *harness.Env) []byte          // control messages of each send
}

// fwdWays are the sends through lo (lo) or the others: normal, through
// eth0, and from a loopback source.
func fwdWays(lo bool) []fwdVia {
	devOpt := func(dev string) func(e *harness.Env, s harness.Sock) {
		return func(e *harness.Env, s harness.Sock) {
			e.Rec("SO_BINDTODEVICE "+dev, s.SetSockOpt(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, []byte(dev)))
		}
	}
	ucOpt := func(idx uint32) func(e *harness.Env, s harness.Sock) {
		return func(e *harness.Env, s harness.Sock) {
			e.Rec(fmt.Sprintf("IP_UNICAST_IF %d", idx), s.SetSockOpt(unix.IPPROTO_IP, unix.IP_UNICAST_IF, ifindexBE(idx)))
		}
	}
	pkt := func(idx int, spec func(e *harness.Env) netip.Addr) func(e *harness.Env) []byte {
		return func(e *harness.Env) []byte { return cmsgPktinfo(idx, spec(e)) }
	}
	anySpec := func(*harness.Env) netip.Addr { return anyAddr }
	if lo {
		return []fwdVia{
			{op: "SO_BINDTODEVICE lo", setup: devOpt("lo")},
			{op: "IP_UNICAST_IF lo", setup: ucOpt(1)},
			{op: "IP_PKTINFO ifindex lo", oob: pkt(1, anySpec)},
			{op: "IP_PKTINFO ifindex lo spec_dst DUT", oob: pkt(1, func(e *harness.Env) netip.Addr { return e.DUTAddr })},
		}
	}
	return []fwdVia{
		{op: "normal"},
		{op: "SO_BINDTODEVICE eth0", setup: devOpt("eth0")},
		{op: "IP_UNICAST_IF eth0", setup: ucOpt(2)},
		{op: "IP_PKTINFO ifindex eth0", oob: pkt(2, anySpec)},
		{op: "IP_PKTINFO spec_dst loopback", oob: pkt(0, func(*harness.Env) netip.Addr { return loopback })},
	}
}

// fwdName names a scenario: kind, lo or out (the other sends), mode.
func fwdName(kind string, lo bool, m fwdMode) string {
	way := "out"
	if lo {
		way = "lo"
	}
	return "fwd/" + kind + "-" + way + "-" + m.name
}

// fwdUDP: datagrams to the peer and to the far host sent the ways
// fwdWays(lo) lists; the peer's link and a DUT socket bound to the
// wildcard address and the destination port are watched.
func fwdUDP(m fwdMode, lo bool) harness.Scenario {
	return harness.Scenario{Name: fwdName("udp", lo, m), Run: func(e *harness.Env) {
		fwdSet(e, m)
		wire := peerWire(e)
		p := peerUDP(e, e.BasePort)
		f := farUDP(e, 4, e.BasePort)
		local := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
		e.Check("local bind", local.Bind(harness.Sockaddr(anyAddr, e.BasePort)))
		e.SetInt("local IP_PKTINFO", local, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
		for i, w := range fwdWays(lo) {
			e.Rec("== " + w.op)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("bind", s.Bind(harness.Sockaddr(anyAddr, e.BasePort+1+i)))
			if w.setup != nil {
				w.setup(e, s)
			}
			for _, to := range []struct {
				op   string
				addr netip.Addr
			}{{"peer", e.PeerAddr}, {"far", e.FarAddrs[4]}} {
				var oob []byte
				if w.oob != nil {
					oob = w.oob(e)
				}
				n, err := s.SendMsg([]byte(w.op), oob, harness.Sockaddr(to.addr, e.BasePort), 0)
				e.Rec("send to "+to.op, err, n)
				if err != nil {
					continue
				}
				wireRecv(e, "  wire", wire, udpTo(e.BasePort))
				localRecv(e, "  local", local, false, nil)
			}
			if w.oob == nil {
				// connect picks the route once: the source it chose.
				e.Rec("connect peer", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
				recName(e, "getsockname", s)
				n, err := s.SendMsg([]byte("connected"), nil, nil, 0)
				e.Rec("send connected", err, n)
				if err == nil {
					wireRecv(e, "  wire", wire, udpTo(e.BasePort))
					localRecv(e, "  local", local, false, nil)
				}
			}
			s.Close()
		}
		if lo {
			fwdUDPLoExtra(e, wire, local)
		}
		localRecv(e, "peer socket", p, false, nil)
		localRecv(e, "far socket", f, false, nil)
	}}
}

// fwdUDPLoExtra: sockets bound to an address and to lo (the datagram
// keeps the bound source), and a connected IP_RECVERR socket bound to lo
// sending where nobody listens (no port unreachable comes back: it would
// be sent from the destination address, which is not local).
func fwdUDPLoExtra(e *harness.Env, wire, local harness.Sock) {
	for i, a := range []netip.Addr{e.DUTAddr, loopback} {
		e.Rec("== bound to " + a.String() + ", SO_BINDTODEVICE lo")
		s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
		e.Rec("SO_BINDTODEVICE lo", s.SetSockOpt(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, []byte("lo")))
		e.Check("bind", s.Bind(harness.Sockaddr(a, e.BasePort+6+i)))
		send(e, "send to peer", s, []byte("bound "+a.String()), harness.Sockaddr(e.PeerAddr, e.BasePort), 0)
		wireRecv(e, "  wire", wire, udpTo(e.BasePort))
		localRecv(e, "  local", local, false, nil)
		e.Rec("connect peer", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
		recName(e, "getsockname", s)
		s.Close()
	}
	e.Rec("== nobody listening")
	s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
	e.Rec("SO_BINDTODEVICE lo", s.SetSockOpt(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, []byte("lo")))
	e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
	e.Rec("connect peer", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort+5)))
	for _, op := range []string{"send 1", "send 2"} {
		send(e, op, s, []byte(op), nil, 0)
		wireRecv(e, "  wire", wire, udpTo(e.BasePort+5))
	}
	recvErrOOB(e, "errqueue", s, 64, 128)
	e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
	send(e, "send 3", s, []byte("send 3"), nil, 0)
}

// fwdRaw: ICMP echo requests from a raw ICMP socket, or from an
// IPPROTO_RAW socket with the caller's header (hdrincl), sent the ways
// fwdWays(lo) lists; the peer's link and a DUT raw ICMP socket are
// watched.
func fwdRaw(m fwdMode, lo, hdrincl bool) harness.Scenario {
	kind := "raw"
	if hdrincl {
		kind = "raw-hdrincl"
	}
	return harness.Scenario{Name: fwdName(kind, lo, m), Run: func(e *harness.Env) {
		fwdSet(e, m)
		wire := peerWire(e)
		id := 0x3e50
		if hdrincl {
			id = 0x3e51
		}
		local := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
		for i, w := range fwdWays(lo) {
			e.Rec("== " + w.op)
			var s harness.Sock
			if hdrincl {
				s = e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
			} else {
				s = e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			}
			if w.setup != nil {
				w.setup(e, s)
			}
			for j, to := range []netip.Addr{e.PeerAddr, e.FarAddrs[4]} {
				var oob []byte
				if w.oob != nil {
					oob = w.oob(e)
				}
				pkt := echoRequest(uint16(id), uint16(i*2+j), []byte(w.op))
				if hdrincl {
					pkt = quoteProto(unix.IPPROTO_ICMP, anyAddr, to, pkt)
					pkt[8] = 33 // the kernel fills in the checksum
				}
				n, err := s.SendMsg(pkt, oob, harness.Sockaddr(to, 0), 0)
				e.Rec("send to "+to.String(), err, n)
				if err != nil {
					continue
				}
				wireRecv(e, "  wire", wire, echoWith(id))
				localRecv(e, "  local", local, true, echoWith(id))
			}
			s.Close()
		}
	}}
}

// fwdPing: echo requests from a ping socket sent the ways fwdWays(lo)
// lists; the peer's link, a DUT raw ICMP socket and the ping socket's
// replies are watched.
func fwdPing(m fwdMode, lo bool) harness.Scenario {
	return harness.Scenario{Name: fwdName("ping", lo, m), Run: func(e *harness.Env) {
		fwdSet(e, m)
		e.Check("set ping_group_range", e.SetSysctl(e.DUT, pingGroupRange, "0 0"))
		wire := peerWire(e)
		local := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
		for i, w := range fwdWays(lo) {
			e.Rec("== " + w.op)
			id := e.BasePort + i
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
			e.Rec("bind ident", s.Bind(harness.Sockaddr(anyAddr, id)))
			if w.setup != nil {
				w.setup(e, s)
			}
			for j, to := range []netip.Addr{e.PeerAddr, e.FarAddrs[4]} {
				var oob []byte
				if w.oob != nil {
					oob = w.oob(e)
				}
				n, err := s.SendMsg(echoRequest(0, uint16(j), []byte(w.op)), oob, harness.Sockaddr(to, 0), 0)
				e.Rec("send to "+to.String(), err, n)
				if err != nil {
					continue
				}
				wireRecv(e, "  wire", wire, echoWith(id))
				localRecv(e, "  local", local, true, echoWith(id))
				pingReply(e, "  reply", s)
			}
			s.Close()
		}
	}}
}

func forwardingScenarios() []harness.Scenario {
	var all []harness.Scenario
	for _, lo := range []bool{true, false} {
		for _, m := range fwdModes {
			all = append(all, fwdUDP(m, lo), fwdRaw(m, lo, false), fwdRaw(m, lo, true), fwdPing(m, lo))
		}
	}
	return all
}
