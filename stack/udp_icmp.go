package stack

import (
	"net/netip"

	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// ICMPError is an ICMP error message (destination unreachable, time
// exceeded, parameter problem) about a datagram a UDP binding sent,
// with what Linux's __udp4_lib_err and ip_icmp_error use: the ICMP type,
// code and info, who sent it, and the quoted datagram.
type ICMPError struct {
	Type, Code uint8
	// Info is Linux's "info" of the error: the next-hop MTU of a
	// "fragmentation needed" (0 when the router gave none), the pointer
	// of a parameter problem, else 0.
	Info uint32
	// Offender is the source of the ICMP message (sock_extended_err's
	// offender address).
	Offender netip.Addr
	// Src and Dst are the quoted datagram's addresses: the binding's
	// source and the original destination.
	Src, Dst netip.AddrPort
	IfIndex  int   // interface the ICMP message arrived on
	TTL, TOS uint8 // of the ICMP message's IP header
	// Payload is the quoted UDP payload after the UDP header, as far as
	// the ICMP message carried it; the receiver owns it.
	Payload []byte
	// OrigLen is byte 5 of the ICMP header: the RFC 4884 length of the
	// original datagram in 32-bit words (0 = no extension structure).
	OrigLen uint8
	// PayloadOffset is where Payload starts, counted from the end of the
	// ICMP header: the quoted IP header and UDP header (RFC 4884 offsets).
	PayloadOffset int
}

// HandleError ignores the ICMP errors gVisor's IPv4 passes to transports:
// the ICMP tap (icmp_tap.go) delivers every ICMP error to bindings, these
// included, so taking them here too would deliver them twice.
func (e *udpEndpoint) HandleError(gstack.TransportError, *gstack.PacketBuffer) {}
