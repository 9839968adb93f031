package main

import (
	"errors"
	"flag"
	"io"
)

// errFlagHelp reports that -h printed the flags: success, nothing more to do.
var errFlagHelp = errors.New("help shown")

func newFlagSet(name string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("netsandbox "+name, flag.ContinueOnError)
	fs.SetOutput(out)
	return fs
}

// parseFlags turns flag's errors into usage errors and rejects stray arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errFlagHelp
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}
