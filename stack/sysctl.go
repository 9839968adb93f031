package stack

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Sysctl is the stack's table of Linux knobs, by their /proc/sys names
// ("net.ipv4.ip_default_ttl"). Reads are atomic loads because the data path
// reads them per packet; writes are serialised.
type Sysctl struct {
	mu      sync.Mutex // serialises Set and its side effects
	entries map[string]*sysctlEntry
	names   []string
	stack   *Stack // for side effects into gVisor; nil until attach
}

type sysctlKind int

const (
	kindInt  sysctlKind = iota // one integer
	kindPair                   // two integers, shown tab-separated
)

// sysctlEntry is one knob. A pair is packed into one atomic word so readers
// never see half an update.
type sysctlEntry struct {
	name     string
	kind     sysctlKind
	min, max int64 // bounds of each integer (Linux's extra1/extra2)
	def      string
	val      atomic.Int64
	// check validates a parsed pair and may rewrite it (ping_group_range
	// turns an inverted range into the disabled "1 0").
	check func(lo, hi int64) (int64, int64, error)
	// apply pushes a new value into gVisor.
	apply func(s *Stack, e *sysctlEntry) error
}

const (
	intMin = -1 << 31
	intMax = 1<<31 - 1
)

// sysctlDefs lists the knobs with Linux's defaults and its proc handlers'
// bounds (net/ipv4/sysctl_net_ipv4.c, net/core/sysctl_net_core.c).
func sysctlDefs() []*sysctlEntry {
	return []*sysctlEntry{
		{name: "net.ipv4.ip_default_ttl", def: "64", min: 1, max: 255, apply: applyDefaultTTL},
		{name: "net.ipv4.ip_local_port_range", kind: kindPair, def: "32768\t60999", min: 1, max: 65535,
			check: checkPortRange, apply: applyPortRange},
		{name: "net.ipv4.ip_nonlocal_bind", def: "0", min: intMin, max: intMax},
		{name: "net.ipv4.ip_no_pmtu_disc", def: "0", min: intMin, max: intMax},
		{name: "net.ipv4.ip_forward", def: "0", min: intMin, max: intMax},
		{name: "net.ipv4.ip_unprivileged_port_start", def: "1024", min: 0, max: 65535},
		{name: "net.ipv4.igmp_max_memberships", def: "20", min: intMin, max: intMax},
		{name: "net.ipv4.igmp_max_msf", def: "10", min: intMin, max: intMax},
		{name: "net.ipv4.igmp_qrv", def: "2", min: 1, max: intMax},
		{name: "net.ipv4.ping_group_range", kind: kindPair, def: "1\t0", min: 0, max: intMax - 1,
			check: checkPingGroupRange},
		{name: "net.ipv4.udp_rmem_min", def: "4096", min: 1, max: intMax},
		{name: "net.ipv4.udp_wmem_min", def: "4096", min: 1, max: intMax},
		{name: "net.ipv4.route.min_pmtu", def: "552", min: 68, max: intMax},
		{name: "net.ipv4.route.mtu_expires", def: "600", min: intMin, max: intMax},
		{name: "net.ipv4.icmp_ratelimit", def: "1000", min: intMin, max: intMax},
		{name: "net.ipv4.icmp_ratemask", def: "6168", min: intMin, max: intMax},
		{name: "net.ipv4.icmp_msgs_per_sec", def: "1000", min: 0, max: intMax},
		{name: "net.ipv4.icmp_msgs_burst", def: "50", min: 0, max: intMax},
		{name: "net.ipv4.icmp_echo_ignore_all", def: "0", min: 0, max: 1},
		{name: "net.ipv4.icmp_echo_ignore_broadcasts", def: "1", min: 0, max: 1},
		{name: "net.core.rmem_default", def: "212992", min: 2304, max: intMax},
		{name: "net.core.rmem_max", def: "212992", min: 2304, max: intMax},
		{name: "net.core.wmem_default", def: "212992", min: 4608, max: intMax},
		{name: "net.core.wmem_max", def: "212992", min: 4608, max: intMax},
		{name: "net.core.optmem_max", def: "131072", min: intMin, max: intMax},
		{name: "net.core.somaxconn", def: "4096", min: 0, max: intMax},
	}
}

