package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"netsandbox/link/fdbased"
	"netsandbox/test/harness"
)

// Packets per second through a veth (issue 15): `netsandbox serve
// --udp-echo` on an interface it attaches to (link/fdbased's packet
// socket), against a plain kernel UDP echo (one thread, blocking recvfrom
// then sendto) behind a veth of its own, in the same run. Each party is a
// process of its own, as on a real host: the two echoes, and a flood in a
// peer namespace that offers a fixed rate for one second per round
// (sendmmsg, 16 datagrams of 64 bytes every 16/rate s). What comes back per
// second is what the echo keeps up with; the rest was dropped on the way.
// An unpaced burst would measure the queues' sizes more than the echo:
// 50 000 datagrams leave in some 50 ms.
//
//	sudo go test ./cmd/netsandbox -run '^$' -bench ServeUDPEcho -benchtime 5x
//	sudo NSBX_PPS_RATE=200000 go test ...   # another offered rate
//	sudo NSBX_SERVE_CPUPROFILE=/tmp/serve.pprof go test ...  # serve's profile
//
// Metrics: kernel-pps and netsandbox-pps (echoes received per second),
// their ratio (the goal is >= 0.9), and each side's loss.

const (
	ppsDatagram = 64
	ppsPort     = 7007
	// ppsDefaultRate is the offered rate (datagrams per second) when
	// NSBX_PPS_RATE does not say: about what the kernel's echo keeps up
	// with on a 2-core machine.
	ppsDefaultRate = 100000
	// serveRcvbuf is SO_RCVBUF of serve's echo socket: its stack's
	// net.core.rmem_default (stack/sysctl.go).
	serveRcvbuf = 212992
)

// ppsRate is the offered rate of BenchmarkServeUDPEcho.
func ppsRate(b *testing.B) int {
	v := os.Getenv("NSBX_PPS_RATE")
	if v == "" {
		return ppsDefaultRate
	}
	r, err := strconv.Atoi(v)
	if err != nil || r < 1000 || r > 10000000 {
		b.Fatalf("NSBX_PPS_RATE=%q: want datagrams per second, 1000..10000000", v)
	}
	return r
}

// echoRig is one echo behind a veth, reached from the flood namespace.
type echoRig struct {
	flood         string     // the flood's namespace
	local, remote netip.Addr // the flood's address and the echo's
}

// BenchmarkServeUDPEcho floods each echo for a second per round, kernel
// first on odd rounds and netsandbox first on even ones.
func BenchmarkServeUDPEcho(b *testing.B) {
	requireNetns(b)
	bin := buildBinary(b)
	tag := strconv.FormatInt(time.Now().UnixNano()%1e6, 36)
	flood := newNetns(b, "nsbx-pps-"+tag+"-f")
	kern := &echoRig{flood: flood, local: netip.MustParseAddr("198.18.9.2"), remote: netip.MustParseAddr("198.18.9.1")}
	nsbx := &echoRig{flood: flood, local: netip.MustParseAddr("198.18.9.6"), remote: netip.MustParseAddr("198.18.9.5")}
	kns, kdev := vethTo(b, tag+"k", kern)
	nns, ndev := vethTo(b, tag+"n", nsbx)
	ipCmd(b, "-n", kns, "addr", "add", kern.remote.String()+"/30", "dev", kdev)
	ipCmd(b, "-n", kns, "link", "set", kdev, "up")
	startKernelEcho(b, kns, kern.remote)
	args := []string{"--link", "iface:" + ndev, "--addr", nsbx.remote.String() + "/30", "--udp-echo", strconv.Itoa(ppsPort)}
	if f := os.Getenv("NSBX_SERVE_CPUPROFILE"); f != "" {
		args = append(args, "--cpuprofile", f) // written when serve stops
	}
	startServe(b, bin, nns, args...)
	rate := ppsRate(b)
	// Warm-up: neighbour resolution and the first packets' costs.
	floodRound(b, kern, 1000, rate)
	floodRound(b, nsbx, 1000, rate)
	var kernPPS, nsbxPPS, kernLoss, nsbxLoss float64
	b.ResetTimer()
	for i := range b.N {
		rigs := []*echoRig{kern, nsbx}
		if i%2 == 1 {
			rigs = []*echoRig{nsbx, kern}
		}
		for _, r := range rigs {
			pps, loss := floodRound(b, r, rate, rate)
			if r == kern {
				kernPPS, kernLoss = kernPPS+pps, kernLoss+loss
			} else {
				nsbxPPS, nsbxLoss = nsbxPPS+pps, nsbxLoss+loss
			}
		}
	}
	n := float64(b.N)
	b.ReportMetric(kernPPS/n, "kernel-pps")
	b.ReportMetric(nsbxPPS/n, "netsandbox-pps")
	b.ReportMetric(nsbxPPS/kernPPS, "ratio")
	b.ReportMetric(100*kernLoss/n, "kernel-loss-%")
	b.ReportMetric(100*nsbxLoss/n, "netsandbox-loss-%")
}

