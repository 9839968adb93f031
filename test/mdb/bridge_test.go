package mdb

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"netsandbox/endpoint"
	"netsandbox/test/harness"
)

// requireNetns skips (or, under NETSANDBOX_REQUIRE_NETNS=1, fails) when
// network namespaces or the tools the test reads with are missing.
func requireNetns(t *testing.T, tools ...string) {
	t.Helper()
	err := harness.Available()
	for _, tool := range tools {
		if err != nil {
			break
		}
		if _, lerr := exec.LookPath(tool); lerr != nil {
			err = fmt.Errorf("needs %s (apt-get install -y iproute2 tshark): %v", tool, lerr)
		}
	}
	if err != nil {
		if os.Getenv("NETSANDBOX_REQUIRE_NETNS") == "1" {
			t.Fatalf("network namespaces required (NETSANDBOX_REQUIRE_NETNS=1): %v", err)
		}
		t.Skipf("skipping the bridge comparison: %v (run as root with netns support; set NETSANDBOX_REQUIRE_NETNS=1 to make this fatal)", err)
	}
}

// Waits of a step. Linux sends a state-change report at once and repeats
// it (robustness variable 2) within the 1 s unsolicited report interval;
// the bridge's queries after a BLOCK or TO_IN and their answers take the
// last member query time (2 x 100 ms). After changeSettle both are over.
// The database must then show the state, twice mdbConfirm apart, within
// mdbSettle. Answers to a general query come within the bridge's query
// response interval (300 ms).
const (
	changeSettle = 1150 * time.Millisecond
	mdbSettle    = 3 * time.Second
	mdbConfirm   = 250 * time.Millisecond
	mdbPoll      = 100 * time.Millisecond
	answerWait   = 800 * time.Millisecond
)

// StepRecords is what a port carried about a step's group.
type StepRecords struct {
	Changes     []string // state-change records (multiset, see Summary)
	ChangePhase Answers  // after the socket calls
	QueryPhase  Answers  // after the general query
}

// Answers are the current-state records a host sent and the queries the
// bridge sent it in one phase.
type Answers struct{ Current, Queries []string }

// phase is a stretch of a round: frames (from, to] of each port's capture.
// Each round has a change phase, then a general-query phase.
type phase struct {
	round    int
	name     string // "change" or "general-query"
	from, to map[string]int
}

