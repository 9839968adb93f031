package nsnet_test

import (
	"net"
	"net/netip"
	"testing"

	"golang.org/x/net/nettest"

	"netsandbox/nsnet"
)

// x/net's nettest.TestConn checks the net.Conn contract: basic I/O, ping
// pong, racing reads and writes, deadlines past, future and moved while
// blocked, and Close waking blocked calls.
func TestNetConnContract(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		w, err := buildWire()
		if err != nil {
			return nil, nil, nil, err
		}
		l, err := nsnet.ListenTCP(w.b, netip.MustParseAddrPort("10.0.0.2:0"))
		if err != nil {
			w.close()
			return nil, nil, nil, err
		}
		defer l.Close()
		accepted := make(chan net.Conn, 1)
		go func() {
			c, err := l.Accept()
			if err != nil {
				c = nil
			}
			accepted <- c
		}()
		c1, err = nsnet.Dial(w.a, "tcp", l.Addr().String())
		if err != nil {
			w.close()
			return nil, nil, nil, err
		}
		c2 = <-accepted
		if c2 == nil {
			c1.Close()
			w.close()
			return nil, nil, nil, net.ErrClosed
		}
		return c1, c2, func() { c1.Close(); c2.Close(); w.close() }, nil
	})
}
