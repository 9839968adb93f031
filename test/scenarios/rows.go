package scenarios

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sort"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// rowScenarios pin the options and /proc knobs the feature table listed
// without a scenario: IP_ROUTER_ALERT, IP_NODEFRAG, SO_PEERSEC on IP
// sockets, and the forwarding, fragment-memory and neighbour knobs.
func rowScenarios() []harness.Scenario {
	var scs []harness.Scenario
	scs = append(scs, rowOptionScenarios()...)
	scs = append(scs, rowSysctlScenarios()...)
	scs = append(scs, rowForwardScenarios()...)
	return scs
}

// rowSocketKinds are the IPv4 sockets an option's errno rules are probed
// on: each kind's name and socket(2) arguments.
var rowSocketKinds = []struct {
	name       string
	typ, proto int
}{
	{"udp", unix.SOCK_DGRAM, 0},
	{"tcp", unix.SOCK_STREAM, 0},
	{"raw-icmp", unix.SOCK_RAW, unix.IPPROTO_ICMP},
	{"raw-udp", unix.SOCK_RAW, unix.IPPROTO_UDP},
	{"raw-raw", unix.SOCK_RAW, unix.IPPROTO_RAW},
}

// optlenProbe sets an int option with every optlen from 0 to 8 (value
// bytes of v, zero-padded) and reads it back with every buffer length.
func optlenProbe(e *harness.Env, op string, s harness.Sock, name int, v byte) {
	for n := 0; n <= 8; n++ {
		b := make([]byte, n)
		if n > 0 {
			b[0] = v
		}
		e.Rec(fmt.Sprintf("%s set optlen %d", op, n), s.SetSockOpt(unix.IPPROTO_IP, name, b))
		for _, g := range []int{0, 1, 2, 3, 4, 8} {
			getOptBytes(e, fmt.Sprintf("%s   get %d", op, g), s, unix.IPPROTO_IP, name, g)
		}
	}
}

func rowOptionScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "rows/ip-router-alert-sockets", Run: func(e *harness.Env) {
			for _, k := range rowSocketKinds {
				s := e.Socket(e.DUT, unix.AF_INET, k.typ, k.proto)
				getOptBytes(e, k.name+" default", s, unix.IPPROTO_IP, unix.IP_ROUTER_ALERT, 4)
				for _, v := range []int32{1, 1, 0, 0, 7, -1, 0} {
					e.SetInt(fmt.Sprintf("%s set %d", k.name, v), s, unix.IPPROTO_IP, unix.IP_ROUTER_ALERT, v)
					getOptBytes(e, k.name+" get", s, unix.IPPROTO_IP, unix.IP_ROUTER_ALERT, 4)
				}
			}
		}},
		{Name: "rows/ip-router-alert-optlen", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
			optlenProbe(e, "raw-udp", s, unix.IP_ROUTER_ALERT, 1)
			u := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			optlenProbe(e, "udp", u, unix.IP_ROUTER_ALERT, 1)
		}},
		{Name: "rows/ip-nodefrag-sockets", Run: func(e *harness.Env) {
			for _, k := range rowSocketKinds {
				s := e.Socket(e.DUT, unix.AF_INET, k.typ, k.proto)
				getOptBytes(e, k.name+" default", s, unix.IPPROTO_IP, unix.IP_NODEFRAG, 4)
				for _, v := range []int32{1, 1, 0, 300, -1, 0} {
					e.SetInt(fmt.Sprintf("%s set %d", k.name, v), s, unix.IPPROTO_IP, unix.IP_NODEFRAG, v)
					getOptBytes(e, k.name+" get", s, unix.IPPROTO_IP, unix.IP_NODEFRAG, 4)
				}
			}
		}},
		{Name: "rows/ip-nodefrag-optlen", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
			optlenProbe(e, "raw-udp", s, unix.IP_NODEFRAG, 3)
			u := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			optlenProbe(e, "udp", u, unix.IP_NODEFRAG, 3)
		}},
		{Name: "rows/so-peersec", Run: func(e *harness.Env) {
			for _, k := range rowSocketKinds {
				s := e.Socket(e.DUT, unix.AF_INET, k.typ, k.proto)
				for _, n := range []int{0, 1, 4, 64, 4096} {
					getOptBytes(e, fmt.Sprintf("%s get %d", k.name, n), s, unix.SOL_SOCKET, unix.SO_PEERSEC, n)
				}
				e.Rec(k.name+" set", s.SetSockOpt(unix.SOL_SOCKET, unix.SO_PEERSEC, harness.Int32(1)))
				e.Rec(k.name+" set optlen 0", s.SetSockOpt(unix.SOL_SOCKET, unix.SO_PEERSEC, nil))
			}
			// A connected TCP pair: the peer has a socket but no label.
			l := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("listen bind", l.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort)))
			e.Check("listen", l.Listen(4))
			c := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("connect", c.Connect(harness.Sockaddr(e.DUTAddr, e.BasePort)))
			a, _, err := l.Accept(0)
			e.Check("accept", err)
			for _, n := range []int{0, 4, 256} {
				getOptBytes(e, fmt.Sprintf("accepted get %d", n), a, unix.SOL_SOCKET, unix.SO_PEERSEC, n)
			}
			a.Close()
		}},
	}
}

