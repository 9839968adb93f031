package endpoint

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// world makes sockets on one side of a differential test.
type world struct {
	t      *testing.T
	name   string
	open   func(typ, proto int) (api, error)
	accept func(l api, flags int) (api, []byte, error)
	// wait blocks until one of mask holds or timeout passes.
	wait func(s api, mask uint32, timeout time.Duration) uint32
}

func kernelWorld(t *testing.T) *world {
	w := &world{t: t, name: "kernel"}
	w.open = func(typ, proto int) (api, error) {
		k, err := newKernelSock(unix.AF_INET, typ, proto)
		if err != nil {
			return nil, err
		}
		t.Cleanup(func() { k.Close() })
		return k, nil
	}
	w.accept = func(l api, flags int) (api, []byte, error) {
		a, peer, err := l.(*kernelSock).accept(flags)
		if err != nil {
			return nil, nil, err
		}
		t.Cleanup(func() { a.Close() })
		return a, peer, nil
	}
	w.wait = func(s api, mask uint32, timeout time.Duration) uint32 {
		deadline := time.Now().Add(timeout)
		for {
			r, _ := s.(*kernelSock).poll(10 * time.Millisecond)
			if r&mask != 0 || time.Now().After(deadline) {
				return r & mask
			}
		}
	}
	return w
}

func nsWorld(t *testing.T, s *stack.Stack) *world {
	w := &world{t: t, name: "netsandbox"}
	w.open = func(typ, proto int) (api, error) {
		so, err := New(s, unix.AF_INET, typ, proto)
		if err != nil {
			return nil, err
		}
		t.Cleanup(func() { so.Close() })
		return so, nil
	}
	w.accept = func(l api, flags int) (api, []byte, error) {
		a, peer, err := l.(Socket).Accept(flags)
		if err != nil {
			return nil, nil, err
		}
		t.Cleanup(func() { a.Close() })
		return a, peer, nil
	}
	w.wait = func(so api, mask uint32, timeout time.Duration) uint32 {
		r, _ := so.(Socket).Wait(mask, time.Now().Add(timeout))
		return r & mask
	}
	return w
}

// diffWorlds runs scenario in the kernel and in netsandbox and compares
// the logs.
func diffWorlds(t *testing.T, s *stack.Stack, scenario func(w *world, l *logger)) {
	t.Helper()
	diffWorldsIn(t, kernelWorld(t), s, scenario)
}

// diffWorldsIn is diffWorlds with a given kernel world.
func diffWorldsIn(t *testing.T, kw *world, s *stack.Stack, scenario func(w *world, l *logger)) {
	t.Helper()
	var kl, nl logger
	scenario(kw, &kl)
	scenario(nsWorld(t, s), &nl)
	if testing.Verbose() {
		t.Logf("kernel log:\n%s", strings.Join(kl.lines, "\n"))
	}
	if d := diffLines(kl.lines, nl.lines); d != "" {
		t.Errorf("kernel vs netsandbox (-kernel +netsandbox):\n%s", d)
	}
}

// sock opens a socket that must succeed.
func (w *world) sock(typ, proto int) api {
	w.t.Helper()
	a, err := w.open(typ, proto)
	if err != nil {
		w.t.Fatalf("%s: socket(%d, %d): %v", w.name, typ, proto, err)
	}
	return a
}
