package main

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"netsandbox/test/conformance"
)

// errDiffer makes the command exit 1 once the report is printed.
var errDiffer = errors.New("the DUT differs from the kernel")

func runConformance(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("conformance", stderr)
	runRE := fs.String("run", "", "only scenarios whose name matches this regular expression")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	quiet := fs.Bool("q", false, "no progress on stderr")
	list := fs.Bool("list", false, "print the names of the scenarios --run selects, one a line, and run nothing")
	dut := fs.String("dut", "netsandbox", "the implementation compared with the kernel: "+strings.Join(conformance.DUTs, ", ")+
		" (runsc-netsandbox and runsc run the calls in an agent inside runsc --network=plugin or --network=sandbox; they build both, or take "+
		"$NETSANDBOX_RUNSC_BIN and $NETSANDBOX_AGENT_BIN)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: netsandbox conformance [--dut DUT] [--run REGEXP] [--json] [-q] [--list]")
		fmt.Fprintln(stderr, "\nRuns every scenario on a kernel socket and on the DUT's socket (by default a")
		fmt.Fprintln(stderr, "netsandbox socket), each in network namespaces made for the run (removed")
		fmt.Fprintln(stderr, "afterwards), and compares them.")
		fmt.Fprintln(stderr, "Needs root. Exits 1 if any scenario differs unexpectedly.")
		fmt.Fprintln(stderr, "\nWith the netsandbox DUT, the FreeBSD ip(4) group (freebsd/...) follows, reported")
		fmt.Fprintln(stderr, "on its own: each scenario against the FreeBSD source it cites, and against the")
		fmt.Fprintln(stderr, "kernel's wire where Linux has the equivalent (--json: a second JSON object).")
		fmt.Fprintln(stderr, "\nThe report goes to stdout. Progress goes to stderr: on a terminal a [k/N] count")
		fmt.Fprintln(stderr, "with an ETA, redrawn in place; each row as it finishes when stderr is not stdout;")
		fmt.Fprintln(stderr, "else a count line every 30 s. -q: none.")
		fmt.Fprintln(stderr, "\nFlags:")
		printFlags(stderr, fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !slices.Contains(conformance.DUTs, *dut) {
		return usagef("--dut %q: want one of %s", *dut, strings.Join(conformance.DUTs, ", "))
	}
	opts := conformance.Options{Against: *dut}
	if *runRE != "" {
		re, err := regexp.Compile(*runRE)
		if err != nil {
			return usagef("--run: %v", err)
		}
		opts.Run = re
	}
	// The FreeBSD ip(4) group runs on the library only: its oracle is
	// FreeBSD's source, with the kernel for the wire of Linux equivalents.
	var bsdNames []string
	if *dut == "netsandbox" {
		bsdNames = conformance.FreeBSDNames(opts.Run)
	}
	names := conformance.Names(opts.Run)
	if *list {
		for _, name := range append(names, bsdNames...) {
			fmt.Fprintln(stdout, name)
		}
		return nil
	}
	if len(names) == 0 && len(bsdNames) == 0 {
		return usagef("--run %q matches no scenario", *runRE)
	}
	if err := conformance.Available(); err != nil {
		return fmt.Errorf("%w\nconformance makes network namespaces: run it as root (sudo) on Linux with iproute2 installed", err)
	}
	var differ []string
	if len(names) > 0 {
		var prog *progress
		if !*quiet {
			prog = newProgress(stderr, stdout, len(names))
			opts.Progress = prog
		}
		rep, err := conformance.RunAll(opts)
		if prog != nil {
			prog.finish()
		}
		if err != nil {
			return err
		}
		if err := writeReport(rep, *asJSON, stdout); err != nil {
			return err
		}
		if rep.Differ > 0 {
			differ = append(differ, fmt.Sprintf("in %d of %d scenarios", rep.Differ, rep.N))
		}
	}
	if len(bsdNames) > 0 {
		var progress io.Writer
		if !*quiet {
			progress = stderr
		}
		rep, err := conformance.RunFreeBSD(opts.Run, progress)
		if err != nil {
			return err
		}
		if !*asJSON {
			fmt.Fprintln(stdout, "\nFreeBSD ip(4) personality (identical: the record the cited FreeBSD source gives, and the kernel's wire where Linux has the equivalent)")
		}
		if err := writeReport(rep, *asJSON, stdout); err != nil {
			return err
		}
		if rep.Differ > 0 {
			differ = append(differ, fmt.Sprintf("in %d of %d FreeBSD scenarios", rep.Differ, rep.N))
		}
	}
	if len(differ) > 0 {
		return fmt.Errorf("%w %s (see the diffs above)", errDiffer, strings.Join(differ, " and "))
	}
	return nil
}

// writeReport prints a report as text or as one JSON object; with the
// FreeBSD group selected too, its report follows as a second object.
func writeReport(rep conformance.Report, asJSON bool, w io.Writer) error {
	if asJSON {
		return rep.WriteJSON(w)
	}
	return rep.WriteText(w)
}