func newSysctl(overrides map[string]string) (*Sysctl, error) {
	t := &Sysctl{entries: map[string]*sysctlEntry{}}
	for _, e := range sysctlDefs() {
		lo, hi, err := e.parse(e.def)
		if err != nil {
			panic("stack: bad sysctl default for " + e.name)
		}
		e.store(lo, hi)
		t.entries[e.name] = e
		t.names = append(t.names, e.name)
	}
	sort.Strings(t.names)
	// Apply overrides in name order so the result does not depend on map
	// iteration.
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := t.Set(k, overrides[k]); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// attach connects the table to its stack so later Sets reach gVisor.
func (t *Sysctl) attach(s *Stack) {
	t.mu.Lock()
	t.stack = s
	t.mu.Unlock()
}

// apply pushes every knob that gVisor also holds into gVisor.
func (t *Sysctl) apply() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, n := range t.names {
		e := t.entries[n]
		if e.apply != nil {
			if err := e.apply(t.stack, e); err != nil {
				return err
			}
		}
	}
	return nil
}

// Set writes a value as writing /proc/sys/<name> would: EINVAL for a value
// the kernel's proc handler rejects, ENOENT for an unknown name.
func (t *Sysctl) Set(name, value string) error {
	e, ok := t.entries[name]
	if !ok {
		return unix.ENOENT
	}
	lo, hi, err := e.parse(value)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	old := e.val.Load()
	e.store(lo, hi)
	if e.apply != nil && t.stack != nil {
		if err := e.apply(t.stack, e); err != nil {
			e.val.Store(old)
			return err
		}
	}
	return nil
}

// Get reads a value as /proc/sys/<name> shows it (without the newline).
func (t *Sysctl) Get(name string) (string, error) {
	e, ok := t.entries[name]
	if !ok {
		return "", unix.ENOENT
	}
	if e.kind == kindPair {
		lo, hi := e.pair()
		return strconv.FormatInt(lo, 10) + "\t" + strconv.FormatInt(hi, 10), nil
	}
	return strconv.FormatInt(e.val.Load(), 10), nil
}

// Names returns every knob's name, sorted.
func (t *Sysctl) Names() []string { return append([]string(nil), t.names...) }

// Int reads an integer knob. An unknown name or a pair knob is a programming
// error and panics.
func (t *Sysctl) Int(name string) int {
	e := t.entries[name]
	if e == nil || e.kind != kindInt {
		panic("stack: no integer sysctl " + name)
	}
	return int(e.val.Load())
}

// Pair reads a two-value knob (ip_local_port_range, ping_group_range). An
// unknown name or an integer knob is a programming error and panics.
func (t *Sysctl) Pair(name string) (lo, hi int) {
	e := t.entries[name]
	if e == nil || e.kind != kindPair {
		panic("stack: no pair sysctl " + name)
	}
	l, h := e.pair()
	return int(l), int(h)
}

func (e *sysctlEntry) store(lo, hi int64) {
	if e.kind == kindPair {
		e.val.Store(lo<<32 | (hi & 0xffffffff))
		return
	}
	e.val.Store(lo)
}

func (e *sysctlEntry) pair() (lo, hi int64) {
	v := e.val.Load()
	return v >> 32, int64(int32(uint32(v)))
}

// parse reads a value the way proc_dointvec_minmax does: integers separated
// by white space, each within [min, max].
func (e *sysctlEntry) parse(s string) (lo, hi int64, err error) {
	want := 1
	if e.kind == kindPair {
		want = 2
	}
	fields := strings.Fields(s)
	if len(fields) < want {
		return 0, 0, unix.EINVAL
	}
	var v [2]int64
	for i := 0; i < want; i++ {
		n, err := strconv.ParseInt(fields[i], 10, 64)
		if err != nil || n < e.min || n > e.max {
			return 0, 0, unix.EINVAL
		}
		v[i] = n
	}
	if e.check != nil {
		return e.check(v[0], v[1])
	}
	return v[0], v[1], nil
}

// checkPortRange is ipv4_local_port_range's rule: the range may not be
// inverted.
func checkPortRange(lo, hi int64) (int64, int64, error) {
	if hi < lo {
		return 0, 0, unix.EINVAL
	}
	return lo, hi, nil
}

// checkPingGroupRange is ipv4_ping_group_range's rule: an inverted range
// disables ping sockets ("1 0") instead of failing.
func checkPingGroupRange(lo, hi int64) (int64, int64, error) {
	if hi < lo {
		return 1, 0, nil
	}
	return lo, hi, nil
}
