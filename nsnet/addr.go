package nsnet

import (
	"net"
	"net/netip"

	"golang.org/x/sys/unix"

	"netsandbox/endpoint"
	"netsandbox/options"
)

// parseAddr reads "ip:port" (an empty or ":port" host is the unspecified
// address, as in package net). netsandbox has no resolver, so a host name
// is an *net.AddrError rather than a lookup.
func parseAddr(address string) (netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if host == "" {
		host = "0.0.0.0"
	}
	ap, err := netip.ParseAddrPort(net.JoinHostPort(host, port))
	if err != nil {
		return netip.AddrPort{}, &net.AddrError{Err: "not an IPv4 literal (netsandbox has no resolver)", Addr: address}
	}
	return unmap(ap), nil
}

// unmap turns ::ffff:a.b.c.d into a.b.c.d: netsandbox is IPv4 only.
func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func checkAddr4(ap netip.AddrPort) error {
	if ap.IsValid() && !ap.Addr().Unmap().Is4() {
		return unix.EAFNOSUPPORT
	}
	return nil
}

// sockaddr encodes ap; the zero AddrPort binds 0.0.0.0:0.
func sockaddr(ap netip.AddrPort) []byte {
	if !ap.IsValid() {
		ap = netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
	}
	return options.SockaddrIn(unmap(ap))
}

func parseSockaddr(b []byte) netip.AddrPort {
	ap, _, err := options.ParseSockaddrIn(b)
	if err != nil {
		return netip.AddrPort{}
	}
	return ap
}

func localOf(s endpoint.Socket) netip.AddrPort {
	b, err := s.GetSockName()
	if err != nil {
		return netip.AddrPort{}
	}
	return parseSockaddr(b)
}

func peerOf(s endpoint.Socket) netip.AddrPort {
	b, err := s.GetPeerName()
	if err != nil {
		return netip.AddrPort{}
	}
	return parseSockaddr(b)
}

// tcpAddr returns a nil net.Addr (not a typed nil) for the zero AddrPort,
// so OpError prints no address rather than "<nil>" (dgram.addr is the same
// for datagram conns).
func tcpAddr(ap netip.AddrPort) net.Addr {
	if !ap.IsValid() {
		return nil
	}
	return net.TCPAddrFromAddrPort(ap)
}
