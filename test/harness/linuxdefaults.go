package harness

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"netsandbox/stack"
)

// A new network namespace does not start from Linux's compiled defaults for
// every knob: with net.core.devconf_inherit_init_net at its default (0) it
// copies the host's net.ipv4.conf.{all,default}.*, its devices copy the
// host's neigh/default, and TCP copies the host's tcp_rmem, tcp_wmem and
// congestion control. A Docker host (ip_forward=1) or a distribution's
// rp_filter=2 would then change the kernel DUT, and with it the verdict.
// pinLinuxDefaults writes Linux's compiled values over all of them, so a
// kernel namespace of ours behaves as a freshly booted kernel's would.

// confDefaults are the conf/all values of ipv4_devconf (net/ipv4/devinet.c);
// every knob not listed is 0 there. conf/default (ipv4_devconf_dflt) adds
// accept_source_route=1.
var confDefaults = map[string]string{
	"accept_redirects":                   "1",
	"secure_redirects":                   "1",
	"send_redirects":                     "1",
	"shared_media":                       "1",
	"arp_evict_nocarrier":                "1",
	"igmpv2_unsolicited_report_interval": "10000",
	"igmpv3_unsolicited_report_interval": "1000",
}

// confReadOnly are conf knobs no write may change (mc_forwarding belongs to
// the multicast routing daemon); they are checked, not written.
var confReadOnly = map[string]bool{"mc_forwarding": true}

// neighDefaults are arp_tbl's parameters (net/ipv4/arp.c) that a device's
// neigh/<dev>/ copies from the host's neigh/default.
var neighDefaults = [][2]string{
	{"mcast_solicit", "3"},
	{"ucast_solicit", "3"},
	{"app_solicit", "0"},
	{"mcast_resolicit", "0"},
	{"retrans_time_ms", "1000"},
	{"base_reachable_time_ms", "30000"},
	{"delay_first_probe_time", "5"},
	{"gc_stale_time", "60"},
	{"unres_qlen_bytes", "212992"},
	{"proxy_qlen", "64"},
	{"anycast_delay", "100"},
	{"proxy_delay", "80"},
	{"locktime", "100"},
	{"interval_probe_time_ms", "5000"},
}

// netnsDefaults are per-namespace knobs a new namespace copies from the
// host (tcp_sk_init copies init_net's rmem and wmem). The maxima are
// tcp_init's for any machine with more than about 1 GiB of memory, which
// is every machine these tests run on. tcp_congestion_control is copied
// too, but a namespace may only pick one of the host's allowed ones
// (tcp_set_default_congestion_control answers EPERM), so it stays the
// host's, and the defaults sweep leaves TCP_CONGESTION out.
var netnsDefaults = [][2]string{
	{"net.ipv4.tcp_rmem", "4096 131072 6291456"},
	{"net.ipv4.tcp_wmem", "4096 16384 4194304"},
}

// HostGlobalKnobs are knobs of the stack's table that Linux keeps once for
// the whole machine: a namespace shows the host's value and cannot change
// it (net_core_table is registered for init_net only, and the socket layer
// reads the global sysctl_rmem_max and friends). The kernel DUT therefore
// runs with the host's values, and the netsandbox DUT is given the same;
// every other knob starts from stack.New's own default on netsandbox and
// from Linux's compiled default on the kernel. The stack's defaults for
// these are pinned by its unit tests instead.
var HostGlobalKnobs = []string{
	"net.core.rmem_default",
	"net.core.rmem_max",
	"net.core.wmem_default",
	"net.core.wmem_max",
}

// pinLinuxDefaults gives namespace ns Linux's compiled values for every knob
// it copied from the host. Call it before the namespace has links other
// than lo: a write to conf/default reaches every device that has no
// address yet (devinet_copy_dflt_conf), lo included while it is down, and
// a device made later copies conf/default.
func pinLinuxDefaults(ns string) error {
	// forwarding first: writing conf/all/forwarding also writes
	// conf/default/forwarding and every device's (inet_forward_change).
	// lo copied conf/default when the namespace was made, and later
	// writes to conf/default do not reach it: it is pinned by name.
	for _, dir := range []string{"all", "default", "lo"} {
		if err := pinConf(ns, dir); err != nil {
			return err
		}
	}
	for _, kv := range netnsDefaults {
		if err := pinKnob(ns, kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// pinConf writes conf/<dir>/* (all, default or a device that copied
// default) to Linux's compiled values.
func pinConf(ns, dir string) error {
	names, err := confNames(ns, dir)
	if err != nil {
		return err
	}
	for _, k := range names {
		want := confDefaults[k]
		if want == "" {
			want = "0"
		}
		if dir != "all" && k == "accept_source_route" {
			want = "1"
		}
		name := "net.ipv4.conf." + dir + "." + k
		if confReadOnly[k] {
			if v, err := ReadSysctl(ns, name); err != nil || v != want {
				return fmt.Errorf("%s: %s is %q, want %q (read-only): %v", ns, name, v, want, err)
			}
			continue
		}
		if err := pinKnob(ns, name, want); err != nil {
			return err
		}
	}
	return nil
}

// pinNeigh writes neigh/<dev>/* to arp_tbl's compiled values.
func pinNeigh(ns, dev string) error {
	for _, kv := range neighDefaults {
		if err := pinKnob(ns, "net.ipv4.neigh."+dev+"."+kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// pinKnob writes name only when it differs, so that knobs already at
// their default are not marked as written. A knob this kernel lacks is
// not an error: older kernels have fewer.
func pinKnob(ns, name, want string) error {
	v, err := ReadSysctl(ns, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if v == want {
		return nil
	}
	if err := WriteSysctl(ns, name, strings.ReplaceAll(want, " ", "\t")); err != nil {
		return fmt.Errorf("%s: pin %s=%q (was %q): %w", ns, name, want, v, err)
	}
	return nil
}

// confNames lists the knobs under /proc/sys/net/ipv4/conf/<dir> in ns,
// forwarding first.
func confNames(ns, dir string) ([]string, error) {
	var names []string
	err := InNetns(ns, func() error {
		ents, err := os.ReadDir("/proc/sys/net/ipv4/conf/" + dir)
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return err
	})
	sort.SliceStable(names, func(i, j int) bool { return names[i] == "forwarding" && names[j] != "forwarding" })
	return names, err
}

// giveHostGlobals sets the stack's host-global knobs to the values the
// kernel DUT runs with (the host's), so the two DUTs start equal there.
func giveHostGlobals(st *stack.Stack, ns string) error {
	for _, name := range HostGlobalKnobs {
		v, err := ReadSysctl(ns, name)
		if err != nil {
			return fmt.Errorf("read host-global %s: %w", name, err)
		}
		if err := st.Sysctl().Set(name, v); err != nil {
			return fmt.Errorf("netsandbox refuses the host's %s=%q: %w", name, v, err)
		}
	}
	return nil
}
