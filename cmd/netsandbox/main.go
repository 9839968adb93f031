// Command netsandbox gives programs the Linux IPv4 socket layer of ip(7) on top
// of gVisor's userspace TCP/IP stack.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Exit codes are distinct so scripts can tell a usage mistake from a failure.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError is a mistake in the command line; main prints it with a hint.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"run", "run a command in a sandbox whose network goes through a netsandbox gateway", runRun},
		{"attach", "give an existing network namespace (a container's) its network through a netsandbox gateway", runAttach},
		{"mcast", "join a multicast group on a NIC and print the datagrams that arrive", runMcast},
		{"serve", "run a userspace host on a real NIC that answers ping and echoes", runServe},
		{"conformance", "compare netsandbox sockets with the running kernel's", runConformance},
		{"tracepath", "trace the path and its MTU to a host, as iputils tracepath", runTracepath},
		{"version", "print the version", runVersion},
		{"help", "show this help, or a command's flags", runHelp},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		// What every other command does with -h: the usage, on stdout.
		printUsage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(args[1:], stdout, stderr)
		var ue usageError
		switch {
		case err == nil:
			return exitOK
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "netsandbox %s: %v\nRun 'netsandbox help %s' for its flags.\n", c.name, err, c.name)
			return exitUsage
		case errors.Is(err, errFlagHelp):
			return exitOK
		default:
			fmt.Fprintf(stderr, "netsandbox %s: %v\n", c.name, err)
			return exitFailure
		}
	}
	fmt.Fprintf(stderr, "netsandbox: unknown command %q\n\n", args[0])
	printUsage(stderr)
	return exitUsage
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: netsandbox COMMAND [FLAGS]")
	fmt.Fprintln(w, "       netsandbox --help | help [COMMAND]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'netsandbox help COMMAND' for a command's flags.")
}

const helpUsage = `Usage: netsandbox help [COMMAND]

Without COMMAND, lists the commands. With COMMAND, prints what it does, its
usage line and its flags (as 'netsandbox COMMAND --help' does).
`

func runHelp(args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) == 0:
		printUsage(stdout)
		return nil
	case len(args) > 1:
		return usagef("unexpected argument %q: give one COMMAND", args[1])
	case args[0] == "help", args[0] == "-h", args[0] == "-help", args[0] == "--help":
		fmt.Fprint(stdout, helpUsage)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run([]string{"-h"}, stdout, stdout)
		}
	}
	return usagef("no command %q; 'netsandbox help' lists them", args[0])
}
