package scenarios

import (
	"fmt"

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
