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
	mu      sync.Mutex              // serialises Set and its side effects
	entries map[string]*sysctlEntry // fixed after newSysctl; read without mu
	names   []string
	stack   *Stack // for side effects into gVisor; nil until attach
	// dev holds the per-interface knobs (conf.<dev>.*, neigh.<dev>.*),
	// added as interfaces are; guarded by mu (sysctl_dev.go).
	dev  map[string]*sysctlEntry
	devs []*devKnobs
	// defTTL is ip_default_ttl's entry, kept so every send reads it
	// without a map lookup by name; it is the entry Set writes.
	defTTL *sysctlEntry
}

type sysctlKind int

const (
	kindInt   sysctlKind = iota // one integer
	kindPair                    // two integers, shown tab-separated
	kindULong                   // one unsigned long (proc_doulongvec_minmax), stored as its bits
)

// sysctlEntry is one knob. A pair is packed into one atomic word so readers
// never see half an update.
type sysctlEntry struct {
	name     string
	kind     sysctlKind
	min, max int64 // bounds of each integer (Linux's extra1/extra2)
	def      string
	val      atomic.Int64
	// check validates a parsed value against the rest of the table and may
	// rewrite it (ping_group_range turns an inverted range into "1 0").
	check func(t *Sysctl, lo, hi int64) (int64, int64, error)
	// apply pushes a new value into gVisor.
	apply func(s *Stack, e *sysctlEntry) error
	// changed runs under the table's lock after a write changed the value,
	// with or without a stack (ip_forward copies itself to conf.default
	// and every interface, as inet_forward_change does).
	changed func(t *Sysctl, e *sysctlEntry)
	// base and unit make the entry a view of another knob in other units:
	// it reads base/unit and writes value*unit (neigh retrans_time is
	// retrans_time_ms in hundredths of a second).
	base *sysctlEntry
	unit int64
	// aliases are further names of the same value (ip_forward is
	// conf/all/forwarding).
	aliases []string
	// wrote runs under the table's lock after every write, failed or
	// empty ones included: devinet_conf_proc marks a conf knob as set,
	// and copies conf/default to the interfaces, whatever proc_dointvec
	// returned (sysctl_dev.go).
	wrote func(t *Sysctl, e *sysctlEntry)
	// set tells that an interface's conf knob was written, so conf/default
	// no longer overrides it (Linux's in_dev->cnf.state bit). Guarded by
	// the table's lock.
	set bool
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
		{name: "net.ipv4.ip_unprivileged_port_start", def: "1024", min: 0, max: 65535, check: checkUnprivilegedPortStart},
		// u8 knobs (proc_dou8vec_minmax): 0..255.
		{name: "net.ipv4.ip_nonlocal_bind", def: "0", min: 0, max: 255},
		{name: "net.ipv4.ip_no_pmtu_disc", def: "0", min: 0, max: 255},
		{name: "net.ipv4.ip_dynaddr", def: "0", min: 0, max: 255},
		// ip_forward is conf/all/forwarding (devinet.c): any int; a change
		// is copied to conf/default and every interface (forward.go).
		{name: "net.ipv4.ip_forward", aliases: []string{"net.ipv4.conf.all.forwarding"}, def: "0", min: intMin, max: intMax,
			changed: forwardAllChanged, apply: applyForwarding},
		{name: "net.ipv4.conf.default.forwarding", def: "0", min: intMin, max: intMax},
		// The IGMP conf knobs of conf/all and conf/default (devinet.c's
		// devinet_conf_proc over proc_dointvec: any int). conf/all's
		// force_igmp_version counts for every interface besides the
		// interface's own; conf/all's intervals count for nothing. A
		// write to conf/default is copied to every interface whose own
		// knob was never written (sysctl_dev.go).
		{name: "net.ipv4.conf.all.force_igmp_version", def: "0", min: intMin, max: intMax},
		{name: "net.ipv4.conf.all.igmpv2_unsolicited_report_interval", def: "10000", min: intMin, max: intMax},
		{name: "net.ipv4.conf.all.igmpv3_unsolicited_report_interval", def: "1000", min: intMin, max: intMax},
		{name: "net.ipv4.conf.default.force_igmp_version", def: "0", min: intMin, max: intMax, wrote: confDefaultWrote},
		{name: "net.ipv4.conf.default.igmpv2_unsolicited_report_interval", def: "10000", min: intMin, max: intMax,
			wrote: confDefaultWrote},
		{name: "net.ipv4.conf.default.igmpv3_unsolicited_report_interval", def: "1000", min: intMin, max: intMax,
			wrote: confDefaultWrote},
		// MLD's conf knobs (addrconf.c: proc_dointvec, the intervals
		// proc_dointvec_ms_jiffies; any int). As for IGMP, conf/all's
		// force_mld_version counts for every interface (and before the
		// interface's own), its intervals for nothing.
		{name: "net.ipv6.conf.all.force_mld_version", def: "0", min: intMin, max: intMax},
		{name: "net.ipv6.conf.all.mldv1_unsolicited_report_interval", def: "10000", min: intMin, max: intMax},
		{name: "net.ipv6.conf.all.mldv2_unsolicited_report_interval", def: "1000", min: intMin, max: intMax},
		{name: "net.ipv6.conf.default.force_mld_version", def: "0", min: intMin, max: intMax},
		{name: "net.ipv6.conf.default.mldv1_unsolicited_report_interval", def: "10000", min: intMin, max: intMax},
		{name: "net.ipv6.conf.default.mldv2_unsolicited_report_interval", def: "1000", min: intMin, max: intMax},
		// Reassembly memory bounds (ip_fragment.c): unsigned longs, the
		// high one at least the low one.
		{name: "net.ipv4.ipfrag_high_thresh", kind: kindULong, def: "4194304", check: checkFragHigh},
		{name: "net.ipv4.ipfrag_low_thresh", kind: kindULong, def: "3145728", check: checkFragLow},
		{name: "net.ipv4.igmp_max_memberships", def: "20", min: intMin, max: intMax},
		{name: "net.ipv4.igmp_max_msf", def: "10", min: intMin, max: intMax},
		{name: "net.ipv4.igmp_qrv", def: "2", min: 1, max: intMax},
		// No net.ipv6.mld_qrv nor mld_max_msf: Linux registers them
		// in the initial namespace only (ipv6_rotable), so a namespace,
		// like a sandbox, has neither and uses their defaults
		// (mldQRV here, endpoint's mldMaxMsf).
		{name: "net.ipv4.ping_group_range", kind: kindPair, def: "1\t0", min: 0, max: 1<<32 - 2,
			check: checkPingGroupRange},
		{name: "net.ipv4.udp_rmem_min", def: "4096", min: 1, max: intMax},
		{name: "net.ipv4.udp_wmem_min", def: "4096", min: 1, max: intMax},
		{name: "net.ipv4.route.min_pmtu", def: "552", min: 68, max: intMax},
		{name: "net.ipv4.route.mtu_expires", def: "600", min: intMin, max: intMax},
		// IPv6's own (ip6_rt_mtu_expires, proc_dointvec_jiffies): how
		// long a path MTU learnt from packet too big lasts (pmtu6.go).
		{name: "net.ipv6.route.mtu_expires", def: "600", min: intMin, max: intMax},
		{name: "net.ipv4.icmp_ratelimit", def: "1000", min: 0, max: intMax},
		{name: "net.ipv4.icmp_ratemask", def: "6168", min: intMin, max: intMax},
		{name: "net.ipv4.icmp_msgs_per_sec", def: "1000", min: 0, max: intMax},
		{name: "net.ipv4.icmp_msgs_burst", def: "50", min: 0, max: intMax},
		{name: "net.ipv4.icmp_echo_ignore_all", def: "0", min: 0, max: 1},
		{name: "net.ipv4.icmp_echo_ignore_broadcasts", def: "1", min: 0, max: 1},
		// Linux's compiled-in defaults (SK_RMEM_MAX/SK_WMEM_MAX); a host may
		// raise the _max pair, which Config.Sysctl can mirror. The minimums
		// are SOCK_MIN_RCVBUF and SOCK_MIN_SNDBUF on 64-bit.
		{name: "net.core.rmem_default", def: "212992", min: 2304, max: intMax},
		{name: "net.core.rmem_max", def: "212992", min: 2304, max: intMax},
		{name: "net.core.wmem_default", def: "212992", min: 4608, max: intMax},
		{name: "net.core.wmem_max", def: "212992", min: 4608, max: intMax},
		{name: "net.core.optmem_max", def: "131072", min: 0, max: intMax},
		{name: "net.core.somaxconn", def: "4096", min: 0, max: intMax},
	}
}

