// Package plugin makes netsandbox gVisor's third-party network stack
// (runsc --network=plugin): a plugin.PluginStack whose inet.Stack methods
// read netsandbox's tables, and an AF_INET socket provider whose sockets are
// sentry sockets over endpoint.Socket.
//
// Importing the package registers both. PreInit (preinit.go) runs in the
// runsc process as host root: it joins the sandbox's network namespace,
// opens an AF_PACKET socket on each of its Ethernet interfaces and takes
// their IPv4 configuration. Init (init.go) runs inside the sentry before its
// seccomp filter and builds the netsandbox stack from those fds.
package plugin

import (
	"gvisor.dev/gvisor/pkg/context"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/errors/linuxerr"
	"gvisor.dev/gvisor/pkg/sentry/inet"
	"gvisor.dev/gvisor/pkg/sentry/socket/netlink/nlmsg"
	"gvisor.dev/gvisor/pkg/sentry/socket/plugin"
	"gvisor.dev/gvisor/pkg/syserr"
	"gvisor.dev/gvisor/pkg/tcpip"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"netsandbox/stack"
)

// Stack is the PluginStack. It is registered before the sentry exists and
// inet.NewRootNamespace calls it before Init, so every method answers an
// empty view until Init has built the netsandbox stack.
type Stack struct {
	st         atomic.Pointer[stack.Stack]
	removeConf atomic.Bool
}

var _ plugin.PluginStack = (*Stack)(nil)

// theStack is the registered stack; the socket provider serves only it.
var theStack = &Stack{}

func init() {
	plugin.RegisterPluginStack(theStack)
	registerProviders()
}

// ns returns the netsandbox stack, nil before Init.
func (s *Stack) ns() *stack.Stack { return s.st.Load() }

// Interfaces implements inet.Stack.Interfaces.
func (s *Stack) Interfaces() map[int32]inet.Interface {
	out := make(map[int32]inet.Interface)
	st := s.ns()
	if st == nil {
		return out
	}
	for _, ifc := range st.Interfaces() {
		dev, _ := st.Device(ifc.Index)
		addr := []byte(ifc.MAC)
		if addr == nil && dev.AddrLen > 0 {
			addr = make([]byte, dev.AddrLen) // lo's all-zero address
		}
		out[int32(ifc.Index)] = inet.Interface{
			DeviceType: dev.HWType,
			Flags:      dev.Flags,
			Name:       ifc.Name,
			Addr:       addr,
			MTU:        ifc.MTU,
		}
	}
	return out
}

// InterfaceIDs implements inet.Stack.InterfaceIDs: ifindex order.
func (s *Stack) InterfaceIDs() []int32 {
	st := s.ns()
	if st == nil {
		return nil
	}
	var ids []int32
	for _, ifc := range st.Interfaces() {
		ids = append(ids, int32(ifc.Index))
	}
	return ids
}

// ifaPermanent is IFA_F_PERMANENT: an address configured, not learnt.
const ifaPermanent = 0x80

// InterfaceAddrs implements inet.Stack.InterfaceAddrs: IPv4, then IPv6
// (stack_ipv6.go).
func (s *Stack) InterfaceAddrs() map[int32][]inet.InterfaceAddr {
	out := make(map[int32][]inet.InterfaceAddr)
	st := s.ns()
	if st == nil {
		return out
	}
	defer addIPv6Addrs(st, out)
	for _, ifc := range st.Interfaces() {
		for _, p := range ifc.Addrs {
			a := p.Addr().As4()
			out[int32(ifc.Index)] = append(out[int32(ifc.Index)], inet.InterfaceAddr{
				Family:    afInet,
				PrefixLen: uint8(p.Bits()),
				Flags:     ifaPermanent,
				Addr:      a[:],
			})
		}
	}
	return out
}

// RemoveInterface implements inet.Stack.RemoveInterface: not supported.
func (s *Stack) RemoveInterface(context.Context, int32) error { return linuxerr.EOPNOTSUPP }

// SetInterface implements inet.Stack.SetInterface (RTM_NEWLINK/SETLINK):
// not supported.
func (s *Stack) SetInterface(context.Context, *nlmsg.Message) *syserr.Error {
	return syserr.ErrNotSupported
}

// SupportsIPv6 implements inet.Stack.SupportsIPv6: AF_INET6 TCP and UDP
// sockets are served (provider.go).
func (s *Stack) SupportsIPv6() bool { return true }

// Pause implements inet.Stack.Pause (save/restore is not supported).
func (s *Stack) Pause() {}

// Resume implements inet.Stack.Resume.
func (s *Stack) Resume() {}

// Restore implements inet.Stack.Restore.
func (s *Stack) Restore() {}

// ResetConfig implements inet.Stack.ResetConfig.
func (s *Stack) ResetConfig() {}

// Destroy implements inet.Stack.Destroy.
func (s *Stack) Destroy() {
	if st := s.st.Swap(nil); st != nil {
		st.Close()
	}
}

// RegisteredEndpoints implements inet.Stack.RegisteredEndpoints, which
// only save/restore uses. /proc/net/tcp and /proc/net/udp list the
// kernel's socket table instead (every socket file, through the
// socket.Socket methods), so netsandbox's sockets are listed there.
func (s *Stack) RegisteredEndpoints() []gstack.TransportEndpoint { return nil }

// CleanupEndpoints implements inet.Stack.CleanupEndpoints.
func (s *Stack) CleanupEndpoints() []gstack.TransportEndpoint { return nil }

// RestoreCleanupEndpoints implements inet.Stack.RestoreCleanupEndpoints.
func (s *Stack) RestoreCleanupEndpoints([]gstack.TransportEndpoint) {}

// Stats implements inet.Stack.Stats: gVisor's counters under the stack.
func (s *Stack) Stats() tcpip.Stats {
	if st := s.ns(); st != nil {
		return st.Gvisor().Stats()
	}
	return tcpip.Stats{}
}

// SetRemoveConf implements inet.Stack.SetRemoveConf.
func (s *Stack) SetRemoveConf(v bool) { s.removeConf.Store(v) }

// GetRemoveConf implements inet.Stack.GetRemoveConf.
func (s *Stack) GetRemoveConf() bool { return s.removeConf.Load() }