// vethTo makes a namespace joined to the flood namespace by a veth, with
// r.local/30 on the flood's end, and returns the namespace and its end.
// The flood's end computes its UDP checksums in software: a packet socket
// (serve's link) sees them as the kernel left them otherwise.
func vethTo(b *testing.B, tag string, r *echoRig) (ns, dev string) {
	ns = newNetns(b, "nsbx-pps-"+tag)
	dev, far := "nsbx"+tag+"a", "nsbx"+tag+"b"
	ipCmd(b, "link", "add", dev, "netns", ns, "type", "veth", "peer", "name", far, "netns", r.flood)
	ipCmd(b, "-n", r.flood, "addr", "add", r.local.String()+"/30", "dev", far)
	ipCmd(b, "-n", r.flood, "link", "set", far, "up")
	if err := harness.InNetns(r.flood, func() error { return fdbased.DisableTxOffload(far) }); err != nil {
		b.Fatal(err)
	}
	return ns, dev
}

// startKernelEcho runs TestKernelUDPEchoHelper in ns on addr:ppsPort until
// the benchmark ends.
func startKernelEcho(b *testing.B, ns string, addr netip.Addr) {
	cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^TestKernelUDPEchoHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "NSBX_KERNEL_ECHO="+netip.AddrPortFrom(addr, ppsPort).String())
	out := new(syncBuffer)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "echo: ready"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("kernel echo did not start:\n%s", out.String())
		}
	}
}

// TestKernelUDPEchoHelper is BenchmarkServeUDPEcho's kernel echo, run with
// NSBX_KERNEL_ECHO=ADDR:PORT; without it, it does nothing. It echoes every
// datagram until SIGTERM.
func TestKernelUDPEchoHelper(t *testing.T) {
	spec := os.Getenv("NSBX_KERNEL_ECHO")
	if spec == "" {
		return // only a helper
	}
	ap := netip.MustParseAddrPort(spec)
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The same receive buffer as serve's socket: its stack's
	// net.core.rmem_default, 212992 bytes (Linux doubles the value set).
	// It used to ask for 4 MiB, which a host whose rmem_max allows it (4
	// MiB here) gave as 8 MiB: the kernel then absorbed bursts in some
	// 10 000 datagrams where serve's socket holds 256, and the ratio
	// measured buffer sizes as much as packets per second.
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, serveRcvbuf/2)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}); err != nil {
		t.Fatal(err)
	}
	fmt.Println("echo: ready")
	buf := make([]byte, 65536)
	for {
		n, from, err := unix.Recvfrom(fd, buf, 0)
		if err == nil {
			unix.Sendto(fd, buf[:n], 0, from)
		}
	}
}

