package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// version is set at link time (-ldflags '-X main.version=...'); otherwise the
// module build info says what was built.
var version = ""

func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", stderr)
	setUsage(fs, stderr, `Usage: netsandbox version

Prints netsandbox's version (a release tag, or devel+COMMIT for a build from
a checkout) and the gVisor version it was built with, on one line.
`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	v, gv := version, "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = bi.Main.Version
		}
		for _, d := range bi.Deps {
			if d.Path == "gvisor.dev/gvisor" {
				gv = d.Version
			}
		}
		if v == "" || v == "(devel)" {
			v = "devel"
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					v += "+" + s.Value
				}
			}
		}
	}
	fmt.Fprintf(stdout, "netsandbox %s (gVisor %s)\n", v, gv)
	return nil
}