// sysctlWrites writes each value to a DUT knob and records the answer and
// what the knob reads afterwards.
func sysctlWrites(e *harness.Env, name string, values ...string) {
	for _, v := range values {
		err := e.SetSysctl(e.DUT, name, v)
		got, gerr := e.DUT.GetSysctl(name)
		e.Rec(fmt.Sprintf("%s <- %q", name, v), err, got, gerr)
	}
}

// sysctlReads records knobs as they read now.
func sysctlReads(e *harness.Env, names ...string) {
	for _, n := range names {
		got, err := e.DUT.GetSysctl(n)
		e.Rec(n, err, got)
	}
}

var forwardKnobs = []string{
	"net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding", "net.ipv4.conf.default.forwarding",
	"net.ipv4.conf.lo.forwarding", "net.ipv4.conf.eth0.forwarding",
}

func rowSysctlScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "sysctl/ip-forward-values", Run: func(e *harness.Env) {
			sysctlReads(e, forwardKnobs...)
			sysctlWrites(e, "net.ipv4.ip_forward", "1", "2", "-1", "0x10", "010", "abc", "3 4", "2147483648",
				"4294967296", "-2147483648", " 7", "0")
		}},
		{Name: "sysctl/ip-forward-propagation", Run: func(e *harness.Env) {
			sysctlWrites(e, "net.ipv4.conf.default.forwarding", "1")
			sysctlReads(e, forwardKnobs...)
			sysctlWrites(e, "net.ipv4.conf.eth0.forwarding", "4")
			sysctlReads(e, forwardKnobs...)
			sysctlWrites(e, "net.ipv4.ip_forward", "1")
			sysctlReads(e, forwardKnobs...)
			sysctlWrites(e, "net.ipv4.conf.lo.forwarding", "0", "-3")
			sysctlWrites(e, "net.ipv4.ip_forward", "1")
			sysctlReads(e, forwardKnobs...)
			sysctlWrites(e, "net.ipv4.conf.all.forwarding", "0")
			sysctlReads(e, forwardKnobs...)
			sysctlWrites(e, "net.ipv4.conf.default.forwarding", "5", "abc", "2147483648", "0")
			sysctlWrites(e, "net.ipv4.conf.eth0.forwarding", "-7", "0")
			sysctlReads(e, forwardKnobs...)
			sysctlReads(e, "net.ipv4.conf.eth9.forwarding")
		}},
		{Name: "sysctl/ip-dynaddr", Run: func(e *harness.Env) {
			sysctlWrites(e, "net.ipv4.ip_dynaddr", "1", "2", "-5", "abc", "255", "256", "0x7f", "2147483648", "0")
		}},
		{Name: "sysctl/ip-no-pmtu-disc-values", Run: func(e *harness.Env) {
			sysctlWrites(e, "net.ipv4.ip_no_pmtu_disc", "1", "3", "255", "256", "-1", "0")
		}},
		{Name: "sysctl/ip-no-pmtu-disc-effect", Run: func(e *harness.Env) {
			// Modes 1..3 first: only mode 0 learns a path MTU, and the
			// learnt MTU would stay for the rest of the run.
			src, dst := errAddrs(e)
			f := newForger(e)
			for _, mode := range []string{"1", "2", "3", "0"} {
				e.Check("ip_no_pmtu_disc "+mode, e.SetSysctl(e.DUT, "net.ipv4.ip_no_pmtu_disc", mode))
				for _, k := range rowSocketKinds {
					s := e.Socket(e.DUT, unix.AF_INET, k.typ, k.proto)
					e.GetInt(k.name+" IP_MTU_DISCOVER", s, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER)
					s.Close()
				}
				s := dutUDP(e, e.BasePort)
				e.SetInt("IP_RECVERR", s, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
				e.Rec("connect", s.Connect(harness.Sockaddr(dst.Addr(), int(dst.Port()))))
				f.send(3, 4, fragNeeded(1000), quote(src, dst, []byte("big")), false)
				settle()
				recvErrOOB(e, "errqueue", s, 8, 128)
				e.GetInt("IP_MTU", s, unix.IPPROTO_IP, unix.IP_MTU)
				s.Close()
			}
		}},
		{Name: "sysctl/ipfrag-thresholds", Run: func(e *harness.Env) {
			hi, lo := "net.ipv4.ipfrag_high_thresh", "net.ipv4.ipfrag_low_thresh"
			sysctlReads(e, hi, lo)
			sysctlWrites(e, hi, "100")
			sysctlWrites(e, lo, "200", "100", "-1")
			sysctlWrites(e, hi, "50", "0", "4294967296", "18446744073709551615", "18446744073709551616", "-5", "abc", "0x1000 5", "+7")
			sysctlWrites(e, lo, "4097", "4096", "0")
			sysctlWrites(e, hi, "0")
			sysctlWrites(e, lo, "1")
			sysctlWrites(e, hi, "4194304")
			sysctlWrites(e, lo, "3145728")
		}},
		{Name: "sysctl/neigh-values", Run: func(e *harness.Env) {
			n := "net.ipv4.neigh.eth0."
			sysctlReads(e, n+"mcast_solicit", n+"ucast_solicit", n+"retrans_time_ms", n+"retrans_time",
				n+"base_reachable_time_ms", n+"base_reachable_time", n+"delay_first_probe_time",
				"net.ipv4.neigh.default.mcast_solicit", "net.ipv4.neigh.default.gc_thresh1")
			sysctlWrites(e, n+"mcast_solicit", "-1", "0", "2147483647", "abc", "1")
			sysctlWrites(e, n+"ucast_solicit", "-1", "5", "0")
			sysctlWrites(e, n+"retrans_time_ms", "200", "-100", "0", "1000")
			sysctlReads(e, n+"retrans_time")
			sysctlWrites(e, n+"retrans_time", "20", "500")
			sysctlReads(e, n+"retrans_time_ms")
			sysctlWrites(e, n+"base_reachable_time_ms", "1500", "20000")
			sysctlReads(e, n+"base_reachable_time")
			sysctlWrites(e, n+"base_reachable_time", "2", "-1", "45")
			sysctlReads(e, n+"base_reachable_time_ms")
			sysctlWrites(e, n+"delay_first_probe_time", "-1", "3", "abc")
			sysctlReads(e, "net.ipv4.neigh.lo.mcast_solicit")
		}},
	}
}

