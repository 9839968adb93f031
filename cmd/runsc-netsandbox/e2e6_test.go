package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// IPv6 through the plugin (issue 14): PreInit takes the sandbox
// interface's IPv6 addresses (global and link-local) and routes, the
// stack answers neighbour solicitations and echo requests for them, and
// AF_INET6 TCP reaches a kernel peer over both. Addresses are in
// 2001:2::/48, IPv6's benchmarking range (RFC 5180), as 198.18.0.0/15 for
// IPv4.
const (
	sandbox6 = "2001:2::2"
	peer6    = "2001:2::1"
)

func TestPluginIPv6(t *testing.T) {
	needNetns(t, "ip", "go", "ping", "curl")
	hostIPForward(t)
	dir := t.TempDir()
	bin := buildRunsc(t, dir)

	var rb [3]byte
	rand.Read(rb[:])
	tag := hex.EncodeToString(rb[:])
	sbx, peer := "nsbx-"+tag+"-v6s", "nsbx-"+tag+"-v6p"
	newNetns(t, sbx)
	newNetns(t, peer)
	sIf, pIf := "nsbx"+tag+"s", "nsbx"+tag+"p"
	mustRun(t, "ip", "link", "add", sIf, "type", "veth", "peer", "name", pIf)
	mustRun(t, "ip", "link", "set", sIf, "netns", sbx)
	mustRun(t, "ip", "link", "set", pIf, "netns", peer)
	mustRun(t, "ip", "-n", sbx, "addr", "add", sandboxAddr, "dev", sIf)
	mustRun(t, "ip", "-n", peer, "addr", "add", peerAddr, "dev", pIf)
	mustRun(t, "ip", "-n", sbx, "addr", "add", sandbox6+"/64", "dev", sIf, "nodad")
	mustRun(t, "ip", "-n", peer, "addr", "add", peer6+"/64", "dev", pIf, "nodad")
	mustRun(t, "ip", "-n", sbx, "link", "set", sIf, "up")
	mustRun(t, "ip", "-n", peer, "link", "set", pIf, "up")
	// The link-local addresses come with the link; wait (bounded) until
	// they are no longer tentative.
	var peerLL string
	for i := 0; i < 50 && peerLL == ""; i++ {
		out, _ := run(context.Background(), "ip", "-n", peer, "-6", "-o", "addr", "show", "dev", pIf, "scope", "link", "-tentative")
		if f := strings.Fields(out); len(f) >= 4 {
			peerLL = strings.Split(f[3], "/")[0]
		} else {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if peerLL == "" {
		t.Fatal("the peer's link-local address did not come up")
	}
	token := "netsandbox-e2e6-" + tag
	serveHTTP(t, peer, "tcp6", "[::]:8080", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, token+" "+r.RemoteAddr+"\n")
	}))

	// The peer pings the sandbox's global address while it runs.
	pinged := make(chan string, 1)
	go func() {
		time.Sleep(2 * time.Second)
		out, err := run(context.Background(), "ip", "netns", "exec", peer, "ping", "-6", "-c", "2", "-W", "3", sandbox6)
		if err != nil {
			out += "\nping: " + err.Error()
		}
		pinged <- out
	}()
	pingNoCaps := filepath.Join(dir, "ping-nocaps")
	copyNoCaps(t, "/usr/bin/ping", pingNoCaps)
	script := strings.Join([]string{
		"echo ==if_inet6==; cat /proc/net/if_inet6; echo ==end if_inet6==",
		"echo ==global==; curl -sS -m 10 -g http://[" + peer6 + "]:8080/; echo ==end global==",
		"echo ==linklocal==; curl -sS -m 10 -g --interface " + sIf + " http://[" + peerLL + "%25" + sIf + "]:8080/; echo ==end linklocal==",
		"echo ==route==; ip -6 route show table all; echo ==end route==",
		"echo ==addr==; ip -6 addr; echo ==end addr==",
		// ICMPv6 ping sockets (no CAP_NET_RAW without --net-raw) to
		// lo and to the peer.
		"echo ==ping6lo==; " + pingNoCaps + " -6 -c 2 -i 0.2 -W 3 ::1 2>&1; echo ==end ping6lo==",
		"echo ==ping6peer==; " + pingNoCaps + " -6 -c 2 -i 0.2 -W 3 " + peer6 + " 2>&1; echo ==end ping6peer==",
		"sleep 4",
	}, "\n")
	bundle := filepath.Join(dir, "bundle")
	writeBundle(t, mkdir(t, bundle), sbx, script)
	out := runscRun(t, bin, filepath.Join(dir, "state"), bundle, "nsbx-"+tag+"-c6", false)

	ifs := section(out, "if_inet6")
	for _, want := range []string{"00000000000000000000000000000001 01 80", "20010002000000000000000000000002 02 40"} {
		if !strings.Contains(ifs, want) {
			t.Errorf("/proc/net/if_inet6 lacks %q:\n%s", want, ifs)
		}
	}
	if !strings.Contains(ifs, "fe80") {
		t.Errorf("/proc/net/if_inet6 lacks the link-local address:\n%s", ifs)
	}
	routes := section(out, "route")
	for _, want := range []string{"2001:2::/64 dev " + sIf, "fe80::/64 dev " + sIf, "local ::1 dev lo"} {
		if !strings.Contains(routes, want) {
			t.Errorf("ip -6 route lacks %q:\n%s", want, routes)
		}
	}
	if addrs := section(out, "addr"); !strings.Contains(addrs, "inet6 "+sandbox6+"/64") || !strings.Contains(addrs, "inet6 ::1/128") {
		t.Errorf("ip -6 addr:\n%s", addrs)
	}
	if got := section(out, "global"); !strings.Contains(got, token+" ["+sandbox6+"]:") {
		t.Errorf("HTTP over the global address: %q", got)
	}
	if got := section(out, "linklocal"); !strings.Contains(got, token+" [fe80::") {
		t.Errorf("HTTP over the link-local address: %q", got)
	}
	for _, sec := range []string{"ping6lo", "ping6peer"} {
		if got := section(out, sec); !strings.Contains(got, "2 received") {
			t.Errorf("%s inside the sandbox:\n%s", sec, got)
		}
	}
	if p := <-pinged; !strings.Contains(p, "2 received") {
		t.Errorf("ping -6 of the sandbox:\n%s", p)
	}
	// The kernel's IPv6 is off on the interface the stack took.
	if v, _ := run(context.Background(), "ip", "netns", "exec", sbx, "cat", "/proc/sys/net/ipv6/conf/"+sIf+"/disable_ipv6"); strings.TrimSpace(v) != "1" {
		t.Errorf("disable_ipv6 on the sandbox interface: %q", v)
	}
}

// mkdir makes dir and returns it.
func mkdir(t *testing.T, dir string) string {
	t.Helper()
	if err := unix.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
