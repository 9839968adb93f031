package main

import (
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"netsandbox/test/harness"
)

// attached is a running `netsandbox attach` in the topology's host namespace.
type attached struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
}

// startAttach runs `netsandbox attach ARGS` in host and waits until the
// namespace is attached.
func startAttach(t *testing.T, bin, host string, args ...string) *attached {
	t.Helper()
	a := &attached{cmd: exec.Command("ip", append([]string{"netns", "exec", host, bin, "attach"}, args...)...),
		out: new(syncBuffer), done: make(chan error, 1)}
	a.cmd.Stdout, a.cmd.Stderr = a.out, a.out
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.done <- a.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-a.done:
		default:
			a.cmd.Process.Kill()
			<-a.done
		}
	})
	deadline := time.After(10 * time.Second)
	for !strings.Contains(a.out.String(), "SIGINT or SIGTERM detaches") {
		select {
		case err := <-a.done:
			a.done <- err
			t.Fatalf("attach %q ended before attaching (%v):\n%s", args, err, a.out.String())
		case <-deadline:
			t.Fatalf("attach %q did not attach in 10 s:\n%s", args, a.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return a
}

// wait waits (bounded) for attach to end by itself and returns its exit code.
func (a *attached) wait(t *testing.T, why string) int {
	t.Helper()
	select {
	case <-a.done:
		a.done <- nil
	case <-time.After(10 * time.Second):
		t.Fatalf("attach did not end within 10 s of %s:\n%s", why, a.out.String())
	}
	return a.cmd.ProcessState.ExitCode()
}

// attachedLinks describes ns's links, IPv4 addresses and routes, without
// their state (a fresh veth's carrier comes up on its own time).
func attachedLinks(t *testing.T, ns string) string {
	t.Helper()
	var b strings.Builder
	for _, args := range [][]string{{"-o", "link"}, {"-4", "-o", "addr"}, {"-4", "route"}} {
		out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ip -n %s %s: %v\n%s", ns, strings.Join(args, " "), err, out)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(l)
			switch {
			case len(f) > 3 && args[0] == "-o": // "N: NAME: <FLAGS> mtu M ..."
				fmt.Fprintf(&b, "link %s %s %s\n", f[1], f[3], f[4])
			case len(f) > 3 && args[1] == "-o": // "N: NAME inet ADDR/LEN ..."
				fmt.Fprintf(&b, "addr %s %s\n", f[1], f[3])
			case len(f) > 0:
				fmt.Fprintf(&b, "route %s\n", strings.TrimSuffix(strings.TrimSpace(l), " linkdown"))
			}
		}
	}
	return b.String()
}

// checkAttachedNetwork drives ping, TCP and UDP from inside ns through the
// attached gateway to the topology's target.
func checkAttachedNetwork(t *testing.T, tp *runTopology, ns, tap string) {
	t.Helper()
	script := `ip -4 -o addr show dev ` + tap + `; ip -4 route
exec 3<>/dev/tcp/` + targetAddr + `/7 || exit 10
echo attached-tcp >&3; read -t 5 l <&3; echo "tcp:$l"; exec 3<&-
exec 4<>/dev/udp/` + targetAddr + `/7 || exit 11
echo attached-udp >&4; echo "udp:$(timeout 5 dd bs=65536 count=1 <&4 2>/dev/null)"; exec 4<&-
ping -c 2 -i 0.2 -W 2 ` + targetAddr + ` || exit 12
(exec 5<>/dev/tcp/` + targetAddr + `/8) 2>&1 | sed 's/.*: //'
exit 0`
	before := len(tp.seen())
	cmd := exec.Command("ip", "netns", "exec", ns, "timeout", "20", "bash", "-c", script)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("through the attached namespace: %v\n%s", err, out)
	}
	for _, want := range []string{"10.0.2.100/24", "default via 10.0.2.2 dev " + tap, "tcp:attached-tcp", "udp:attached-udp",
		"2 received", "ttl=63", "Connection refused"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("attached namespace: output lacks %q:\n%s", want, out)
		}
	}
	seen := strings.Join(tp.seen()[before:], "\n")
	for _, re := range []string{`tcp ` + hostAddr + `:\d+`, `udp ` + hostAddr + `:\d+ -> ` + targetAddr + `:7`} {
		if !regexp.MustCompile(re).MatchString(seen) {
			t.Errorf("target did not see %s from the host's sockets; saw:\n%s", re, seen)
		}
	}
}

