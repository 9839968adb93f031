package stack

import (
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// TestGatewayStackTakesTCPForwarder: package gateway builds gVisor's TCP
// forwarder on a Config.Gateway stack, which panics unless the stack's TCP
// is gVisor's own protocol.
func TestGatewayStackTakesTCPForwarder(t *testing.T) {
	s, err := New(Config{Caps: AllCaps, Gateway: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("tcp.NewForwarder on a gateway stack: %v", r)
		}
	}()
	tcp.NewForwarder(s.Gvisor(), 0, 1, func(*tcp.ForwarderRequest) {})
}