// transit is a peer that sends hand-made IPv4 packets to the DUT's MAC
// over a packet socket, so their destination can be an address the DUT
// does not own (the peer's routing would never send them there).
type transit struct {
	e   *harness.Env
	pkt harness.Sock
	mac []byte
}

// transitSrc is the source of transit packets: on the DUT's subnet, owned
// by no host, so the peer accepts the forwarded copy coming back.
var transitSrc = netip.AddrFrom4([4]byte{198, 18, 0, 77})

// newTransit learns the DUT's MAC from a datagram the DUT sends to the
// peer and opens the packet socket; it aborts the scenario without one.
func newTransit(e *harness.Env) *transit {
	tap := e.Socket(e.Peer, unix.AF_PACKET, unix.SOCK_DGRAM, int(htons(unix.ETH_P_IP)))
	p := peerUDP(e, e.BasePort+9)
	s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
	e.Check("mac probe", errOnly(s.SendMsg([]byte("mac"), nil, harness.Sockaddr(e.PeerAddr, e.BasePort+9), 0)))
	var mac []byte
	buf := make([]byte, 2048)
	deadline := time.Now().Add(2 * time.Second)
	for i := 0; i < 64 && mac == nil && time.Now().Before(deadline); i++ {
		harness.WaitReadable(tap, time.Until(deadline))
		n, _, _, from, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		// sockaddr_ll: halen at 11, address from 12.
		if err == nil && n >= 20 && len(from) >= 18 && from[11] == 6 &&
			netip.AddrFrom4([4]byte(buf[12:16])) == e.DUTAddr && buf[9] == unix.IPPROTO_UDP {
			mac = append([]byte(nil), from[12:18]...)
		}
	}
	if mac == nil {
		e.Check("learn the DUT's MAC", unix.ETIMEDOUT)
	}
	p.Close()
	tap.Close()
	return &transit{e: e, pkt: e.Socket(e.Peer, unix.AF_PACKET, unix.SOCK_DGRAM, int(htons(unix.ETH_P_IP))), mac: mac}
}

