package main

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The sandbox's IPv6, as slirp4netns --enable-ipv6 lays it out: a ULA
// prefix for the link, the gateway at ::2 (the stack's address, the
// default route's next hop), the resolver at ::3 and the sandbox at ::100.
// Flows to any other address leave through the host's AF_INET6 sockets.
var (
	sandboxAddr6 = netip.MustParsePrefix("fd00::100/64")
	gatewayAddr6 = netip.MustParseAddr("fd00::2")
	dnsAddr6     = netip.MustParseAddr("fd00::3")
)

// setupTAP6 gives the TAP (up already) sandboxAddr6 without duplicate
// address detection (the link has no one else: the address is usable at
// once, so a program that starts right away never finds it tentative) and
// a default route via gatewayAddr6.
func setupTAP6(ifindex int) error {
	ifa := unix.IfAddrmsg{Family: unix.AF_INET6, Prefixlen: uint8(sandboxAddr6.Bits()),
		Flags: unix.IFA_F_NODAD | unix.IFA_F_PERMANENT, Scope: unix.RT_SCOPE_UNIVERSE, Index: uint32(ifindex)}
	body := append([]byte(nil), (*[unix.SizeofIfAddrmsg]byte)(unsafe.Pointer(&ifa))[:]...)
	body = append(body, rtAttr(unix.IFA_LOCAL, sandboxAddr6.Addr().AsSlice())...)
	body = append(body, rtAttr(unix.IFA_ADDRESS, sandboxAddr6.Addr().AsSlice())...)
	var flags [4]byte
	binary.NativeEndian.PutUint32(flags[:], unix.IFA_F_NODAD)
	body = append(body, rtAttr(unix.IFA_FLAGS, flags[:])...)
	if err := rtnlRequest(unix.RTM_NEWADDR, body); err != nil {
		return fmt.Errorf("address %s: %w", sandboxAddr6, err)
	}
	if err := addDefaultRoute(gatewayAddr6, ifindex); err != nil {
		return fmt.Errorf("IPv6 default route via %s: %w", gatewayAddr6, err)
	}
	return nil
}
