package stack

import (
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// HandleError ignores the ICMP errors gVisor's IPv4 passes to transports:
// the ICMP tap (icmp_tap.go) delivers every ICMP error to bindings, these
// included, so taking them here too would deliver them twice.
func (e *udpEndpoint) HandleError(gstack.TransportError, *gstack.PacketBuffer) {}
