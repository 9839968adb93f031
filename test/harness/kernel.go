package harness

import (
	"strings"

	"netsandbox/test/agent"
)

// KernelHost makes real Linux sockets inside a network namespace.
type KernelHost struct {
	name, ns string
}

// NewKernelHost returns a host whose sockets live in namespace ns.
func NewKernelHost(name, ns string) *KernelHost { return &KernelHost{name: name, ns: ns} }

func (h *KernelHost) Name() string { return h.name }

// Netns is the namespace the host's sockets are made in.
func (h *KernelHost) Netns() string { return h.ns }

func (h *KernelHost) Socket(domain, typ, proto int) (Sock, error) {
	var s *agent.Sock
	var serr error
	if err := InNetns(h.ns, func() error {
		s, serr = agent.Socket(domain, typ, proto)
		return nil
	}); err != nil {
		return nil, err
	}
	if serr != nil {
		return nil, serr
	}
	return &kernelSock{s}, nil
}

func (h *KernelHost) SetSysctl(name, value string) error {
	// Kernel parsers accept tabs or spaces; normalise to what cat shows.
	return WriteSysctl(h.ns, name, strings.Join(strings.Fields(value), "\t"))
}

func (h *KernelHost) GetSysctl(name string) (string, error) { return ReadSysctl(h.ns, name) }

// kernelSock is one kernel socket: agent.Sock, the system calls that the
// agent inside a sandbox makes too.
type kernelSock struct {
	*agent.Sock
}

func newKernelSock(fd int) *kernelSock { return &kernelSock{agent.NewSock(fd)} }

func (s *kernelSock) Accept(flags int) (Sock, []byte, error) {
	a, sa, err := s.Sock.Accept(flags)
	if err != nil {
		return nil, nil, err
	}
	return &kernelSock{a}, sa, nil
}
