package harness

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func requireNetns(t *testing.T) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("NETSANDBOX_REQUIRE_NETNS") == "1" {
			t.Fatalf("network namespaces required (NETSANDBOX_REQUIRE_NETNS=1): %v", err)
		}
		t.Skipf("needs root and network namespaces: %v", err)
	}
}

func TestPortNormalisation(t *testing.T) {
	e := &Env{portLo: 32768, portHi: 60999, ephemera: map[int]string{}}
	got := []string{e.Port(80), e.Port(40000), e.Port(50000), e.Port(40000), e.Port(32767), e.Port(60999)}
	want := []string{"80", "eph1", "eph2", "eph1", "32767", "eph3"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Port: got %v, want %v", got, want)
	}
	if s := e.SA(Sockaddr(DUTAddr, 40000)); s != "inet:198.18.0.2:eph1" {
		t.Errorf("SA = %q", s)
	}
	if s := e.SA(Sockaddr(DUTAddr, 7)[:8]); s != "sa8[0200000"+"7c6120002]" {
		t.Errorf("short SA = %q", s)
	}
	if s := Fmt(unix.EINVAL); s != "EINVAL" {
		t.Errorf("Fmt(EINVAL) = %q", s)
	}
	if s := Fmt(nil); s != "ok" {
		t.Errorf("Fmt(nil) = %q", s)
	}
}

func TestReportOutput(t *testing.T) {
	r := Report{Rows: []Row{
		{Name: "a", Status: "identical"},
		{Name: "b", Status: "differ", Diff: "-x\n+y\n"},
		{Name: "c", Status: "expected", Diff: "-x\n+z\n", Reason: "why"},
	}, N: 3, Identical: 1, Differ: 1, Expected: 1}
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if last := lines[len(lines)-1]; last != "conformance: 3 scenarios, 1 identical, 1 differ" {
		t.Errorf("last line %q", last)
	}
	if !strings.Contains(b.String(), "    +y") || !strings.Contains(b.String(), "(why)") {
		t.Errorf("text lacks diff or reason:\n%s", b.String())
	}
	b.Reset()
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.N != 3 || back.Differ != 1 || len(back.Rows) != 3 || back.Rows[2].Reason != "why" {
		t.Errorf("JSON round trip: %+v", back)
	}
}

func netnsInode(t *testing.T) string {
	l, err := os.Readlink("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestTopologyAndInNetns(t *testing.T) {
	requireNetns(t)
	topo, err := NewTopology(RunPrefix(), "t", true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topo.Close() })

	var inside, outside string
	if err := InNetns(topo.DUTNS, func() error {
		inside = netnsInode(t)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	outside = netnsInode(t)
	if inside == outside {
		t.Errorf("InNetns did not switch namespace (%s)", inside)
	}

	// A socket made in the namespace keeps it: it can bind DUTAddr.
	h := NewKernelHost("dut", topo.DUTNS)
	s, err := h.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Bind(Sockaddr(DUTAddr, 0)); err != nil {
		t.Errorf("bind DUTAddr in DUT namespace: %v", err)
	}
	p, err := NewKernelHost("peer", topo.PeerNS).Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Bind(Sockaddr(DUTAddr, 0)); err != unix.EADDRNOTAVAIL {
		t.Errorf("bind DUTAddr in peer namespace: got %v, want EADDRNOTAVAIL", err)
	}

	if err := topo.Close(); err != nil {
		t.Fatal(err)
	}
	left, err := ListOurNetns(RunPrefix() + "t-")
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("namespaces left after Close: %v", left)
	}
}

func TestTopologyFailureCleansUp(t *testing.T) {
	requireNetns(t)
	// The peer namespace already exists, so building fails halfway.
	clash := RunPrefix() + "f-far"
	if err := AddNetns(clash); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { DelNetns(clash) })
	if _, err := NewTopology(RunPrefix(), "f", true); err == nil {
		t.Fatal("NewTopology succeeded despite a clashing namespace")
	}
	left, _ := ListOurNetns(RunPrefix() + "f-")
	if len(left) != 1 || left[0] != clash {
		t.Errorf("half-built topology left %v", left)
	}
}

func TestRunnerTimeoutPanicAndRestore(t *testing.T) {
	requireNetns(t)
	const knob = "net.ipv4.ping_group_range"
	list := []Scenario{
		{Name: "blocks", Run: func(e *Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("bind", s.Bind(Sockaddr(e.DUTAddr, e.BasePort)))
			_, _, _, _, err := s.RecvMsg(make([]byte, 8), nil, 0) // blocks until closed
			e.Rec("recv", err)
		}},
		{Name: "panics", Run: func(e *Env) {
			e.Rec("before")
			panic("scenario panics")
		}},
		{Name: "sysctl", Run: func(e *Env) {
			e.Check("set", e.SetSysctl(e.DUT, knob, "0 0"))
			v, err := e.DUT.GetSysctl(knob)
			e.Rec("get", err, v)
		}},
		{Name: "after-sysctl", Run: func(e *Env) {
			v, err := e.DUT.GetSysctl(knob)
			e.Rec("get", err, v)
		}},
		{Name: "filtered-out", Run: func(e *Env) { t.Error("filtered scenario ran") }},
	}
	start := time.Now()
	rep, err := RunScenarios(list, nil, Options{Against: "kernel", Timeout: 300 * time.Millisecond, Records: true, Run: regexp.MustCompile("^(blocks|panics|sysctl|after-sysctl)$")})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("run took %v", d)
	}
	if rep.N != 4 || rep.Identical != 4 {
		t.Errorf("report %+v", rep)
	}
	rec := map[string]string{}
	for _, r := range rep.Rows {
		rec[r.Name] = strings.Join(r.Record, "|")
	}
	if !strings.HasSuffix(rec["blocks"], "timeout") {
		t.Errorf("blocks: %q, want a timeout record", rec["blocks"])
	}
	if !strings.Contains(rec["panics"], "panic: scenario panics") {
		t.Errorf("panics: %q", rec["panics"])
	}
	if !strings.Contains(rec["sysctl"], "get: ok 0 0") {
		t.Errorf("sysctl: %q", rec["sysctl"])
	}
	// Same namespaces, next scenario: the runner put the knob back.
	if got := rec["after-sysctl"]; got != "get: ok 1 0" {
		t.Errorf("after-sysctl: %q, want the default restored", got)
	}
}

func TestRunnerClassifiesDifferences(t *testing.T) {
	requireNetns(t)
	// Each scenario records how often it ran, so its two runs differ.
	counter := func() func(e *Env) {
		n := 0
		return func(e *Env) { n++; e.Rec("run", n) }
	}
	list := []Scenario{
		{Name: "same", Run: func(e *Env) { e.Rec("x", 1) }},
		{Name: "accepted", Run: counter()},
		{Name: "bug", Run: counter()},
	}
	rep, err := RunScenarios(list, map[string]string{"accepted": "documented reason"}, Options{Against: "kernel"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Row{}
	for _, r := range rep.Rows {
		got[r.Name] = r
	}
	if got["same"].Status != "identical" || got["accepted"].Status != "expected" || got["bug"].Status != "differ" {
		t.Errorf("statuses: %+v", rep.Rows)
	}
	if got["accepted"].Reason != "documented reason" || !strings.Contains(got["bug"].Diff, `"run: 2"`) {
		t.Errorf("reason/diff: %+v", rep.Rows)
	}
	if rep.N != 3 || rep.Identical != 1 || rep.Expected != 1 || rep.Differ != 1 {
		t.Errorf("counts: %+v", rep)
	}
}
