package harness

import (
	"errors"
	"sync"
)

// DUT is one device-under-test setup: a topology, the host under test in
// its DUT namespace, a kernel peer (also its router) and a kernel far host
// behind the peer.
type DUT struct {
	Kind string // "kernel", "netsandbox", "runsc-netsandbox" or "runsc"
	Host Host
	Peer Host
	Far  Host
	Topo *Topology
	// Notes are setup findings worth reporting (e.g. a sysctl that could
	// not be mirrored).
	Notes []string
	// Prepare, if set, runs before each scenario (a sandboxed DUT restarts
	// an agent that died in the previous one).
	Prepare func() error

	closeOnce sync.Once
	closers   []func() error
}

var (
	prefixOnce sync.Once
	runPrefix  string
)

// RunPrefix is this process's namespace prefix, "nsbx-<6 hex>-".
func RunPrefix() string {
	prefixOnce.Do(func() { runPrefix = NewRunPrefix() })
	return runPrefix
}

// NewKernelDUT builds a topology whose DUT is a kernel namespace.
func NewKernelDUT(tag string) (*DUT, error) {
	t, err := NewTopology(RunPrefix(), tag, true)
	if err != nil {
		return nil, err
	}
	return &DUT{
		Kind: "kernel",
		Host: NewKernelHost("dut", t.DUTNS),
		Peer: NewKernelHost("peer", t.PeerNS),
		Far:  NewKernelHost("far", t.FarNS),
		Topo: t,
	}, nil
}

// Close releases the DUT and removes its namespaces.
func (d *DUT) Close() error {
	var errs []error
	d.closeOnce.Do(func() {
		for i := len(d.closers) - 1; i >= 0; i-- {
			errs = append(errs, d.closers[i]())
		}
		if d.Topo != nil {
			errs = append(errs, d.Topo.Close())
		}
	})
	return errors.Join(errs...)
}
