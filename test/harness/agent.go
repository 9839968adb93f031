package harness

import (
	"fmt"
	"strings"
	"sync"

	"netsandbox/test/agent"
)

// AgentHost is a DUT whose socket calls are real system calls made by an
// agent process (test/agent) inside a gVisor sandbox: each Sock method is
// one request over the agent's stdin and one answer on its stdout, so the
// calls go through the sentry's system-call layer into its network stack
// (netsandbox for --network=plugin, gVisor's netstack for
// --network=sandbox).
type AgentHost struct {
	name string
	sb   *runscSandbox
	mu   sync.Mutex
}

func (h *AgentHost) Name() string { return h.name }

// client is the current sandbox's agent (which may be dead: its calls then
// fail; Revive starts a new one between scenarios).
func (h *AgentHost) client() *agent.Client {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sb.client
}

func (h *AgentHost) Socket(domain, typ, proto int) (Sock, error) {
	s, err := h.client().Socket(domain, typ, proto, nil)
	if err != nil {
		return nil, err
	}
	return agentSock{s}, nil
}

func (h *AgentHost) SetSysctl(name, value string) error {
	// As on the kernel host: what cat shows, tab separated.
	return h.client().SetSysctl(name, strings.Join(strings.Fields(value), "\t"))
}

func (h *AgentHost) GetSysctl(name string) (string, error) { return h.client().GetSysctl(name) }

// Unprivileged implements Unprivileger: the agent makes each
// capability-checked call on a thread whose effective set lacks caps, as
// the kernel host does (the sentry keeps capabilities per task).
func (h *AgentHost) Unprivileged(caps ...int) (Host, error) {
	return &unprivAgentHost{AgentHost: h, caps: append([]int(nil), caps...)}, nil
}

type unprivAgentHost struct {
	*AgentHost
	caps []int
}

func (h *unprivAgentHost) Name() string { return h.AgentHost.Name() + "(unprivileged)" }

func (h *unprivAgentHost) Socket(domain, typ, proto int) (Sock, error) {
	s, err := h.client().Socket(domain, typ, proto, h.caps)
	if err != nil {
		return nil, err
	}
	return agentSock{s}, nil
}

// Revive starts a new sandbox if the agent has died (a dead agent fails
// the scenario it died in, not the run).
func (h *AgentHost) Revive() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sb.client.Err() == nil {
		return nil
	}
	why := h.sb.client.Err()
	sb, err := h.sb.restart()
	if err != nil {
		return fmt.Errorf("agent died (%v) and could not be restarted: %w", why, err)
	}
	h.sb = sb
	return nil
}

// Close stops the sandbox.
func (h *AgentHost) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sb.stop()
}

// agentSock adapts agent.RemoteSock to Sock.
type agentSock struct{ *agent.RemoteSock }

func (s agentSock) Accept(flags int) (Sock, []byte, error) {
	a, sa, err := s.RemoteSock.Accept(flags)
	if err != nil {
		return nil, nil, err
	}
	return agentSock{a}, sa, nil
}
