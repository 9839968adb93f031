package nsnet

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"time"

	"netsandbox/stack"
)

// Dial connects to address ("ip:port") on the stack. network is "tcp",
// "tcp4", "udp" or "udp4".
func Dial(st *stack.Stack, network, address string) (net.Conn, error) {
	return (&Dialer{Stack: st}).DialContext(context.Background(), network, address)
}

// Listen listens for TCP connections on address ("ip:port"; ":0" is any
// address and an ephemeral port). network is "tcp" or "tcp4".
func Listen(st *stack.Stack, network, address string) (net.Listener, error) {
	if err := checkNet(network, "tcp"); err != nil {
		return nil, opError("listen", network, nil, nil, err)
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

// ListenPacket binds a UDP socket to address. network is "udp" or "udp4".
func ListenPacket(st *stack.Stack, network, address string) (net.PacketConn, error) {
	if err := checkNet(network, "udp"); err != nil {
		return nil, opError("listen", network, nil, nil, err)
	}
	ap, err := parseAddr(address)
	if err != nil {
		return nil, opError("listen", network, nil, nil, err)
	}
	c, err := ListenUDP(st, ap)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Dialer dials on one stack. Its DialContext fits http.Transport's
// DialContext field.
type Dialer struct {
	Stack *stack.Stack
	// LocalAddr, when valid, is bound before connecting.
	LocalAddr netip.AddrPort
	// Timeout bounds a TCP connect (with the context's deadline, whichever
	// is sooner); zero means none.
	Timeout time.Duration
}

// Dial is DialContext with a background context.
func (d *Dialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

// DialContext connects to address on d.Stack. Cancelling ctx aborts a TCP
// connect in progress; it does not affect the returned conn.
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	ap, err := parseAddr(address)
	if err != nil {
		return nil, opError("dial", network, nil, nil, err)
	}
	if d.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.Timeout)
		defer cancel()
	}
	switch {
	case strings.HasPrefix(network, "tcp") && checkNet(network, "tcp") == nil:
		c, err := dialTCP(ctx, d.Stack, d.LocalAddr, ap)
		if err != nil {
			return nil, err
		}
		return c, nil
	case strings.HasPrefix(network, "udp") && checkNet(network, "udp") == nil:
		c, err := DialUDP(d.Stack, d.LocalAddr, ap)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	return nil, opError("dial", network, nil, nil, net.UnknownNetworkError(network))
}
