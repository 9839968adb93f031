package main

import (
	"fmt"
	"os"

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
