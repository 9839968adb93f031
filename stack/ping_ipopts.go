package stack

import (
	"gvisor.dev/gvisor/pkg/tcpip"

	"netsandbox/options"
)

// IPOptionsSource is the gVisor packet owner of a ping socket with
// IP_OPTIONS: gVisor's ICMP endpoint stamps it on every echo request it
// sends (tcpip.Endpoint.SetOwner), and the IPv4 wrapper (ipopts_out.go)
// asks it for the options to put in the header, as ping_v4_sendmsg takes
// inet_opt for each message. TCP connections use the registry of
// tcp_ipopts.go instead: gVisor's TCP hands its listener's owner to the
// connections it accepts, whose options are not the listener's in Linux.
type IPOptionsSource interface {
	tcpip.PacketOwner
	// OutgoingIPOptions returns the options of the next packet (nil = none).
	OutgoingIPOptions() *options.IPOptions
}
