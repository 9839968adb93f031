// Package fdbased connects a gVisor stack to a real network device through a
// file descriptor: a TAP device it creates or opens, an AF_PACKET socket on
// an existing interface (a veth end, a physical NIC), or an inherited fd.
// It is a thin layer over gVisor's link/fdbased that does the Linux plumbing
// (opening, bringing the device up, reading MTU and MAC) and reports
// failures in terms an operator can act on.
//
// OpenTAP and AttachInterface work in the network namespace of the calling
// thread; a caller that switches namespaces must lock its OS thread around
// the call. The fd keeps its namespace afterwards, so the endpoint can be
// used from any goroutine.
package fdbased

import (
	"crypto/rand"
	"fmt"
	"net"
	"sync"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/fdbased"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// Options tunes an endpoint. The zero value suits OpenTAP and
// AttachInterface; Adopt needs MTU.
type Options struct {
	// MTU is the IP MTU the stack uses. 0 takes the interface's MTU.
	MTU uint32
	// MAC is the stack's link address. nil means: a generated locally
	// administered address for OpenTAP and Adopt, the interface's own
	// address for AttachInterface.
	MAC net.HardwareAddr
	// IPOnly says the adopted fd carries bare IP packets (a TUN device)
	// rather than Ethernet frames. Adopt only.
	IPOnly bool
}

// Info describes what an endpoint was attached to.
type Info struct {
	// Name is the interface name ("" when Adopt cannot learn it).
	Name string
	// Index is the interface index in the interface's network namespace
	// (0 when unknown).
	Index int
	// MTU is the IP MTU the endpoint reports to the stack.
	MTU uint32
	// MAC is the stack's link address (nil for an IP-only fd).
	MAC net.HardwareAddr
	// InterfaceMAC is the kernel interface's own address, when known.
	InterfaceMAC net.HardwareAddr
	// FD is the descriptor the endpoint reads and writes. The endpoint owns
	// it and closes it when the stack closes the endpoint.
	FD int
}

// endpoint is gVisor's fdbased endpoint plus ownership of the fd: gVisor's
// Close leaves the fd open, so it is closed here once the reader
// goroutines have stopped.
type endpoint struct {
	stack.LinkEndpoint
	fd        int
	closeOnce sync.Once
}

func (e *endpoint) Close() {
	e.closeOnce.Do(func() {
		// Detaching stops and waits for the readers, so the fd is no longer
		// in use (and its number cannot be reused under them) when closed.
		e.LinkEndpoint.Attach(nil)
		e.LinkEndpoint.Close()
		unix.Close(e.fd)
	})
}

// newEndpoint builds the gVisor endpoint over fd, which it then owns.
func newEndpoint(fd int, mtu uint32, mac net.HardwareAddr, ethernet, packetSocket bool) (stack.LinkEndpoint, error) {
	mode := fdbased.Readv
	if packetSocket {
		// Batches reads: one recvmmsg per burst instead of one readv per frame.
		mode = fdbased.RecvMMsg
	}
	ep, err := fdbased.New(&fdbased.Options{
		FDs:                []int{fd},
		MTU:                mtu,
		EthernetHeader:     ethernet,
		Address:            tcpip.LinkAddress(mac),
		PacketDispatchMode: mode,
		// One goroutine hands frames to the stack. gVisor's default of
		// one per CPU, chosen by a hash that reads any protocol's first
		// four bytes as TCP ports, reorders a source's IGMP and ICMP
		// messages (a query overtaken by the report behind it).
		ProcessorsPerChannel: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("fdbased: %w", err)
	}
	return &endpoint{LinkEndpoint: ep, fd: fd}, nil
}

// LocalMAC returns a random unicast, locally administered MAC address: one
// that no vendor assigns, so it cannot collide with a real NIC.
func LocalMAC() net.HardwareAddr {
	mac := make(net.HardwareAddr, 6)
	rand.Read(mac)               // never fails on Linux
	mac[0] = mac[0]&^0x01 | 0x02 // clear the group bit, set the local bit
	return mac
}

func checkMAC(mac net.HardwareAddr) error {
	if len(mac) != 6 {
		return fmt.Errorf("fdbased: MAC %v is not a 6-byte Ethernet address", mac)
	}
	if mac[0]&0x01 != 0 {
		return fmt.Errorf("fdbased: MAC %v is a multicast address; a station needs a unicast one", mac)
	}
	return nil
}
