package stack

import (
	"net/netip"

	"netsandbox/options"
)

// UDPReceiver is implemented by the socket layer (endpoint/) to receive
// datagrams for a UDP binding.
type UDPReceiver interface {
	// DeliverUDP is called on gVisor's delivery path; it must not block. d is
	// valid only during the call except d.Payload, which the receiver owns
	// after the call.
	DeliverUDP(d *Datagram)
	// DeliverICMPError is called, on the same path and with the same
	// rules, for an ICMP error about a datagram the binding sent; e is
	// valid only during the call except e.Payload, which the receiver owns.
	DeliverICMPError(e *ICMPError)
}

// Datagram is one received UDP datagram with the IP header facts the socket
// layer needs for its control messages.
type Datagram struct {
	Src, Dst  netip.AddrPort // Dst is the header destination (may be bcast/mcast)
	IfIndex   int            // receiving interface
	TTL, TOS  uint8          // over IPv6: the hop limit and the traffic class
	IPOptions []byte         // raw IP options as received (nil if none); a fresh copy
	FragSize  int            // IP_RECVFRAGSIZE: largest fragment's IP length if it came in fragments, else 0
	Payload   []byte         // UDP payload; the receiver owns it
}

// UDPBindFlags are the socket options that take part in the port conflict
// rules of bind(2).
type UDPBindFlags struct {
	ReuseAddr, ReusePort bool
	BindToDevice         int // ifindex; 0 = any
	// FreeBind allows a non-local address (IP_FREEBIND or IP_TRANSPARENT).
	FreeBind bool
	// PortRange is the socket's IP_LOCAL_PORT_RANGE (lo | hi<<16, 0 =
	// none): an ephemeral port comes from it (EphemeralRange).
	PortRange uint32
	// V6Only keeps a :: binding from IPv4 datagrams (IPV6_V6ONLY).
	V6Only bool
	// Lite binds a UDP-Lite port (its own port space, as udplite_table);
	// the receiver must be a UDPLiteReceiver.
	Lite bool
}

// UDPSend describes one outgoing datagram.
type UDPSend struct {
	Src     netip.AddrPort // Src.Addr() may be unspecified: the route picks it
	Dst     netip.AddrPort
	IfIndex int   // 0 = route decides
	TTL     uint8 // 0 = route default (ip_default_ttl); to a group 0 is sent as 0; IPv6: the hop limit
	TOS     uint8 // IPv6: the traffic class
	// TTLZero sends a TTL of 0 as 0 (the socket's own TTL is 0, which a
	// personality other than Linux's allows: freebsd/).
	TTLZero bool
	// AnySource lets Src be an address no interface has (IP_TRANSPARENT:
	// Linux's FLOWI_FLAG_ANYSRC); the datagram is routed without it.
	AnySource bool
	// PMTU is the socket's IP_MTU_DISCOVER mode; it decides DF and what
	// happens to a datagram larger than the route MTU.
	PMTU PMTUMode
	// Connected tells that the socket is connected; Linux then numbers its
	// datagrams' IP IDs from a per-socket counter, never 0.
	Connected bool
	// IPID is the socket's IP ID counter (nil = the stack's).
	IPID *DatagramIPID
	// NoChecksum sends the datagram without a UDP checksum (0), as
	// SO_NO_CHECK does.
	NoChecksum bool
	// DontRoute restricts the route to destinations on a directly
	// connected network (SO_DONTROUTE, MSG_DONTROUTE): a route through a
	// gateway is ENETUNREACH.
	DontRoute bool
	// DontFrag refuses an IPv6 datagram larger than the MTU it is held to
	// instead of fragmenting it (IPV6_DONTFRAG), whatever PMTU says.
	DontFrag bool
	// FragSize is an IPv6 socket's IPV6_MTU (np->frag_size, 0 = unset):
	// the MTU its datagrams are held to and fragmented at when smaller
	// than the path's (udp6_frag.go).
	FragSize int
	// NoMulticastLoop stops a multicast datagram from being looped back to
	// local sockets (IP_MULTICAST_LOOP 0); the zero value loops, as Linux.
	NoMulticastLoop bool
	// IPOptions are the socket's IP_OPTIONS (nil = none): written into
	// the header of every datagram; a source route sends it to its first
	// hop.
	IPOptions *options.IPOptions
	// Lite sends a UDP-Lite datagram (udplite.go); NoChecksum does not
	// apply to it. CsCovSet tells that UDPLITE_SEND_CSCOV was set, to
	// CsCov (0 or 8..65535).
	Lite     bool
	CsCovSet bool
	CsCov    uint16
	Payload  []byte
}

// PMTUMode is IP_MTU_DISCOVER, with Linux's IP_PMTUDISC_* values.
type PMTUMode uint8

// The modes as __ip_append_data and __ip_make_skb apply them: DONT, WANT
// and DO work with the path MTU (learnt from "fragmentation needed",
// pmtu.go), PROBE, INTERFACE and OMIT with the interface MTU.
const (
	PMTUDont      PMTUMode = iota // no DF; fragment as needed
	PMTUWant                      // DF when the datagram fits the MTU, else fragment without DF
	PMTUDo                        // DF; EMSGSIZE above the MTU
	PMTUProbe                     // DF; EMSGSIZE above the interface MTU
	PMTUInterface                 // no DF; EMSGSIZE above the interface MTU
	PMTUOmit                      // no DF; fragment as needed
)
