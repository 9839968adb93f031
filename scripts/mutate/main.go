// Command mutate is the mutation check of issue 11: it applies small
// deliberate bugs (mutations.go) one at a time, each to its own scratch
// copy of the repository, runs the conformance scenarios the bug touches
// there, and reports whether the kernel-differential suite caught it.
//
//	sudo go run ./scripts/mutate                        # every mutation
//	sudo go run ./scripts/mutate -only pmtu-floor,msfilter-errno-order
//	go run ./scripts/mutate -list                       # check and list them
//
// Each run is `go test -trimpath ./test/ -run '^TestConformance$' -count=1 -v`
// with NETSANDBOX_CONFORMANCE_RUN set to the mutation's scenarios and
// NETSANDBOX_REQUIRE_NETNS=1 (a run that cannot make namespaces fails, it
// never skips). Verdicts: caught (the test failed with scenarios differing
// from Linux), MISSED (it passed), broken (did not build, timed out, ran no
// scenario, or failed some other way). Before the mutations, the unmutated
// copy runs the union of their scenarios (the baseline): if it already
// differs, no verdict would mean anything and the tool stops.
//
// Every mutation's Find text is checked to occur exactly once in its file
// before anything runs, for the whole list and not only the selected
// mutations, so a mutation whose code moved fails loudly. The exit status
// is 1 if any selected mutation was missed or broken, 2 on a usage,
// setup or baseline failure.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	var (
		only     = flag.String("only", "", "comma-separated mutation names to run (default: all)")
		list     = flag.Bool("list", false, "check every mutation applies, list them and exit")
		rev      = flag.String("rev", "", "mutate this git revision (git archive) instead of the working tree's files")
		timeout  = flag.Duration("timeout", 5*time.Minute, "bound on each go test run (build included)")
		baseline = flag.Bool("baseline", true, "first run the unmutated copy on the selected mutations' scenarios")
	)
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./scripts/mutate [-list] [-only NAME,NAME] [-rev REV] [-timeout D] [-baseline=false]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	repo, err := gitOutput("", "rev-parse", "--show-toplevel")
	if err != nil {
		fatalf("not in a git repository: %v", err)
	}
	src := source{repo: strings.TrimSpace(repo), rev: *rev}
	if err := checkAll(src); err != nil {
		fatalf("%v", err)
	}
	sel, err := selectMutations(*only)
	if err != nil {
		fatalf("%v", err)
	}
	if *list {
		for _, m := range sel {
			fmt.Printf("%-28s %-26s %s\n%28s %s\n", m.Name, m.File, m.Run, "", m.Bug)
		}
		return
	}
	if os.Geteuid() != 0 {
		fatalf("the conformance scenarios need root (network namespaces)")
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if *baseline {
		if err := runBaseline(ctx, src, sel, *timeout); err != nil {
			stop()
			fatalf("%v", err)
		}
	}
	var results []result
	for i, m := range sel {
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(os.Stderr, "[%d/%d] %s (%s, %s) ...\n", i+1, len(sel), m.Name, m.File, m.Run)
		r := runMutation(ctx, src, m, *timeout)
		fmt.Fprintf(os.Stderr, "[%d/%d] %s: %s\n", i+1, len(sel), m.Name, r.line())
		if r.verdict == "broken" && len(r.tail) > 0 {
			fmt.Fprintf(os.Stderr, "--- last lines of go test:\n%s\n---\n", r.tail)
		}
		results = append(results, r)
	}
	writeTable(os.Stdout, results)
	if ctx.Err() != nil {
		fmt.Fprintf(os.Stderr, "mutate: interrupted after %d of %d mutations\n", len(results), len(sel))
		os.Exit(130)
	}
	for _, r := range results {
		if r.verdict != "caught" {
			os.Exit(1)
		}
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "mutate: "+format+"\n", args...)
	os.Exit(2)
}

// source is what gets mutated: the working tree's files (rev == "") or a
// git revision.
type source struct{ repo, rev string }

func (s source) read(file string) ([]byte, error) {
	if s.rev == "" {
		return os.ReadFile(filepath.Join(s.repo, file))
	}
	out, err := gitOutput(s.repo, "show", s.rev+":"+file)
	return []byte(out), err
}

