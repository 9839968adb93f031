package options

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// Name returns the symbolic name of socket option opt at level, for
// diagnostics and test output, or "level:opt" numerically when unknown.
// Where Linux gives one number two names the common one wins (SO_TIMESTAMP
// over SO_TIMESTAMP_OLD, IP_RECVORIGDSTADDR over IP_ORIGDSTADDR, IP_RETOPTS
// over IP_RECVRETOPTS).
func Name(level, opt int) string {
	var tab map[int]string
	switch level {
	case unix.SOL_SOCKET:
		tab = socketOptNames
	case unix.SOL_IP:
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
	case unix.SOL_SOCKET:
		return "SOL_SOCKET"
	case unix.SOL_IP:
		return "SOL_IP"
	}
	return strconv.Itoa(level)
}

var socketOptNames = map[int]string{
	unix.SO_ACCEPTCONN:            "SO_ACCEPTCONN",
	unix.SO_ATTACH_BPF:            "SO_ATTACH_BPF",
	unix.SO_ATTACH_FILTER:         "SO_ATTACH_FILTER",
	unix.SO_ATTACH_REUSEPORT_CBPF: "SO_ATTACH_REUSEPORT_CBPF",
	unix.SO_ATTACH_REUSEPORT_EBPF: "SO_ATTACH_REUSEPORT_EBPF",
	unix.SO_BINDTODEVICE:          "SO_BINDTODEVICE",
	unix.SO_BINDTOIFINDEX:         "SO_BINDTOIFINDEX",
	unix.SO_BPF_EXTENSIONS:        "SO_BPF_EXTENSIONS",
	unix.SO_BROADCAST:             "SO_BROADCAST",
	unix.SO_BSDCOMPAT:             "SO_BSDCOMPAT",
	unix.SO_BUF_LOCK:              "SO_BUF_LOCK",
	unix.SO_BUSY_POLL:             "SO_BUSY_POLL",
	unix.SO_BUSY_POLL_BUDGET:      "SO_BUSY_POLL_BUDGET",
	unix.SO_CNX_ADVICE:            "SO_CNX_ADVICE",
	unix.SO_COOKIE:                "SO_COOKIE",
	unix.SO_DEBUG:                 "SO_DEBUG",
	unix.SO_DETACH_FILTER:         "SO_DETACH_FILTER",
	unix.SO_DETACH_REUSEPORT_BPF:  "SO_DETACH_REUSEPORT_BPF",
	unix.SO_DOMAIN:                "SO_DOMAIN",
	unix.SO_DONTROUTE:             "SO_DONTROUTE",
	unix.SO_ERROR:                 "SO_ERROR",
	unix.SO_INCOMING_CPU:          "SO_INCOMING_CPU",
	unix.SO_INCOMING_NAPI_ID:      "SO_INCOMING_NAPI_ID",
	unix.SO_INQ:                   "SO_INQ",
	unix.SO_KEEPALIVE:             "SO_KEEPALIVE",
	unix.SO_LINGER:                "SO_LINGER",
	unix.SO_LOCK_FILTER:           "SO_LOCK_FILTER",
	unix.SO_MARK:                  "SO_MARK",
	unix.SO_MAX_PACING_RATE:       "SO_MAX_PACING_RATE",
	unix.SO_MEMINFO:               "SO_MEMINFO",
	unix.SO_NETNS_COOKIE:          "SO_NETNS_COOKIE",
	unix.SO_NOFCS:                 "SO_NOFCS",
	unix.SO_NO_CHECK:              "SO_NO_CHECK",
	unix.SO_OOBINLINE:             "SO_OOBINLINE",
	unix.SO_PASSCRED:              "SO_PASSCRED",
	unix.SO_PASSPIDFD:             "SO_PASSPIDFD",
	unix.SO_PASSRIGHTS:            "SO_PASSRIGHTS",
	unix.SO_PASSSEC:               "SO_PASSSEC",
	unix.SO_PEEK_OFF:              "SO_PEEK_OFF",
	unix.SO_PEERCRED:              "SO_PEERCRED",
	unix.SO_PEERGROUPS:            "SO_PEERGROUPS",
	unix.SO_PEERNAME:              "SO_PEERNAME",
	unix.SO_PEERSEC:               "SO_PEERSEC",
	unix.SO_PREFER_BUSY_POLL:      "SO_PREFER_BUSY_POLL",
	unix.SO_PRIORITY:              "SO_PRIORITY",
	unix.SO_PROTOCOL:              "SO_PROTOCOL",
	unix.SO_RCVBUF:                "SO_RCVBUF",
	unix.SO_RCVBUFFORCE:           "SO_RCVBUFFORCE",
	unix.SO_RCVLOWAT:              "SO_RCVLOWAT",
	unix.SO_RCVMARK:               "SO_RCVMARK",
	unix.SO_RCVPRIORITY:           "SO_RCVPRIORITY",
	unix.SO_RCVTIMEO:              "SO_RCVTIMEO",
	unix.SO_RCVTIMEO_NEW:          "SO_RCVTIMEO_NEW",
	unix.SO_RESERVE_MEM:           "SO_RESERVE_MEM",
	unix.SO_REUSEADDR:             "SO_REUSEADDR",
	unix.SO_REUSEPORT:             "SO_REUSEPORT",
	unix.SO_RXQ_OVFL:              "SO_RXQ_OVFL",
	unix.SO_SELECT_ERR_QUEUE:      "SO_SELECT_ERR_QUEUE",
	unix.SO_SNDBUF:                "SO_SNDBUF",
	unix.SO_SNDBUFFORCE:           "SO_SNDBUFFORCE",
	unix.SO_SNDLOWAT:              "SO_SNDLOWAT",
	unix.SO_SNDTIMEO:              "SO_SNDTIMEO",
	unix.SO_SNDTIMEO_NEW:          "SO_SNDTIMEO_NEW",
	unix.SO_TIMESTAMP:             "SO_TIMESTAMP",
	unix.SO_TIMESTAMPING:          "SO_TIMESTAMPING",
	unix.SO_TIMESTAMPING_NEW:      "SO_TIMESTAMPING_NEW",
	unix.SO_TIMESTAMPNS:           "SO_TIMESTAMPNS",
	unix.SO_TIMESTAMPNS_NEW:       "SO_TIMESTAMPNS_NEW",
	unix.SO_TIMESTAMP_NEW:         "SO_TIMESTAMP_NEW",
	unix.SO_TXREHASH:              "SO_TXREHASH",
	unix.SO_TXTIME:                "SO_TXTIME",
	unix.SO_TYPE:                  "SO_TYPE",
	unix.SO_WIFI_STATUS:           "SO_WIFI_STATUS",
	unix.SO_ZEROCOPY:              "SO_ZEROCOPY",
}

