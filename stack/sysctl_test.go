package stack_test

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"

	"netsandbox/stack"
)

func TestSysctlDefaults(t *testing.T) {
	s := newStack(t, stack.Config{})
	want := map[string]string{
		"net.ipv4.ip_default_ttl":             "64",
		"net.ipv4.ip_local_port_range":        "32768\t60999",
		"net.ipv4.ip_nonlocal_bind":           "0",
		"net.ipv4.ip_no_pmtu_disc":            "0",
		"net.ipv4.igmp_max_memberships":       "20",
		"net.ipv4.igmp_max_msf":               "10",
		"net.ipv4.ping_group_range":           "1\t0",
		"net.core.rmem_default":               "212992",
		"net.core.rmem_max":                   "212992",
		"net.core.wmem_default":               "212992",
		"net.core.wmem_max":                   "212992",
		"net.ipv4.udp_rmem_min":               "4096",
		"net.ipv4.udp_wmem_min":               "4096",
		"net.ipv4.route.min_pmtu":             "552",
		"net.ipv4.route.mtu_expires":          "600",
		"net.ipv6.route.mtu_expires":          "600",
		"net.ipv4.ip_forward":                 "0",
		"net.ipv4.ip_unprivileged_port_start": "1024",
		// MLD's conf knobs (addrconf.c's defaults).
		"net.ipv6.conf.all.force_mld_version":                     "0",
		"net.ipv6.conf.default.mldv1_unsolicited_report_interval": "10000",
		"net.ipv6.conf.default.mldv2_unsolicited_report_interval": "1000",
	}
	for name, v := range want {
		got, err := s.Sysctl().Get(name)
		if err != nil || got != v {
			t.Errorf("Get(%s) = %q, %v; want %q", name, got, err, v)
		}
	}
	if n := s.Sysctl().Int("net.ipv4.ip_default_ttl"); n != 64 {
		t.Errorf("Int(ttl) = %d", n)
	}
	if n := s.Sysctl().DefaultTTL(); n != 64 {
		t.Errorf("DefaultTTL() = %d", n)
	}
	if err := s.Sysctl().Set("net.ipv4.ip_default_ttl", "9"); err != nil {
		t.Fatal(err)
	}
	if n := s.Sysctl().DefaultTTL(); n != 9 {
		t.Errorf("DefaultTTL() after Set 9 = %d", n)
	}
	if err := s.Sysctl().Set("net.ipv4.ip_default_ttl", "0"); err == nil {
		t.Error("Set ttl 0 accepted")
	}
	if n := s.Sysctl().DefaultTTL(); n != 9 {
		t.Errorf("DefaultTTL() after refused Set = %d", n)
	}
	if lo, hi := s.Sysctl().Pair("net.ipv4.ip_local_port_range"); lo != 32768 || hi != 60999 {
		t.Errorf("Pair(port range) = %d, %d", lo, hi)
	}
	if _, err := s.Sysctl().Get("net.ipv4.nope"); !errors.Is(err, unix.ENOENT) {
		t.Errorf("Get(unknown) err %v", err)
	}
	if len(s.Sysctl().Names()) < len(want) {
		t.Errorf("Names() has %d entries", len(s.Sysctl().Names()))
	}
}

