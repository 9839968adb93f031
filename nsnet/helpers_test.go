package nsnet_test

import (
	"net/netip"
	"testing"
	"time"

	"netsandbox/link/channel"
	"netsandbox/stack"
)

var (
	addrA = netip.MustParseAddr("10.0.0.1")
	addrB = netip.MustParseAddr("10.0.0.2")
)

// wire is two stacks, A (10.0.0.1) and B (10.0.0.2), on one Ethernet
// segment made of a channel.Join cable.
type wire struct {
	a, b     *stack.Stack
	ifA, ifB int
	stop     func()
}

// newWire builds the two stacks; t.Cleanup tears them down.
func newWire(t testing.TB) *wire {
	t.Helper()
	w, err := buildWire()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.close)
	return w
}

func buildWire() (*wire, error) { return buildWireWith(stack.Config{}) }

// newWireWith is newWire with A's stack made from cfgA (capabilities, gid,
// sysctls); B's is the default.
func newWireWith(t testing.TB, cfgA stack.Config) *wire {
	t.Helper()
	w, err := buildWireWith(cfgA)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.close)
	return w
}

func buildWireWith(cfgA stack.Config) (*wire, error) {
	la := channel.New(1500, "\x02\x00\x00\x00\x00\x01")
	lb := channel.New(1500, "\x02\x00\x00\x00\x00\x02")
	w := &wire{stop: channel.Join(la, lb)}
	var err error
	if w.a, w.ifA, err = hostOn(la, addrA, cfgA); err != nil {
		w.stop()
		return nil, err
	}
	if w.b, w.ifB, err = hostOn(lb, addrB, stack.Config{}); err != nil {
		w.stop()
		w.a.Close()
		return nil, err
	}
	return w, nil
}

// hostOn makes a stack from cfg with one interface holding addr/24 (and,
// by AddAddress, the subnet's route).
func hostOn(l *channel.Endpoint, addr netip.Addr, cfg stack.Config) (*stack.Stack, int, error) {
	st, err := stack.New(cfg)
	if err != nil {
		return nil, 0, err
	}
	idx, err := st.AddInterface("eth0", l)
	if err == nil {
		err = st.AddAddress(idx, netip.PrefixFrom(addr, 24))
	}
	if err != nil {
		st.Close()
		return nil, 0, err
	}
	return st, idx, nil
}

func (w *wire) close() {
	w.stop()
	w.a.Close()
	w.b.Close()
}

// within fails t unless done is closed before d; it guards tests whose
// failure mode is a hang.
func within(t *testing.T, d time.Duration, what string, done <-chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: still blocked after %v", what, d)
	}
}
