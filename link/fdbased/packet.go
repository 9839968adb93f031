package fdbased

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
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
// The packet socket carries a virtio_net_hdr both ways (PACKET_VNET_HDR),
// and the endpoint is the vnet TAP's (vnet.go): kernel peers may keep
// their offloads. A frame whose TCP or UDP checksum the sender left to
// "hardware" is finished here, a TCP segment of up to 64 KiB is taken
// whole, and a UDP_SEGMENT train is cut into its datagrams. The stack's own
// TCP leaves in MSS-sized segments, as Linux's TCP_CORK and Nagle need
// (newVnet). The reader waits in Go's netpoller and takes what has
// arrived in one recvmmsg; the stack's writes meanwhile leave together in
// one sendmmsg (vnet_mmsg.go, vnet_txq.go). An interface taken down later
// ends the endpoint's reader (ENETDOWN).
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

	fd, err := OpenPacketSocket(ifi.Index, true)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, nil, fmt.Errorf("fdbased: opening a packet socket on %q needs CAP_NET_RAW: run as root or inside a user namespace that owns the network namespace: %w", name, err)
		}
		return nil, nil, fmt.Errorf("fdbased: packet socket for %q (index %d): %w", name, ifi.Index, err)
	}
	ok := false
	defer func() {
		if !ok {
			unix.Close(fd)
		}
	}()
	ep, err := newVnet(fd, mtu, tcpip.LinkAddress(mac), false)
	if err != nil {
		return nil, nil, err
	}
	ep.mmsg = true
	ok = true
	return ep, &Info{Name: name, Index: ifi.Index, MTU: mtu, MAC: mac, InterfaceMAC: ifi.HardwareAddr, FD: fd}, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// packetSocketBuf is the receive and send buffer of a packet socket.
const packetSocketBuf = 4 << 20

// OpenPacketSocket opens an AF_PACKET socket on interface ifindex for a
// stack that owns the interface: it receives every frame that arrives
// there, in every multicast group (the stack filters by its own
// memberships), but not the kernel's own transmissions (Linux >= 4.20;
// older kernels lack the option and the stack then drops them as not
// addressed to it). With vnetHdr every frame both ways carries a struct
// virtio_net_hdr (PACKET_VNET_HDR): the stack then writes a TCP segment of
// up to the interface's gso_max_size in one syscall and the kernel
// segments it, or hands it whole to a local peer.
//
// The kernel queues what arrives while the stack is busy in the socket's
// receive buffer, capped by net.core.rmem_max (about 208 KiB by default:
// three 64 KiB GSO frames, or some 270 small ones); past it frames are
// dropped. The FORCE options lift the cap both ways to 4 MiB (the kernel
// charges twice that), as runsc's own sandbox network does; they need
// CAP_NET_ADMIN in the initial user namespace, so without it the capped
// sizes stay.
func OpenPacketSocket(ifindex int, vnetHdr bool) (int, error) {
	// Protocol 0 receives nothing until bind chooses the interface, so no
	// frame from another interface gets queued meanwhile.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	ok := false
	defer func() {
		if !ok {
			unix.Close(fd)
		}
	}()
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil && !errors.Is(err, unix.ENOPROTOOPT) {
		return -1, fmt.Errorf("PACKET_IGNORE_OUTGOING: %w", err)
	}
	if vnetHdr {
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VNET_HDR, 1); err != nil {
			return -1, fmt.Errorf("PACKET_VNET_HDR: %w", err)
		}
	}
	for _, o := range [][2]int{{unix.SO_RCVBUFFORCE, unix.SO_RCVBUF}, {unix.SO_SNDBUFFORCE, unix.SO_SNDBUF}} {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, o[0], packetSocketBuf); err != nil {
			_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, o[1], packetSocketBuf)
		}
	}
	mreq := unix.PacketMreq{Ifindex: int32(ifindex), Type: unix.PACKET_MR_ALLMULTI}
	if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
		return -1, fmt.Errorf("all-multicast membership: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}); err != nil {
		return -1, fmt.Errorf("bind: %w", err)
	}
	ok = true
	return fd, nil
}