// TestSysctlSetValidation checks Set against what writing /proc/sys does on
// Linux 6.x (each row was measured on this kernel in a fresh netns). Rows
// run in order on one table; want is the value read back afterwards.
func TestSysctlSetValidation(t *testing.T) {
	s := newStack(t, stack.Config{})
	rows := []struct {
		name, value string
		err         unix.Errno
		want        string
	}{
		{"net.ipv4.ip_default_ttl", "64 5", 0, "64"}, // extra values are ignored
		{"net.ipv4.ip_default_ttl", "0x41", 0, "65"}, // base 0: hex
		{"net.ipv4.ip_default_ttl", "010", 0, "8"},   // base 0: octal
		{"net.ipv4.ip_default_ttl", " 66\t5", 0, "66"},
		{"net.ipv4.ip_default_ttl", "70\n", 0, "70"},
		{"net.ipv4.ip_default_ttl", "", 0, "70"}, // empty write changes nothing
		{"net.ipv4.ip_default_ttl", "   ", unix.EINVAL, "70"},
		{"net.ipv4.ip_default_ttl", "64x", unix.EINVAL, "70"},
		{"net.ipv4.ip_default_ttl", "+64", unix.EINVAL, "70"},
		{"net.ipv4.ip_default_ttl", "70,5", unix.EINVAL, "70"},
		{"net.ipv4.ip_default_ttl", "-1", unix.EINVAL, "70"},
		{"net.ipv4.ip_default_ttl", "0", unix.EINVAL, "70"},
		{"net.ipv4.ip_default_ttl", "256", unix.EINVAL, "70"},
		{"net.ipv4.ip_default_ttl", "255", 0, "255"},
		{"net.ipv4.ip_local_port_range", "100 50", unix.EINVAL, "32768\t60999"},
		{"net.ipv4.ip_local_port_range", "1 65535", unix.EINVAL, "32768\t60999"}, // below ip_unprivileged_port_start
		{"net.ipv4.ip_local_port_range", "1023 2000", unix.EINVAL, "32768\t60999"},
		{"net.ipv4.ip_local_port_range", "1024 65536", unix.EINVAL, "32768\t60999"},
		{"net.ipv4.ip_local_port_range", "1024 65535", 0, "1024\t65535"},
		{"net.ipv4.ip_local_port_range", "2000 2000", 0, "2000\t2000"},
		{"net.ipv4.ip_local_port_range", "40000", unix.EINVAL, "2000\t2000"}, // 40000 2000 is inverted
		{"net.ipv4.ip_local_port_range", "1500", 0, "1500\t2000"},
		{"net.ipv4.ip_local_port_range", "40000 40001 5", 0, "40000\t40001"},
		{"net.ipv4.ip_local_port_range", "1024,2000", unix.EINVAL, "40000\t40001"},
		{"net.ipv4.ip_unprivileged_port_start", "500", 0, "500"},
		{"net.ipv4.ip_local_port_range", "600 700", 0, "600\t700"},
		{"net.ipv4.ip_unprivileged_port_start", "800", unix.EINVAL, "500"}, // would overlap the range
		{"net.ipv4.ip_unprivileged_port_start", "-1", unix.EINVAL, "500"},
		{"net.ipv4.ip_unprivileged_port_start", "0", 0, "0"},
		{"net.ipv4.ping_group_range", "10 5", 0, "1\t0"}, // inverted disables
		{"net.ipv4.ping_group_range", "0 4294967294", 0, "0\t4294967294"},
		{"net.ipv4.ping_group_range", "0 4294967295", unix.EINVAL, "0\t4294967294"},
		{"net.ipv4.ping_group_range", "0 2147483647", 0, "0\t2147483647"},
		{"net.ipv4.ping_group_range", "-1 5", unix.EINVAL, "0\t2147483647"},
		{"net.ipv4.ping_group_range", "5", 0, "5\t2147483647"},
		{"net.ipv4.ip_nonlocal_bind", "2", 0, "2"},
		{"net.ipv4.ip_nonlocal_bind", "-1", unix.EINVAL, "2"},
		{"net.ipv4.ip_no_pmtu_disc", "-1", unix.EINVAL, "0"},
		{"net.ipv4.ip_forward", "-1", 0, "-1"},
		{"net.ipv4.igmp_max_memberships", "-1", 0, "-1"},
		{"net.ipv4.igmp_max_memberships", "2147483648", unix.EINVAL, "-1"},
		{"net.ipv4.igmp_max_msf", "99999999999999999999", unix.EINVAL, "10"},
		{"net.ipv4.udp_rmem_min", "0", unix.EINVAL, "4096"},
		{"net.ipv4.udp_rmem_min", "1", 0, "1"},
		{"net.ipv4.route.min_pmtu", "67", unix.EINVAL, "552"},
		{"net.ipv4.route.min_pmtu", "68", 0, "68"},
		{"net.ipv4.route.min_pmtu", "65537", 0, "65537"},
		{"net.ipv4.icmp_echo_ignore_all", "2", unix.EINVAL, "0"},
		{"net.ipv4.igmp_qrv", "0", unix.EINVAL, "2"},
		{"net.core.somaxconn", "-1", unix.EINVAL, "4096"},
		{"net.ipv4.no_such_knob", "1", unix.ENOENT, ""},
	}
	for _, r := range rows {
		err := s.Sysctl().Set(r.name, r.value)
		if got := asErrno(err); got != r.err {
			t.Errorf("Set(%s, %q) = %v, want %v", r.name, r.value, err, r.err)
		}
		if r.err == unix.ENOENT {
			continue
		}
		if got, _ := s.Sysctl().Get(r.name); got != r.want {
			t.Errorf("after Set(%s, %q): Get = %q, want %q", r.name, r.value, got, r.want)
		}
	}
}

