package plugin

import (
	"fmt"
	"gvisor.dev/gvisor/pkg/context"
	"net/netip"

	"gvisor.dev/gvisor/pkg/errors/linuxerr"
	"gvisor.dev/gvisor/pkg/sentry/inet"
	"gvisor.dev/gvisor/pkg/sentry/socket/netlink/nlmsg"
	"gvisor.dev/gvisor/pkg/syserr"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

const afInet = 2 // AF_INET

// errNotReady is what configuration calls answer before Init.
var errNotReady = linuxerr.ENODEV

// AddInterfaceAddr implements inet.Stack.AddInterfaceAddr (ip addr add).
func (s *Stack) AddInterfaceAddr(idx int32, addr inet.InterfaceAddr) error {
	st := s.ns()
	if st == nil {
		return errNotReady
	}
	if addr.Family != afInet || len(addr.Addr) != 4 || addr.PrefixLen > 32 {
		return linuxerr.EAFNOSUPPORT
	}
	a := netip.AddrFrom4([4]byte(addr.Addr))
	return st.AddAddress(int(idx), netip.PrefixFrom(a, int(addr.PrefixLen)))
}

// RemoveInterfaceAddr implements inet.Stack.RemoveInterfaceAddr: the
// netsandbox stack cannot remove an address yet.
func (s *Stack) RemoveInterfaceAddr(int32, inet.InterfaceAddr) error {
	return linuxerr.EOPNOTSUPP
}

// TCPReceiveBufferSize implements inet.Stack.TCPReceiveBufferSize.
func (s *Stack) TCPReceiveBufferSize() (inet.TCPBufferSize, error) {
	st := s.ns()
	if st == nil {
		return inet.TCPBufferSize{}, errNotReady
	}
	var o tcpip.TCPReceiveBufferSizeRangeOption
	if e := st.Gvisor().TransportProtocolOption(tcp.ProtocolNumber, &o); e != nil {
		return inet.TCPBufferSize{}, syserr.TranslateNetstackError(e).ToError()
	}
	return inet.TCPBufferSize{Min: o.Min, Default: o.Default, Max: o.Max}, nil
}

// SetTCPReceiveBufferSize implements inet.Stack.SetTCPReceiveBufferSize.
func (s *Stack) SetTCPReceiveBufferSize(size inet.TCPBufferSize) error {
	st := s.ns()
	if st == nil {
		return errNotReady
	}
	o := tcpip.TCPReceiveBufferSizeRangeOption{Min: size.Min, Default: size.Default, Max: size.Max}
	if e := st.Gvisor().SetTransportProtocolOption(tcp.ProtocolNumber, &o); e != nil {
		return syserr.TranslateNetstackError(e).ToError()
	}
	return nil
}

// TCPSendBufferSize implements inet.Stack.TCPSendBufferSize.
func (s *Stack) TCPSendBufferSize() (inet.TCPBufferSize, error) {
	st := s.ns()
	if st == nil {
		return inet.TCPBufferSize{}, errNotReady
	}
	var o tcpip.TCPSendBufferSizeRangeOption
	if e := st.Gvisor().TransportProtocolOption(tcp.ProtocolNumber, &o); e != nil {
		return inet.TCPBufferSize{}, syserr.TranslateNetstackError(e).ToError()
	}
	return inet.TCPBufferSize{Min: o.Min, Default: o.Default, Max: o.Max}, nil
}

// SetTCPSendBufferSize implements inet.Stack.SetTCPSendBufferSize.
func (s *Stack) SetTCPSendBufferSize(size inet.TCPBufferSize) error {
	st := s.ns()
	if st == nil {
		return errNotReady
	}
	o := tcpip.TCPSendBufferSizeRangeOption{Min: size.Min, Default: size.Default, Max: size.Max}
	if e := st.Gvisor().SetTransportProtocolOption(tcp.ProtocolNumber, &o); e != nil {
		return syserr.TranslateNetstackError(e).ToError()
	}
	return nil
}

// TCPSACKEnabled implements inet.Stack.TCPSACKEnabled.
func (s *Stack) TCPSACKEnabled() (bool, error) {
	st := s.ns()
	if st == nil {
		return false, errNotReady
	}
	var v tcpip.TCPSACKEnabled
	if e := st.Gvisor().TransportProtocolOption(tcp.ProtocolNumber, &v); e != nil {
		return false, syserr.TranslateNetstackError(e).ToError()
	}
	return bool(v), nil
}

// SetTCPSACKEnabled implements inet.Stack.SetTCPSACKEnabled.
func (s *Stack) SetTCPSACKEnabled(enabled bool) error {
	st := s.ns()
	if st == nil {
		return errNotReady
	}
	v := tcpip.TCPSACKEnabled(enabled)
	if e := st.Gvisor().SetTransportProtocolOption(tcp.ProtocolNumber, &v); e != nil {
		return syserr.TranslateNetstackError(e).ToError()
	}
	return nil
}

// TCPRecovery implements inet.Stack.TCPRecovery.
func (s *Stack) TCPRecovery() (inet.TCPLossRecovery, error) {
	st := s.ns()
	if st == nil {
		return 0, errNotReady
	}
	var v tcpip.TCPRecovery
	if e := st.Gvisor().TransportProtocolOption(tcp.ProtocolNumber, &v); e != nil {
		return 0, syserr.TranslateNetstackError(e).ToError()
	}
	return inet.TCPLossRecovery(v), nil
}

// SetTCPRecovery implements inet.Stack.SetTCPRecovery.
func (s *Stack) SetTCPRecovery(recovery inet.TCPLossRecovery) error {
	st := s.ns()
	if st == nil {
		return errNotReady
	}
	v := tcpip.TCPRecovery(recovery)
	if e := st.Gvisor().SetTransportProtocolOption(tcp.ProtocolNumber, &v); e != nil {
		return syserr.TranslateNetstackError(e).ToError()
	}
	return nil
}

// SetForwarding implements inet.Stack.SetForwarding through the stack's
// net.ipv4.ip_forward knob.
func (s *Stack) SetForwarding(protocol tcpip.NetworkProtocolNumber, enable bool) error {
	st := s.ns()
	if st == nil {
		return errNotReady
	}
	if protocol != header.IPv4ProtocolNumber {
		return linuxerr.EAFNOSUPPORT
	}
	v := "0"
	if enable {
		v = "1"
	}
	return st.Sysctl().Set("net.ipv4.ip_forward", v)
}

// PortRange implements inet.Stack.PortRange (net.ipv4.ip_local_port_range).
func (s *Stack) PortRange() (uint16, uint16) {
	st := s.ns()
	if st == nil {
		return 32768, 60999 // Linux's default
	}
	lo, hi := st.Sysctl().Pair("net.ipv4.ip_local_port_range")
	return uint16(lo), uint16(hi)
}

// SetPortRange implements inet.Stack.SetPortRange.
func (s *Stack) SetPortRange(start, end uint16) error {
	st := s.ns()
	if st == nil {
		return errNotReady
	}
	return st.Sysctl().Set("net.ipv4.ip_local_port_range", fmt.Sprintf("%d %d", start, end))
}

// RemoveRoute implements inet.Stack.RemoveRoute: not supported yet.
func (s *Stack) RemoveRoute(context.Context, *nlmsg.Message) *syserr.Error {
	return syserr.ErrNotSupported
}

// NewRoute implements inet.Stack.NewRoute: not supported yet.
func (s *Stack) NewRoute(context.Context, *nlmsg.Message) *syserr.Error {
	return syserr.ErrNotSupported
}
