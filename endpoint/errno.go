package endpoint

import (
	"gvisor.dev/gvisor/pkg/tcpip"

	"netsandbox/stack"
)

// errOf is stack.Errno, the one table of gVisor errors, returning a Go
// error (nil for no error).
func errOf(e tcpip.Error) error {
	if e == nil {
		return nil
	}
	if n := stack.Errno(e); n != 0 {
		return n
	}
	return nil
}