var ipOptNames = map[int]string{
	unix.IP_ADD_MEMBERSHIP:         "IP_ADD_MEMBERSHIP",
	unix.IP_ADD_SOURCE_MEMBERSHIP:  "IP_ADD_SOURCE_MEMBERSHIP",
	unix.IP_BIND_ADDRESS_NO_PORT:   "IP_BIND_ADDRESS_NO_PORT",
	unix.IP_BLOCK_SOURCE:           "IP_BLOCK_SOURCE",
	unix.IP_CHECKSUM:               "IP_CHECKSUM",
	unix.IP_DROP_MEMBERSHIP:        "IP_DROP_MEMBERSHIP",
	unix.IP_DROP_SOURCE_MEMBERSHIP: "IP_DROP_SOURCE_MEMBERSHIP",
	unix.IP_FREEBIND:               "IP_FREEBIND",
	unix.IP_HDRINCL:                "IP_HDRINCL",
	unix.IP_IPSEC_POLICY:           "IP_IPSEC_POLICY",
	unix.IP_LOCAL_PORT_RANGE:       "IP_LOCAL_PORT_RANGE",
	unix.IP_MINTTL:                 "IP_MINTTL",
	unix.IP_MSFILTER:               "IP_MSFILTER",
	unix.IP_MTU:                    "IP_MTU",
	unix.IP_MTU_DISCOVER:           "IP_MTU_DISCOVER",
	unix.IP_MULTICAST_ALL:          "IP_MULTICAST_ALL",
	unix.IP_MULTICAST_IF:           "IP_MULTICAST_IF",
	unix.IP_MULTICAST_LOOP:         "IP_MULTICAST_LOOP",
	unix.IP_MULTICAST_TTL:          "IP_MULTICAST_TTL",
	unix.IP_NODEFRAG:               "IP_NODEFRAG",
	unix.IP_OPTIONS:                "IP_OPTIONS",
	unix.IP_PASSSEC:                "IP_PASSSEC",
	unix.IP_PKTINFO:                "IP_PKTINFO",
	unix.IP_PKTOPTIONS:             "IP_PKTOPTIONS",
	unix.IP_PROTOCOL:               "IP_PROTOCOL",
	unix.IP_RECVERR:                "IP_RECVERR",
	unix.IP_RECVERR_RFC4884:        "IP_RECVERR_RFC4884",
	unix.IP_RECVFRAGSIZE:           "IP_RECVFRAGSIZE",
	unix.IP_RECVOPTS:               "IP_RECVOPTS",
	unix.IP_RECVORIGDSTADDR:        "IP_RECVORIGDSTADDR",
	unix.IP_RECVTOS:                "IP_RECVTOS",
	unix.IP_RECVTTL:                "IP_RECVTTL",
	unix.IP_RETOPTS:                "IP_RETOPTS",
	unix.IP_ROUTER_ALERT:           "IP_ROUTER_ALERT",
	unix.IP_TOS:                    "IP_TOS",
	unix.IP_TRANSPARENT:            "IP_TRANSPARENT",
	unix.IP_TTL:                    "IP_TTL",
	unix.IP_UNBLOCK_SOURCE:         "IP_UNBLOCK_SOURCE",
	unix.IP_UNICAST_IF:             "IP_UNICAST_IF",
	unix.IP_XFRM_POLICY:            "IP_XFRM_POLICY",
	unix.MCAST_BLOCK_SOURCE:        "MCAST_BLOCK_SOURCE",
	unix.MCAST_JOIN_GROUP:          "MCAST_JOIN_GROUP",
	unix.MCAST_JOIN_SOURCE_GROUP:   "MCAST_JOIN_SOURCE_GROUP",
	unix.MCAST_LEAVE_GROUP:         "MCAST_LEAVE_GROUP",
	unix.MCAST_LEAVE_SOURCE_GROUP:  "MCAST_LEAVE_SOURCE_GROUP",
	unix.MCAST_MSFILTER:            "MCAST_MSFILTER",
	unix.MCAST_UNBLOCK_SOURCE:      "MCAST_UNBLOCK_SOURCE",
}
