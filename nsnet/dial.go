package nsnet

import (
	"context"
	"net"
	"net/netip"
	"time"

	"netsandbox/stack"
)

// Dial connects to address on the stack. network is one of package net's
// names for what netsandbox has: "tcp" or "tcp4", "udp" or "udp4" with an
// "ip:port" address, or "ip4:PROTO" (or "ip:PROTO") with an IP address and
// no port for a raw conn (an *IPConn, as DialIP makes) of IP protocol
// PROTO, a number ("ip4:1") or one of icmp, igmp, tcp and udp
// ("ip4:icmp"). Other networks fail with an *net.OpError around a
// net.UnknownNetworkError, as in package net.
func Dial(st *stack.Stack, network, address string) (net.Conn, error) {
	return (&Dialer{Stack: st}).DialContext(context.Background(), network, address)
}

// Listen listens for TCP connections on address ("ip:port"; ":0" is any
// address and an ephemeral port). network is "tcp" or "tcp4". As in
// package net, another network package net knows ("udp", "ip4:icmp") is
// an *net.AddrError "unexpected address type", and one it does not is a
// net.UnknownNetworkError, each inside an *net.OpError.
func Listen(st *stack.Stack, network, address string) (net.Listener, error) {
	kind, _, err := parseNetwork(network)
	if err != nil {
		return nil, opError("listen", network, nil, nil, err)
	}
	if kind != netTCP {
		return nil, unexpectedAddr(kind, network, address)
	}
	ap, err := parseAddr(address)
	if err != nil {
		return nil, opError("listen", network, nil, nil, err)
	}
	l, err := ListenTCP(st, ap)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return l, nil
}

// ListenPacket opens a datagram conn bound to address. network is "udp"
// or "udp4" (a *UDPConn; address "ip:port"), or "ip4:PROTO" or "ip:PROTO"
// (an *IPConn, as ListenIP makes; address an IP address with no port, ""
// or "0.0.0.0" for any), with PROTO as for Dial. Errors are as for
// Listen: "tcp" is an "unexpected address type", an unknown name a
// net.UnknownNetworkError.
func ListenPacket(st *stack.Stack, network, address string) (net.PacketConn, error) {
	kind, proto, err := parseNetwork(network)
	if err != nil {
		return nil, opError("listen", network, nil, nil, err)
	}
	switch kind {
	case netUDP:
		ap, err := parseAddr(address)
		if err != nil {
			return nil, opError("listen", network, nil, nil, err)
		}
		c, err := ListenUDP(st, ap)
		if err != nil {
			return nil, err
		}
		return c, nil
	case netIP:
		a, err := parseIP(address)
		if err != nil {
			return nil, opError("listen", network, nil, nil, err)
		}
		c := new(IPConn)
		if err := rawKindNamed(proto, network).open(&c.dgram, st, "listen", addrPort0(a), netip.AddrPort{}); err != nil {
			return nil, err
		}
		return c, nil
	}
	return nil, unexpectedAddr(kind, network, address)
}

// unexpectedAddr is package net's error for a listen on a network of the
// wrong kind (net/dial.go): the address resolved, then refused.
func unexpectedAddr(kind netKind, network, address string) error {
	la, err := netAddr(kind, address)
	if err != nil {
		return opError("listen", network, nil, nil, err)
	}
	return opError("listen", network, nil, la, &net.AddrError{Err: "unexpected address type", Addr: address})
}

// Dialer dials on one stack. Its DialContext fits http.Transport's
// DialContext field.
type Dialer struct {
	Stack *stack.Stack
	// LocalAddr, when valid, is bound before connecting (its address only,
	// for an "ip4:PROTO" network).
	LocalAddr netip.AddrPort
	// Timeout bounds a TCP connect (with the context's deadline, whichever
	// is sooner); zero means none.
	Timeout time.Duration
}

// Dial is DialContext with a background context.
func (d *Dialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

// DialContext connects to address on d.Stack; networks and addresses are
// as for Dial. Cancelling ctx aborts a TCP connect in progress; it does
// not affect the returned conn.
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	kind, proto, err := parseNetwork(network)
	if err != nil {
		return nil, opError("dial", network, nil, nil, err)
	}
	if kind == netIP {
		a, err := parseIP(address)
		if err != nil {
			return nil, opError("dial", network, nil, nil, err)
		}
		var laddr netip.Addr
		if d.LocalAddr.IsValid() {
			laddr = d.LocalAddr.Addr()
		}
		c := new(IPConn)
		if err := rawKindNamed(proto, network).open(&c.dgram, d.Stack, "dial", addrPort0(laddr), addrPort0(a)); err != nil {
			return nil, err
		}
		return c, nil
	}
	ap, err := parseAddr(address)
	if err != nil {
		return nil, opError("dial", network, nil, nil, err)
	}
	if kind == netUDP {
		c, err := DialUDP(d.Stack, d.LocalAddr, ap)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	if d.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.Timeout)
		defer cancel()
	}
	c, err := dialTCP(ctx, d.Stack, d.LocalAddr, ap)
	if err != nil {
		return nil, err
	}
	return c, nil
}
