package endpoint

import (
	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// sourceOp is what a source-filter option does to a membership's list
// (ip_mc_source, ip6_mc_source): add or remove a source in the list of
// the given mode, after joining in INCLUDE mode first if join is set.
type sourceOp struct {
	mode stack.FilterMode
	add  bool
	join bool
}

// sourceOpFor maps the four source options of either family, SOL_IP's
// IP_* and the protocol-independent MCAST_*, to their operation.
func sourceOpFor(name int) sourceOp {
	switch name {
	case unix.IP_BLOCK_SOURCE, unix.MCAST_BLOCK_SOURCE:
		return sourceOp{mode: stack.McastExclude, add: true}
	case unix.IP_UNBLOCK_SOURCE, unix.MCAST_UNBLOCK_SOURCE:
		return sourceOp{mode: stack.McastExclude}
	case unix.IP_ADD_SOURCE_MEMBERSHIP, unix.MCAST_JOIN_SOURCE_GROUP:
		return sourceOp{mode: stack.McastInclude, add: true, join: true}
	}
	// IP_DROP_SOURCE_MEMBERSHIP, MCAST_LEAVE_SOURCE_GROUP.
	return sourceOp{mode: stack.McastInclude}
}
