package scenarios

import (
	"fmt"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
	"netsandbox/test/harness"
)

// The defaults group compares what a user gets before touching anything:
// every knob the stack models and every option of every level on a fresh
// socket of every kind. The harness gives the kernel DUT Linux's compiled
// defaults and the netsandbox DUT stack.New's own, so a wrong default in
// either table shows here.

// sockKind is one kind of socket whose fresh options are read.
type sockKind struct {
	name          string
	family        int // AF_INET unless set
	typ, proto    int
	needPingRange bool // ping sockets need the caller's group in ping_group_range
}

// sweepKinds6 are the AF_INET6 kinds; their SOL_IP answers are IPv4's
// code's (ipv6_setsockopt hands SOL_IP of a non-raw socket to it).
var sweepKinds6 = []sockKind{
	{name: "udp6", family: unix.AF_INET6, typ: unix.SOCK_DGRAM},
	{name: "tcp6", family: unix.AF_INET6, typ: unix.SOCK_STREAM},
	{name: "ping6", family: unix.AF_INET6, typ: unix.SOCK_DGRAM, proto: unix.IPPROTO_ICMPV6, needPingRange: true},
	{name: "raw6-icmp", family: unix.AF_INET6, typ: unix.SOCK_RAW, proto: unix.IPPROTO_ICMPV6},
	{name: "raw6-255", family: unix.AF_INET6, typ: unix.SOCK_RAW, proto: unix.IPPROTO_RAW},
}

// sweepLevels6 adds SOL_IPV6 to the levels an AF_INET6 socket is swept
// in, up to IPV6_FREEBIND (78) and one past it.
var sweepLevels6 = append(append([]sweepLevel(nil), sweepLevels...), sweepLevel{"ipv6", unix.IPPROTO_IPV6, 79})

var sweepKinds = []sockKind{
	{name: "udp", typ: unix.SOCK_DGRAM},
	{name: "tcp", typ: unix.SOCK_STREAM},
	{name: "ping", typ: unix.SOCK_DGRAM, proto: unix.IPPROTO_ICMP, needPingRange: true},
	{name: "raw-icmp", typ: unix.SOCK_RAW, proto: unix.IPPROTO_ICMP},
	{name: "raw-255", typ: unix.SOCK_RAW, proto: unix.IPPROTO_RAW},
}

// sweepLevel is one option level and the option numbers swept in it:
// every number Linux 6.18 defines there, and a few past the last.
type sweepLevel struct {
	name  string
	level int
	max   int
}

var sweepLevels = []sweepLevel{
	{"sol_socket", unix.SOL_SOCKET, 84},
	{"ip", unix.IPPROTO_IP, 52},
	{"tcp", unix.IPPROTO_TCP, 46},
	{"udp", unix.IPPROTO_UDP, 104},
}

// sweepSkip are options whose value differs between two fresh sockets of
// the same kernel (an identity, the CPU that ran the call, a clock), so no two
// hosts can agree on them.
var sweepSkip = map[[2]int]string{
	{unix.SOL_SOCKET, unix.SO_COOKIE}:           "a per-socket identity",
	{unix.SOL_SOCKET, unix.SO_NETNS_COOKIE}:     "a per-namespace identity",
	{unix.SOL_SOCKET, unix.SO_INCOMING_CPU}:     "the CPU that ran the call",
	{unix.SOL_SOCKET, unix.SO_INCOMING_NAPI_ID}: "a device queue identity",
	{unix.IPPROTO_TCP, unix.TCP_TIMESTAMP}:      "the TCP clock, which moves between two reads",
	// A namespace starts with the host's tcp_congestion_control and may
	// only pick one the host allows; tcpopt/congestion compares the
	// names both accept.
	{unix.IPPROTO_TCP, unix.TCP_CONGESTION}: "the host's default congestion control",
	{unix.IPPROTO_TCP, unix.TCP_CC_INFO}:    "the host's default congestion control's information",
	// ip6_tables' getsockopts answer only where the host loaded it.
	{unix.IPPROTO_IPV6, 64}: "ip6_tables (IP6T_SO_GET_INFO)", {unix.IPPROTO_IPV6, 65}: "ip6_tables (IP6T_SO_GET_ENTRIES)",
	{unix.IPPROTO_IPV6, 68}: "ip6_tables (IP6T_SO_GET_REVISION_MATCH)", {unix.IPPROTO_IPV6, 69}: "ip6_tables (IP6T_SO_GET_REVISION_TARGET)",
}

