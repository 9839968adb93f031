package stack

import "net/netip"

// ICMPError is an ICMP error message (destination unreachable, time
// exceeded, parameter problem; source quench and redirect for ping
// sockets) about a datagram this host sent, as the ICMP tap (icmp_tap.go)
// hands it to UDP bindings and to raw and ping sockets, with what Linux's
// err handlers and ip_icmp_error use: the ICMP type, code and info, who
// sent it, and the quoted datagram.
type ICMPError struct {
	Type, Code uint8
	// Info is Linux's "info" of the error: the next-hop MTU of a
	// "fragmentation needed" (0 when the router gave none), the pointer
	// of a parameter problem, the gateway of a redirect, else 0.
	Info uint32
	// Offender is the source of the ICMP message (sock_extended_err's
	// offender address).
	Offender netip.Addr
	// Src and Dst are the quoted datagram's addresses: the binding's
	// source and the original destination.
	Src, Dst netip.AddrPort
	IfIndex  int   // interface the ICMP message arrived on
	TTL, TOS uint8 // of the ICMP message's IP header
	// Payload is the quoted UDP or UDP-Lite payload after its header, as
	// far as the ICMP message carried it (nil for other protocols); the
	// receiver owns it.
	Payload []byte
	// OrigLen is byte 5 of the ICMP header: the RFC 4884 length of the
	// original datagram in 32-bit words (0 = no extension structure).
	OrigLen uint8
	// PayloadOffset is where Payload starts, counted from the end of the
	// ICMP header: the quoted IP header and UDP header (RFC 4884 offsets).
	PayloadOffset int
}
