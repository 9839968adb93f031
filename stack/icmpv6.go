package stack

import (
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
)

// withICMPv6 adds gVisor's ICMPv6 transport to every stack. AF_INET6 ping
// sockets are its endpoints and raw ICMPv6 sockets register in the
// demuxer slot it makes (endpoint/inet6_ping.go, inet6_raw.go); a
// gateway stack hangs its handler for the sandbox's echo requests on it
// (package gateway's icmp6.go). Echo requests are still answered by
// gVisor's ipv6 network protocol.
func withICMPv6(f []gstack.TransportProtocolFactory) []gstack.TransportProtocolFactory {
	return append(f, icmp.NewProtocol6)
}
