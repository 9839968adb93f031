package options

import "strconv"

// Name returns the symbolic name of socket option opt at level, for
// diagnostics and test output, or "level:opt" numerically when unknown.
// Where Linux gives one number two names the common one wins (SO_TIMESTAMP
// over SO_TIMESTAMP_OLD, IP_RECVORIGDSTADDR over IP_ORIGDSTADDR, IP_RETOPTS
// over IP_RECVRETOPTS).
func Name(level, opt int) string {
	var tab map[int]string
	switch level {
	case SOL_SOCKET:
		tab = socketOptNames
	case SOL_IP:
		tab = ipOptNames
	}
	if n, ok := tab[opt]; ok {
		return n
	}
	return LevelName(level) + ":" + strconv.Itoa(opt)
}

// LevelName names a socket option level.
func LevelName(level int) string {
	switch level {
	case SOL_SOCKET:
		return "SOL_SOCKET"
	case SOL_IP:
		return "SOL_IP"
	}
	return strconv.Itoa(level)
}

var socketOptNames = map[int]string{
	SO_ACCEPTCONN:            "SO_ACCEPTCONN",
	SO_ATTACH_BPF:            "SO_ATTACH_BPF",
	SO_ATTACH_FILTER:         "SO_ATTACH_FILTER",
	SO_ATTACH_REUSEPORT_CBPF: "SO_ATTACH_REUSEPORT_CBPF",
	SO_ATTACH_REUSEPORT_EBPF: "SO_ATTACH_REUSEPORT_EBPF",
	SO_BINDTODEVICE:          "SO_BINDTODEVICE",
	SO_BINDTOIFINDEX:         "SO_BINDTOIFINDEX",
	SO_BPF_EXTENSIONS:        "SO_BPF_EXTENSIONS",
	SO_BROADCAST:             "SO_BROADCAST",
	SO_BSDCOMPAT:             "SO_BSDCOMPAT",
	SO_BUF_LOCK:              "SO_BUF_LOCK",
	SO_BUSY_POLL:             "SO_BUSY_POLL",
	SO_BUSY_POLL_BUDGET:      "SO_BUSY_POLL_BUDGET",
	SO_CNX_ADVICE:            "SO_CNX_ADVICE",
	SO_COOKIE:                "SO_COOKIE",
	SO_DEBUG:                 "SO_DEBUG",
	SO_DETACH_FILTER:         "SO_DETACH_FILTER",
	SO_DETACH_REUSEPORT_BPF:  "SO_DETACH_REUSEPORT_BPF",
	SO_DOMAIN:                "SO_DOMAIN",
	SO_DONTROUTE:             "SO_DONTROUTE",
	SO_ERROR:                 "SO_ERROR",
	SO_INCOMING_CPU:          "SO_INCOMING_CPU",
	SO_INCOMING_NAPI_ID:      "SO_INCOMING_NAPI_ID",
	SO_INQ:                   "SO_INQ",
	SO_KEEPALIVE:             "SO_KEEPALIVE",
	SO_LINGER:                "SO_LINGER",
	SO_LOCK_FILTER:           "SO_LOCK_FILTER",
	SO_MARK:                  "SO_MARK",
	SO_MAX_PACING_RATE:       "SO_MAX_PACING_RATE",
	SO_MEMINFO:               "SO_MEMINFO",
	SO_NETNS_COOKIE:          "SO_NETNS_COOKIE",
	SO_NOFCS:                 "SO_NOFCS",
	SO_NO_CHECK:              "SO_NO_CHECK",
	SO_OOBINLINE:             "SO_OOBINLINE",
	SO_PASSCRED:              "SO_PASSCRED",
	SO_PASSPIDFD:             "SO_PASSPIDFD",
	SO_PASSRIGHTS:            "SO_PASSRIGHTS",
	SO_PASSSEC:               "SO_PASSSEC",
	SO_PEEK_OFF:              "SO_PEEK_OFF",
	SO_PEERCRED:              "SO_PEERCRED",
	SO_PEERGROUPS:            "SO_PEERGROUPS",
	SO_PEERNAME:              "SO_PEERNAME",
	SO_PEERSEC:               "SO_PEERSEC",
	SO_PREFER_BUSY_POLL:      "SO_PREFER_BUSY_POLL",
	SO_PRIORITY:              "SO_PRIORITY",
	SO_PROTOCOL:              "SO_PROTOCOL",
	SO_RCVBUF:                "SO_RCVBUF",
	SO_RCVBUFFORCE:           "SO_RCVBUFFORCE",
	SO_RCVLOWAT:              "SO_RCVLOWAT",
	SO_RCVMARK:               "SO_RCVMARK",
	SO_RCVPRIORITY:           "SO_RCVPRIORITY",
	SO_RCVTIMEO:              "SO_RCVTIMEO",
	SO_RCVTIMEO_NEW:          "SO_RCVTIMEO_NEW",
	SO_RESERVE_MEM:           "SO_RESERVE_MEM",
	SO_REUSEADDR:             "SO_REUSEADDR",
	SO_REUSEPORT:             "SO_REUSEPORT",
	SO_RXQ_OVFL:              "SO_RXQ_OVFL",
	SO_SELECT_ERR_QUEUE:      "SO_SELECT_ERR_QUEUE",
	SO_SNDBUF:                "SO_SNDBUF",
	SO_SNDBUFFORCE:           "SO_SNDBUFFORCE",
	SO_SNDLOWAT:              "SO_SNDLOWAT",
	SO_SNDTIMEO:              "SO_SNDTIMEO",
	SO_SNDTIMEO_NEW:          "SO_SNDTIMEO_NEW",
	SO_TIMESTAMP:             "SO_TIMESTAMP",
	SO_TIMESTAMPING:          "SO_TIMESTAMPING",
	SO_TIMESTAMPING_NEW:      "SO_TIMESTAMPING_NEW",
	SO_TIMESTAMPNS:           "SO_TIMESTAMPNS",
	SO_TIMESTAMPNS_NEW:       "SO_TIMESTAMPNS_NEW",
	SO_TIMESTAMP_NEW:         "SO_TIMESTAMP_NEW",
	SO_TXREHASH:              "SO_TXREHASH",
	SO_TXTIME:                "SO_TXTIME",
	SO_TYPE:                  "SO_TYPE",
	SO_WIFI_STATUS:           "SO_WIFI_STATUS",
	SO_ZEROCOPY:              "SO_ZEROCOPY",
}

