package fdbased

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// OpenTAP opens the TAP device name (IFF_TAP|IFF_NO_PI: bare Ethernet
// frames), creating it if it does not exist, and brings it up. A name with
// "%d" lets the kernel pick the number; Info.Name is the result. A device
// created here disappears when the endpoint closes.
//
// The TAP's kernel side and the stack are two stations on one Ethernet
// segment, so the stack gets its own MAC: a generated locally administered
// one unless opts.MAC is set. Using the kernel's address would make frames
// from the stack look to the kernel (and to any bridge the TAP is enslaved
// to) like its own frames coming back.
func OpenTAP(name string, opts Options) (stack.LinkEndpoint, *Info, error) {
	if name == "" || len(name) >= unix.IFNAMSIZ {
		return nil, nil, fmt.Errorf("fdbased: invalid TAP name %q: want 1 to %d bytes", name, unix.IFNAMSIZ-1)
	}
	mac := opts.MAC
	if mac == nil {
		mac = LocalMAC()
	}
	if err := checkMAC(mac); err != nil {
		return nil, nil, err
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, nil, fmt.Errorf("fdbased: /dev/net/tun is missing: load the tun module (modprobe tun) or make the device node available (mknod /dev/net/tun c 10 200): %w", err)
		}
		if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
			return nil, nil, fmt.Errorf("fdbased: opening /dev/net/tun: permission denied: run as root or grant access to the device node: %w", err)
		}
		return nil, nil, fmt.Errorf("fdbased: opening /dev/net/tun: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			unix.Close(fd)
		}
	}()
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return nil, nil, fmt.Errorf("fdbased: TAP %q: %w", name, err)
	}
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		switch {
		case errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES):
			return nil, nil, fmt.Errorf("fdbased: opening TAP %q on /dev/net/tun needs CAP_NET_ADMIN: run as root or inside a user namespace that owns the network namespace: %w", name, err)
		case errors.Is(err, unix.EBUSY):
			return nil, nil, fmt.Errorf("fdbased: TAP %q is busy: another process has it open: %w", name, err)
		case errors.Is(err, unix.EINVAL):
			return nil, nil, fmt.Errorf("fdbased: %q exists and is not a TAP device (or was made with other flags): pick another name: %w", name, err)
		}
		return nil, nil, fmt.Errorf("fdbased: creating TAP %q: %w", name, err)
	}
	name = ifr.Name()
	if err := bringUp(name); err != nil {
		return nil, nil, err
	}
	ifi, err := lookup(name)
	if err != nil {
		return nil, nil, err
	}
	mtu := opts.MTU
	if mtu == 0 {
		mtu = uint32(ifi.MTU)
	}
	ep, err := newEndpoint(fd, mtu, mac, true, false)
	if err != nil {
		return nil, nil, err
	}
	ok = true
	return ep, &Info{Name: name, Index: ifi.Index, MTU: mtu, MAC: mac, InterfaceMAC: ifi.HardwareAddr, FD: fd}, nil
}
