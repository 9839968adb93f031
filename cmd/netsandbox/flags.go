package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"strings"
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

// flagName is how our usage texts write a flag: --name, or -x for a
// one-letter flag (Go's flag package takes one or two dashes for either).
func flagName(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// printFlags lists fs's flags as flag.PrintDefaults does, but with the
// dashes of flagName, so the listing agrees with the usage lines.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		var b strings.Builder
		b.WriteString("  " + flagName(f.Name))
		name, usage := flag.UnquoteUsage(f)
		if name != "" {
			b.WriteString(" " + name)
		}
		if b.Len() <= 4 { // a one-letter bool flag: usage on the same line
			b.WriteString("\t")
		} else {
			b.WriteString("\n    \t")
		}
		b.WriteString(strings.ReplaceAll(usage, "\n", "\n    \t"))
		if !isZeroDefault(f) {
			if name == "string" {
				fmt.Fprintf(&b, " (default %q)", f.DefValue)
			} else {
				fmt.Fprintf(&b, " (default %v)", f.DefValue)
			}
		}
		fmt.Fprintln(w, b.String())
	})
}

// isZeroDefault tells whether f's default is its type's zero value, which
// the listing leaves unsaid (as flag.PrintDefaults does).
func isZeroDefault(f *flag.Flag) (zero bool) {
	t := reflect.TypeOf(f.Value)
	var z reflect.Value
	if t.Kind() == reflect.Pointer {
		z = reflect.New(t.Elem())
	} else {
		z = reflect.Zero(t)
	}
	defer func() {
		if recover() != nil {
			zero = f.DefValue == ""
		}
	}()
	v, ok := z.Interface().(flag.Value)
	if !ok {
		return f.DefValue == ""
	}
	return f.DefValue == v.String()
}

// setUsage makes fs's -h (and `netsandbox help NAME`) print text, then
// the flags if fs has any.
func setUsage(fs *flag.FlagSet, w io.Writer, text string) {
	fs.Usage = func() {
		fmt.Fprint(w, text)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(w, "\nFlags:")
			printFlags(w, fs)
		}
	}
}
