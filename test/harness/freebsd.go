package harness

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"netsandbox/freebsd"
	"netsandbox/stack"
)

// BSDScenario pins one behaviour of the FreeBSD ip(4) personality. There is
// no FreeBSD kernel to run it on, so the oracle is FreeBSD's source: Want is
// the record that source gives for BSD, and Cite names the functions that
// decide it. BSD runs on a netsandbox DUT with FreeBSD-personality sockets
// (BSDHost) against the same kernel peers as every scenario.
//
// Where the behaviour has a Linux equivalent, Linux runs that equivalent on a
// kernel DUT, and what both runs observed on the wire (the lines recorded
// with Env.Wire: packets the kernel peer captured, datagrams delivered,
// errors of a send) must be the same: both personalities put the same
// packets on the wire.
type BSDScenario struct {
	Name  string
	Cite  string
	BSD   func(e *Env, h BSDHost)
	Want  []string
	Linux func(e *Env)
}

// BSDHost makes FreeBSD-personality sockets on the DUT's netsandbox stack.
// As a Host, its sysctls are the FreeBSD knobs (net.inet.*) of
// freebsd.Sysctl and the stack's own (net.ipv4.*, ...), so Env.SetSysctl
// changes either for the rest of a scenario.
type BSDHost interface {
	Host
	// Stack is the DUT's stack (interface table, addresses).
	Stack() *stack.Stack
}

// Wire records an observation both personalities must share.
func (e *Env) Wire(op string, vals ...any) { e.Rec("wire "+op, vals...) }

type bsdHost struct {
	st *stack.Stack
	e  *Env
}

func (h bsdHost) Stack() *stack.Stack { return h.st }

func (h bsdHost) Name() string { return "dut" }

func (h bsdHost) SetSysctl(name, value string) error {
	if strings.HasPrefix(name, "net.inet.") {
		return freebsd.Sysctl(h.st).Set(name, value)
	}
	return h.st.Sysctl().Set(name, value)
}

func (h bsdHost) GetSysctl(name string) (string, error) {
	if strings.HasPrefix(name, "net.inet.") {
		return freebsd.Sysctl(h.st).Get(name)
	}
	return h.st.Sysctl().Get(name)
}

func (h bsdHost) Socket(domain, typ, proto int) (Sock, error) {
	s, err := freebsd.New(h.st, domain, typ, proto)
	if err != nil {
		return nil, err
	}
	return h.e.track(trackedSock{bsdSock{s}, h.e}), nil
}

// bsdSock adapts *freebsd.Socket to Sock.
type bsdSock struct{ *freebsd.Socket }

func (s bsdSock) Accept(flags int) (Sock, []byte, error) {
	a, sa, err := s.Socket.Accept(flags)
	if err != nil || a == nil {
		return nil, sa, err
	}
	return bsdSock{a}, sa, nil
}

func (s bsdSock) Poll(mask uint32, timeout time.Duration) (uint32, error) {
	always := mask | unix.EPOLLERR | unix.EPOLLHUP
	if timeout <= 0 {
		return s.Readiness(always) & always, nil
	}
	r, err := s.Wait(always, time.Now().Add(timeout))
	if err == unix.EAGAIN {
		return 0, nil
	}
	return r & always, err
}

func wireLines(rec []string) []string {
	var out []string
	for _, l := range rec {
		if strings.HasPrefix(l, "wire ") {
			out = append(out, l)
		}
	}
	return out
}

// RunFreeBSD runs the FreeBSD scenarios run selects: each BSD function on a
// netsandbox DUT, checked against its Want, and each Linux equivalent on a
// kernel DUT, whose wire lines must equal the BSD run's. A row is
// "identical" when both hold, "differ" otherwise (with the diff); its
// Record is the BSD run's record.
func RunFreeBSD(list []BSDScenario, run *regexp.Regexp, progress func(Row), timeout time.Duration) (Report, error) {
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	bsd, err := NewNetsandboxDUT("f")
	if err != nil {
		return Report{}, err
	}
	defer bsd.Close()
	nh, ok := bsd.Host.(*NetsandboxHost)
	if !ok {
		return Report{}, fmt.Errorf("netsandbox DUT has no stack")
	}
	var ref *DUT
	defer func() {
		if ref != nil {
			ref.Close()
		}
	}()
	var rep Report
	for i, sc := range list {
		if run != nil && !run.MatchString(sc.Name) {
			continue
		}
		base := 40000 + 10*i // outside both ephemeral ranges, same on both runs
		b := runOne(Scenario{Name: sc.Name, Run: func(e *Env) {
			sc.BSD(e, bsdHost{st: nh.Stack(), e: e})
		}}, bsd, base, timeout)
		row := Row{Name: sc.Name, Status: "identical", Record: b}
		var diffs []string
		if d := cmp.Diff(sc.Want, b); d != "" {
			diffs = append(diffs, "-FreeBSD source +netsandbox (freebsd personality)\n"+d)
		}
		if sc.Linux != nil {
			if ref == nil {
				if ref, err = NewKernelDUT("l"); err != nil {
					return rep, err
				}
			}
			k := runOne(Scenario{Name: sc.Name, Run: sc.Linux}, ref, base, timeout)
			if d := cmp.Diff(wireLines(k), wireLines(b)); d != "" {
				diffs = append(diffs, "-kernel (Linux equivalent) +netsandbox (freebsd personality): wire\n"+d)
			}
		}
		if len(diffs) > 0 {
			row.Status = "differ"
			row.Diff = strings.Join(diffs, "\n")
			rep.Differ++
		} else {
			rep.Identical++
		}
		rep.N++
		rep.Rows = append(rep.Rows, row)
		if progress != nil {
			progress(row)
		}
	}
	return rep, nil
}
