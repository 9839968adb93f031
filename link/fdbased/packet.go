package fdbased

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// AttachInterface attaches to an existing Ethernet interface (a veth end, a
// physical NIC) through an AF_PACKET socket that sees every frame of that
// interface, and brings the interface up if it is down. The stack uses the
// interface's MAC unless opts.MAC is set.
//
// The stack then owns the interface's IPv4 identity, and the kernel must
// keep out of it: do not assign the stack's address to this interface or
// any other interface of the namespace (the kernel would answer ARP and
// packets for it too), and preferably assign no IPv4 address to this
// interface at all. Frames the kernel itself sends on the interface are not
// passed to the stack.
//
// Kernel peers must compute TCP/UDP checksums in software, or their frames
// arrive unfinished and the stack drops them: see DisableTxOffload. An
// interface taken down later ends the endpoint's reader (ENETDOWN).
func AttachInterface(name string, opts Options) (stack.LinkEndpoint, *Info, error) {
	ifi, err := lookup(name)
	if err != nil {
		return nil, nil, err
	}
	if len(ifi.HardwareAddr) != 6 && opts.MAC == nil {
		return nil, nil, fmt.Errorf("fdbased: interface %q has no Ethernet address (%v): attach to an Ethernet device, or use OpenTAP", name, ifi.HardwareAddr)
	}
	mac := opts.MAC
	if mac == nil {
		mac = ifi.HardwareAddr
	}
	if err := checkMAC(mac); err != nil {
		return nil, nil, err
	}
	mtu := opts.MTU
	if mtu == 0 {
		mtu = uint32(ifi.MTU)
	}

	// Up before bind: binding to a down interface leaves ENETDOWN pending
	// on the socket, and the first read would end gVisor's reader.
	if err := bringUp(name); err != nil {
		return nil, nil, err
	}

	// Protocol 0 receives nothing until the bind below chooses the
	// interface, so no frame from another interface gets queued meanwhile.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, nil, fmt.Errorf("fdbased: opening a packet socket on %q needs CAP_NET_RAW: run as root or inside a user namespace that owns the network namespace: %w", name, err)
		}
		return nil, nil, fmt.Errorf("fdbased: packet socket for %q: %w", name, err)
	}
	ok := false
	defer func() {
		if !ok {
			unix.Close(fd)
		}
	}()
	// The kernel's own transmissions on the interface are not frames from
	// the wire. (Linux >= 4.20; older kernels lack the option and the stack
	// then sees and drops them as not addressed to it.)
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil && !errors.Is(err, unix.ENOPROTOOPT) {
		return nil, nil, fmt.Errorf("fdbased: packet socket for %q: PACKET_IGNORE_OUTGOING: %w", name, err)
	}
	// The stack filters multicast itself (by its group memberships), so the
	// NIC must let every multicast frame through.
	mreq := unix.PacketMreq{Ifindex: int32(ifi.Index), Type: unix.PACKET_MR_ALLMULTI}
	if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
		return nil, nil, fmt.Errorf("fdbased: packet socket for %q: all-multicast membership: %w", name, err)
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}
	if err := unix.Bind(fd, sa); err != nil {
		return nil, nil, fmt.Errorf("fdbased: binding packet socket to %q (index %d): %w", name, ifi.Index, err)
	}
	ep, err := newEndpoint(fd, mtu, mac, true, true)
	if err != nil {
		return nil, nil, err
	}
	ok = true
	return ep, &Info{Name: name, Index: ifi.Index, MTU: mtu, MAC: mac, InterfaceMAC: ifi.HardwareAddr, FD: fd}, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
