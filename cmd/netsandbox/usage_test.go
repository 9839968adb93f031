package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// --help, -h and -help print the command list on stdout and succeed, as
// `help` does (they said unknown command "--help").
func TestTopLevelHelp(t *testing.T) {
	var want bytes.Buffer
	if code := run([]string{"help"}, &want, &want); code != exitOK {
		t.Fatalf("help: exit %d", code)
	}
	for _, arg := range []string{"--help", "-h", "-help"} {
		var out, errOut bytes.Buffer
		code := run([]string{arg}, &out, &errOut)
		if code != exitOK || out.String() != want.String() || errOut.Len() != 0 {
			t.Errorf("netsandbox %s: exit %d, stdout %q, stderr %q; want exit 0 and help's output", arg, code, out.String(), errOut.String())
		}
	}
}

// `help help` says what help does (it sent the reader back to help).
func TestHelpHelp(t *testing.T) {
	var out bytes.Buffer
	code := run([]string{"help", "help"}, &out, &out)
	if code != exitOK || !strings.HasPrefix(out.String(), "Usage: netsandbox help [COMMAND]\n") || !strings.Contains(out.String(), "lists the commands") {
		t.Errorf("help help: exit %d:\n%s", code, out.String())
	}
	if code := run([]string{"help", "nosuch"}, &out, &out); code != exitUsage {
		t.Errorf("help nosuch: exit %d, want %d", code, exitUsage)
	}
}

// flagToken finds a flag named in a help text: one or two dashes and a
// lower-case name, after a space, a bracket, a bar or a parenthesis.
var flagToken = regexp.MustCompile(`(?m)(?:^|[\s\[|(,])(-{1,2})([a-z][a-z0-9-]*)`)

// Every command has a usage line and a description (`help version` printed
// nothing), and names its flags one way in the usage and in the listing:
// --name, -x for one letter (the listing said -name).
func TestEveryCommandHasUsage(t *testing.T) {
	for _, c := range commands() {
		var out bytes.Buffer
		code := run([]string{"help", c.name}, &out, &out)
		text := out.String()
		if code != exitOK || !strings.HasPrefix(text, "Usage: netsandbox "+c.name) || strings.Count(text, "\n") < 3 {
			t.Errorf("help %s: exit %d, want a usage line and a description:\n%s", c.name, code, text)
			continue
		}
		for _, m := range flagToken.FindAllStringSubmatch(text, -1) {
			dashes, name := m[1], m[2]
			if want := strings.TrimSuffix(flagName(name), name); dashes != want {
				t.Errorf("help %s: %s%s, want %s", c.name, dashes, name, flagName(name))
			}
		}
		var direct bytes.Buffer
		if c.name != "help" {
			if code := run([]string{c.name, "--help"}, &direct, &direct); code != exitOK || direct.String() != text {
				t.Errorf("%s --help: exit %d, output differs from help %s:\n%s", c.name, code, c.name, direct.String())
			}
		}
	}
}

// The listing gives defaults as flag.PrintDefaults does, with our dashes.
func TestPrintFlags(t *testing.T) {
	fs := newFlagSet("x", nil)
	fs.String("link", "", "the `NIC`")
	fs.Int("mtu", 1500, "the MTU")
	fs.Bool("v", false, "verbose")
	fs.String("dut", "netsandbox", "the DUT")
	var b bytes.Buffer
	printFlags(&b, fs)
	want := "  --dut string\n    \tthe DUT (default \"netsandbox\")\n" +
		"  --link NIC\n    \tthe NIC\n" +
		"  --mtu int\n    \tthe MTU (default 1500)\n" +
		"  -v\tverbose\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