// TestBridgeMDB runs the same socket-call sequences on a kernel host and a
// netsandbox host behind one IGMPv3-snooping Linux bridge, in lock step
// (step i of every sequence, each on its own group, in round i). After each
// round it compares the bridge's database entries of the two ports, then
// has the bridge send a general query; at the end it compares tshark's
// decoding of what crossed each port, phase by phase.
func TestBridgeMDB(t *testing.T) {
	requireNetns(t, "bridge", "tshark")
	began := time.Now()
	topo, caps, hosts := bridgeRig(t, "mdb3", 3)
	portRole := map[string]string{topo.Kernel.BridgeIf: RoleKernel, topo.Netsandbox.BridgeIf: RoleNetsandbox}
	roles := []string{RoleKernel, RoleNetsandbox}

	seqs := Sequences()
	if re := os.Getenv("NETSANDBOX_MDB_RUN"); re != "" {
		pat := regexp.MustCompile(re)
		seqs = slices.DeleteFunc(seqs, func(sq Sequence) bool { return !pat.MatchString(sq.Name) })
	}
	rounds := 0
	for _, sq := range seqs {
		rounds = max(rounds, len(sq.Steps))
	}
	mark := func() map[string]int {
		m := map[string]int{}
		for _, r := range roles {
			m[r] = caps[r].Mark()
		}
		return m
	}
	// The querier's startup query went out when br0 came up, maybe before
	// both hosts were listening, and a host answers a general query with
	// whatever it has joined when its answer timer fires. A query now,
	// answered (with nothing) before the first round, starts both hosts
	// alike. Its frames belong to no step.
	if err := topo.GeneralQuery(); err != nil {
		t.Fatalf("general query: %v", err)
	}
	time.Sleep(answerWait)
	last := mark()
	var phases []phase
	steps, mdbSame, callsSame := 0, 0, 0
	for r := range rounds {
		for _, sq := range seqs {
			if r >= len(sq.Steps) {
				continue
			}
			st := sq.Steps[r]
			var logs [2][]string
			for i, h := range hosts {
				for _, op := range st.Ops {
					logs[i] = append(logs[i], op.Desc+": "+harness.Fmt(op.Do(h, sq.Name)))
				}
			}
			if diff := cmp.Diff(logs[0], logs[1]); diff != "" {
				t.Errorf("%s/%s: socket calls answer differently (-kernel +netsandbox):\n%s", sq.Name, st.Name, diff)
			} else {
				callsSame++
			}
			for _, l := range logs[0] {
				if !strings.HasSuffix(l, ": ok") {
					t.Errorf("%s/%s: kernel call failed, the sequence is wrong: %s", sq.Name, st.Name, l)
				}
			}
		}
		time.Sleep(changeSettle)
		db := settledMDB(t, topo.BridgeNS, portRole, seqs, r)
		for _, sq := range seqs {
			if r >= len(sq.Steps) {
				continue
			}
			steps++
			st := sq.Steps[r]
			g := sq.Group.String()
			k, n := Only(db[RoleKernel], g), Only(db[RoleNetsandbox], g)
			if got := Filter(k, g); got != st.Want {
				t.Errorf("%s/%s: the bridge holds %q for the kernel port, the sequence expects %q; entries: %+v", sq.Name, st.Name, got, st.Want, k)
			}
			if diff := cmp.Diff(k, n); diff != "" {
				t.Errorf("%s/%s: bridge mdb entries differ (-kernel +netsandbox):\n%s", sq.Name, st.Name, diff)
			} else {
				mdbSame++
			}
		}
		now := mark()
		phases = append(phases, phase{round: r, name: "change", from: last, to: now})
		last = now
		if err := topo.GeneralQuery(); err != nil {
			t.Fatalf("general query: %v", err)
		}
		time.Sleep(answerWait)
		now = mark()
		phases = append(phases, phase{round: r, name: "general-query", from: last, to: now})
		last = now
	}

	// What tshark makes of it.
	dir := t.TempDir()
	pkts := map[string][]Packet{}
	frames := map[string][]Frame{}
	for _, p := range []Port{topo.Kernel, topo.Netsandbox} {
		fs, err := caps[p.Role].Stop()
		if err != nil {
			t.Fatalf("capture on %s: %v", p.BridgeIf, err)
		}
		frames[p.Role] = fs
		path := filepath.Join(dir, p.Role+".pcap")
		if err := WritePcap(path, fs); err != nil {
			t.Fatal(err)
		}
		if pkts[p.Role], err = Decode(path, p.Addr.String()); err != nil {
			t.Fatal(err)
		}
		if len(pkts[p.Role]) != len(fs) {
			t.Errorf("%s: tshark decoded %d IGMP packets of %d captured", p.Role, len(pkts[p.Role]), len(fs))
		}
	}
	out := func(role string) func(int) bool {
		return func(frame int) bool { return frame >= 1 && frame <= len(frames[role]) && frames[role][frame-1].Out }
	}

	// Every packet a host sent: same headers on both, and the ones RFC 3376
	// 4 asks for.
	hk, hn := Headers(pkts[RoleKernel], out(RoleKernel)), Headers(pkts[RoleNetsandbox], out(RoleNetsandbox))
	if diff := cmp.Diff(hk, hn); diff != "" {
		t.Errorf("report headers differ (-kernel +netsandbox):\n%s", diff)
	}
	for _, h := range hn {
		for _, want := range []string{"igmpv3 type=0x22", "src=self", "dst=224.0.0.22", "ttl=1", "router-alert=present(0)", "ipsum=good", "igmpsum=good", "expert=[]"} {
			if !strings.Contains(h, want) {
				t.Errorf("netsandbox report header %q lacks %q", h, want)
			}
		}
	}
	if len(hn) == 0 {
		t.Errorf("netsandbox sent no report the capture saw")
	}

	// NETSANDBOX_MDB_TRACE=1 logs what was compared.
	trace := os.Getenv("NETSANDBOX_MDB_TRACE") == "1"
	if trace {
		t.Logf("report headers: %q", hk)
	}
	// A step's state-change records are compared over both its phases
	// together (a retransmission late by a loaded machine's timer slack
	// still belongs to the step); answers and queries phase by phase.
	summarise := func(role string, ph phase, g string) Summary {
		return Summarise(InRange(pkts[role], ph.from[role], ph.to[role]), out(role), g)
	}
	for i, ph := range phases {
		var n [2]int
		for j, role := range roles {
			n[j] = GeneralQueries(InRange(pkts[role], ph.from[role], ph.to[role]), out(role))
		}
		if want := i % 2; n[0] != want || n[1] != want {
			t.Errorf("round %d %s phase: the bridge sent %d general queries to the kernel port and %d to netsandbox's, want %d", ph.round, ph.name, n[0], n[1], want)
		}
	}
	recSame, nonEmpty := 0, 0
	for r := range rounds {
		change, query := phases[2*r], phases[2*r+1]
		for _, sq := range seqs {
			if r >= len(sq.Steps) {
				continue
			}
			g := sq.Group.String()
			var got [2]StepRecords
			for j, role := range roles {
				c, q := summarise(role, change, g), summarise(role, query, g)
				changes := slices.Concat(c.Changes, q.Changes)
				slices.Sort(changes)
				got[j] = StepRecords{Changes: changes, ChangePhase: Answers{c.Current, c.Queries}, QueryPhase: Answers{q.Current, q.Queries}}
			}
			if len(got[0].Changes)+len(got[0].ChangePhase.Current)+len(got[0].QueryPhase.Current) > 0 {
				nonEmpty++
			}
			if trace {
				t.Logf("%s/%s: kernel %+v", sq.Name, sq.Steps[r].Name, got[0])
			}
			if diff := cmp.Diff(got[0], got[1]); diff != "" {
				t.Errorf("%s/%s: IGMP records differ (-kernel +netsandbox):\n%s", sq.Name, sq.Steps[r].Name, diff)
			} else {
				recSame++
			}
		}
	}
	// Sanity: a step in which the kernel neither reported a change nor
	// answered the general query would compare nothing; only a step that
	// leaves the filter as it was and ends in no membership could.
	if nonEmpty < steps-1 {
		t.Errorf("only %d of %d steps carried kernel records: the capture or the sequences are wrong", nonEmpty, steps)
	}
	t.Logf("%d sequences, %d steps: socket calls identical %d/%d, bridge mdb identical %d/%d, tshark-decoded IGMP records identical %d/%d; %d+%d IGMP frames captured; %v",
		len(seqs), steps, callsSame, steps, mdbSame, steps, recSame, steps, len(frames[RoleKernel]), len(frames[RoleNetsandbox]), time.Since(began).Round(time.Millisecond))
}

