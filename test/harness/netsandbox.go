package harness

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"netsandbox/endpoint"
	"netsandbox/link/fdbased"
	"netsandbox/stack"
)

// NetsandboxHost makes netsandbox sockets on a stack that is attached to the
// eth0 veth end of its DUT namespace.
type NetsandboxHost struct {
	name string
	st   *stack.Stack
}

// Stack is the host's netsandbox stack.
func (h *NetsandboxHost) Stack() *stack.Stack { return h.st }

func (h *NetsandboxHost) Name() string { return h.name }

func (h *NetsandboxHost) Socket(domain, typ, proto int) (Sock, error) {
	s, err := endpoint.New(h.st, domain, typ, proto)
	if err != nil {
		return nil, err
	}
	return nsSock{s}, nil
}

func (h *NetsandboxHost) SetSysctl(name, value string) error {
	return h.st.Sysctl().Set(name, strings.Join(strings.Fields(value), " "))
}

func (h *NetsandboxHost) GetSysctl(name string) (string, error) {
	v, err := h.st.Sysctl().Get(name)
	return strings.Join(strings.Fields(v), " "), err
}

// nsSock adapts endpoint.Socket to Sock.
type nsSock struct{ endpoint.Socket }

func (s nsSock) Accept(flags int) (Sock, []byte, error) {
	a, sa, err := s.Socket.Accept(flags)
	if err != nil || a == nil {
		return nil, sa, err
	}
	return nsSock{a}, sa, nil
}

func (s nsSock) Poll(mask uint32, timeout time.Duration) (uint32, error) {
	always := mask | unix.EPOLLERR | unix.EPOLLHUP
	if timeout <= 0 {
		return s.Readiness(always) & always, nil
	}
	r, err := s.Wait(always, time.Now().Add(timeout))
	if errors.Is(err, unix.EAGAIN) {
		return 0, nil
	}
	return r & always, err
}

// NewNetsandboxDUT builds a topology whose DUT is a netsandbox stack with
// every capability and gid 0 (as root on the kernel side), attached through
// AF_PACKET to the DUT namespace's eth0, which keeps no IPv4 address of its
// own. The stack gets the kernel DUT's address and routes; its knobs keep
// stack.New's defaults, but for the host-global ones (HostGlobalKnobs).
func NewNetsandboxDUT(tag string) (d *DUT, err error) {
	t, err := NewTopology(RunPrefix(), tag, false)
	if err != nil {
		return nil, err
	}
	d = &DUT{Kind: "netsandbox", Peer: NewKernelHost("peer", t.PeerNS), Far: NewKernelHost("far", t.FarNS), Topo: t}
	defer func() {
		if err != nil {
			d.Close()
			d = nil
		}
	}()
	st, err := stack.New(stack.Config{Caps: stack.AllCaps, GID: 0})
	if err != nil {
		return d, fmt.Errorf("stack.New: %w", err)
	}
	d.closers = append(d.closers, func() error { st.Close(); return nil })
	if err := giveHostGlobals(st, t.DUTNS); err != nil {
		return d, err
	}
	var ep gstack.LinkEndpoint
	if err := InNetns(t.DUTNS, func() error {
		var aerr error
		ep, _, aerr = fdbased.AttachInterface("eth0", fdbased.Options{})
		return aerr
	}); err != nil {
		return d, err
	}
	idx, err := st.AddInterface("eth0", ep)
	if err != nil {
		return d, fmt.Errorf("AddInterface: %w", err)
	}
	if idx != 2 {
		return d, fmt.Errorf("netsandbox eth0 has ifindex %d, want 2 like the kernel", idx)
	}
	if err := st.AddAddress(idx, netip.PrefixFrom(DUTAddr, PrefixLen)); err != nil {
		return d, fmt.Errorf("AddAddress: %w", err)
	}
	if err := st.AddRoute(netip.PrefixFrom(DUTAddr, PrefixLen).Masked(), netip.Addr{}, idx); err != nil && !errors.Is(err, unix.EEXIST) {
		return d, fmt.Errorf("AddRoute: %w", err)
	}
	if err := st.AddRoute(FarNet, PeerAddr, idx); err != nil {
		return d, fmt.Errorf("AddRoute far: %w", err)
	}
	d.Host = &NetsandboxHost{name: "dut", st: st}
	return d, nil
}
