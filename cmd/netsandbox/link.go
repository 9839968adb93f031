package main

import (
	"fmt"
	"net"
	"os"
	"strings"

	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"gvisor.dev/gvisor/pkg/tcpip/link/sniffer"

	"netsandbox/link/fdbased"
)

// openLink opens the NIC named by --link and, with --pcap, captures its frames.
func openLink(kind, name, pcapPath string) (gstack.LinkEndpoint, func(), error) {
	var (
		ep  gstack.LinkEndpoint
		err error
	)
	switch kind {
	case "tap":
		ep, _, err = fdbased.OpenTAP(name, fdbased.Options{})
	case "iface":
		if err := interfaceExists(name); err != nil {
			return nil, nil, err
		}
		ep, _, err = fdbased.AttachInterface(name, fdbased.Options{})
	default:
		return nil, nil, usagef("--link %s:%s: the kind is tap or iface", kind, name)
	}
	if err != nil {
		return nil, nil, err
	}
	if pcapPath == "" {
		return ep, func() {}, nil
	}
	f, err := os.Create(pcapPath)
	if err != nil {
		ep.Close()
		return nil, nil, fmt.Errorf("--pcap: %w; pick a writable path", err)
	}
	// gVisor's sniffer writes libpcap records of both directions in place.
	wrapped, err := sniffer.NewWithWriter(ep, f, 65536)
	if err != nil {
		f.Close()
		ep.Close()
		return nil, nil, fmt.Errorf("--pcap: %w", err)
	}
	return wrapped, func() { f.Close() }, nil
}

// interfaceExists tells the operator what to pass when --link iface:NAME
// names no interface of this network namespace (the library's own error
// speaks to a Go caller).
func interfaceExists(name string) error {
	if _, err := net.InterfaceByName(name); err == nil {
		return nil
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("--link iface:%s: no such interface, and listing them failed (%v); `ip link` lists them", name, err)
	}
	names := make([]string, len(ifs))
	for i, ifc := range ifs {
		names[i] = ifc.Name
	}
	return fmt.Errorf("--link iface:%s: no interface %q in this network namespace; here: %s (`ip link` lists them). "+
		"iface: takes an existing Ethernet interface (e.g. a veth end) and needs root or CAP_NET_RAW; "+
		"--link tap:%s makes a TAP instead (root or CAP_NET_ADMIN)", name, name, strings.Join(names, ", "), name)
}
