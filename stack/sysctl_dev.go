package stack

import (
	"fmt"
	"strconv"
)

// Per-interface knobs. Linux makes conf/<dev>/ and neigh/<dev>/ for every
// device; a new device copies conf/default, and its neighbour parameters
// start from the table's defaults (neigh/default itself exists only in
// the initial namespace, so a sandbox, like a namespace, does not show it).

// devKnobs are the per-interface entries of one interface.
type devKnobs struct {
	ifindex  int
	loopback bool
	forward  *sysctlEntry
	// neighbour parameters the stack's NUD can honour (neigh.go)
	mcastSolicit, ucastSolicit, retransMS, reachableMS, delayProbe *sysctlEntry
	// conf holds the IGMP and MLD knobs, indexed as confKnobs
	// (igmp_report.go, mld_version.go).
	conf [len(confKnobs)]*sysctlEntry
}

// confKnobs are the conf.<dev>.* knobs with devinet_conf_proc's rules
// (devinet.c): any int. A new interface copies conf/default, together
// with which of its knobs were ever written (inetdev_init copies the
// state bits too): those start pinned. A write to conf/default is copied
// to every interface whose own knob is not pinned; a write to the
// interface's own knob, even a refused or an empty one, pins it (the
// in_dev->cnf.state bit), and giving the interface an address pins them
// all (pinDevice). Measured on 6.18 with veths in a scratch namespace.
//
// The MLD knobs live under net.ipv6.conf (addrconf.c): a new interface
// copies conf/default too, but a later write to conf/default reaches no
// existing interface, so their conf/default entries have no wrote hook.
var confKnobs = [...]string{
	confForceIGMP: "net.ipv4.conf.%s.force_igmp_version",
	confIGMPv2Ivl: "net.ipv4.conf.%s.igmpv2_unsolicited_report_interval",
	confIGMPv3Ivl: "net.ipv4.conf.%s.igmpv3_unsolicited_report_interval",
	confForceMLD:  "net.ipv6.conf.%s.force_mld_version",
	confMLDv1Ivl:  "net.ipv6.conf.%s.mldv1_unsolicited_report_interval",
	confMLDv2Ivl:  "net.ipv6.conf.%s.mldv2_unsolicited_report_interval",
}

const (
	confForceIGMP = iota
	confIGMPv2Ivl
	confIGMPv3Ivl
	confForceMLD
	confMLDv1Ivl
	confMLDv2Ivl
)

// confName is a conf knob's full name for dev ("all", "default" or an
// interface name).
func confName(i int, dev string) string { return fmt.Sprintf(confKnobs[i], dev) }

// confDefaultWrote is devinet_copy_dflt_conf: after a write to a
// conf.default knob, every interface whose own knob was never written
// takes its value.
// conf/default's own mark is copied with its value to new interfaces
// (inetdev_init copies the whole of conf/default, state bits included).
func confDefaultWrote(t *Sysctl, e *sysctlEntry) {
	e.set = true
	for i := range confKnobs {
		if confName(i, "default") != e.name {
			continue
		}
		for _, d := range t.devs {
			if !d.conf[i].set {
				d.conf[i].val.Store(e.val.Load())
			}
		}
	}
}

// pinDevice is ipv4_devconf_setall, which Linux runs when an address is
// given to an interface (inet_rtm_newaddr, SIOCSIFADDR; lo's 127.0.0.1
// when it comes up), existing or not: every conf knob of the interface
// counts as written, so conf/default no longer reaches it. Measured on
// 6.18: a veth took conf/default's igmpv3_unsolicited_report_interval
// until "ip addr add", lo until "ip link set lo up".
func (t *Sysctl) pinDevice(ifindex int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, d := range t.devs {
		if d.ifindex == ifindex {
			for _, e := range d.conf {
				e.set = true
			}
		}
	}
}

// markSet records that an interface's conf knob was written.
func markSet(_ *Sysctl, e *sysctlEntry) { e.set = true }

// devByIndex returns an interface's knobs, nil for an unknown ifindex.
func (t *Sysctl) devByIndex(ifindex int) *devKnobs {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, d := range t.devs {
		if d.ifindex == ifindex {
			return d
		}
	}
	return nil
}

// addDevice creates conf.<name>.* and neigh.<name>.* for a new interface
// and pushes their values into gVisor.
func (t *Sysctl) addDevice(ifindex int, name string, loopback bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dev == nil {
		t.dev = map[string]*sysctlEntry{}
	}
	d := &devKnobs{ifindex: ifindex, loopback: loopback}
	conf, neigh := "net.ipv4.conf."+name+".", "net.ipv4.neigh."+name+"."
	dflt := t.entries["net.ipv4.conf.default.forwarding"].val.Load()
	d.forward = &sysctlEntry{name: conf + "forwarding", min: intMin, max: intMax, def: strconv.FormatInt(dflt, 10),
		apply: func(s *Stack, _ *sysctlEntry) error { return s.applyDevForwarding(d) }}
	applyNeigh := func(s *Stack, _ *sysctlEntry) error { return s.applyNeigh(d) }
	// Linux's proc handlers: the solicit counts are ints from 0, the
	// _ms knobs milliseconds from 0; base_reachable_time and
	// delay_first_probe_time are seconds and take a sign (proc_dointvec_jiffies).
	// Values are kept exactly, as a kernel with HZ=1000 keeps them.
	d.mcastSolicit = &sysctlEntry{name: neigh + "mcast_solicit", def: "3", min: 0, max: intMax, apply: applyNeigh}
	d.ucastSolicit = &sysctlEntry{name: neigh + "ucast_solicit", def: "3", min: 0, max: intMax, apply: applyNeigh}
	d.retransMS = &sysctlEntry{name: neigh + "retrans_time_ms", def: "1000", min: 0, max: intMax, apply: applyNeigh}
	d.reachableMS = &sysctlEntry{name: neigh + "base_reachable_time_ms", def: "30000", min: 0, max: intMax, apply: applyNeigh}
	d.delayProbe = &sysctlEntry{name: neigh + "delay_first_probe_time", def: "5", min: -intMax / 1000, max: intMax / 1000, apply: applyNeigh}
	views := []*sysctlEntry{
		{name: neigh + "retrans_time", base: d.retransMS, unit: 10, min: 0, max: intMax / 10},
		{name: neigh + "base_reachable_time", base: d.reachableMS, unit: 1000, min: -intMax / 1000, max: intMax / 1000},
	}
	for i := range confKnobs {
		dflt := t.entries[confName(i, "default")]
		d.conf[i] = &sysctlEntry{name: confName(i, name), min: intMin, max: intMax, def: strconv.FormatInt(dflt.val.Load(), 10),
			wrote: markSet, set: dflt.set}
	}
	for _, e := range append([]*sysctlEntry{d.forward, d.mcastSolicit, d.ucastSolicit, d.retransMS, d.reachableMS, d.delayProbe}, d.conf[:]...) {
		lo, _, err := e.parse(nil, e.def)
		if err != nil {
			panic("stack: bad sysctl default for " + e.name)
		}
		e.store(lo, 0)
		t.dev[e.name] = e
	}
	for _, e := range views {
		t.dev[e.name] = e
	}
	t.devs = append(t.devs, d)
	if t.stack == nil {
		return nil
	}
	if err := t.stack.applyDevForwarding(d); err != nil {
		return err
	}
	return t.stack.applyNeigh(d)
}
