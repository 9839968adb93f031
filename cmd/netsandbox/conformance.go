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
	if *list {
		for _, name := range conformance.Names(opts.Run) {
			fmt.Fprintln(stdout, name)
		}
		return nil
	}
	if err := conformance.Available(); err != nil {
		return fmt.Errorf("%w\nconformance makes network namespaces: run it as root (sudo) on Linux with iproute2 installed", err)
	}
	var prog *progress
	if !*quiet {
		prog = newProgress(stderr, stdout, len(conformance.Names(opts.Run)))
		opts.Progress = prog
	}
	rep, err := conformance.RunAll(opts)
	if prog != nil {
		prog.finish()
	}
	if err != nil {
		return err
	}
	if *asJSON {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	if rep.N == 0 {
		return usagef("--run %q matches no scenario", *runRE)
	}
	if rep.Differ > 0 {
		return fmt.Errorf("%w in %d of %d scenarios (see the diffs above)", errDiffer, rep.Differ, rep.N)
	}
	return nil
}
