package fdbased

import (
	"errors"
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// InterfaceMTU returns the MTU of the named interface in the calling
// thread's network namespace.
func InterfaceMTU(name string) (uint32, error) {
	ifi, err := lookup(name)
	if err != nil {
		return 0, err
	}
	return uint32(ifi.MTU), nil
}

// InterfaceMAC returns the hardware address of the named interface in the
// calling thread's network namespace (empty for devices without one, such
// as lo or a TUN).
func InterfaceMAC(name string) (net.HardwareAddr, error) {
	ifi, err := lookup(name)
	if err != nil {
		return nil, err
	}
	return ifi.HardwareAddr, nil
}

// lookup finds an interface by name, with an error saying what to do when
// it is missing.
func lookup(name string) (*net.Interface, error) {
	if name == "" || len(name) >= unix.IFNAMSIZ {
		return nil, fmt.Errorf("fdbased: invalid interface name %q: want 1 to %d bytes", name, unix.IFNAMSIZ-1)
	}
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		var errno unix.Errno
		if errors.As(err, &errno) && errno != unix.ENODEV && errno != unix.ENXIO {
			return nil, fmt.Errorf("fdbased: looking up interface %q: %w", name, err)
		}
		return nil, fmt.Errorf("fdbased: interface %q not found: create it first (ip link add ...) or pass a TAP name to OpenTAP to create one: %w", name, unix.ENODEV)
	}
	return ifi, nil
}

// bringUp sets IFF_UP on the interface if it is down.
func bringUp(name string) error {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("fdbased: bringing %q up: socket: %w", name, err)
	}
	defer unix.Close(s)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return fmt.Errorf("fdbased: bringing %q up: %w", name, err)
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("fdbased: reading flags of %q: %w", name, err)
	}
	if ifr.Uint16()&unix.IFF_UP != 0 {
		return nil
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(s, unix.SIOCSIFFLAGS, ifr); err != nil {
		if err == unix.EPERM || err == unix.EACCES {
			return fmt.Errorf("fdbased: bringing %q up needs CAP_NET_ADMIN: run as root, or bring it up beforehand (ip link set %s up): %w", name, name, err)
		}
		return fmt.Errorf("fdbased: bringing %q up: %w", name, err)
	}
	return nil
}
