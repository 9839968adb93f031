package endpoint

import (
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"netsandbox/stack"
)

// errnoOf is stack.Errno: one table of gVisor errors for every layer.
func errnoOf(e tcpip.Error) unix.Errno { return stack.Errno(e) }

// errOf is errnoOf returning a Go error (nil for no error).
func errOf(e tcpip.Error) error {
	if e == nil {
		return nil
	}
	if n := errnoOf(e); n != 0 {
		return n
	}
	return nil
}
