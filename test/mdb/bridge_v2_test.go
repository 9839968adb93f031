package mdb

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"netsandbox/test/harness"
)

// v2Quiet outlasts Linux's repetition of an IGMPv1/v2 membership report
// (a random time within igmpv2_unsolicited_report_interval, 10 s), so a
// report still pending for a group the host left would have gone out.
const v2Quiet = 10500 * time.Millisecond

// v2Sequences are memberships as an IGMPv2 querier sees them: a group is
// joined or not. Want is "member" (an entry without IGMPv3 state) or "".
func v2Sequences() []Sequence {
	g1, g2, g3, g4 := group(21), group(22), group(23), group(24)
	return []Sequence{
		{Name: "v2-asm", Group: g1, Steps: []Step{
			{"join", []Op{join("A", g1)}, "member"},
			{"leave", []Op{leave("A", g1)}, ""},
		}},
		{Name: "v2-ssm", Group: g2, Steps: []Step{
			{"add S1", []Op{addSource("A", g2, S1)}, "member"},
			{"add S2", []Op{addSource("A", g2, S2)}, "member"},
			{"drop S1 S2", []Op{dropSource("A", g2, S1), dropSource("A", g2, S2)}, ""},
		}},
		{Name: "v2-block", Group: g3, Steps: []Step{
			{"join", []Op{join("A", g3)}, "member"},
			{"block S3", []Op{block("A", g3, S3)}, "member"},
			{"close", []Op{closeSock("A")}, ""},
		}},
		// Left within Linux's initial report delay (up to 200 ms): the
		// host has not reported, so it neither reports nor sends a leave.
		{Name: "v2-join-leave", Group: g4, Steps: []Step{
			{"join and leave", []Op{join("A", g4), leave("A", g4)}, ""},
		}},
	}
}

// TestBridgeMDBIGMPv2 runs membership sequences behind a bridge whose
// querier speaks IGMPv2: after its first query both hosts fall back to
// IGMPv2 (RFC 3376 7.2.1) and report joins with v2 membership reports and
// leaves with v2 leaves. The database is compared after each step and once
// more after the v2 repetition interval; the messages each host sent for a
// group are compared over the whole run, as the sequence of what they say
// (a repetition of the same message is timing, not content).
func TestBridgeMDBIGMPv2(t *testing.T) {
	requireNetns(t, "bridge", "tshark")
	began := time.Now()
	topo, caps, hosts := bridgeRig(t, "mdb2", 2)
	portRole := map[string]string{topo.Kernel.BridgeIf: RoleKernel, topo.Netsandbox.BridgeIf: RoleNetsandbox}
	// The v2 query that puts both hosts in IGMPv2 mode.
	if err := topo.GeneralQuery(); err != nil {
		t.Fatalf("general query: %v", err)
	}
	time.Sleep(answerWait)

	seqs := v2Sequences()
	rounds := 0
	for _, sq := range seqs {
		rounds = max(rounds, len(sq.Steps))
	}
	steps, mdbSame, callsSame := 0, 0, 0
	check := func(r int, what string) {
		db := settledMDB(t, topo.BridgeNS, portRole, seqs, r)
		for _, sq := range seqs {
			if r >= len(sq.Steps) && what == "step" {
				continue
			}
			st := sq.Steps[min(r, len(sq.Steps)-1)]
			g := sq.Group.String()
			k, n := Only(db[RoleKernel], g), Only(db[RoleNetsandbox], g)
			if got := Filter(k, g); got != st.Want {
				t.Errorf("%s/%s (%s): the bridge holds %q for the kernel port, the sequence expects %q; entries: %+v", sq.Name, st.Name, what, got, st.Want, k)
			}
			if diff := cmp.Diff(k, n); diff != "" {
				t.Errorf("%s/%s (%s): bridge mdb entries differ (-kernel +netsandbox):\n%s", sq.Name, st.Name, what, diff)
			} else if what == "step" {
				mdbSame++
			}
		}
	}
	for r := range rounds {
		for _, sq := range seqs {
			if r >= len(sq.Steps) {
				continue
			}
			steps++
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
		}
		time.Sleep(changeSettle)
		check(r, "step")
	}
	// Every group is left: nothing may bring one back.
	time.Sleep(v2Quiet)
	check(rounds, "after the repetition interval")

	dir := t.TempDir()
	msgs := map[string]map[string][]string{}
	var headers [2][]string
	for i, p := range []Port{topo.Kernel, topo.Netsandbox} {
		fs, err := caps[p.Role].Stop()
		if err != nil {
			t.Fatalf("capture on %s: %v", p.BridgeIf, err)
		}
		path := filepath.Join(dir, p.Role+".pcap")
		if err := WritePcap(path, fs); err != nil {
			t.Fatal(err)
		}
		pkts, err := Decode(path, p.Addr.String())
		if err != nil {
			t.Fatal(err)
		}
		out := func(frame int) bool { return frame >= 1 && frame <= len(fs) && fs[frame-1].Out }
		headers[i] = Headers(pkts, out)
		msgs[p.Role] = v2Messages(pkts, out)
	}
	if diff := cmp.Diff(headers[0], headers[1]); diff != "" {
		t.Errorf("IGMPv2 message headers differ (-kernel +netsandbox):\n%s", diff)
	}
	same := 0
	for _, sq := range seqs {
		g := sq.Group.String()
		if diff := cmp.Diff(msgs[RoleKernel][g], msgs[RoleNetsandbox][g]); diff != "" {
			t.Errorf("%s: IGMP messages for %s differ (-kernel +netsandbox):\n%s", sq.Name, g, diff)
		} else {
			same++
		}
	}
	if os.Getenv("NETSANDBOX_MDB_TRACE") == "1" {
		t.Logf("headers: %q; kernel messages: %q", headers[0], msgs[RoleKernel])
	}
	t.Logf("IGMPv2 querier: %d sequences, %d steps: socket calls identical %d/%d, bridge mdb identical %d/%d; messages per group identical %d/%d; %v",
		len(seqs), steps, callsSame, steps, mdbSame, steps, same, len(seqs), time.Since(began).Round(time.Millisecond))
}

// v2Messages lists, per group, what the host said in order, a message
// repeated back to back counted once: "report v2" (0x16), "report v1"
// (0x12), "leave" (0x17), or the records of an IGMPv3 report (which a host
// in v2 mode must not send).
func v2Messages(pkts []Packet, out func(int) bool) map[string][]string {
	m := map[string][]string{}
	add := func(g, what string) {
		if l := m[g]; len(l) == 0 || l[len(l)-1] != what {
			m[g] = append(l, what)
		}
	}
	for _, p := range pkts {
		if out(p.Frame) {
			continue
		}
		switch p.Type {
		case 0x16:
			add(p.Group, "report v2")
		case 0x12:
			add(p.Group, "report v1")
		case 0x17:
			add(p.Group, "leave")
		case 0x22:
			for _, r := range p.Records {
				add(r.Group, "v3 "+r.String())
			}
		default:
			add(p.Group, "type "+strings.TrimSpace(p.Header))
		}
	}
	for g := range m {
		m[g] = slices.Clip(m[g])
	}
	return m
}
