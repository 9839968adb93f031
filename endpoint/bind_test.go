package endpoint

import (
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// TestBindConflictsMatchKernel: two sockets on one port with every
// combination of SO_REUSEADDR and SO_REUSEPORT, for UDP and TCP.
func TestBindConflictsMatchKernel(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	one := intOpt(1)
	for _, typ := range []int{unix.SOCK_DGRAM, unix.SOCK_STREAM} {
		for _, opts := range [][2]int{{0, 0}, {unix.SO_REUSEADDR, 0}, {unix.SO_REUSEADDR, unix.SO_REUSEADDR}, {unix.SO_REUSEPORT, unix.SO_REUSEPORT}, {unix.SO_REUSEPORT, 0}} {
			for _, second := range []string{"127.0.0.1", "0.0.0.0", "127.0.0.2"} {
				t.Run(fmt.Sprintf("type%d_%v_%s", typ, opts, second), func(t *testing.T) {
					diffWorlds(t, s, func(w *world, l *logger) {
						a := w.sock(typ, 0)
						b := w.sock(typ, 0)
						if opts[0] != 0 {
							a.SetSockOpt(unix.SOL_SOCKET, opts[0], one)
						}
						if opts[1] != 0 {
							b.SetSockOpt(unix.SOL_SOCKET, opts[1], one)
						}
						l.add("bind a: %s", errStr(a.Bind(sa("127.0.0.1:0"))))
						an, _ := a.GetSockName()
						bsa := sa(second + ":0")
						copy(bsa[2:4], an[2:4])
						l.add("bind b: %s", errStr(b.Bind(bsa)))
					})
				})
			}
		}
	}
}
