package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The IPv6 path of TestPluginTrace6 (in 2001:2::/48, RFC 5180):
//
//	sbx 2001:2:0:10::2 --- 2001:2:0:10::1 rtr 2001:2:0:11::1 ==1280== 2001:2:0:11::2 far
//
// The router forwards IPv6 (its own namespace's net.ipv6.conf.all.forwarding)
// and its far link has IPv6's minimum MTU, so a 1500-byte probe from the
// sandbox comes back as an ICMPv6 packet too big from 2001:2:0:10::1.
const (
	sbx6Net  = "2001:2:0:10::"
	rtr6Near = sbx6Net + "1"
	sbx6Addr = sbx6Net + "2"
	rtr6Far  = "2001:2:0:11::1"
	far6     = "2001:2:0:11::2"
)

// hop6Line is a traceroute hop: its number and first address (or "*").
var hop6Line = regexp.MustCompile(`(?m)^\s*([0-9]+)\s+([0-9a-f:]+|\*)`)

// hops6 lists traceroute -6's hop addresses and how many probes got no
// answer.
func hops6(out string) ([]string, int) {
	var h []string
	for _, m := range hop6Line.FindAllStringSubmatch(out, -1) {
		h = append(h, m[2])
	}
	return h, strings.Count(out, "*")
}

// nsOutput runs a command in namespace ns (bounded) and returns its
// combined output whatever its exit status, with the status appended.
func nsOutput(t *testing.T, ns, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "nsenter", append([]string{"--net=/run/netns/" + ns, name}, args...)...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s %v in %s: %v\n%s", name, args, ns, ctx.Err(), out)
	}
	rc := 0
	if ee, ok := err.(*exec.ExitError); ok {
		rc = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v in %s: %v", name, args, ns, err)
	}
	return string(out) + "rc=" + strconv.Itoa(rc) + "\n"
}

// hostKnobUnchanged fails the test if the host's knob (read in the test's
// own namespace) is not as it was at the start: only the router
// namespace's forwarding is turned on.
func hostKnobUnchanged(t *testing.T, knob string) {
	before, err := os.ReadFile(knob)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if after, err := os.ReadFile(knob); err == nil && !bytes.Equal(before, after) {
			t.Errorf("host %s changed from %q to %q during the test", knob, before, after)
		}
	})
}

