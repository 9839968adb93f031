package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"netsandbox/link/fdbased"
	"netsandbox/test/harness"
)

// tracepathTopology builds dut -- router -- far: the router forwards and
// has MTU 1280 on its far link; the DUT's eth0 gets an address and a
// default route only when kernelDUT (netsandbox brings its own).
func tracepathTopology(t *testing.T, prefix string, kernelDUT bool) (dut string) {
	t.Helper()
	dut = newNetns(t, prefix+"dut")
	rt := newNetns(t, prefix+"rt")
	far := newNetns(t, prefix+"far")
	ipCmd(t, "-n", dut, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", rt)
	ipCmd(t, "-n", rt, "link", "add", "eth1", "type", "veth", "peer", "name", "eth0", "netns", far)
	ipCmd(t, "-n", rt, "addr", "add", "198.18.0.1/24", "dev", "eth0")
	ipCmd(t, "-n", rt, "addr", "add", "198.19.0.1/24", "dev", "eth1")
	ipCmd(t, "-n", rt, "link", "set", "eth1", "mtu", "1280")
	ipCmd(t, "-n", far, "link", "set", "eth0", "mtu", "1280")
	ipCmd(t, "-n", far, "addr", "add", "198.19.0.2/24", "dev", "eth0")
	for _, l := range []struct{ ns, dev string }{{dut, "eth0"}, {rt, "eth0"}, {rt, "eth1"}, {far, "eth0"}, {dut, "lo"}, {rt, "lo"}, {far, "lo"}} {
		ipCmd(t, "-n", l.ns, "link", "set", l.dev, "up")
	}
	ipCmd(t, "-n", far, "route", "add", "default", "via", "198.19.0.1")
	for _, ns := range []string{rt, far} {
		for _, kv := range [][2]string{{"net.ipv4.ip_forward", "1"}, {"net.ipv4.icmp_ratelimit", "0"}} {
			if err := harness.WriteSysctl(ns, kv[0], kv[1]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if kernelDUT {
		ipCmd(t, "-n", dut, "addr", "add", "198.18.0.2/24", "dev", "eth0")
		ipCmd(t, "-n", dut, "route", "add", "default", "via", "198.18.0.1")
	} else if err := harness.InNetns(rt, func() error { return fdbased.DisableTxOffload("eth0") }); err != nil {
		t.Fatal(err)
	}
	return dut
}

// rttPattern matches tracepath's round-trip times, which differ per run.
var rttPattern = regexp.MustCompile(`\d+\.\d{3}ms`)

func normaliseTrace(out string) string { return rttPattern.ReplaceAllString(out, "T.TTTms") }

// iputilsGolden is what iputils tracepath (20221126) printed from a kernel
// host in this topology, times normalised: the comparison when iputils is
// not installed.
var iputilsGolden = map[string]string{
	"-n 198.19.0.2":               " 1?: [LOCALHOST]                      pmtu 1500\n 1:  198.18.0.1                                            T.TTTms \n 1:  198.18.0.1                                            T.TTTms \n 2:  198.18.0.1                                            T.TTTms pmtu 1280\n 2:  198.19.0.2                                            T.TTTms reached\n     Resume: pmtu 1280 hops 2 back 2 \n",
	"-n -l 1400 198.19.0.2/33434": " 1:  198.18.0.1                                            T.TTTms \n 2:  198.18.0.1                                            T.TTTms pmtu 1280\n 2:  198.19.0.2                                            T.TTTms reached\n     Resume: pmtu 1280 hops 2 back 2 \n",
	"198.18.0.1":                  " 1?: [LOCALHOST]                      pmtu 1500\n 1:  ???                                                   T.TTTms reached\n 1:  ???                                                   T.TTTms reached\n     Resume: pmtu 1500 hops 1 back 1 \n",
}

// netsandbox tracepath through a Linux router with a 1280-byte far link
// prints what iputils tracepath prints from a kernel host in the same
// topology: the hops, the learnt pmtu and the resume line. Without iputils
// installed the kernel side is its recorded output.
func TestTracepathMatchesIputils(t *testing.T) {
	requireNetns(t)
	iputils, _ := exec.LookPath("tracepath")
	bin := buildBinary(t)
	prefix := harness.NewRunPrefix()
	for _, args := range [][]string{{"-n", "198.19.0.2"}, {"-n", "-l", "1400", "198.19.0.2/33434"}, {"198.18.0.1"}} {
		name := strings.Join(args, " ")
		t.Run(name, func(t *testing.T) {
			want := iputilsGolden[name]
			if iputils != "" {
				kdut := tracepathTopology(t, prefix+"k", true)
				out, err := exec.Command("ip", append([]string{"netns", "exec", kdut, iputils}, args...)...).CombinedOutput()
				if err != nil {
					t.Fatalf("iputils tracepath: %v\n%s", err, out)
				}
				want = normaliseTrace(string(out))
			}
			ndut := tracepathTopology(t, prefix+"n", false)
			nargs := append([]string{"netns", "exec", ndut, bin, "tracepath", "--link", "iface:eth0", "--addr", "198.18.0.2/24", "--gw", "198.18.0.1"}, args...)
			got, err := exec.Command("ip", nargs...).CombinedOutput()
			if err != nil {
				t.Fatalf("netsandbox tracepath: %v\n%s", err, got)
			}
			t.Logf("netsandbox tracepath %s:\n%s", name, got)
			if g := normaliseTrace(string(got)); g != want {
				t.Errorf("tracepath %s:\n--- iputils (kernel)\n%s--- netsandbox\n%s", name, want, g)
			}
		})
	}
}
