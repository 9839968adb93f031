// Package harness is the kernel-differential test bed: it builds network
// namespace topologies, drives sockets on a kernel host and on a netsandbox
// host through one interface (Host/Sock, shaped like the system calls),
// records what a scenario observes and diffs the two records.
//
// Topology (one per DUT kind, identical addressing):
//
//	DUT eth0 198.18.0.2/24 -- eth0 198.18.0.1/24 PEER eth1 198.19.0.1/24 -- eth0 198.19.0.2-7/24 FAR
//	                                              (forwards; MTU 1280 on the far link)
//
// For the netsandbox DUT the kernel's eth0 in the DUT namespace has no IPv4
// address: the netsandbox stack owns 198.18.0.2 through an AF_PACKET
// socket on it. Peer and far host are always kernel namespaces.
//
// Only loopback and addresses inside namespaces made here are ever sent
// to; namespaces are named nsbx-<6 hex>-..., removed on Close, on setup
// failure and (best effort) on SIGINT/SIGTERM.
//
// Records are lists of strings; the only normalisation is of ephemeral
// ports (Env.Port/Env.SA map ports inside ip_local_port_range to eph1,
// eph2, ... by first appearance) and timestamps (Cmsgs), so that a
// difference in anything else is a finding.
package harness