// waitNoTentative waits (bounded) until no IPv6 address of namespace ns
// is tentative, link-local ones included.
func waitNoTentative(t *testing.T, ns string) {
	t.Helper()
	for i := 0; i < 50; i++ {
		out, err := run(context.Background(), "ip", "-n", ns, "-6", "-o", "addr", "show", "tentative")
		if err == nil && strings.TrimSpace(out) == "" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("IPv6 addresses of %s still tentative after 5 s", ns)
}

// checks6 are the commands run on the kernel and in the sandbox, in this
// order: tracepath first, while neither has a path MTU for far6.
var checks6 = []struct {
	name string
	args []string
}{
	{"tracepath", []string{"tracepath", "-6", "-n", far6}},
	{"traceroute", []string{"traceroute", "-6", "-n", "-q", "1", "-w", "2", "-m", "6", far6}},
	// 1232 + 8 + 40 = 1280 bytes: crosses the far link whole.
	{"pingfit", []string{"ping", "-6", "-n", "-c", "1", "-W", "2", "-s", "1232", "-M", "do", far6}},
	// 1348 bytes that may not be fragmented: never reach far6.
	{"pingdf", []string{"ping", "-6", "-n", "-c", "1", "-W", "2", "-s", "1300", "-M", "do", far6}},
	// 1348 bytes that may be: Linux fragments them at the path MTU.
	{"pingfrag", []string{"ping", "-6", "-n", "-c", "1", "-W", "2", "-s", "1300", far6}},
	// 3048 bytes: past the sandbox link's own MTU (1500) too.
	{"pingbig", []string{"ping", "-6", "-n", "-c", "1", "-W", "2", "-s", "3000", far6}},
}

// rawEcho6 sends echo requests of 1300 and 3000 bytes to far6 on a raw
// ICMPv6 socket (ping itself prefers a ping socket wherever
// ping_group_range lets it); with "wait" it prints the size of each
// reply. Linux fragments both at the path MTU.
const rawEcho6 = `import socket, struct, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.settimeout(3)
for seq, size in enumerate((1300, 3000), 1):
    s.sendto(struct.pack("!BBHHH", 128, 0, 0, 0x4e53, seq) + b"x" * size, ("` + far6 + `", 0))
    if sys.argv[1:] != ["wait"]:
        continue
    try:
        while True:
            d, a = s.recvfrom(65535)
            if d[0] == 129 and d[6:8] == struct.pack("!H", seq):
                print("echo", size, "reply", len(d), "from", a[0])
                break
    except socket.timeout:
        print("echo", size, "timeout")
`

var (
	pingTime  = regexp.MustCompile(`(time[= ][0-9.]+ ?ms|rtt .*)`)
	pingStats = regexp.MustCompile(`(?m)^([0-9]+) packets transmitted, ([0-9]+) received`)
)

// pingLines drops ping's times and blank lines.
func pingLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(pingTime.ReplaceAllString(out, ""), "\n") {
		// ping names itself in its errors: "ping: ..." on the kernel,
		// the copy's path in the sandbox.
		if i := strings.Index(l, ": local error:"); i >= 0 {
			l = "ping" + l[i:]
		}
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// pingReceived is how many replies ping counted, -1 without its summary.
func pingReceived(out string) int {
	m := pingStats.FindStringSubmatch(out)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[2])
	return n
}

// TestPluginTrace6 runs tracepath -6 and traceroute -6 inside
// runsc-netsandbox --network=plugin across an IPv6 router whose far link
// has an MTU of 1280, and compares them with the kernel's from the same
// namespace: same hops, same path MTU learnt from the router's packet too
// big, delivered to the UDP socket through IPV6_RECVERR.
func TestPluginTrace6(t *testing.T) {
	needNetns(t, "ip", "go", "nsenter", "tracepath", "traceroute", "ping", "python3")
	hostIPForward(t)
	hostKnobUnchanged(t, "/proc/sys/net/ipv6/conf/all/forwarding")
	dir := t.TempDir()
	bin := buildRunsc(t, dir)

	var rb [3]byte
	rand.Read(rb[:])
	tag := hex.EncodeToString(rb[:])
	sbx, rtr, far := "nsbx-"+tag+"-t6s", "nsbx-"+tag+"-t6r", "nsbx-"+tag+"-t6f"
	for _, ns := range []string{sbx, rtr, far} {
		newNetns(t, ns)
		// Links moved in take the namespace's defaults: no DAD, so
		// link-local addresses are usable at once.
		nsSysctl(t, ns, "net/ipv6/conf/default/accept_dad", "0")
	}
	v := "nsbx" + tag + "6"
	sIf, rIn, rOut, fIf := v+"s", v+"r", v+"t", v+"f"
	// Each veth is made with both ends already in their namespaces, so
	// none is ever left in the host's: they go with the namespaces.
	link := func(a, aNS, b, bNS string) {
		mustRun(t, "ip", "link", "add", a, "netns", aNS, "type", "veth", "peer", "name", b, "netns", bNS)
	}
	link(sIf, sbx, rIn, rtr)
	link(rOut, rtr, fIf, far)
	addr := func(ns, dev, a string, mtu string) {
		if mtu != "" {
			mustRun(t, "ip", "-n", ns, "link", "set", dev, "mtu", mtu)
		}
		mustRun(t, "ip", "-n", ns, "addr", "add", a+"/64", "dev", dev, "nodad")
		mustRun(t, "ip", "-n", ns, "link", "set", dev, "up")
	}
	addr(sbx, sIf, sbx6Addr, "")
	addr(rtr, rIn, rtr6Near, "")
	addr(rtr, rOut, rtr6Far, "1280")
	addr(far, fIf, far6, "1280")
	mustRun(t, "ip", "-n", sbx, "-6", "route", "add", "default", "via", rtr6Near)
	mustRun(t, "ip", "-n", far, "-6", "route", "add", "default", "via", rtr6Far)
	nsSysctl(t, rtr, "net/ipv6/conf/all/forwarding", "1")
	for _, ns := range []string{rtr, far} {
		// Every probe gets its ICMPv6 error (the default allows one a
		// second per destination).
		nsSysctl(t, ns, "net/ipv6/icmp/ratelimit", "0")
	}
	for _, ns := range []string{sbx, rtr, far} {
		waitNoTentative(t, ns)
	}

	// The kernel's answers from the sandbox namespace, before a sandbox
	// takes its interface (PreInit turns the kernel's IPv6 off on it).
	kernel := make(map[string]string)
	for _, c := range checks6 {
		kernel[c.name] = nsOutput(t, sbx, c.args[0], c.args[1:]...)
	}
	kernel["rawecho"] = nsOutput(t, sbx, "python3", "-c", rawEcho6, "wait")
	for _, c := range checks6 {
		t.Logf("kernel %s:\n%s", c.name, kernel[c.name])
	}

	pingNoCaps := filepath.Join(dir, "ping-nocaps")
	copyNoCaps(t, "/usr/bin/ping", pingNoCaps)
	lines := []string{
		// tracepath sends CLOCK_MONOTONIC seconds in its probes and calls
		// a quoted probe whose seconds are 0 corrupted; the sentry's clock
		// starts at 0 with the sandbox.
		"sleep 1",
	}
	for _, c := range checks6 {
		args := slices.Clone(c.args)
		if args[0] == "ping" {
			// Without --net-raw the container has no CAP_NET_RAW: ping
			// runs on an ICMPv6 ping socket (the kernel's, as root, on a
			// raw one; both print the same lines).
			args[0] = pingNoCaps
		}
		lines = append(lines, "echo =="+c.name+"==; "+strings.Join(args, " ")+" 2>&1; echo rc=$?; echo ==end "+c.name+"==")
	}
	script := strings.Join(lines, "\n")
	bundle := mkdir(t, filepath.Join(dir, "bundle"))
	writeBundle(t, bundle, sbx, script)
	got := runscRun(t, bin, mkdir(t, filepath.Join(dir, "state")), bundle, "nsbx-"+tag+"-tr6", false)

	// The rig itself, as the kernel sees it.
	if !strings.Contains(kernel["tracepath"], "Resume: pmtu 1280 hops 2 back 2") {
		t.Errorf("kernel tracepath -6 did not learn the 1280-byte far link (the rig is wrong):\n%s", kernel["tracepath"])
	}
	wantHops := []string{rtr6Near, far6}
	if h, lost := hops6(kernel["traceroute"]); !slices.Equal(h, wantHops) || lost != 0 {
		t.Errorf("kernel traceroute -6: hops %v with %d unanswered, want %v and none (the rig is wrong)", h, lost, wantHops)
	}

	// tracepath: a UDP socket with IPV6_RECVERR and IPV6_MTU_DISCOVER
	// that reads the local EMSGSIZE of its first oversized probe, each
	// hop's time exceeded, the router's packet too big (pmtu 1280) and
	// the far host's port unreachable from its error queue, with the
	// hop limit of each ICMPv6 error (RFC 2292's IPV6_2292HOPLIMIT, the
	// "back" count): line for line the kernel's.
	if diff := cmp.Diff(tracepathLines(kernel["tracepath"]), tracepathLines(section(got, "tracepath"))); diff != "" {
		t.Errorf("tracepath -6 -n %s: sandbox differs from the kernel (-kernel +sandbox):\n%s", far6, diff)
	}
	if h, lost := hops6(section(got, "traceroute")); !slices.Equal(h, wantHops) || lost != 0 {
		t.Errorf("traceroute -6 -n in the sandbox: hops %v with %d unanswered probes, want %v and none", h, lost, wantHops)
	}
	if k, s := pingReceived(kernel["pingfit"]), pingReceived(section(got, "pingfit")); k != 1 || s != 1 {
		t.Errorf("ping -6 -s 1232 -M do: %d replies in the sandbox, %d on the kernel, want 1", s, k)
	}
	// A datagram that may not be fragmented never crosses the far link.
	if k, s := pingReceived(kernel["pingdf"]), pingReceived(section(got, "pingdf")); k != 0 || s != 0 {
		t.Errorf("ping -6 -s 1300 -M do: %d replies in the sandbox, %d on the kernel, want 0", s, k)
	}
	// pingdf: the router's packet too big taught the path MTU, so the
	// 1348-byte echo request under -M do is refused locally and ping
	// reads ipv6_local_error's entry (mtu 1280) from its error queue, as
	// on the kernel (endpoint/inet6_icmperr.go checkSize6).
	if diff := cmp.Diff(pingLines(kernel["pingdf"]), pingLines(section(got, "pingdf"))); diff != "" {
		t.Errorf("ping -6 -s 1300 -M do: sandbox differs from the kernel (-kernel +sandbox):\n%s", diff)
	}
	// pingfrag: the 1348-byte echo request without -M do leaves in
	// fragments cut at the learnt path MTU (1280), as the kernel's
	// (netsandbox fragments it: endpoint/raw6_bigsend.go; gVisor's IPv6
	// would cut it at the device MTU, and the router refuse it).
	for _, name := range []string{"pingfrag", "pingbig"} {
		if diff := cmp.Diff(pingLines(kernel[name]), pingLines(section(got, name))); diff != "" {
			t.Errorf("%s (ping socket): sandbox differs from the kernel (-kernel +sandbox):\n%s", name, diff)
		}
	}

	// Echo requests on a raw ICMPv6 socket, in a second sandbox with
	// --net-raw (CAP_NET_RAW): gVisor's raw endpoint would refuse the
	// 3000-byte one past the device MTU. The far host counts them
	// (its replies come back in fragments, which gVisor hands no raw
	// socket: network/ipv6/ipv6.go handleValidatedPacket delivers raw
	// copies before reassembly). The first sandbox's PreInit turned the
	// kernel's IPv6 off on the interface; it is given back first.
	nsSysctl(t, sbx, "net/ipv6/conf/"+sIf+"/disable_ipv6", "0")
	mustRun(t, "ip", "-n", sbx, "addr", "add", sbx6Addr+"/64", "dev", sIf, "nodad")
	mustRun(t, "ip", "-n", sbx, "-6", "route", "add", "default", "via", rtr6Near)
	waitNoTentative(t, sbx)
	// A first -M do ping learns the path MTU from the router's packet
	// too big, as tracepath did before the kernel's pings.
	rawLines := []string{"sleep 1", "ping -6 -n -c 1 -W 2 -s 1300 -M do " + far6 + " >/dev/null 2>&1",
		"python3 -c '" + rawEcho6 + "'; echo rc=$?", "sleep 1"}
	echoesBefore := snmp6(t, far, "Icmp6InEchos")
	reasmBefore := snmp6(t, far, "Ip6ReasmOKs")
	rawBundle := mkdir(t, filepath.Join(dir, "bundle-raw"))
	writeBundle(t, rawBundle, sbx, strings.Join(rawLines, "\n"))
	raw := runscRun(t, bin, mkdir(t, filepath.Join(dir, "state-raw")), rawBundle, "nsbx-"+tag+"-tr6raw", true)
	if !strings.Contains(kernel["rawecho"], "echo 3000 reply 3008") {
		t.Errorf("kernel raw echo (the rig is wrong):\n%s", kernel["rawecho"])
	}
	got6 := snmp6(t, far, "Icmp6InEchos") - echoesBefore
	t.Logf("far host: %d echo requests in during the raw run, %d reassembled", got6, snmp6(t, far, "Ip6ReasmOKs")-reasmBefore)
	// Both sends succeed (the 3000-byte one is EMSGSIZE without
	// netsandbox's fragments) and reach the far host whole.
	if got6 < 2 || !strings.Contains(raw, "rc=0") {
		t.Errorf("raw ICMPv6 echo requests of 1300 and 3000 bytes: the far host took %d; sandbox output:\n%s", got6, raw)
	}
}

// snmp6 is a counter of /proc/net/snmp6 in namespace ns.
func snmp6(t *testing.T, ns, name string) int {
	t.Helper()
	for _, l := range strings.Split(nsOutput(t, ns, "cat", "/proc/net/snmp6"), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == name {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Fatalf("no %s in %s's /proc/net/snmp6", name, ns)
	return 0
}