func TestAttachEndToEnd(t *testing.T) {
	tp := newRunTopology(t)
	bin := buildBinary(t)
	prefix := harness.NewRunPrefix()
	ctr := newNetns(t, prefix+"at-ctr")
	ipCmd(t, "-n", ctr, "link", "set", "lo", "up")
	pristine := attachedLinks(t, ctr)

	t.Run("--netns, detached by SIGTERM", func(t *testing.T) {
		a := startAttach(t, bin, tp.host, "--netns", "/run/netns/"+ctr, "-v", "--stats")
		checkAttachedNetwork(t, tp, ctr, "tap0")
		a.cmd.Process.Signal(syscall.SIGTERM)
		if code := a.wait(t, "SIGTERM"); code != 0 {
			t.Errorf("attach after SIGTERM: exit %d, want 0\n%s", code, a.out.String())
		}
		for _, want := range []string{"terminated: detached, tap0 removed", "netsandbox: flows tcp 1 udp 1 icmp 1, denied 0, failed 1"} {
			if !strings.Contains(a.out.String(), want) {
				t.Errorf("attach output lacks %q:\n%s", want, a.out.String())
			}
		}
		if now := attachedLinks(t, ctr); now != pristine {
			t.Errorf("namespace after detaching:\n%s\nwant as before attaching:\n%s", now, pristine)
		}
	})

	t.Run("--pid, detached when the process ends", func(t *testing.T) {
		sleeper := exec.Command("ip", "netns", "exec", ctr, "sleep", "60")
		if err := sleeper.Start(); err != nil {
			t.Fatal(err)
		}
		slept := make(chan struct{})
		go func() { sleeper.Wait(); close(slept) }()
		t.Cleanup(func() { sleeper.Process.Kill(); <-slept })
		a := startAttach(t, bin, tp.host, "--pid", strconv.Itoa(sleeper.Process.Pid), "--tap", "nsbx0", "--mtu", "1400")
		checkAttachedNetwork(t, tp, ctr, "nsbx0")
		if links := attachedLinks(t, ctr); !strings.Contains(links, "link nsbx0: mtu 1400") {
			t.Errorf("attached namespace lacks nsbx0 with mtu 1400:\n%s", links)
		}
		sleeper.Process.Kill()
		if code := a.wait(t, "the process's end"); code != 0 || !strings.Contains(a.out.String(), "the process ended: detached, nsbx0 removed") {
			t.Errorf("attach after its process ended: exit %d\n%s", code, a.out.String())
		}
		if now := attachedLinks(t, ctr); now != pristine {
			t.Errorf("namespace after detaching:\n%s\nwant as before attaching:\n%s", now, pristine)
		}
	})

	t.Run("--netns, detached when the namespace is deleted", func(t *testing.T) {
		gone := newNetns(t, prefix+"at-gone")
		a := startAttach(t, bin, tp.host, "--netns", "/run/netns/"+gone)
		ipCmd(t, "netns", "del", gone)
		if code := a.wait(t, "ip netns del"); code != 0 || !strings.Contains(a.out.String(), "/run/netns/"+gone+" is gone: detached, tap0 removed") {
			t.Errorf("attach after ip netns del: exit %d\n%s", code, a.out.String())
		}
	})

	t.Run("rootless, from the namespace's own user namespace", func(t *testing.T) {
		for _, tool := range []string{"unshare", "setpriv", "nsenter", "mount"} {
			if _, err := exec.LookPath(tool); err != nil {
				t.Fatalf("needs %s (util-linux)", tool)
			}
		}
		userBin, tun := rootlessFiles(t, bin)
		if err := harness.WriteSysctl(tp.host, "net.ipv4.ping_group_range", "0 2147483647"); err != nil {
			t.Fatal(err)
		}
		// An unprivileged user's container: a user namespace it owns with a
		// network namespace. Outside the user namespace attach is refused;
		// inside it (nsenter --user) attach may enter the network namespace,
		// while the gateway's sockets stay in the host's.
		script := `unshare --user --map-root-user --net sleep 30 >/dev/null 2>&1 & C=$!
i=0; while [ "$(readlink /proc/$C/ns/net)" = "$(readlink /proc/self/ns/net)" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
inside() { nsenter --user --net --preserve-credentials --target $C "$@"; }
timeout 10 "$BIN" attach --pid $C; echo "outside: exit $?"
nsenter --user --preserve-credentials --target $C "$BIN" attach --pid $C & A=$! # ends with sleep 30 at the latest
i=0; until inside ip -o link show tap0 >/dev/null 2>&1 || [ $i -ge 100 ]; do sleep 0.05; i=$((i+1)); done
inside bash -c 'exec 3<>/dev/tcp/` + targetAddr + `/7 && echo rootless-attach >&3 && read -t 5 l <&3 && echo "tcp:$l"'
inside ping -c 1 -W 2 ` + targetAddr + `
kill -TERM $A; wait $A; echo "attach: exit $?"
inside ip -o link | grep -c tap0
kill $C`
		cmd := exec.Command("unshare", "-m", "sh", "-c",
			`mount --make-rprivate / && mount --bind "$1" /dev/net/tun && exec ip netns exec "$2" setpriv --reuid=65534 --regid=65534 --clear-groups env BIN="$3" bash -c "$4"`,
			"sh", tun, tp.host, userBin, script)
		out, _ := cmd.CombinedOutput()
		for _, want := range []string{"outside: exit 1", "run as root, or from inside the user namespace that owns it",
			"tap0 in process", "tcp:rootless-attach", "1 received", "detached, tap0 removed", "attach: exit 0\n0\n"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("rootless attach: output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("refusals", func(t *testing.T) {
		// A link named tap0 with an address and a default route: what a
		// container with a network of its own looks like.
		ipCmd(t, "-n", ctr, "link", "add", "tap0", "type", "veth", "peer", "name", "nsbxpeer")
		ipCmd(t, "-n", ctr, "addr", "add", "198.18.7.1/24", "dev", "tap0")
		ipCmd(t, "-n", ctr, "link", "set", "tap0", "up")
		ipCmd(t, "-n", ctr, "link", "set", "nsbxpeer", "up")
		ipCmd(t, "-n", ctr, "route", "add", "default", "via", "198.18.7.2")
		t.Cleanup(func() { exec.Command("ip", "-n", ctr, "link", "del", "tap0").Run() })
		before := attachedLinks(t, ctr)
		ns := "/run/netns/" + ctr
		for _, c := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"--netns", ns, "--tap", "nsbx1"}, 1, "already has a default route (via 198.18.7.2 dev tap0)"},
			{[]string{"--netns", ns, "--no-default-route"}, 1, "already has a link named tap0: choose another name with --tap NAME"},
			{[]string{"--netns", "/run/netns/" + prefix + "no-such"}, 1, "no such namespace"},
			{[]string{"--netns", "/etc/hostname"}, 1, "is not a namespace"},
			{[]string{"--netns", "/proc/self/ns/net"}, 1, "netsandbox's own"},
			{[]string{"--pid", "2147483647"}, 1, "no such process"},
			{[]string{}, 2, "give --netns PATH or --pid PID"},
			{[]string{"--netns", ns, "--pid", "1"}, 2, "not both"},
			{[]string{"--netns", ns, "--tap", "a/b"}, 2, "not an interface name"},
			{[]string{"--netns", ns, "--mtu", "67"}, 2, "--mtu 67"},
		} {
			cmd := exec.Command("ip", append([]string{"netns", "exec", tp.host, "timeout", "10", bin, "attach"}, c.args...)...)
			out, _ := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != c.code || !strings.Contains(string(out), c.want) {
				t.Errorf("attach %q: exit %d, want %d with %q:\n%s", c.args, code, c.code, c.want, out)
			}
		}
		if now := attachedLinks(t, ctr); now != before {
			t.Errorf("a refused attach changed the namespace:\n%s\nwas:\n%s", now, before)
		}
		// An address in 10.0.2.0/24 is refused whatever the flags.
		ipCmd(t, "-n", ctr, "addr", "add", "10.0.2.15/24", "dev", "nsbxpeer")
		cmd := exec.Command("ip", "netns", "exec", tp.host, "timeout", "10", bin, "attach", "--netns", ns, "--tap", "nsbx1", "--no-default-route")
		out, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(out), "10.0.2.15/24 on nsbxpeer, which overlaps") {
			t.Errorf("attach to a namespace using 10.0.2.0/24: exit %d\n%s", code, out)
		}
	})
}
