package stack

import (
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// tcpProtocolFor is the TCP protocol New registers. A gateway stack
// (Config.Gateway, package gateway) gets gVisor's TCP itself: gVisor's TCP
// forwarder, which terminates the sandbox's connections there, requires
// gVisor's own protocol type, and a gateway has no sockets that set
// IP_MINTTL, so the wrapper of tcp_minttl.go has nothing to do.
func (s *Stack) tcpProtocolFor(cfg Config) gstack.TransportProtocolFactory {
	if cfg.Gateway {
		return tcp.NewProtocol
	}
	return s.newTCPProtocol
}
