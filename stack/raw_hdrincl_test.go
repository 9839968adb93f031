package stack_test

import (
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"netsandbox/stack"
)

// A header-included packet goes out as built up to the device MTU (the
// stack fills in the checksum), EMSGSIZE above it, EINVAL without a
// whole header.
func TestSendHeaderIncluded(t *testing.T) {
	s := newStack(t, stack.Config{})
	ch, _ := attach(t, s, "10.0.0.1/24")
	pkt := udpPacket([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 9}, 4000, 53, make([]byte, 1500-28))
	header.IPv4(pkt).SetChecksum(0)
	if err := s.SendHeaderIncluded(pkt, 0); err != nil {
		t.Fatalf("1500 bytes: %v", err)
	}
	f := header.IPv4(readFrame(t, ch))
	if len(f) != 1500 || !f.IsChecksumValid() || f.DestinationAddress() != header.IPv4(pkt).DestinationAddress() {
		t.Errorf("frame: len %d checksum ok %v", len(f), f.IsChecksumValid())
	}
	big := udpPacket([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 9}, 4000, 53, make([]byte, 1501-28))
	if err := s.SendHeaderIncluded(big, 0); err != unix.EMSGSIZE {
		t.Errorf("1501 bytes: %v, want EMSGSIZE", err)
	}
	if err := s.SendHeaderIncluded(pkt[:19], 0); err != unix.EINVAL {
		t.Errorf("short header: %v, want EINVAL", err)
	}
}
