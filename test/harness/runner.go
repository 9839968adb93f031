package harness

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// Options select and report a conformance run.
type Options struct {
	Run      *regexp.Regexp // only scenarios whose name matches; nil = all
	Progress io.Writer      // one line per scenario as it finishes; nil = quiet
	// Against names the implementation compared with the kernel:
	// "netsandbox" (default), "kernel" (a second kernel topology, which
	// checks that the scenarios themselves are deterministic),
	// "runsc-netsandbox" or "runsc" (the same system calls made by an agent
	// inside runsc with --network=plugin, netsandbox, or --network=sandbox,
	// gVisor's netstack: see NewRunscDUT).
	Against string
	Timeout time.Duration // per scenario and host; 0 = 10s
	// Records keeps each scenario's kernel record in its Row.
	Records bool
	// Parallel runs a scenario's two runs at the same time (their
	// namespaces share nothing; about twice as fast). Scenarios must then
	// keep no state outside their Env, and timing-sensitive ones see more
	// CPU contention, so it is off by default.
	Parallel bool
}

// Row is the outcome of one scenario.
type Row struct {
	Name   string `json:"name"`
	Status string `json:"status"` // "identical", "differ" or "expected"
	Diff   string `json:"diff,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Record is the kernel's record (only with Options.Records).
	Record []string `json:"record,omitempty"`
}

// Report is the outcome of a run. Differ counts only differences that are
// not in the expected list.
type Report struct {
	Rows      []Row `json:"rows"`
	N         int   `json:"n"`
	Identical int   `json:"identical"`
	Differ    int   `json:"differ"`
	Expected  int   `json:"expected"`
	// Notes are setup findings (not counted as differences).
	Notes []string `json:"notes,omitempty"`
}

// WriteText prints one row per scenario (with the diff below a differing
// one) and ends with the summary line.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "%-9s %s", row.Status, row.Name)
		if row.Reason != "" {
			fmt.Fprintf(&b, "  (%s)", row.Reason)
		}
		b.WriteString("\n")
		if row.Status != "identical" && row.Diff != "" {
			for _, l := range strings.Split(strings.TrimRight(row.Diff, "\n"), "\n") {
				b.WriteString("    " + l + "\n")
			}
		}
	}
	if r.Expected > 0 {
		fmt.Fprintf(&b, "%d expected differences\n", r.Expected)
	}
	fmt.Fprintf(&b, "conformance: %d scenarios, %d identical, %d differ\n", r.N, r.Identical, r.Differ)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON prints the report as one JSON object.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// RunScenarios runs every selected scenario on a kernel DUT and on the
// compared DUT, each in its own topology with identical addressing, and
// diffs the records. expected maps scenario names to the reason their
// difference is accepted.
func RunScenarios(list []Scenario, expected map[string]string, opts Options) (Report, error) {
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Second
	}
	ref, err := NewKernelDUT("k")
	if err != nil {
		return Report{}, err
	}
	defer ref.Close()
	var other *DUT
	switch opts.Against {
	case "", "netsandbox":
		other, err = NewNetsandboxDUT("n")
	case "kernel":
		other, err = NewKernelDUT("x")
	case "runsc-netsandbox":
		other, err = NewRunscDUT(opts.Against, "r")
	case "runsc":
		other, err = NewRunscDUT(opts.Against, "g")
	default:
		err = fmt.Errorf("unknown implementation %q", opts.Against)
	}
	if err != nil {
		return Report{}, err
	}
	defer other.Close()

	var rep Report
	rep.Notes = append(rep.Notes, other.Notes...)
	if opts.Progress != nil {
		for _, n := range rep.Notes {
			fmt.Fprintf(opts.Progress, "note: %s\n", n)
		}
	}
	for i, sc := range list {
		if opts.Run != nil && !opts.Run.MatchString(sc.Name) {
			continue
		}
		base := 10000 + 10*i // outside ip_local_port_range, same on both runs
		var a, b []string
		if opts.Parallel {
			done := make(chan struct{})
			go func() {
				defer close(done)
				b = runOne(sc, other, base, opts.Timeout)
			}()
			a = runOne(sc, ref, base, opts.Timeout)
			<-done
		} else {
			a = runOne(sc, ref, base, opts.Timeout)
			b = runOne(sc, other, base, opts.Timeout)
		}
		row := Row{Name: sc.Name, Status: "identical"}
		if opts.Records {
			row.Record = a
		}
		if d := cmp.Diff(a, b); d != "" {
			row.Diff = fmt.Sprintf("-%s +%s\n%s", ref.Kind, other.Kind, d)
			if reason, ok := expected[sc.Name]; ok {
				row.Status, row.Reason = "expected", reason
				rep.Expected++
			} else {
				row.Status = "differ"
				rep.Differ++
			}
		} else {
			rep.Identical++
		}
		rep.N++
		rep.Rows = append(rep.Rows, row)
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "%-9s %s\n", row.Status, row.Name)
		}
	}
	return rep, nil
}

// runOne runs a scenario on one DUT with a deadline and returns its record.
// Whatever happens, the scenario's sockets are closed and its sysctls
// restored.
func runOne(sc Scenario, d *DUT, base int, timeout time.Duration) []string {
	e := &Env{
		DUTAddr: DUTAddr, PeerAddr: PeerAddr, PrefixLen: PrefixLen,
		BasePort: base, portLo: 32768, portHi: 60999, ephemera: map[int]string{},
	}
	if d.Prepare != nil {
		if err := d.Prepare(); err != nil {
			return []string{fmt.Sprintf("%s DUT unusable: %v", d.Kind, err)}
		}
	}
	if r, err := d.Host.GetSysctl("net.ipv4.ip_local_port_range"); err == nil {
		if f := strings.Fields(r); len(f) == 2 {
			e.portLo, _ = strconv.Atoi(f[0])
			e.portHi, _ = strconv.Atoi(f[1])
		}
	}
	e.DUT = trackedHost{d.Host, e}
	e.Peer = trackedHost{d.Peer, e}
	e.Far = trackedHost{d.Far, e}
	e.FarAddrs = FarAddrs

	finished := make(chan struct{})
	go func() {
		defer close(finished)
		defer func() {
			if p := recover(); p != nil {
				if _, ok := p.(errAbort); !ok {
					e.add(fmt.Sprintf("panic: %v", p))
				}
			}
		}()
		sc.Run(e)
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-finished:
	case <-timer.C:
		e.add("timeout")
	}
	steps := e.Steps()
	e.mu.Lock()
	e.done = true
	socks, undo, deferred := e.socks, e.sysctls, e.deferred
	e.mu.Unlock()
	// Shutdown first so that a call blocked in a timed-out scenario returns,
	// then let the scenario finish before closing: closing under a running
	// scenario could let it act on a reused descriptor.
	for _, s := range socks {
		s.Shutdown(unix.SHUT_RDWR)
	}
	select {
	case <-finished:
		for _, s := range socks {
			s.Close()
		}
	case <-time.After(2 * time.Second):
		// Still stuck: leave its sockets open (leaked) rather than risk that.
	}
	for i := len(undo) - 1; i >= 0; i-- {
		undo[i].h.SetSysctl(undo[i].name, undo[i].value)
	}
	for i := len(deferred) - 1; i >= 0; i-- {
		deferred[i]()
	}
	return steps
}
