package fdbased

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// Adopt builds an endpoint on an fd the process inherited or was handed: a
// TAP or TUN device fd, or an AF_PACKET socket already bound to an
// interface. opts.MTU is required; opts.MAC defaults to a generated locally
// administered address (ignored with opts.IPOnly, for a TUN fd). The
// endpoint takes ownership of fd and closes it when the stack closes it.
func Adopt(fd int, opts Options) (stack.LinkEndpoint, *Info, error) {
	if fd < 0 {
		return nil, nil, fmt.Errorf("fdbased: Adopt: invalid fd %d: %w", fd, unix.EBADF)
	}
	if opts.MTU == 0 {
		return nil, nil, fmt.Errorf("fdbased: Adopt(fd %d) needs Options.MTU: the fd does not say which interface it reaches", fd)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, nil, fmt.Errorf("fdbased: Adopt: fd %d is not open: %w", fd, err)
	}
	info := &Info{MTU: opts.MTU, FD: fd}
	packetSocket := false
	if st.Mode&unix.S_IFMT == unix.S_IFSOCK {
		sa, err := unix.Getsockname(fd)
		if err != nil {
			return nil, nil, fmt.Errorf("fdbased: Adopt: fd %d: getsockname: %w", fd, err)
		}
		ll, ok := sa.(*unix.SockaddrLinklayer)
		if !ok {
			return nil, nil, fmt.Errorf("fdbased: Adopt: fd %d is a socket but not an AF_PACKET one: %w", fd, unix.EINVAL)
		}
		if opts.IPOnly {
			return nil, nil, fmt.Errorf("fdbased: Adopt: fd %d is a packet socket; IPOnly is for TUN fds: %w", fd, unix.EINVAL)
		}
		packetSocket = true
		info.Index = ll.Ifindex
	}
	vnetHdr := false
	if ifr, err := unix.NewIfreq(""); err == nil && !packetSocket {
		// A tun/tap fd names its device; other fds (a pipe, a file) are
		// accepted as the caller's business, like gVisor does.
		if err := unix.IoctlIfreq(fd, unix.TUNGETIFF, ifr); err == nil {
			info.Name = ifr.Name()
			isTAP := ifr.Uint16()&unix.IFF_TAP != 0
			vnetHdr = isTAP && ifr.Uint16()&unix.IFF_VNET_HDR != 0
			if isTAP == opts.IPOnly {
				return nil, nil, fmt.Errorf("fdbased: Adopt: fd %d is a %s device but IPOnly is %v: %w", fd, tunKind(isTAP), opts.IPOnly, unix.EINVAL)
			}
		} else if !errors.Is(err, unix.ENOTTY) && !errors.Is(err, unix.EBADFD) && !errors.Is(err, unix.EINVAL) {
			return nil, nil, fmt.Errorf("fdbased: Adopt: fd %d: TUNGETIFF: %w", fd, err)
		}
	}
	if !opts.IPOnly {
		info.MAC = opts.MAC
		if info.MAC == nil {
			info.MAC = LocalMAC()
		}
		if err := checkMAC(info.MAC); err != nil {
			return nil, nil, err
		}
	}
	if vnetHdr {
		// A TAP made with IFF_VNET_HDR: TCP leaves in GSO frames (vnet.go).
		ep, err := newVnetEndpoint(fd, opts.MTU, tcpip.LinkAddress(info.MAC))
		if err != nil {
			return nil, nil, err
		}
		return ep, info, nil
	}
	ep, err := newEndpoint(fd, opts.MTU, info.MAC, !opts.IPOnly, packetSocket)
	if err != nil {
		return nil, nil, err
	}
	return ep, info, nil
}

func tunKind(tap bool) string {
	if tap {
		return "TAP"
	}
	return "TUN"
}
