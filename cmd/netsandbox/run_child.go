package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"

	"golang.org/x/sys/unix"
)

// runChildArg is argv[1] of the helper `netsandbox run` starts in the new
// network namespace: it makes the TAP, hands its fd to the parent, waits
// for the gateway, then becomes CMD. Not a user-facing command.
const runChildArg = "__netsandbox-run-child"

// runChildFD is the child's end of the socketpair to the parent
// (exec.Cmd.ExtraFiles[0]).
const runChildFD = 3

func init() {
	if len(os.Args) > 1 && os.Args[1] == runChildArg {
		os.Exit(runChild(os.Args[2:]))
	}
}

// runChild's args: TAPNAME MTU OFFLOAD RESOLV IPV6 -- CMD [ARGS...].
// RESOLV is a file to bind-mount on /etc/resolv.conf ("" for none); IPV6
// (true or false) gives the TAP sandboxAddr6 and an IPv6 default route.
func runChild(args []string) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, "netsandbox run: sandbox setup: "+format+"\n", a...)
		return 125
	}
	if len(args) < 7 || args[5] != "--" {
		return fail("bad helper arguments")
	}
	mtu, err := strconv.Atoi(args[1])
	offload, berr := strconv.ParseBool(args[2])
	ipv6, verr := strconv.ParseBool(args[4])
	if err != nil || berr != nil || verr != nil {
		return fail("bad helper arguments")
	}
	unix.CloseOnExec(runChildFD)
	// A new namespace: lo comes up, and nothing else routes yet.
	tap, err := openSandboxTAP(tapSetup{name: args[0], mtu: mtu, offload: offload, loUp: true, defaultRoute: true, ipv6: ipv6})
	if err != nil {
		return fail("%v", err)
	}
	if err := unix.Sendmsg(runChildFD, []byte{'t'}, unix.UnixRights(tap), nil, 0); err != nil {
		return fail("handing the TAP to the gateway: %v", err)
	}
	unix.Close(tap)
	// The parent answers once the gateway runs; EOF means it gave up.
	var b [1]byte
	if n, err := unix.Read(runChildFD, b[:]); n != 1 || err != nil || b[0] != 'g' {
		return 125
	}
	unix.Close(runChildFD)
	if resolv := args[3]; resolv != "" {
		if err := mountResolvConf(resolv); err != nil {
			fmt.Fprintf(os.Stderr, "netsandbox run: /etc/resolv.conf left as is: %v\n", err)
		}
	}
	cmd := args[6:]
	path, err := exec.LookPath(cmd[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "netsandbox run: %v\n", err)
		return 127
	}
	err = unix.Exec(path, cmd, os.Environ())
	fmt.Fprintf(os.Stderr, "netsandbox run: exec %s: %v\n", path, err)
	return 126
}

// mountResolvConf shows file as /etc/resolv.conf in the child's own mount
// namespace (made with CLONE_NEWNS), leaving the host's untouched.
func mountResolvConf(file string) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return err
	}
	return unix.Mount(file, "/etc/resolv.conf", "", unix.MS_BIND, "")
}