var ipOptNames = map[int]string{
	IP_ADD_MEMBERSHIP:         "IP_ADD_MEMBERSHIP",
	IP_ADD_SOURCE_MEMBERSHIP:  "IP_ADD_SOURCE_MEMBERSHIP",
	IP_BIND_ADDRESS_NO_PORT:   "IP_BIND_ADDRESS_NO_PORT",
	IP_BLOCK_SOURCE:           "IP_BLOCK_SOURCE",
	IP_CHECKSUM:               "IP_CHECKSUM",
	IP_DROP_MEMBERSHIP:        "IP_DROP_MEMBERSHIP",
	IP_DROP_SOURCE_MEMBERSHIP: "IP_DROP_SOURCE_MEMBERSHIP",
	IP_FREEBIND:               "IP_FREEBIND",
	IP_HDRINCL:                "IP_HDRINCL",
	IP_IPSEC_POLICY:           "IP_IPSEC_POLICY",
	IP_LOCAL_PORT_RANGE:       "IP_LOCAL_PORT_RANGE",
	IP_MINTTL:                 "IP_MINTTL",
	IP_MSFILTER:               "IP_MSFILTER",
	IP_MTU:                    "IP_MTU",
	IP_MTU_DISCOVER:           "IP_MTU_DISCOVER",
	IP_MULTICAST_ALL:          "IP_MULTICAST_ALL",
	IP_MULTICAST_IF:           "IP_MULTICAST_IF",
	IP_MULTICAST_LOOP:         "IP_MULTICAST_LOOP",
	IP_MULTICAST_TTL:          "IP_MULTICAST_TTL",
	IP_NODEFRAG:               "IP_NODEFRAG",
	IP_OPTIONS:                "IP_OPTIONS",
	IP_PASSSEC:                "IP_PASSSEC",
	IP_PKTINFO:                "IP_PKTINFO",
	IP_PKTOPTIONS:             "IP_PKTOPTIONS",
	IP_PROTOCOL:               "IP_PROTOCOL",
	IP_RECVERR:                "IP_RECVERR",
	IP_RECVERR_RFC4884:        "IP_RECVERR_RFC4884",
	IP_RECVFRAGSIZE:           "IP_RECVFRAGSIZE",
	IP_RECVOPTS:               "IP_RECVOPTS",
	IP_RECVORIGDSTADDR:        "IP_RECVORIGDSTADDR",
	IP_RECVTOS:                "IP_RECVTOS",
	IP_RECVTTL:                "IP_RECVTTL",
	IP_RETOPTS:                "IP_RETOPTS",
	IP_ROUTER_ALERT:           "IP_ROUTER_ALERT",
	IP_TOS:                    "IP_TOS",
	IP_TRANSPARENT:            "IP_TRANSPARENT",
	IP_TTL:                    "IP_TTL",
	IP_UNBLOCK_SOURCE:         "IP_UNBLOCK_SOURCE",
	IP_UNICAST_IF:             "IP_UNICAST_IF",
	IP_XFRM_POLICY:            "IP_XFRM_POLICY",
	MCAST_BLOCK_SOURCE:        "MCAST_BLOCK_SOURCE",
	MCAST_JOIN_GROUP:          "MCAST_JOIN_GROUP",
	MCAST_JOIN_SOURCE_GROUP:   "MCAST_JOIN_SOURCE_GROUP",
	MCAST_LEAVE_GROUP:         "MCAST_LEAVE_GROUP",
	MCAST_LEAVE_SOURCE_GROUP:  "MCAST_LEAVE_SOURCE_GROUP",
	MCAST_MSFILTER:            "MCAST_MSFILTER",
	MCAST_UNBLOCK_SOURCE:      "MCAST_UNBLOCK_SOURCE",
}
