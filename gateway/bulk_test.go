package gateway

import (
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestTCPBulkDownload: a host server's stream much larger than every
// buffer on the way reaches the sandbox whole (back-pressure, no stall).
func TestTCPBulkDownload(t *testing.T) {
	const size = 32 << 20
	l, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		buf := make([]byte, 1<<20)
		for sent := 0; sent < size; sent += len(buf) {
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}()
	p := newPair(t, Config{AllowHostLoopback: true})
	c, err := dialSandboxTCP(p, netip.AddrPortFrom(testGateway, uint16(l.Addr().(*net.TCPAddr).Port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	n, err := io.Copy(io.Discard, c)
	if n != size || err != nil {
		t.Fatalf("sandbox read %d bytes (%v), want %d", n, err, size)
	}
}
