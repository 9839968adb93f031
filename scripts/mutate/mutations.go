package main

// mutation is one small deliberate bug. Find must occur exactly once in
// File (the tool refuses to run otherwise, so a mutation whose code moved
// fails loudly instead of testing nothing); Run selects the conformance
// scenarios (NETSANDBOX_CONFORMANCE_RUN) that must catch it.
type mutation struct {
	Name string
	File string // relative to the repository root
	Find string
	Repl string
	Run  string
	Bug  string // what the mutation breaks, in Linux's terms
}

// mutations: the seven of issue 11 first, then cheap extras.
var mutations = []mutation{
	{
		Name: "sysctl-default-ttl",
		File: "stack/sysctl.go",
		Find: `{name: "net.ipv4.ip_default_ttl", def: "64",`,
		Repl: `{name: "net.ipv4.ip_default_ttl", def: "63",`,
		Run:  `^defaults/sysctl$|^sysctl/|^udp/ttl-and-tos-on-wire$`,
		Bug:  "net.ipv4.ip_default_ttl defaults to 63 instead of 64",
	},
	{
		Name: "mcast-ttl-default",
		File: "endpoint/mcastopts.go",
		Find: "\t\treturn m.ttl\n\t}\n\treturn 1\n}",
		Repl: "\t\treturn m.ttl\n\t}\n\treturn 2\n}",
		Run:  `^defaults/[a-z0-9-]+/ip$|^ipopt/default/|^mcast/ttl-on-wire$`,
		Bug:  "a fresh socket's IP_MULTICAST_TTL is 2 instead of 1",
	},
	{
		Name: "errqueue-type-code-swapped",
		File: "endpoint/errqueue.go",
		Find: "Type:   e.Type,\n\t\t\tCode:   e.Code,",
		Repl: "Type:   e.Code,\n\t\t\tCode:   e.Type,",
		Run:  `^errqueue/`,
		Bug:  "ee_type and ee_code swapped in the sock_extended_err of an ICMP error on a UDP socket",
	},
	{
		Name: "pktinfo-broadcast-spec-dst",
		File: "endpoint/recvcmsg.go",
		Find: "if isUnicastLocal(s, dst) {",
		Repl: "if !dst.IsMulticast() {",
		Run:  `^cmsg/recv-`,
		Bug:  "ipi_spec_dst of a broadcast datagram is its header destination, not the address this host answers from",
	},
	{
		Name: "msfilter-mode-swapped",
		File: "endpoint/mcast_member.go",
		Find: "if e.mode == stack.McastInclude {\n\t\treturn listed",
		Repl: "if e.mode == stack.McastExclude {\n\t\treturn listed",
		Run:  `^mcast/deliver/|^mcast/filter-(ssm-include|msfilter-modes|block-unblock)$`,
		Bug:  "a socket's source filter treats INCLUDE as EXCLUDE and back (ip_mc_sf_allow)",
	},
	{
		Name: "pmtu-floor",
		File: "stack/pmtu.go",
		Find: `if minPMTU := s.sysctl.Int("net.ipv4.route.min_pmtu"); mtu < minPMTU {`,
		Repl: `if minPMTU := 68; mtu < minPMTU {`,
		Run:  `^pmtu/`,
		Bug:  "a learnt path MTU is floored at 68 instead of net.ipv4.route.min_pmtu (552)",
	},
	{
		Name: "msfilter-errno-order",
		File: "options/structs.go",
		Find: "\tif n >= 0x3ffffffc || int64(n) > int64(lim.MaxMsf) {\n\t\treturn IPMsfilter{}, unix.ENOBUFS\n\t}\n" +
			"\tif IPMsfilterSize(int(n)) > len(b) {\n\t\treturn IPMsfilter{}, unix.EINVAL\n\t}\n",
		Repl: "\tif IPMsfilterSize(int(n)) > len(b) {\n\t\treturn IPMsfilter{}, unix.EINVAL\n\t}\n" +
			"\tif n >= 0x3ffffffc || int64(n) > int64(lim.MaxMsf) {\n\t\treturn IPMsfilter{}, unix.ENOBUFS\n\t}\n",
		Run: `^mcast/errno/`,
		Bug: "setsockopt(IP_MSFILTER) checks the length (EINVAL) before imsf_numsrc against igmp_max_msf (ENOBUFS)",
	},
	// Extras.
	{
		Name: "recvttl-cmsg-level",
		File: "endpoint/recvcmsg.go",
		Find: "b.PutInt32(unix.SOL_IP, unix.IP_TTL, int32(d.TTL))",
		Repl: "b.PutInt32(unix.SOL_SOCKET, unix.IP_TTL, int32(d.TTL))",
		Run:  `^udp/`,
		Bug:  "the IP_RECVTTL control message of a UDP datagram has level SOL_SOCKET instead of SOL_IP",
	},
	{
		Name: "igmpv3-to-ex-record",
		File: "stack/igmp_report.go",
		Find: "typ = igmpToEx",
		Repl: "typ = igmpIsEx",
		Run:  `^mcast/(igmpv3-reports|source-specific-report)$`,
		Bug:  "a join's IGMPv3 state-change record is MODE_IS_EXCLUDE instead of CHANGE_TO_EXCLUDE",
	},
	{
		Name: "ip-ttl-minus-one",
		File: "endpoint/sockopts.go",
		Find: "v != -1 && (v < 1 || v > 255)",
		Repl: "(v < 1 || v > 255)",
		Run:  `^ipopt/IP_TTL/`,
		Bug:  "setsockopt(IP_TTL, -1) is EINVAL instead of restoring the default",
	},
	{
		Name: "mcast-merged-mode",
		File: "stack/mcast.go",
		Find: "if g.sfcount[McastExclude] > 0 {\n\t\treturn McastExclude",
		Repl: "if g.sfcount[McastExclude] > 0 && g.sfcount[McastInclude] == 0 {\n\t\treturn McastExclude",
		Run:  `^mcast/deliver/|^mcast/seq-|^mcast/filter-two-sockets-merge$`,
		Bug:  "an interface's merged filter is INCLUDE when sockets mix INCLUDE and EXCLUDE (RFC 3376 6.2.1: EXCLUDE wins)",
	},
}