// sweepMissing are options netsandbox does not implement yet: it answers
// ENOPROTOOPT, as Linux does for an unknown option, and the README lists
// them as missing. They are swept in their own scenarios, which are
// expected to differ, so that the rest of each level stays strict.
var sweepMissing = func() map[[2]int]string {
	m := map[[2]int]string{}
	for level, opts := range map[int]map[int]string{
		unix.SOL_SOCKET: {
			unix.SO_ATTACH_FILTER: "SO_GET_FILTER", unix.SO_PEERNAME: "SO_PEERNAME",
			unix.SO_TIMESTAMPING: "SO_TIMESTAMPING", unix.SO_TIMESTAMPING_NEW: "SO_TIMESTAMPING_NEW",
			unix.SO_WIFI_STATUS: "SO_WIFI_STATUS", unix.SO_NOFCS: "SO_NOFCS", unix.SO_LOCK_FILTER: "SO_LOCK_FILTER",
			unix.SO_MAX_PACING_RATE: "SO_MAX_PACING_RATE", unix.SO_BPF_EXTENSIONS: "SO_BPF_EXTENSIONS",
			unix.SO_MEMINFO: "SO_MEMINFO", unix.SO_ZEROCOPY: "SO_ZEROCOPY", unix.SO_TXTIME: "SO_TXTIME",
			unix.SO_RESERVE_MEM: "SO_RESERVE_MEM", unix.SO_RCVMARK: "SO_RCVMARK", 82: "SO_RCVPRIORITY",
		},
		unix.IPPROTO_TCP: {
			unix.TCP_REPAIR: "TCP_REPAIR", unix.TCP_REPAIR_QUEUE: "TCP_REPAIR_QUEUE", unix.TCP_QUEUE_SEQ: "TCP_QUEUE_SEQ",
			unix.TCP_FASTOPEN: "TCP_FASTOPEN",
			unix.TCP_SAVE_SYN: "TCP_SAVE_SYN", unix.TCP_SAVED_SYN: "TCP_SAVED_SYN",
			unix.TCP_REPAIR_WINDOW: "TCP_REPAIR_WINDOW", unix.TCP_FASTOPEN_CONNECT: "TCP_FASTOPEN_CONNECT",
			unix.TCP_ULP: "TCP_ULP", unix.TCP_FASTOPEN_KEY: "TCP_FASTOPEN_KEY",
			unix.TCP_FASTOPEN_NO_COOKIE: "TCP_FASTOPEN_NO_COOKIE", unix.TCP_ZEROCOPY_RECEIVE: "TCP_ZEROCOPY_RECEIVE",
			unix.TCP_TX_DELAY: "TCP_TX_DELAY", 44: "TCP_RTO_MAX_MS", 45: "TCP_RTO_MIN_US", 46: "TCP_DELACK_MAX_US",
		},
		unix.IPPROTO_UDP: {
			unix.UDP_CORK: "UDP_CORK", 100: "UDP_ENCAP", 101: "UDP_NO_CHECK6_TX", 102: "UDP_NO_CHECK6_RX", 103: "UDP_SEGMENT", 104: "UDP_GRO",
		},
	} {
		for opt, name := range opts {
			m[[2]int{level, opt}] = name
		}
	}
	return m
}()

// The flow label options (include/uapi/linux/in6.h), which x/sys/unix
// lacks.
const (
	ipv6FlowInfo     = 11
	ipv6FlowLabelMgr = 32
	ipv6FlowInfoSend = 33
)

