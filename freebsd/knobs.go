package freebsd

import (
	"fmt"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"weak"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// Knobs are the FreeBSD sysctls the personality reads, one table per stack
// (Sysctl). Names and defaults are FreeBSD's: net.inet.ip.portrange.*
// (netinet/in.h IPPORT_*, in_pcb.c) and net.inet.ip.mcast.loop.
type Knobs struct {
	mu   sync.Mutex
	vals map[string]int

	// in_pcbbind_setup's per-protocol last ports (ipi_lastport,
	// ipi_lasthi, ipi_lastlow of udbinfo and tcbinfo).
	last map[lastKey]uint16
	// ipport_tick's state: TCP allocations, the count a tick ago, the
	// seconds sequential allocation still has to run, the last tick.
	tcpAllocs, tcpLastCount int
	stopRandom              int
	lastTick                time.Time

	// grpsrc is each in_multi's source count (inm_nsrc): the sources the
	// FreeBSD sockets of this stack hold for a group on an interface.
	grpsrc map[grpKey]map[netip.Addr]int
}

type grpKey struct {
	ifindex int
	group   netip.Addr
}

// holdGroupSource counts src into the group's sources as inm_merge does;
// a source the group does not have yet when it has maxgrpsrc is ENOSPC
// (inm_get_source).
func (k *Knobs) holdGroupSource(ifindex int, group, src netip.Addr) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	key := grpKey{ifindex, group}
	srcs := k.grpsrc[key]
	if srcs[src] == 0 && len(srcs) >= k.vals["net.inet.ip.mcast.maxgrpsrc"] {
		return unix.ENOSPC
	}
	if srcs == nil {
		srcs = map[netip.Addr]int{}
		k.grpsrc[key] = srcs
	}
	srcs[src]++
	return nil
}

func (k *Knobs) releaseGroupSource(ifindex int, group, src netip.Addr) {
	k.mu.Lock()
	defer k.mu.Unlock()
	key := grpKey{ifindex, group}
	if srcs := k.grpsrc[key]; srcs != nil {
		if srcs[src]--; srcs[src] <= 0 {
			delete(srcs, src)
		}
		if len(srcs) == 0 {
			delete(k.grpsrc, key)
		}
	}
}

type lastKey struct {
	typ, rng int
}

var knobDefaults = map[string]int{
	"net.inet.ip.portrange.first":        10000, // IPPORT_EPHEMERALFIRST
	"net.inet.ip.portrange.last":         65535, // IPPORT_EPHEMERALLAST
	"net.inet.ip.portrange.hifirst":      49152, // IPPORT_HIFIRSTAUTO
	"net.inet.ip.portrange.hilast":       65535, // IPPORT_HILASTAUTO
	"net.inet.ip.portrange.lowfirst":     1023,  // IPPORT_RESERVED - 1
	"net.inet.ip.portrange.lowlast":      600,   // IPPORT_RESERVEDSTART
	"net.inet.ip.portrange.reservedhigh": 1023,  // IPPORT_RESERVED - 1
	"net.inet.ip.portrange.reservedlow":  0,
	"net.inet.ip.portrange.randomized":   1,
	"net.inet.ip.portrange.randomcps":    10,
	"net.inet.ip.portrange.randomtime":   45,
	"net.inet.ip.mcast.loop":             1,   // IP_DEFAULT_MULTICAST_LOOP
	"net.inet.ip.mcast.maxgrpsrc":        512, // IP_MAX_GROUP_SRC_FILTER
	"net.inet.ip.mcast.maxsocksrc":       128, // IP_MAX_SOCK_SRC_FILTER
}

var (
	knobsMu sync.Mutex
	knobsOf = map[weak.Pointer[stack.Stack]]*Knobs{}
)

// Sysctl returns st's FreeBSD knob table, made with FreeBSD's defaults the
// first time it is asked for; it goes away with the stack.
func Sysctl(st *stack.Stack) *Knobs {
	wp := weak.Make(st)
	knobsMu.Lock()
	defer knobsMu.Unlock()
	if k, ok := knobsOf[wp]; ok {
		return k
	}
	k := &Knobs{vals: map[string]int{}, last: map[lastKey]uint16{}, grpsrc: map[grpKey]map[netip.Addr]int{}}
	for n, v := range knobDefaults {
		k.vals[n] = v
	}
	knobsOf[wp] = k
	runtime.AddCleanup(st, func(wp weak.Pointer[stack.Stack]) {
		knobsMu.Lock()
		delete(knobsOf, wp)
		knobsMu.Unlock()
	}, wp)
	return k
}

// Names lists the knobs.
func (k *Knobs) Names() []string {
	var out []string
	for n := range knobDefaults {
		out = append(out, n)
	}
	return out
}

// Get reads a knob (ENOENT for a name the table does not have).
func (k *Knobs) Get(name string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.vals[name]
	if !ok {
		return "", unix.ENOENT
	}
	return strconv.Itoa(v), nil
}

// Set writes a knob. The port-range knobs take 0..65535 (sysctl_net_ipport_check
// clamps to IPPORT_MAX; out of range is EINVAL here), reservedlow/high
// 0..65535, the others any int; a value that is not an integer is EINVAL.
func (k *Knobs) Set(name, value string) error {
	v, err := strconv.Atoi(strings.TrimSpace(value))
	if err != nil {
		return unix.EINVAL
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.vals[name]; !ok {
		return unix.ENOENT
	}
	if strings.HasPrefix(name, "net.inet.ip.portrange.") && !strings.HasPrefix(name, "net.inet.ip.portrange.random") && (v < 0 || v > 65535) {
		return unix.EINVAL
	}
	k.vals[name] = v
	return nil
}

func (k *Knobs) int(name string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.vals[name]
}

func (k *Knobs) String() string { return fmt.Sprint(k.vals) }
