package plugin

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
)

// initConfig is what PreInit learns in the sandbox's network namespace and
// hands to Init as the init string (JSON). Links[i] is reached through the
// i-th fd.
type initConfig struct {
	Links  []linkConfig  `json:"links"`
	Routes []routeConfig `json:"routes"`
	// Routes6 are the IPv6 routes through the links (preinit6.go).
	Routes6 []routeConfig `json:"routes6,omitempty"`
	// Sysctl holds the host-global knobs (hostGlobalKnobs) as the host
	// has them, for the stack's table.
	Sysctl map[string]string `json:"sysctl,omitempty"`
}

// linkConfig is one Ethernet interface of the namespace.
type linkConfig struct {
	Name  string           `json:"name"`
	Index int              `json:"index"` // in the host namespace; routes name it
	MTU   uint32           `json:"mtu"`
	MAC   net.HardwareAddr `json:"mac"`
	Addrs []netip.Prefix   `json:"addrs"`
	// Addrs6 are its IPv6 addresses, link-local ones included.
	Addrs6 []netip.Prefix `json:"addrs6,omitempty"`
	// GSOMaxSize is the largest TCP segment the stack may hand the link
	// in one frame (the interface's gso_max_size); 0 means the fd has no
	// virtio-net header and every frame is one packet.
	GSOMaxSize uint32 `json:"gso_max_size,omitempty"`
}

// routeConfig is one route of the namespace's main table.
type routeConfig struct {
	Dst   netip.Prefix `json:"dst"`
	Gw    netip.Addr   `json:"gw,omitzero"`
	Index int          `json:"index"` // host ifindex of the output interface
}

func (c *initConfig) encode() (string, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("netsandbox plugin: encoding init string: %w", err)
	}
	return string(b), nil
}

func decodeInitConfig(s string, nfds int) (*initConfig, error) {
	var c initConfig
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return nil, fmt.Errorf("netsandbox plugin: bad init string %q: %w", s, err)
	}
	if len(c.Links) != nfds {
		return nil, fmt.Errorf("netsandbox plugin: init string names %d links but %d fds came", len(c.Links), nfds)
	}
	for _, l := range c.Links {
		if len(l.MAC) != 6 || l.MTU == 0 || l.Name == "" {
			return nil, fmt.Errorf("netsandbox plugin: bad link in init string: %+v", l)
		}
	}
	return &c, nil
}