func errOnly(_ int, err error) error { return err }

// send hands the DUT a UDP datagram from transitSrc to dst:port with the
// given TTL and IP options (a multiple of 4 bytes), and waits for it to
// settle.
func (t *transit) send(op string, dst netip.Addr, port int, ttl byte, opts []byte, payload string) {
	ihl := 20 + len(opts)
	b := make([]byte, ihl+8+len(payload))
	b[0], b[8], b[9] = 0x40|byte(ihl/4), ttl, unix.IPPROTO_UDP
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[4:], 0x5151)
	s, d := transitSrc.As4(), dst.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	copy(b[20:], opts)
	binary.BigEndian.PutUint16(b[10:], checksum(b[:ihl]))
	binary.BigEndian.PutUint16(b[ihl:], uint16(t.e.BasePort+8))
	binary.BigEndian.PutUint16(b[ihl+2:], uint16(port))
	binary.BigEndian.PutUint16(b[ihl+4:], uint16(8+len(payload)))
	copy(b[ihl+8:], payload)
	sll := make([]byte, 20)
	binary.NativeEndian.PutUint16(sll[0:], unix.AF_PACKET)
	binary.BigEndian.PutUint16(sll[2:], unix.ETH_P_IP)
	binary.NativeEndian.PutUint32(sll[4:], 2) // the peer's eth0
	sll[11] = 6
	copy(sll[12:], t.mac)
	_, err := t.pkt.SendMsg(b, nil, sll, 0)
	t.e.Rec(op, err)
	time.Sleep(150 * time.Millisecond)
}

// drain records every datagram waiting on s (bounded), headers of raw
// sockets decoded.
func drain(e *harness.Env, op string, s harness.Sock, raw bool) {
	buf, oob := make([]byte, 2048), make([]byte, 256)
	for i := 0; i < 8; i++ {
		n, oobn, fl, _, err := s.RecvMsg(buf, oob, unix.MSG_DONTWAIT)
		if err != nil {
			e.Rec(op, err)
			return
		}
		if raw {
			e.Rec(op, n, fl, ipHeader(buf[:n]), buf[min(n, int(buf[0]&0xf)*4+8):n])
			continue
		}
		e.Rec(op, n, fl, buf[:n], harness.Cmsgs(oob[:oobn]))
	}
}

// raOpt is a Router Alert option (RFC 2113): value 0, "examine packet".
var raOpt = []byte{0x94, 0x04, 0x00, 0x00}

func rowForwardScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "sysctl/ip-forward-routes", Run: func(e *harness.Env) {
			t := newTransit(e)
			far := farUDP(e, 2, e.BasePort)
			e.SetInt("far IP_RECVTTL", far, unix.IPPROTO_IP, unix.IP_RECVTTL, 1)
			t.send("to far, forwarding off", e.FarAddrs[2], e.BasePort, 10, nil, "off")
			drain(e, "far", far, false)
			e.Check("ip_forward 1", e.SetSysctl(e.DUT, "net.ipv4.ip_forward", "1"))
			t.send("to far, forwarding on", e.FarAddrs[2], e.BasePort, 10, nil, "on")
			drain(e, "far", far, false)
			t.send("to far, ttl 2", e.FarAddrs[2], e.BasePort, 2, nil, "ttl2")
			drain(e, "far", far, false)
			e.Check("eth0 forwarding 0", e.SetSysctl(e.DUT, "net.ipv4.conf.eth0.forwarding", "0"))
			t.send("to far, eth0 off", e.FarAddrs[2], e.BasePort, 10, nil, "eth0off")
			drain(e, "far", far, false)
			e.Check("eth0 forwarding 1", e.SetSysctl(e.DUT, "net.ipv4.conf.eth0.forwarding", "1"))
			t.send("to far, eth0 on", e.FarAddrs[2], e.BasePort, 10, nil, "eth0on")
			drain(e, "far", far, false)
		}},
		{Name: "rows/ip-router-alert-delivery", Run: func(e *harness.Env) {
			t := newTransit(e)
			far := farUDP(e, 3, e.BasePort)
			r := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
			e.SetInt("r IP_ROUTER_ALERT 1", r, unix.IPPROTO_IP, unix.IP_ROUTER_ALERT, 1)
			q := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
			round := func(op string, dst netip.Addr, ttl byte, opts []byte) {
				t.send(op, dst, e.BasePort, ttl, opts, op)
				drain(e, "  r", r, true)
				drain(e, "  q", q, true)
				drain(e, "  far", far, false)
			}
			round("RA to far, forwarding off", e.FarAddrs[3], 10, raOpt)
			round("RA to the DUT", e.DUTAddr, 10, raOpt)
			e.Check("ip_forward 1", e.SetSysctl(e.DUT, "net.ipv4.ip_forward", "1"))
			round("RA to far", e.FarAddrs[3], 10, raOpt)
			round("RA to far, ttl 1", e.FarAddrs[3], 1, raOpt)
			round("RA after End of List to far", e.FarAddrs[3], 10, []byte{0x01, 0x01, 0x01, 0x00, 0x94, 0x04, 0x00, 0x00})
			round("RA after NOPs to far", e.FarAddrs[3], 10, []byte{0x01, 0x01, 0x94, 0x04, 0x00, 0x00, 0x01, 0x00})
			round("no RA to far", e.FarAddrs[3], 10, nil)
			round("RA to the DUT, forwarding on", e.DUTAddr, 10, raOpt)
			e.SetInt("r SO_BINDTOIFINDEX 1", r, unix.SOL_SOCKET, unix.SO_BINDTOIFINDEX, 1)
			round("RA to far, r bound to lo", e.FarAddrs[3], 10, raOpt)
			e.SetInt("r SO_BINDTOIFINDEX 2", r, unix.SOL_SOCKET, unix.SO_BINDTOIFINDEX, 2)
			round("RA to far, r bound to eth0", e.FarAddrs[3], 10, raOpt)
			e.SetInt("r IP_ROUTER_ALERT 0", r, unix.IPPROTO_IP, unix.IP_ROUTER_ALERT, 0)
			round("RA to far, r left", e.FarAddrs[3], 10, raOpt)
			u := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			e.SetInt("icmp socket IP_ROUTER_ALERT 1", u, unix.IPPROTO_IP, unix.IP_ROUTER_ALERT, 1)
			round("RA UDP to far, only an ICMP RA socket", e.FarAddrs[3], 10, raOpt)
			drain(e, "  icmp socket", u, true)
		}},
	}
}

// sysctlIPScenarios read net.ipv4.ip_default_ttl and ip_local_port_range
// through the sockets they steer.
func sysctlIPScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "sysctl/ip-default-ttl", Run: func(e *harness.Env) {
			e.Check("set ip_default_ttl", e.SetSysctl(e.DUT, "net.ipv4.ip_default_ttl", "33"))
			p := peerUDP(e, e.BasePort)
			e.SetInt("peer IP_RECVTTL", p, unix.IPPROTO_IP, unix.IP_RECVTTL, 1)
			s := dutUDP(e, 0)
			e.GetInt("IP_TTL", s, unix.IPPROTO_IP, unix.IP_TTL)
			send(e, "send", s, []byte("ttl"), harness.Sockaddr(e.PeerAddr, e.BasePort), 0)
			peerRecvCmsgs(e, "peer recv", p)
		}},
		{Name: "sysctl/ip-local-port-range", Run: func(e *harness.Env) {
			e.Check("set range", e.SetSysctl(e.DUT, "net.ipv4.ip_local_port_range", "20000 20001"))
			var ports []int
			for i := 0; i < 3; i++ {
				s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
				err := s.Bind(harness.Sockaddr(anyAddr, 0))
				e.Rec("bind port 0", err)
				if sa, err := s.GetSockName(); err == nil && len(sa) >= 4 {
					ports = append(ports, int(binary.BigEndian.Uint16(sa[2:4])))
				}
			}
			sort.Ints(ports)
			e.Rec("ports", fmt.Sprint(ports))
			v, err := e.DUT.GetSysctl("net.ipv4.ip_local_port_range")
			e.Rec("range", err, v)
			e.Rec("set inverted", e.SetSysctl(e.DUT, "net.ipv4.ip_local_port_range", "30000 20000") != nil)
		}},
	}
}