// settledMDB polls the database until, for every sequence, the kernel
// port shows the expected state and the netsandbox port the same entries,
// twice in a row; at mdbSettle it gives up and returns the last reading
// (the caller reports the difference).
func settledMDB(t *testing.T, ns string, portRole map[string]string, seqs []Sequence, round int) map[string][]Entry {
	t.Helper()
	deadline := time.Now().Add(mdbSettle)
	var okSince time.Time
	for {
		raw, err := ReadMDB(ns)
		if err != nil {
			t.Fatalf("reading the bridge mdb: %v", err)
		}
		db := map[string][]Entry{}
		for port, es := range raw {
			if role, ok := portRole[port]; ok {
				db[role] = es
			}
		}
		ok := true
		for _, sq := range seqs {
			g := sq.Group.String()
			want := sq.Steps[min(round, len(sq.Steps)-1)].Want
			k, n := Only(db[RoleKernel], g), Only(db[RoleNetsandbox], g)
			ok = ok && Filter(k, g) == want && cmp.Equal(k, n)
		}
		switch {
		case !ok:
			okSince = time.Time{}
		case okSince.IsZero():
			okSince = time.Now()
		case time.Since(okSince) >= mdbConfirm:
			return db
		}
		if time.Now().After(deadline) {
			return db
		}
		time.Sleep(mdbPoll)
	}
}

// hostIfindex is eth0's index in a kernel host's namespace.
func hostIfindex(ns string) (int, error) {
	idx := 0
	err := harness.InNetns(ns, func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err == nil {
			idx = ifi.Index
		}
		return err
	})
	return idx, err
}

// bridgeRig builds a bridge topology whose querier speaks IGMP version,
// starts a capture on each host's bridge port (by role) and returns the
// two hosts, a kernel one and a netsandbox one; everything is removed
// when the test ends.
func bridgeRig(t *testing.T, name string, version int) (*Topology, map[string]*Capture, []*Host) {
	t.Helper()
	topo, err := NewTopology(name, version)
	if err != nil {
		t.Fatalf("topology: %v", err)
	}
	t.Cleanup(func() {
		if err := topo.Close(); err != nil {
			t.Errorf("removing the topology: %v", err)
		}
	})
	caps := map[string]*Capture{}
	for _, p := range []Port{topo.Kernel, topo.Netsandbox} {
		c, err := StartCapture(topo.BridgeNS, p.BridgeIf)
		if err != nil {
			t.Fatalf("capture on %s: %v", p.BridgeIf, err)
		}
		t.Cleanup(func() { c.Stop() })
		caps[p.Role] = c
	}
	kIdx, err := hostIfindex(topo.Kernel.HostNS)
	if err != nil {
		t.Fatal(err)
	}
	hosts := []*Host{
		{Role: RoleKernel, Addr: KernelAddr, Ifindex: kIdx, Socket: func() (Sock, error) {
			return topo.KernelHost.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
		}},
		{Role: RoleNetsandbox, Addr: NetsandboxAddr, Ifindex: topo.NetsandboxIfindex, Socket: func() (Sock, error) {
			return endpoint.New(topo.Stack, unix.AF_INET, unix.SOCK_DGRAM, 0)
		}},
	}
	for _, h := range hosts {
		t.Cleanup(h.CloseAll)
	}
	return topo, caps, hosts
}
