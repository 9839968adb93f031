package main

import (
	"encoding/json"
	"io"

	"netsandbox/gateway"
)

// gatewayStats is --stats --json's object: the counters of the --stats
// summary, every key always present.
type gatewayStats struct {
	TCPFlows  int64 `json:"tcp_flows"`
	UDPFlows  int64 `json:"udp_flows"`
	ICMPFlows int64 `json:"icmp_flows"`
	Denied    int64 `json:"denied"`
	Failed    int64 `json:"failed"`
	BytesOut  int64 `json:"bytes_out"` // sandbox to world (payload)
	BytesIn   int64 `json:"bytes_in"`
	// ICMP errors the sandbox sent about relayed UDP datagrams.
	ICMPErrorsRelayed     int64 `json:"icmp_errors_relayed"`
	ICMPErrorsRateLimited int64 `json:"icmp_errors_rate_limited"`
	ICMPErrorsDropped     int64 `json:"icmp_errors_dropped"`
	ICMPErrorsFlowsClosed int64 `json:"icmp_errors_flows_closed"`
	// The sandbox's packets dropped at the link.
	DroppedNotRelayed   int64 `json:"dropped_not_relayed"`
	DroppedSourceRouted int64 `json:"dropped_source_routed"`
	DroppedBadOptions   int64 `json:"dropped_bad_options"`
	DNSTCPDropped       int64 `json:"dns_tcp_dropped"`
}

func gatewayStatsOf(s *gateway.Stats) gatewayStats {
	return gatewayStats{
		TCPFlows: s.TCPFlows.Load(), UDPFlows: s.UDPFlows.Load(), ICMPFlows: s.ICMPFlows.Load(),
		Denied: s.Denied.Load(), Failed: s.Failed.Load(), BytesOut: s.BytesOut.Load(), BytesIn: s.BytesIn.Load(),
		ICMPErrorsRelayed: s.ICMPErrRelayed.Load(), ICMPErrorsRateLimited: s.ICMPErrLimited.Load(),
		ICMPErrorsDropped: s.ICMPErrDropped.Load(), ICMPErrorsFlowsClosed: s.ICMPErrClosed.Load(),
		DroppedNotRelayed: s.Unrelayed.Load(), DroppedSourceRouted: s.SourceRouted.Load(), DroppedBadOptions: s.BadOptions.Load(),
		DNSTCPDropped: s.DNSDropped.Load(),
	}
}

// printGatewayStats is --stats: the one-line summary, or with --json one
// JSON object on one line.
func printGatewayStats(w io.Writer, c gatewayConfig, gw *gateway.Gateway) {
	if !c.stats {
		return
	}
	if c.json {
		json.NewEncoder(w).Encode(gatewayStatsOf(gw.Stats()))
		return
	}
	io.WriteString(w, gw.Summary()+"\n")
}