// sweepMissing6 are options AF_INET6 sockets of every kind do not serve
// yet (ENOPROTOOPT; the README lists them).
var sweepMissing6 = map[[2]int]string{
	{unix.IPPROTO_IPV6, unix.IPV6_ADDRFORM}: "IPV6_ADDRFORM", {unix.IPPROTO_IPV6, unix.IPV6_2292HOPOPTS}: "IPV6_2292HOPOPTS",
	{unix.IPPROTO_IPV6, unix.IPV6_2292DSTOPTS}: "IPV6_2292DSTOPTS", {unix.IPPROTO_IPV6, unix.IPV6_2292RTHDR}: "IPV6_2292RTHDR",
	{unix.IPPROTO_IPV6, ipv6FlowInfo}: "IPV6_FLOWINFO", {unix.IPPROTO_IPV6, unix.IPV6_ROUTER_ALERT}: "IPV6_ROUTER_ALERT",
	{unix.IPPROTO_IPV6, unix.IPV6_ROUTER_ALERT_ISOLATE}: "IPV6_ROUTER_ALERT_ISOLATE",
	{unix.IPPROTO_IPV6, ipv6FlowLabelMgr}:               "IPV6_FLOWLABEL_MGR", {unix.IPPROTO_IPV6, ipv6FlowInfoSend}: "IPV6_FLOWINFO_SEND",
	{unix.IPPROTO_IPV6, unix.IPV6_RECVHOPOPTS}: "IPV6_RECVHOPOPTS", {unix.IPPROTO_IPV6, unix.IPV6_HOPOPTS}: "IPV6_HOPOPTS",
	{unix.IPPROTO_IPV6, unix.IPV6_RTHDRDSTOPTS}: "IPV6_RTHDRDSTOPTS", {unix.IPPROTO_IPV6, unix.IPV6_RECVRTHDR}: "IPV6_RECVRTHDR",
	{unix.IPPROTO_IPV6, unix.IPV6_RTHDR}: "IPV6_RTHDR", {unix.IPPROTO_IPV6, unix.IPV6_RECVDSTOPTS}: "IPV6_RECVDSTOPTS",
	{unix.IPPROTO_IPV6, unix.IPV6_DSTOPTS}:       "IPV6_DSTOPTS",
	{unix.IPPROTO_IPV6, unix.IPV6_AUTOFLOWLABEL}: "IPV6_AUTOFLOWLABEL",
	{unix.IPPROTO_IPV6, unix.IPV6_RECVFRAGSIZE}:  "IPV6_RECVFRAGSIZE",
}

// sweepMissingOn are options missing only on some AF_INET6 kinds:
// IPV6_MULTICAST_ALL on raw sockets and RFC 2292's IPV6_PKTOPTIONS on TCP.
var sweepMissingOn = map[string]map[[2]int]string{
	"tcp6": {
		{unix.IPPROTO_IPV6, unix.IPV6_2292PKTOPTIONS}: "IPV6_2292PKTOPTIONS",
	},
	"raw6-icmp": sweepMissingRaw6,
	"raw6-255":  sweepMissingRaw6,
}

var sweepMissingRaw6 = map[[2]int]string{
	{unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_ALL}: "IPV6_MULTICAST_ALL",
}

// missingName is the name of opt at level when kind does not serve it.
func (k sockKind) missingName(level, opt int) (string, bool) {
	key := [2]int{level, opt}
	if n, ok := sweepMissing[key]; ok {
		return n, true
	}
	if k.family != unix.AF_INET6 {
		return "", false
	}
	if n, ok := sweepMissing6[key]; ok {
		return n, true
	}
	n, ok := sweepMissingOn[k.name][key]
	return n, ok
}

// sweepOpts returns the options of level in kind's sweep: those that are
// not skipped and are (missing=true) or are not (false) missing.
func sweepOpts(k sockKind, l sweepLevel, missing bool) []int {
	var opts []int
	for opt := 0; opt <= l.max; opt++ {
		if _, skip := sweepSkip[[2]int{l.level, opt}]; skip {
			continue
		}
		if _, m := k.missingName(l.level, opt); m == missing {
			opts = append(opts, opt)
		}
	}
	return opts
}

