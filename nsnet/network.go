package nsnet

import (
	"net"
	"net/netip"
	"strings"
)

// netKind is what a network name asks for.
type netKind int

const (
	netTCP netKind = iota + 1
	netUDP
	netIP // a raw socket of one IP protocol
)

// protocols is package net's fallback table (net/lookup.go) for the IPv4
// protocols a raw conn is likely to carry; netsandbox reads no
// /etc/protocols. A number ("ip4:1") needs no name.
var protocols = map[string]int{
	"icmp": 1,
	"igmp": 2,
	"tcp":  6,
	"udp":  17,
}

// parseNetwork reads a network name as package net's parseNetwork does
// for Dial and ListenPacket (a protocol is required after "ip"), less the
// IPv6 and Unix names netsandbox has no sockets for: "tcp", "tcp4", "udp",
// "udp4", and "ip:PROTO" or "ip4:PROTO" with a protocol number or a name
// of the protocols table (any case). Anything else is an
// net.UnknownNetworkError; an unknown protocol is package net's
// *net.AddrError "unknown IP protocol specified".
func parseNetwork(network string) (netKind, int, error) {
	i := strings.LastIndexByte(network, ':')
	if i < 0 {
		switch network {
		case "tcp", "tcp4":
			return netTCP, 0, nil
		case "udp", "udp4":
			return netUDP, 0, nil
		}
		return 0, 0, net.UnknownNetworkError(network)
	}
	switch network[:i] {
	case "ip", "ip4":
	default:
		return 0, 0, net.UnknownNetworkError(network)
	}
	name := network[i+1:]
	if proto, ok := dtoi(name); ok {
		return netIP, proto, nil
	}
	if proto, ok := protocols[strings.ToLower(name)]; ok {
		return netIP, proto, nil
	}
	return 0, 0, &net.AddrError{Err: "unknown IP protocol specified", Addr: name}
}

// dtoi is package net's: a decimal number of digits only, below 0xFFFFFF.
func dtoi(s string) (int, bool) {
	const big = 0xFFFFFF
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
		if n >= big {
			return 0, false
		}
	}
	return n, s != ""
}

// parseIP reads the address of an "ip" network: an IP literal with no
// port, the empty string being the zero Addr (any address for a listen).
func parseIP(address string) (netip.Addr, error) {
	if address == "" {
		return netip.Addr{}, nil
	}
	a, err := netip.ParseAddr(address)
	if err != nil {
		return netip.Addr{}, &net.AddrError{Err: "not an IP literal (netsandbox has no resolver)", Addr: address}
	}
	return a.Unmap(), nil
}

// netAddr is the address of a parsed network and address as package net
// would resolve it, for the OpError of a listen that cannot take it.
func netAddr(kind netKind, address string) (net.Addr, error) {
	if kind == netIP {
		a, err := parseIP(address)
		if err != nil {
			return nil, err
		}
		return &net.IPAddr{IP: a.AsSlice()}, nil
	}
	ap, err := parseAddr(address)
	if err != nil {
		return nil, err
	}
	if kind == netTCP {
		return net.TCPAddrFromAddrPort(ap), nil
	}
	return net.UDPAddrFromAddrPort(ap), nil
}