// copyTo fills dir with the source's files: for the working tree, every
// file git tracks or would track (untracked but not ignored), as it is now,
// which is what `go test` in the working tree compiles.
func (s source) copyTo(dir string) error {
	if s.rev != "" {
		tarball := dir + ".tar"
		defer os.Remove(tarball)
		if _, err := gitOutput(s.repo, "archive", "--format=tar", "-o", tarball, s.rev); err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if out, err := exec.Command("tar", "-xf", tarball, "-C", dir).CombinedOutput(); err != nil {
			return fmt.Errorf("tar: %v: %s", err, out)
		}
		return nil
	}
	out, err := gitOutput(s.repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	if err != nil {
		return err
	}
	for _, f := range strings.Split(strings.TrimRight(out, "\x00"), "\x00") {
		from, to := filepath.Join(s.repo, f), filepath.Join(dir, f)
		fi, err := os.Lstat(from)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the working tree
		}
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(from)
			if err == nil {
				err = os.Symlink(target, to)
			}
			if err != nil {
				return err
			}
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(from)
			if err == nil {
				err = os.WriteFile(to, b, fi.Mode().Perm())
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func gitOutput(dir string, args ...string) (string, error) {
	if dir != "" {
		args = append([]string{"-C", dir}, args...)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("git", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// apply returns text with m applied; Find must occur exactly once.
func apply(m mutation, text []byte) ([]byte, error) {
	switch n := bytes.Count(text, []byte(m.Find)); n {
	case 1:
		return bytes.Replace(text, []byte(m.Find), []byte(m.Repl), 1), nil
	case 0:
		return nil, fmt.Errorf("mutation %s: its code is not in %s (moved or changed? update mutations.go)", m.Name, m.File)
	default:
		return nil, fmt.Errorf("mutation %s: its code occurs %d times in %s, want exactly once", m.Name, n, m.File)
	}
}

// checkAll checks the whole list: unique names, a valid scenario regexp,
// a real change, and Find exactly once in File.
func checkAll(src source) error {
	var errs []error
	seen := map[string]bool{}
	for _, m := range mutations {
		if seen[m.Name] {
			errs = append(errs, fmt.Errorf("mutation %s: name used twice", m.Name))
		}
		seen[m.Name] = true
		if _, err := regexp.Compile(m.Run); err != nil || m.Run == "" {
			errs = append(errs, fmt.Errorf("mutation %s: bad scenario regexp %q: %v", m.Name, m.Run, err))
		}
		if m.Find == m.Repl {
			errs = append(errs, fmt.Errorf("mutation %s: replacement equals the original", m.Name))
		}
		text, err := src.read(m.File)
		if err != nil {
			errs = append(errs, fmt.Errorf("mutation %s: %v", m.Name, err))
		} else if _, err := apply(m, text); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func selectMutations(only string) ([]mutation, error) {
	if only == "" {
		return mutations, nil
	}
	var sel []mutation
	for _, name := range strings.Split(only, ",") {
		i := indexOf(strings.TrimSpace(name))
		if i < 0 {
			return nil, fmt.Errorf("no mutation named %q (see -list)", name)
		}
		sel = append(sel, mutations[i])
	}
	return sel, nil
}

func indexOf(name string) int {
	for i, m := range mutations {
		if m.Name == name {
			return i
		}
	}
	return -1
}

// result is one mutation's verdict.
type result struct {
	m       mutation
	verdict string   // caught, MISSED or broken
	caught  []string // the scenarios that differed
	n       int      // scenarios run; -1 if unknown
	secs    float64
	detail  string // why broken
	tail    string // end of go test's output, for broken runs
}

func (r result) line() string {
	switch r.verdict {
	case "caught":
		return fmt.Sprintf("caught in %.0fs by %s", r.secs, r.caughtBy())
	case "MISSED":
		return fmt.Sprintf("MISSED in %.0fs: %d scenarios identical", r.secs, r.n)
	}
	return fmt.Sprintf("broken after %.0fs: %s", r.secs, r.detail)
}

// caughtBy names the first few scenarios that caught the mutation.
func (r result) caughtBy() string {
	by := r.caught
	if len(by) > 4 {
		by = append(by[:4:4], fmt.Sprintf("+%d more", len(r.caught)-4))
	}
	return strings.Join(by, ", ")
}

// runMutation makes a scratch copy, applies m there, runs its scenarios
// and removes the copy.
func runMutation(ctx context.Context, src source, m mutation, timeout time.Duration) result {
	res := result{m: m, verdict: "broken", n: -1}
	dir, err := os.MkdirTemp("", "netsandbox-mutate-")
	if err != nil {
		res.detail = err.Error()
		return res
	}
	defer os.RemoveAll(dir)
	tree := filepath.Join(dir, "src")
	if err := src.copyTo(tree); err != nil {
		res.detail = "copy: " + err.Error()
		return res
	}
	path := filepath.Join(tree, m.File)
	text, err := os.ReadFile(path)
	if err == nil {
		text, err = apply(m, text)
	}
	if err == nil {
		err = os.WriteFile(path, text, 0o644)
	}
	if err != nil {
		res.detail = err.Error()
		return res
	}
	return classify(res, runConformance(ctx, tree, m.Run, timeout))
}

// runBaseline runs the unmutated copy on the union of the selected
// mutations' scenarios; every one must be identical.
func runBaseline(ctx context.Context, src source, sel []mutation, timeout time.Duration) error {
	var res []string
	for _, m := range sel {
		res = append(res, "(?:"+m.Run+")")
	}
	re := strings.Join(res, "|")
	fmt.Fprintf(os.Stderr, "baseline (unmutated) ...\n")
	dir, err := os.MkdirTemp("", "netsandbox-mutate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	tree := filepath.Join(dir, "src")
	if err := src.copyTo(tree); err != nil {
		return fmt.Errorf("baseline copy: %v", err)
	}
	r := classify(result{n: -1}, runConformance(ctx, tree, re, timeout))
	switch r.verdict {
	case "MISSED": // passed: what a baseline must do
		fmt.Fprintf(os.Stderr, "baseline: %d scenarios identical in %.0fs\n", r.n, r.secs)
		return nil
	case "caught":
		return fmt.Errorf("baseline: the unmutated tree already differs from Linux in %s; verdicts would mean nothing", strings.Join(r.caught, ", "))
	}
	return fmt.Errorf("baseline broken after %.0fs: %s\n%s", r.secs, r.detail, r.tail)
}

// run is what one go test run left.
type run struct {
	out      []byte
	err      error // from Wait; nil if the test passed
	timedOut bool
	secs     float64
}

var (
	summaryRE = regexp.MustCompile(`conformance: (\d+) scenarios, (\d+) identical, (\d+) differ`)
	failRE    = regexp.MustCompile(`(?m)^\s*--- FAIL: TestConformance/(\S+) \(`)
)

// classify turns a go test run into a verdict.
func classify(res result, r run) result {
	res.secs, res.verdict = r.secs, "broken"
	differ := -1
	if s := summaryRE.FindSubmatch(r.out); s != nil {
		res.n, _ = strconv.Atoi(string(s[1]))
		differ, _ = strconv.Atoi(string(s[3]))
	}
	for _, f := range failRE.FindAllSubmatch(r.out, -1) {
		if name := string(f[1]); name != "no-namespaces-left" {
			res.caught = append(res.caught, name)
		}
	}
	switch {
	case r.timedOut:
		res.detail = "timed out"
	case errors.Is(r.err, context.Canceled):
		res.detail = "interrupted"
	case r.err == nil && res.n > 0:
		res.verdict = "MISSED"
		return res
	case r.err == nil:
		res.detail = "no scenario ran (does the regexp match any scenario?)"
	case differ > 0 && len(res.caught) > 0:
		res.verdict = "caught"
		return res
	case bytes.Contains(r.out, []byte("[build failed]")) || bytes.Contains(r.out, []byte("[setup failed]")):
		res.detail = "did not build"
	default:
		res.detail = fmt.Sprintf("go test failed without differing scenarios: %v", r.err)
	}
	res.tail = tail(r.out, 40)
	return res
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// grace is how long an interrupted go test gets to remove its namespaces
// (the harness does it on SIGINT) before it is killed.
const grace = 30 * time.Second

// runConformance runs TestConformance in tree on the scenarios matching re,
// in its own process group: on timeout or when ctx is cancelled (SIGINT,
// SIGTERM) the group gets SIGINT, as from a terminal, and SIGKILL only if
// it is still there after grace.
func runConformance(ctx context.Context, tree, re string, timeout time.Duration) run {
	start := time.Now()
	var out bytes.Buffer
	cmd := exec.Command("go", "test", "-trimpath", "./test/", "-run", "^TestConformance$", "-count=1", "-v",
		"-timeout", (timeout + time.Minute).String())
	cmd.Dir = tree
	cmd.Env = append(cleanEnv(), "NETSANDBOX_CONFORMANCE_RUN="+re, "NETSANDBOX_REQUIRE_NETNS=1")
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return run{err: err, out: []byte(err.Error())}
	}
	pgid := cmd.Process.Pid
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	r := run{}
	select {
	case r.err = <-done:
	case <-timer.C:
		r.timedOut = true
	case <-ctx.Done():
		r.err = ctx.Err()
	}
	if r.timedOut || ctx.Err() != nil {
		_ = syscall.Kill(-pgid, syscall.SIGINT)
		select {
		case err := <-done:
			if r.err == nil {
				r.err = err
			}
		case <-time.After(grace):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-done
		}
	}
	// The test binary may outlive go test: wait for the group to be gone.
	for deadline := time.Now().Add(grace); syscall.Kill(-pgid, 0) == nil; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			break
		}
	}
	r.out, r.secs = out.Bytes(), time.Since(start).Seconds()
	return r
}

// cleanEnv is the environment without the conformance knobs the tool sets
// or that would change what is compared.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NETSANDBOX_CONFORMANCE_") && !strings.HasPrefix(kv, "NETSANDBOX_REQUIRE_NETNS=") {
			env = append(env, kv)
		}
	}
	return env
}

// writeTable prints the results as a markdown table.
func writeTable(w io.Writer, results []result) {
	fmt.Fprintln(w, "| mutation | file | groups | verdict | caught by | seconds |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | ---: |")
	for _, r := range results {
		note := r.caughtBy()
		switch r.verdict {
		case "broken":
			note = r.detail
		case "MISSED":
			note = fmt.Sprintf("none (%d identical)", r.n)
		}
		fmt.Fprintf(w, "| %s | %s | `%s` | %s | %s | %.0f |\n", r.m.Name, r.m.File,
			strings.ReplaceAll(r.m.Run, "|", `\|`), r.verdict, note, r.secs)
	}
}