func TestSysctlReachesGvisor(t *testing.T) {
	// An override in Config and a later Set both reach the data path:
	// ip_default_ttl is the TTL of datagrams sent with TTL 0.
	a := newStack(t, stack.Config{Sysctl: map[string]string{"net.ipv4.ip_default_ttl": "33"}})
	r := newRecorder()
	bind(t, a, r, "127.0.0.1:9000", stack.UDPBindFlags{})
	send := func() uint8 {
		t.Helper()
		must(t, a.SendUDP(&stack.UDPSend{Src: ap("127.0.0.1:9001"), Dst: ap("127.0.0.1:9000")}))
		return r.next(t).TTL
	}
	if ttl := send(); ttl != 33 {
		t.Errorf("TTL %d, want 33", ttl)
	}
	must(t, a.Sysctl().Set("net.ipv4.ip_default_ttl", "99"))
	if ttl := send(); ttl != 99 {
		t.Errorf("TTL %d, want 99", ttl)
	}
	if lo, hi := a.Gvisor().PortRange(); lo != 32768 || hi != 60999 {
		t.Errorf("gVisor port range %d-%d", lo, hi)
	}
}

func TestConfigOverrides(t *testing.T) {
	// Overrides that depend on each other apply in a workable order.
	s, err := stack.New(stack.Config{Sysctl: map[string]string{
		"net.ipv4.ip_local_port_range":        "600 700",
		"net.ipv4.ip_unprivileged_port_start": "500",
	}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer s.Close()
	if lo, hi := s.Sysctl().Pair("net.ipv4.ip_local_port_range"); lo != 600 || hi != 700 {
		t.Errorf("range %d-%d", lo, hi)
	}
	for _, bad := range []map[string]string{
		{"net.ipv4.ip_default_ttl": "0"},
		{"net.ipv4.bogus": "1"},
	} {
		if s, err := stack.New(stack.Config{Sysctl: bad}); err == nil {
			s.Close()
			t.Errorf("New with %v succeeded", bad)
		}
	}
}

// TestSysctlMLDKnobs: an interface gets MLD's conf knobs from
// conf/default when it is made, and a later conf/default write does not
// reach it (addrconf.c copies nothing after ipv6_add_dev); mld_qrv and
// mld_max_msf exist only in Linux's initial namespace, so not here.
func TestSysctlMLDKnobs(t *testing.T) {
	s := newStack(t, stack.Config{})
	if err := s.Sysctl().Set("net.ipv6.conf.default.mldv2_unsolicited_report_interval", "500"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddInterface("eth0", channel.New(4, 1500, "")); err != nil {
		t.Fatal(err)
	}
	if err := s.Sysctl().Set("net.ipv6.conf.default.mldv2_unsolicited_report_interval", "700"); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"net.ipv6.conf.eth0.mldv2_unsolicited_report_interval": "500",
		"net.ipv6.conf.eth0.mldv1_unsolicited_report_interval": "10000",
		"net.ipv6.conf.eth0.force_mld_version":                 "0",
	} {
		if got, err := s.Sysctl().Get(name); err != nil || got != want {
			t.Errorf("Get(%s) = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, name := range []string{"net.ipv6.mld_qrv", "net.ipv6.mld_max_msf"} {
		if got, err := s.Sysctl().Get(name); err == nil {
			t.Errorf("Get(%s) = %q, want an error", name, got)
		}
	}
}
