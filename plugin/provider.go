package plugin

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/sentry/kernel"
	"gvisor.dev/gvisor/pkg/sentry/socket"
	"gvisor.dev/gvisor/pkg/sentry/vfs"
	"gvisor.dev/gvisor/pkg/syserr"

	"netsandbox/endpoint"
)

// provider makes the sockets of one family when the task's network
// namespace runs on this plugin; for any other stack it answers nil, nil
// so that netstack's or hostinet's provider is asked.
type provider struct{ family int }

func registerProviders() {
	socket.RegisterProvider(linux.AF_INET, &provider{family: linux.AF_INET})
	socket.RegisterProvider(linux.AF_INET6, &provider{family: linux.AF_INET6})
}

// Socket implements socket.Provider.Socket. stype holds no flags: the
// syscall layer applies SOCK_NONBLOCK and SOCK_CLOEXEC to the file.
func (p *provider) Socket(t *kernel.Task, stype linux.SockType, protocol int) (*vfs.FileDescription, *syserr.Error) {
	ps, ok := t.NetworkContext().(*Stack)
	if !ok || ps != theStack {
		return nil, nil
	}
	st := ps.ns()
	if st == nil {
		return nil, syserr.ErrAddressFamilyNotSupported
	}
	// endpoint.New checks CAP_NET_RAW against the stack's capabilities,
	// which are the sandbox root's; the task's own are checked here, after
	// the protocol checks Linux makes first.
	if stype == linux.SOCK_RAW && protocol > 0 && protocol <= 255 &&
		!t.HasCapabilityIn(linux.CAP_NET_RAW, t.NetworkNamespace().UserNamespace()) {
		return nil, syserr.ErrNotPermitted
	}
	ep, err := endpoint.New(st, p.family, int(stype), protocol)
	if err != nil {
		return nil, toSysErr(err)
	}
	return newSocketFile(t, ep, p.family, stype, protocol, 0)
}

// Pair implements socket.Provider.Pair: AF_INET and AF_INET6 have no
// socketpair.
func (p *provider) Pair(*kernel.Task, linux.SockType, int) (*vfs.FileDescription, *vfs.FileDescription, *syserr.Error) {
	return nil, nil, nil
}
