package plugin

import (
	"gvisor.dev/gvisor/pkg/sentry/inet"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// Route table numbers, types, scopes and origins of rtnetlink(7).
const (
	rtTableMain   = 254
	rtTableLocal  = 255
	rtnUnicast    = 1
	rtnLocal      = 2
	rtScopeUniv   = 0
	rtScopeLink   = 253
	rtScopeHost   = 254
	rtprotKernel  = 2
	rtprotBoot    = 3
	loopbackIndex = 1
)

// RouteTable implements inet.Stack.RouteTable from the stack's table (the
// copy gVisor routes with, longest prefix first). Routes on lo are the
// local table's, as Linux keeps 127.0.0.0/8 there; an on-link route is the
// kernel's, a route through a gateway was added (proto boot).
func (s *Stack) RouteTable() []inet.Route {
	st := s.ns()
	if st == nil {
		return nil
	}
	var out []inet.Route
	for _, r := range st.Gvisor().GetRouteTable() {
		if r.Destination.ID().Len() != 4 {
			continue
		}
		dst := r.Destination.ID().As4()
		ir := inet.Route{
			Family:          afInet,
			DstLen:          uint8(r.Destination.Prefix()),
			Table:           rtTableMain,
			Protocol:        rtprotKernel,
			Scope:           rtScopeLink,
			Type:            rtnUnicast,
			DstAddr:         dst[:],
			OutputInterface: int32(r.NIC),
		}
		if r.Gateway.Len() == 4 {
			gw := r.Gateway.As4()
			ir.GatewayAddr = gw[:]
			ir.Protocol, ir.Scope = rtprotBoot, rtScopeUniv
		}
		if r.NIC == loopbackIndex {
			ir.Table, ir.Type, ir.Scope = rtTableLocal, rtnLocal, rtScopeHost
		}
		out = append(out, ir)
	}
	return addIPv6Routes(st, out) // stack_ipv6.go
}

// Statistics implements inet.Stack.Statistics for /proc/net/dev and
// /proc/net/snmp. Counters gVisor and netsandbox do not keep are zero.
func (s *Stack) Statistics(stat any, arg string) error {
	st := s.ns()
	if st == nil {
		return nil
	}
	g := st.Gvisor().Stats()
	switch v := stat.(type) {
	case *inet.StatDev:
		for _, ni := range st.Gvisor().NICInfo() {
			if ni.Name != arg {
				continue
			}
			*v = inet.StatDev{}
			v[0] = ni.Stats.Rx.Bytes.Value()
			v[1] = ni.Stats.Rx.Packets.Value()
			v[8] = ni.Stats.Tx.Bytes.Value()
			v[9] = ni.Stats.Tx.Packets.Value()
		}
	case *inet.StatSNMPIP:
		fwd := uint64(2) // Forwarding: 1 forwarding, 2 not
		if st.Sysctl().Int("net.ipv4.ip_forward") != 0 {
			fwd = 1
		}
		*v = inet.StatSNMPIP{}
		v[0] = fwd
		v[1] = uint64(st.Sysctl().Int("net.ipv4.ip_default_ttl"))
		v[2] = g.IP.PacketsReceived.Value()
		v[3] = g.IP.MalformedPacketsReceived.Value()
		v[4] = g.IP.InvalidDestinationAddressesReceived.Value()
		v[8] = g.IP.PacketsDelivered.Value()
		v[9] = g.IP.PacketsSent.Value()
		v[10] = g.IP.OutgoingPacketErrors.Value()
	case *inet.StatSNMPICMP:
		in, out := g.ICMP.V4.PacketsReceived, g.ICMP.V4.PacketsSent
		*v = inet.StatSNMPICMP{}
		fill := func(base int, p tcpip.ICMPv4PacketStats) uint64 {
			vals := []*tcpip.StatCounter{p.DstUnreachable, p.TimeExceeded, p.ParamProblem, p.SrcQuench, p.Redirect, p.EchoRequest, p.EchoReply, p.Timestamp, p.TimestampReply} // address masks: not counted
			var sum uint64
			for i, c := range vals {
				v[base+i] = c.Value()
				sum += c.Value()
			}
			return sum
		}
		v[0] = fill(3, in.ICMPv4PacketStats) + in.Invalid.Value()
		v[1] = in.Invalid.Value()
		v[14] = fill(16, out.ICMPv4PacketStats)
		v[15] = out.Dropped.Value()
	case *inet.StatSNMPTCP:
		t := g.TCP
		*v = inet.StatSNMPTCP{1, 200, 120000, ^uint64(0)} // RtoAlgorithm, RtoMin, RtoMax, MaxConn (-1) as Linux
		v[4] = t.ActiveConnectionOpenings.Value()
		v[5] = t.PassiveConnectionOpenings.Value()
		v[6] = t.FailedConnectionAttempts.Value()
		v[7] = t.EstablishedResets.Value()
		v[8] = t.CurrentEstablished.Value()
		v[9] = t.ValidSegmentsReceived.Value()
		v[10] = t.SegmentsSent.Value()
		v[11] = t.Retransmits.Value()
		v[12] = t.InvalidSegmentsReceived.Value()
		v[13] = t.ResetsSent.Value()
		v[14] = t.ChecksumErrors.Value()
	case *inet.StatSNMPUDP:
		u := st.Stats()
		*v = inet.StatSNMPUDP{
			u.UDPInDatagrams.Load(), u.UDPNoPorts.Load(), u.UDPInErrors.Load(), u.UDPOutDatagrams.Load(),
			u.UDPRcvbufErrors.Load(), u.UDPSndbufErrors.Load(), u.UDPInCsumErrors.Load(), u.UDPIgnoredMulti.Load(),
		}
	}
	return nil
}