func newSysctl(overrides map[string]string) (*Sysctl, error) {
	t := &Sysctl{entries: map[string]*sysctlEntry{}}
	for _, e := range sysctlDefs() {
		lo, hi, err := e.parse(nil, e.def) // defaults are consistent; no cross-checks
		if err != nil {
			panic("stack: bad sysctl default for " + e.name)
		}
		e.store(lo, hi)
		for _, n := range append([]string{e.name}, e.aliases...) {
			t.entries[n] = e
			t.names = append(t.names, n)
		}
	}
	sort.Strings(t.names)
	t.defTTL = t.entries["net.ipv4.ip_default_ttl"]
	// Apply overrides in name order so the result does not depend on map
	// iteration. Knobs that check each other (ip_local_port_range and
	// ip_unprivileged_port_start) may need another knob set first, so
	// failures are retried while some override succeeds.
	pending := make([]string, 0, len(overrides))
	for k := range overrides {
		pending = append(pending, k)
	}
	sort.Strings(pending)
	for len(pending) > 0 {
		var failed []string
		var lastErr error
		for _, k := range pending {
			if err := t.Set(k, overrides[k]); err != nil {
				failed = append(failed, k)
				lastErr = err
			}
		}
		if len(failed) == len(pending) {
			return nil, lastErr
		}
		pending = failed
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
// the kernel's proc handler rejects, ENOENT for an unknown name. As with
// proc_dointvec, an empty write changes nothing, values beyond the knob's
// count are ignored, and a pair written with one value keeps its second.
func (t *Sysctl) Set(name, value string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.lookupLocked(name)
	if e == nil {
		return unix.ENOENT
	}
	if e.wrote != nil {
		defer e.wrote(t, e) // before the unlock
	}
	if value == "" {
		return nil
	}
	lo, hi, err := e.parse(t, value)
	if err != nil {
		return err
	}
	if e.base != nil {
		e, lo = e.base, lo*e.unit
	}
	old := e.val.Load()
	e.store(lo, hi)
	if e.changed != nil && e.val.Load() != old {
		e.changed(t, e)
	}
	if e.apply != nil && t.stack != nil {
		if err := e.apply(t.stack, e); err != nil {
			e.val.Store(old)
			return err
		}
	}
	return nil
}

// lookupLocked finds a knob by name, the table's own or an interface's.
func (t *Sysctl) lookupLocked(name string) *sysctlEntry {
	if e, ok := t.entries[name]; ok {
		return e
	}
	return t.dev[name]
}

// Get reads a value as /proc/sys/<name> shows it (without the newline).
func (t *Sysctl) Get(name string) (string, error) {
	t.mu.Lock()
	e := t.lookupLocked(name)
	t.mu.Unlock()
	if e == nil {
		return "", unix.ENOENT
	}
	switch {
	case e.base != nil:
		return strconv.FormatInt(e.base.val.Load()/e.unit, 10), nil
	case e.kind == kindPair:
		lo, hi := e.pair()
		return strconv.FormatInt(lo, 10) + "\t" + strconv.FormatInt(hi, 10), nil
	case e.kind == kindULong:
		return strconv.FormatUint(uint64(e.val.Load()), 10), nil
	}
	return strconv.FormatInt(e.val.Load(), 10), nil
}

// Names returns every knob's name, sorted, the interfaces' included.
func (t *Sysctl) Names() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	names := append([]string(nil), t.names...)
	for n := range t.dev {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Int reads an integer knob. An unknown name or a pair knob is a programming
// error and panics.
func (t *Sysctl) Int(name string) int {
	e := t.entries[name]
	if e == nil || e.kind != kindInt {
		panic("stack: no integer sysctl " + name)
	}
	return int(e.val.Load())
}

// DefaultTTL reads net.ipv4.ip_default_ttl, as Int does, for the send path.
func (t *Sysctl) DefaultTTL() int { return int(t.defTTL.val.Load()) }

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

// store packs a pair as two 32-bit halves (ping_group_range reaches
// 2^32-2, so the halves are unsigned).
func (e *sysctlEntry) store(lo, hi int64) {
	if e.kind == kindPair {
		e.val.Store(int64(uint64(uint32(lo))<<32 | uint64(uint32(hi))))
		return
	}
	e.val.Store(lo)
}

func (e *sysctlEntry) pair() (lo, hi int64) {
	v := uint64(e.val.Load())
	return int64(v >> 32), int64(uint32(v))
}

// parse reads a value the way proc_dointvec_minmax does: integers separated
// by white space, each in C's base-0 syntax (decimal, 0x hex, 0 octal) with
// an optional minus sign, each within [min, max].
func (e *sysctlEntry) parse(t *Sysctl, s string) (lo, hi int64, err error) {
	want := 1
	if e.kind == kindPair {
		want = 2
		lo, hi = e.pair()
	}
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return 0, 0, unix.EINVAL
	}
	if e.kind == kindULong {
		// proc_doulongvec_minmax: no sign, base 0, the whole 64 bits.
		u, ok := parseCULong(fields[0])
		if !ok {
			return 0, 0, unix.EINVAL
		}
		if e.check != nil && t != nil {
			return e.check(t, int64(u), 0)
		}
		return int64(u), 0, nil
	}
	v := [2]int64{lo, hi}
	for i := 0; i < want && i < len(fields); i++ {
		n, ok := parseCInt(fields[i])
		if !ok || n < e.min || n > e.max {
			return 0, 0, unix.EINVAL
		}
		v[i] = n
	}
	if e.check != nil && t != nil {
		return e.check(t, v[0], v[1])
	}
	return v[0], v[1], nil
}

// parseCInt parses an integer as the kernel's proc_get_long does:
// optional '-', then strtoul with base 0. Results beyond 32 bits fail.
func parseCInt(s string) (int64, bool) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	base := 10
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	if s == "" || s[0] == '+' || s[0] == '-' {
		return 0, false
	}
	u, err := strconv.ParseUint(s, base, 64)
	if err != nil || u > 1<<32 {
		return 0, false
	}
	n := int64(u)
	if neg {
		n = -n
	}
	return n, true
}

// parseCULong parses an unsigned long as proc_doulongvec_minmax does:
// strtoul with base 0, no sign (a minus is EINVAL), 64 bits.
func parseCULong(s string) (uint64, bool) {
	base := 10
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	if s == "" || s[0] == '+' || s[0] == '-' {
		return 0, false
	}
	u, err := strconv.ParseUint(s, base, 64)
	return u, err == nil
}

// checkPortRange is ipv4_local_port_range's rule: the range may not be
// inverted nor start below ip_unprivileged_port_start.
func checkPortRange(t *Sysctl, lo, hi int64) (int64, int64, error) {
	if hi < lo || lo < t.entries["net.ipv4.ip_unprivileged_port_start"].val.Load() {
		return 0, 0, unix.EINVAL
	}
	return lo, hi, nil
}

// checkUnprivilegedPortStart is ipv4_privileged_ports's rule: the
// privileged ports may not overlap the local port range.
func checkUnprivilegedPortStart(t *Sysctl, v, _ int64) (int64, int64, error) {
	lo, _ := t.entries["net.ipv4.ip_local_port_range"].pair()
	if v > lo {
		return 0, 0, unix.EINVAL
	}
	return v, 0, nil
}

// checkPingGroupRange is ipv4_ping_group_range's rule: an inverted range
// disables ping sockets ("1 0") instead of failing.
func checkPingGroupRange(_ *Sysctl, lo, hi int64) (int64, int64, error) {
	if hi < lo {
		return 1, 0, nil
	}
	return lo, hi, nil
}

// checkFragHigh is ipfrag_high_thresh's bound: not below ipfrag_low_thresh.
func checkFragHigh(t *Sysctl, v, _ int64) (int64, int64, error) {
	if uint64(v) < uint64(t.entries["net.ipv4.ipfrag_low_thresh"].val.Load()) {
		return 0, 0, unix.EINVAL
	}
	return v, 0, nil
}

// checkFragLow is ipfrag_low_thresh's bound: not above ipfrag_high_thresh.
func checkFragLow(t *Sysctl, v, _ int64) (int64, int64, error) {
	if uint64(v) > uint64(t.entries["net.ipv4.ipfrag_high_thresh"].val.Load()) {
		return 0, 0, unix.EINVAL
	}
	return v, 0, nil
}