// floodRound has a flood process in the rig's namespace write n datagrams
// to the echo at rate a second and count what comes back; it returns the
// echoes per second (from the first write to the last echo) and the lost
// share.
func floodRound(b *testing.B, r *echoRig, n, rate int) (pps, loss float64) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", r.flood, os.Args[0], "-test.run=^TestUDPFloodHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("NSBX_UDP_FLOOD=%s %s %d %d", r.local, r.remote, n, rate))
	out, err := cmd.CombinedOutput()
	var got int
	var elapsed time.Duration
	if _, serr := fmt.Sscanf(lastLine(string(out), "flood: "), "flood: %d %d", &got, &elapsed); err != nil || serr != nil {
		b.Fatalf("flood helper: %v %v\n%s", err, serr, out)
	}
	if got == 0 {
		b.Fatalf("no echo came back of %d datagrams", n)
	}
	return float64(got) / elapsed.Seconds(), 1 - float64(got)/float64(n)
}

// lastLine is the last line of out that starts with prefix ("" if none).
func lastLine(out, prefix string) string {
	line := ""
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			line = l
		}
	}
	return line
}

// TestUDPFloodHelper is the flood process of BenchmarkServeUDPEcho, run in the
// flood namespace with NSBX_UDP_FLOOD="LOCAL REMOTE N RATE"; without it,
// it does nothing. It writes N datagrams to REMOTE:ppsPort at RATE a
// second in sendmmsg batches, counts the echoes until 300 ms pass without
// one, and prints "flood: ECHOES NANOSECONDS".
func TestUDPFloodHelper(t *testing.T) {
	spec := os.Getenv("NSBX_UDP_FLOOD")
	if spec == "" {
		return // only a helper
	}
	var local, remote string
	var n, rate int
	if _, err := fmt.Sscanf(spec, "%s %s %d %d", &local, &remote, &n, &rate); err != nil || rate < 1 {
		t.Fatalf("NSBX_UDP_FLOOD=%q: %v", spec, err)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20)
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 50000})
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: netip.MustParseAddr(local).As4()}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Connect(fd, &unix.SockaddrInet4{Addr: netip.MustParseAddr(remote).As4(), Port: ppsPort}); err != nil {
		t.Fatal(err)
	}
	var got atomic.Int64
	var last atomic.Int64 // unix nanoseconds of the latest echo
	var quit atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 2048)
		for !quit.Load() {
			if k, _, err := unix.Recvfrom(fd, buf, 0); err == nil && k == ppsDatagram {
				got.Add(1)
				last.Store(time.Now().UnixNano())
			}
		}
	}()
	const batch = 16
	interval := time.Second * batch / time.Duration(rate)
	payload := make([]byte, ppsDatagram)
	iov := unix.Iovec{Base: &payload[0]}
	iov.SetLen(len(payload))
	msgs := make([]unix.Mmsghdr, batch)
	for i := range msgs {
		msgs[i].Hdr.Iov = &iov
		msgs[i].Hdr.SetIovlen(1)
	}
	start := time.Now()
	for sent := 0; sent < n; {
		// Pace: sleep while the next batch is far off, spin the rest
		// (a sleep wakes tens of microseconds late).
		next := start.Add(interval * time.Duration(sent/batch))
		if d := time.Until(next); d > 200*time.Microsecond {
			time.Sleep(d - 100*time.Microsecond)
		}
		for time.Now().Before(next) {
		}
		k := min(batch, n-sent)
		r, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&msgs[0])), uintptr(k), 0, 0, 0)
		switch {
		case errno == 0:
			sent += int(r)
		case errno == unix.ENOBUFS || errno == unix.EAGAIN || errno == unix.EINTR:
			// The veth's queue is full: write again.
		default:
			t.Fatalf("sendmmsg: %v", errno)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		before := got.Load()
		time.Sleep(300 * time.Millisecond)
		if got.Load() == before {
			break
		}
	}
	quit.Store(true)
	wg.Wait()
	fmt.Printf("flood: %d %d\n", got.Load(), last.Load()-start.UnixNano())
}