// sweepSocket reads each option of opts on a fresh socket of kind, with a
// buffer large enough for every fixed-size option (TCP_INFO is 248 bytes
// on 6.18; the buffer is the size of the whole struct Linux fills).
func sweepSocket(e *harness.Env, k sockKind, l sweepLevel, opts []int) {
	if k.needPingRange {
		e.Check("set ping_group_range", e.SetSysctl(e.DUT, pingGroupRange, "0 0"))
	}
	family := unix.AF_INET
	if k.family != 0 {
		family = k.family
	}
	s := e.Socket(e.DUT, family, k.typ, k.proto)
	for _, opt := range opts {
		buf := make([]byte, 512)
		n, err := s.GetSockOpt(l.level, opt, buf)
		if err != nil {
			e.Rec(fmt.Sprintf("get %s %d", l.name, opt), err)
			continue
		}
		e.Rec(fmt.Sprintf("get %s %d", l.name, opt), n, sweepValue(l.level, opt, buf[:n]))
	}
}

// sweepValue renders an option's bytes; TCP_INFO keeps only its fields that
// a fresh socket fixes (state, options, timeouts, MSS, window clamp), not
// its clocks.
func sweepValue(level, opt int, b []byte) string {
	if level == unix.IPPROTO_TCP && opt == unix.TCP_INFO && len(b) >= 8 {
		return fmt.Sprintf("state %d ca %d retransmits %d probes %d backoff %d options %d wscale %#x",
			b[0], b[1], b[2], b[3], b[4], b[5], b[6])
	}
	return fmt.Sprintf("%x", b)
}

// knobNames are the names of every knob the stack models, the per-device
// ones of lo and eth0 included, read from a scratch stack so the list
// follows the table.
var knobNames = sync.OnceValues(func() ([]string, error) {
	st, err := stack.New(stack.Config{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var names []string
	for _, n := range st.Sysctl().Names() {
		names = append(names, n)
		if lo := ".lo."; strings.Contains(n, lo) {
			names = append(names, strings.Replace(n, lo, ".eth0.", 1))
		}
	}
	return names, nil
})

// The missing options differ only where the socket has the level: TCP's
// options on TCP sockets, UDP's on UDP sockets; elsewhere both kernels
// refuse them alike and the scenario must stay identical.
func init() {
	for _, k := range allSweepKinds() {
		for _, l := range k.levels() {
			tcp, udp := k.typ == unix.SOCK_STREAM, k.typ == unix.SOCK_DGRAM && k.proto == 0
			if (l.level == unix.IPPROTO_TCP && !tcp) || (l.level == unix.IPPROTO_UDP && !udp) {
				continue
			}
			if missing := sweepOpts(k, l, true); len(missing) > 0 {
				Expected[fmt.Sprintf("defaults/%s/%s-missing", k.name, l.name)] =
					"missing: netsandbox answers ENOPROTOOPT to " + k.missingNames(l.level, missing)
			}
		}
	}
}

func allSweepKinds() []sockKind {
	return append(append([]sockKind(nil), sweepKinds...), sweepKinds6...)
}

// levels are the option levels kind is swept in.
func (k sockKind) levels() []sweepLevel {
	if k.family == unix.AF_INET6 {
		return sweepLevels6
	}
	return sweepLevels
}

// missingNames lists the names of level's missing options on kind.
func (k sockKind) missingNames(level int, opts []int) string {
	names := make([]string, len(opts))
	for i, o := range opts {
		names[i], _ = k.missingName(level, o)
	}
	return strings.Join(names, ", ")
}

func defaultsSweepScenarios() []harness.Scenario {
	scs := []harness.Scenario{{Name: "defaults/sysctl", Run: func(e *harness.Env) {
		names, err := knobNames()
		e.Check("knob names", err)
		for _, n := range names {
			v, err := e.DUT.GetSysctl(n)
			e.Rec(n, v, err)
		}
	}}}
	for _, k := range allSweepKinds() {
		for _, l := range k.levels() {
			k, l := k, l
			scs = append(scs, harness.Scenario{
				Name: fmt.Sprintf("defaults/%s/%s", k.name, l.name),
				Run:  func(e *harness.Env) { sweepSocket(e, k, l, sweepOpts(k, l, false)) },
			})
			if missing := sweepOpts(k, l, true); len(missing) > 0 {
				name := fmt.Sprintf("defaults/%s/%s-missing", k.name, l.name)
				scs = append(scs, harness.Scenario{
					Name: name,
					Run:  func(e *harness.Env) { sweepSocket(e, k, l, missing) },
				})
			}
		}
	}
	return scs
}
