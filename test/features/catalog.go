// Package features is the list of everything the specification (Linux ip(7) and
// FreeBSD ip(4)) names: options, control messages, /proc knobs, ioctls and errno
// cases. Each row says which conformance scenarios pin it; the README's feature
// table is generated from this list, so a row reads "works" only when scenarios
// that run against the kernel in CI cover it.
package features

// Kind groups the rows of the table.
type Kind string

const (
	SocketOption Kind = "socket option"
	ControlMsg   Kind = "control message"
	ProcKnob     Kind = "/proc knob"
	Ioctl        Kind = "ioctl"
	Errno        Kind = "errno case"
	BSDOption    Kind = "FreeBSD option"
)

// Feature is one row of the table.
type Feature struct {
	Kind Kind
	Name string
	// Covers is a regular expression over scenario names; the row "works" when
	// it matches at least one registered scenario. Empty means missing.
	Covers string
	// Note says what is covered, or what Linux does instead (FreeBSD rows).
	Note string
}

// Catalog is every row, in the README's order.
var Catalog = []Feature{
	// socket(7) options the socket layer needs for ip(7) behaviour.
	{SocketOption, "SO_BROADCAST", `SO_BROADCAST|UDP/BROADCAST_PERMISSION`, "EACCES for a broadcast destination without it"},
	{SocketOption, "SO_ERROR", `SO_ERROR|UDP/PORT_UNREACHABLE`, ""},
	{SocketOption, "SO_REUSEADDR", `SO_REUSEADDR|BIND/.*REUSEADDR`, "bind conflict rules"},
	{SocketOption, "SO_REUSEPORT", `SO_REUSEPORT|BIND/.*REUSEPORT`, "bind conflict rules"},
	{SocketOption, "SO_RCVBUF", `SO_RCVBUF`, "doubling, clamps to rmem_max, minimum"},
	{SocketOption, "SO_SNDBUF", `SO_SNDBUF`, "doubling, clamps to wmem_max, minimum"},
	{SocketOption, "SO_RCVBUFFORCE / SO_SNDBUFFORCE", `SO_(RCV|SND)BUFFORCE`, ""},
	{SocketOption, "SO_TYPE", `SOCKOPT/IDENTITY`, ""},
	{SocketOption, "SO_PROTOCOL", `SOCKOPT/IDENTITY`, ""},
	{SocketOption, "SO_DOMAIN", `SOCKOPT/IDENTITY`, ""},
	{SocketOption, "SO_ACCEPTCONN", `ACCEPTCONN`, ""},
	{SocketOption, "SO_BINDTODEVICE", `SO_BINDTODEVICE`, ""},
	{SocketOption, "SO_PRIORITY", `SO_PRIORITY`, ""},
	{SocketOption, "SO_PEERSEC", `SO_PEERSEC`, ""},
	// ip(7) IPPROTO_IP options.
	{SocketOption, "IP_TTL", `IP_TTL`, "int or char, -1 = default, every optlen"},
	{SocketOption, "IP_TOS", `IP_TOS`, "int or char, every optlen"},
	{SocketOption, "IP_HDRINCL", `IP_HDRINCL`, "raw only; IPPROTO_RAW implies it"},
	{SocketOption, "IP_OPTIONS", `IP_OPTIONS`, ""},
	{SocketOption, "IP_PKTINFO", `PKTINFO`, ""},
	{SocketOption, "IP_RECVTTL", `RECV_TTL_TOS|RECV_FLAG|RECV_ALL_ORDER`, ""},
	{SocketOption, "IP_RECVTOS", `RECV_TTL_TOS|RECV_FLAG|RECV_ALL_ORDER`, ""},
	{SocketOption, "IP_RECVOPTS", `RECV_ORIGDSTADDR_AND_OPTS|RAW_RECV_IP_OPTIONS|RECV_ALL_ORDER`, ""},
	{SocketOption, "IP_RETOPTS", `SEND_RETOPTS|IP_OPTIONS_TO_SELF|RECV_ALL_ORDER`, ""},
	{SocketOption, "IP_RECVORIGDSTADDR", `ORIGDST`, ""},
	{SocketOption, "IP_RECVERR", `^ERRQUEUE/`, ""},
	{SocketOption, "IP_MTU_DISCOVER", `PMTUDISC|^PMTU/|LOCAL_ERROR_MODES|LOCAL_(PING|RAW)_MODES`, ""},
	{SocketOption, "IP_MTU", `IP_MTU($|/)`, ""},
	{SocketOption, "IP_ROUTER_ALERT", `IP_ROUTER_ALERT`, "raw only; RA packets being forwarded go to the RA sockets instead"},
	{SocketOption, "IP_FREEBIND", `FREEBIND`, "missing: a TCP connect from the non-local address (EADDRNOTAVAIL; Linux sends the SYN from it)"},
	{SocketOption, "IP_TRANSPARENT", `FREEBIND_TRANSPARENT`, ""},
	{SocketOption, "IP_BIND_ADDRESS_NO_PORT", `ADDRESS_NO_PORT`, ""},
	{SocketOption, "IP_NODEFRAG", `IP_NODEFRAG`, "raw only; its only effect is in netfilter's reassembly, which neither side has"},
	{SocketOption, "IP_PASSSEC", `RECV_FLAG_LENGTHS|RECV_ALL_ORDER`, "accepted; no SCM_SECURITY without labelled networking, as on this kernel"},
	{SocketOption, "IP_MINTTL", `MINTTL`, ""},
	{SocketOption, "IP_MULTICAST_IF", `IP_MULTICAST_IF|SEQ_LOOPBACK_INTERFACE`, ""},
	{SocketOption, "IP_MULTICAST_TTL", `MULTICAST_TTL_LOOP|MCAST/TTL_ON_WIRE|TTL0_ON_WIRE|SEQ_LOOPBACK_INTERFACE`, ""},
	{SocketOption, "IP_MULTICAST_LOOP", `MULTICAST_TTL_LOOP|MCAST/LOOPBACK|OWN_LOOPBACK|SEQ_LOOPBACK_INTERFACE`, ""},
	{SocketOption, "IP_MULTICAST_ALL", `MULTICAST_ALL`, ""},
	{SocketOption, "IP_ADD_MEMBERSHIP", `IP_ADD_MEMBERSHIP|SEQ_BLOCK_UNBLOCK|SEQ_LEAVE_REJOIN|SEQ_TWO_INTERFACES`, ""},
	{SocketOption, "IP_DROP_MEMBERSHIP", `IP_DROP_MEMBERSHIP|SEQ_LEAVE_REJOIN|SEQ_TWO_INTERFACES`, ""},
	{SocketOption, "IP_ADD_SOURCE_MEMBERSHIP", `IP_ADD_SOURCE_MEMBERSHIP|SEQ_INCLUDE_ADD_DROP|SEQ_DROP_SOURCE_ON_ASM|SEQ_FULL_THEN_DELTA`, ""},
	{SocketOption, "IP_DROP_SOURCE_MEMBERSHIP", `IP_DROP_SOURCE_MEMBERSHIP|SEQ_INCLUDE_ADD_DROP|SEQ_DROP_SOURCE_ON_ASM`, ""},
	{SocketOption, "IP_BLOCK_SOURCE", `IP_BLOCK_SOURCE|SEQ_BLOCK_UNBLOCK|SEQ_FULL_THEN_DELTA|SEQ_MAX_MSF`, ""},
	{SocketOption, "IP_UNBLOCK_SOURCE", `IP_UNBLOCK_SOURCE|SEQ_BLOCK_UNBLOCK`, ""},
	{SocketOption, "IP_MSFILTER", `IP_MSFILTER|SEQ_MSFILTER_(MODE|GET|SET)`, ""},
	{SocketOption, "MCAST_JOIN_GROUP / MCAST_LEAVE_GROUP", `MCAST_(JOIN|LEAVE)_GROUP|SEQ_GROUP_REQ_LAYOUT|SEQ_MIXED_APIS`, ""},
	{SocketOption, "MCAST_JOIN_SOURCE_GROUP / MCAST_LEAVE_SOURCE_GROUP", `MCAST_(JOIN|LEAVE)_SOURCE_GROUP|SEQ_GROUP_FILTER_MODE|SEQ_MIXED_APIS|SEQ_RAW_CLOSE`, ""},
	{SocketOption, "MCAST_BLOCK_SOURCE / MCAST_UNBLOCK_SOURCE", `MCAST_(UN)?BLOCK_SOURCE|SEQ_GROUP_FILTER_MODE|SEQ_MIXED_APIS`, ""},
	{SocketOption, "MCAST_MSFILTER", `MCAST_MSFILTER|SEQ_GROUP_FILTER|SEQ_MSFILTER_SET`, ""},
	// Control messages (recvmsg and sendmsg).
	{ControlMsg, "IP_PKTINFO (recv)", `CMSG/RECV_PKTINFO|RECVCMSG/.*PKTINFO|SEQ_REAL_SENDER_PKTINFO`, ""},
	{ControlMsg, "IP_PKTINFO (send)", `CMSG/SEND_PKTINFO|SENDCMSG/.*PKTINFO|CMSG/SEND_RAW_PKTINFO|CMSG/SEND_(RAW|PING)[A-Z_]*_CTL`, "UDP, raw (also with IP_HDRINCL) and ping"},
	{ControlMsg, "IP_TTL (recv)", `RECV_TTL|RECVCMSG/.*TTL`, ""},
	{ControlMsg, "IP_TTL (send)", `CMSG/SEND_TTL|CMSG/SEND_(RAW|PING)[A-Z_]*_CTL`, "UDP, raw and ping"},
	{ControlMsg, "IP_TOS (recv)", `RECV_TTL_TOS|RECVCMSG/.*TOS`, ""},
	{ControlMsg, "IP_TOS (send)", `CMSG/SEND_TTL_TOS|CMSG/SEND_(RAW|PING)[A-Z_]*_CTL`, "UDP, raw and ping"},
	{ControlMsg, "IP_OPTIONS / IP_RECVOPTS (recv)", `RECV_ORIGDSTADDR_AND_OPTS|RAW_RECV_IP_OPTIONS`, ""},
	{ControlMsg, "IP_RETOPTS (recv and send)", `SEND_RETOPTS|SEND_PING_RETOPTS|IP_OPTIONS_TO_SELF`, ""},
	{ControlMsg, "IP_RECVFRAGSIZE (recv)", `RECVFRAGSIZE`, "only for datagrams that arrived fragmented: the largest fragment's IP length (not in ip(7); Linux 4.14)"},
	{ControlMsg, "IP_ORIGDSTADDR (recv)", `ORIGDST`, ""},
	{ControlMsg, "IP_RECVERR (MSG_ERRQUEUE)", `ERRQUEUE/|RECVERR`, ""},
	{ControlMsg, "SCM_SECURITY (IP_PASSSEC)", `RECV_ALL_ORDER`, "never sent, as on a kernel without labelled networking"},
	// /proc/sys/net/ipv4 knobs, as a sandbox runtime forwards writes under /proc/sys.
	{ProcKnob, "ip_default_ttl", `IP_DEFAULT_TTL`, ""},
	{ProcKnob, "ip_local_port_range", `BIND/EPHEMERAL_PORT|IP_LOCAL_PORT_RANGE`, ""},
	{ProcKnob, "ip_nonlocal_bind", `BIND/FREEBIND_TRANSPARENT`, ""},
	{ProcKnob, "ip_no_pmtu_disc", `NO_PMTU_DISC`, ""},
	{ProcKnob, "ping_group_range", `PING/.*GROUP_RANGE|ERRNO/EACCES_PING_GROUP_RANGE|^IPV6/PING_SOCKET_GROUP_RANGE`, "ICMP and ICMPv6 ping sockets"},
	{ProcKnob, "ip_forward", `SYSCTL/IP_FORWARD`, ""},
	{ProcKnob, "ip_dynaddr", `SYSCTL/IP_DYNADDR`, ""},
	{ProcKnob, "ipfrag_high_thresh / ipfrag_low_thresh", `SYSCTL/IPFRAG_`, ""},
	{ProcKnob, "neigh/*", `SYSCTL/NEIGH`, ""},
	{ProcKnob, "igmp_max_memberships", `SEQ_MAX_MEMBERSHIPS_SYSCTL`, "not in ip(7); Linux's limit on IP_ADD_MEMBERSHIP per socket (default 20)"},
	{ProcKnob, "igmp_max_msf", `SEQ_MAX_MSF_SYSCTL`, "not in ip(7); Linux's limit on sources per filter (default 10)"},
	{ProcKnob, "ip_always_defrag", ``, "removed from Linux in 2.4; Linux has no such file either"},
	{ProcKnob, "ip_autoconfig", ``, "removed from Linux in 2.6.18; Linux has no such file either"},
	// ioctls of socket(7) that apply to IP sockets.
	{Ioctl, "SIOCGSTAMP", `IOCTL/SIOCGSTAMP`, ""},
	{Ioctl, "FIONREAD / SIOCINQ", `IOCTL/(FIONREAD|SIOCINQ)`, ""},
	{Ioctl, "SIOCOUTQ", `IOCTL/SIOCOUTQ`, ""},
	{Ioctl, "SIOCGIFCONF / SIOCGIFFLAGS (netdevice(7))", `IOCTL/SIOCGIF`, ""},
	// The ERRORS section of ip(7).
	{Errno, "EACCES: broadcast without SO_BROADCAST", `UDP/BROADCAST_PERMISSION|CONNECT/UDP_UNREACHABLE_AND_BROADCAST`, ""},
	{Errno, "EACCES: privileged port without CAP_NET_BIND_SERVICE", `ERRNO/EACCES_PRIVILEGED_PORT`, ""},
	{Errno, "EADDRINUSE", `BIND/(UDP|TCP)_IN_USE`, ""},
	{Errno, "EADDRNOTAVAIL", `BIND/ADDRESS_KINDS`, ""},
	{Errno, "EAGAIN", `EAGAIN`, ""},
	{Errno, "EALREADY", `TCP_NONBLOCKING$|ERRNO/TCP_RECONNECT_AFTER_REFUSED`, ""},
	{Errno, "ECONNABORTED", `ERRNO/TCP_RECONNECT_AFTER_REFUSED`, "a connect after the failed one's error was read"},
	{Errno, "ECONNREFUSED", `TCP_REFUSED|NONBLOCKING_REFUSED|UDP/PORT_UNREACHABLE|ERRNO/TCP_RECONNECT_AFTER_REFUSED_UNREAD`, ""},
	{Errno, "EHOSTUNREACH", `ICMP/`, ""},
	{Errno, "EINVAL", `BIND/(ADDRLEN|TWICE)|SHUTDOWN/BAD_HOW|SET_LEN_0`, ""},
	{Errno, "EISCONN", `TCP_NONBLOCKING$|TCP/LISTEN_UNBOUND`, ""},
	{Errno, "EMSGSIZE", `UDP/MESSAGE_SIZE_LIMIT`, ""},
	{Errno, "ENOBUFS", `MEMBERSHIP_LIMIT|SEQ_MAX_(MSF|MEMBERSHIPS)|SEQ_OPTMEM`, ""},
	{Errno, "ENOPROTOOPT", `UNKNOWN_OPTIONS|IP_HDRINCL/NON_RAW`, ""},
	{Errno, "ENOTCONN", `SHUTDOWN/UNCONNECTED|TCP/UNCONNECTED_ERRORS|CONNECT/UDP_NAMES|ERRNO/TCP_UNSPEC|ERRNO/TCP_SHUTDOWN_CONNECTING`, ""},
	{Errno, "EOPNOTSUPP", `TCP/LISTEN_UNBOUND`, ""},
	{Errno, "EPERM", `ERRNO/EPERM`, ""},
	{Errno, "EPIPE", `SEND_AFTER_PEER_RESET|ERRNO/TCP_UNSPEC|ERRNO/TCP_SHUTDOWN_CONNECTING`, ""},
	{Errno, "ESOCKTNOSUPPORT / EPROTONOSUPPORT", `SOCKET/(MISMATCHED_PROTOCOL|BAD_PROTOCOL_NUMBERS|TYPES|RAW_NEEDS_PROTOCOL)`, ""},
	{Errno, "EAFNOSUPPORT", `BIND/FAMILY|SOCKET/BAD_FAMILY`, ""},
	{Errno, "EDESTADDRREQ", `UDP/EDESTADDRREQ`, ""},
	// ipv6(7), AF_INET6 TCP and UDP (issue 14, first phase): over ::1 and
	// dual-stack to 127.0.0.1.
	{SocketOption, "IPV6_V6ONLY", `^IPV6/(SOCKOPT|V6ONLY|UDP_DUAL_STACK|TCP_V6ONLY|TCP_LOOPBACK|BIND_SETS_V6ONLY)`, "default 0 (dual-stack, v4-mapped peers); EINVAL once bound; binding UDP or TCP to an IPv6 address other than :: sets it"},
	{SocketOption, "IPV6_UNICAST_HOPS", `^IPV6/(SOCKOPT|UDP_LOOPBACK_CMSGS)`, "-1..255, -1 = the route's 64"},
	{SocketOption, "IPV6_TCLASS", `^IPV6/(SOCKOPT|UDP_LOOPBACK_CMSGS)`, "-1..255, -1 = 0; TCP keeps its ECN bits"},
	{SocketOption, "IPV6_RECVPKTINFO", `^IPV6/(SOCKOPT|UDP_LOOPBACK_CMSGS|UDP_DUAL_STACK)`, ""},
	{SocketOption, "IPV6_RECVHOPLIMIT", `^IPV6/(SOCKOPT|UDP_LOOPBACK_CMSGS)`, ""},
	{SocketOption, "IPV6_RECVTCLASS", `^IPV6/(SOCKOPT|UDP_LOOPBACK_CMSGS)`, ""},
	{SocketOption, "IPV6_MULTICAST_IF", `^IPV6/SOCKOPT`, "UDP; ENOPROTOOPT on TCP"},
	{SocketOption, "IPV6_MULTICAST_HOPS", `^IPV6/SOCKOPT`, "UDP; -1 = 1; ENOPROTOOPT on TCP"},
	{SocketOption, "IPV6_MULTICAST_LOOP", `^IPV6/SOCKOPT`, "0 or 1 only"},
	{SocketOption, "IPV6_JOIN_GROUP / IPV6_LEAVE_GROUP", `^IPV6/MCAST_MEMBERSHIP`, "errnos checked on lo; on an interface the group is reported by netsandbox's MLD (MLDv2 TO_EX{} on join, TO_IN{} on leave, ipv6/mcast-mld-report, ipv6/mld-*) and its datagrams delivered (endpoint TestUDP6MulticastMembership, not against the kernel)"},
	{SocketOption, "IPV6_RECVERR", `^IPV6/(SOCKOPT|UDP_ERROR_QUEUE|UDP_ICMP6_|PING_ICMP6_ERRORS|RAW_ICMP6_ERRORS)`, "UDP, UDP-Lite, raw and ping sockets, connected or not: every ICMPv6 error type and code (icmpv6_err_convert) with each kind's rules (__udp6_lib_err, rawv6_err, ping_err), SO_EE_ORIGIN_ICMP6 with the offender and the ICMPv6 packet's IPv6 control messages, the pending error"},
	{SocketOption, "IPV6_MTU_DISCOVER", `^IPV6/(SOCKOPT|UDP_ICMP6_ERRORS_PENDING|UDP_IPV6_MTU_SENDS|UDP_PMTU_FRAGMENTS)`, "0..5, default IPV6_PMTUDISC_WANT; packet too big is not fatal under DONT, ignored under INTERFACE and OMIT; UDP under DONT and WANT fragments at the learnt path MTU (netsandbox cuts the fragments: gVisor would at the device MTU), INTERFACE refuses above the device MTU"},
	{SocketOption, "IPV6_MTU (getsockopt)", `^IPV6/(PATH_MTU|UDP_ICMP6_ERRORS_EACH)`, "the path MTU once connected (the device's, lowered by packet too big, never below 1280), ENOTCONN before"},
	{SocketOption, "IPV6_MTU (setsockopt)", `^IPV6/(UDP|RAW|PING)_IPV6_MTU`, "every AF_INET6 kind: an int of at least 4 bytes, 0 (unset) or at least 1280 (EINVAL), no upper bound; UDP, UDP-Lite, raw and ping sends are held to min(route MTU, value) under IPV6_DONTFRAG/DO/PROBE/INTERFACE and fragmented at it past the route MTU (netsandbox cuts the fragments); getsockopt still reads the path MTU; TCP keeps it (Linux's TCP never reads it)"},
	{SocketOption, "IPV6_RECVPATHMTU / IPV6_PATHMTU", `^IPV6/(RECVPATHMTU|TCP_PATHMTU_MCAST_ALL)`, "UDP: a send IPV6_DONTFRAG refuses leaves its MTU for the next recvmsg (no data, IPV6_PATHMTU's ip6_mtuinfo), whatever IPV6_MTU_DISCOVER says; getsockopt(IPV6_PATHMTU) reads a connected socket's MTU, on every AF_INET6 kind, ENOTCONN before"},
	{SocketOption, "IPV6_RECVERR_RFC4884", `^IPV6/RFC4884`, "every AF_INET6 kind, 0 or 1: an ICMPv6 destination unreachable or time exceeded with a length field (64-bit words) of at least 128 bytes gives ee_data the extension's offset in the data read and the INVALID flag (ipv6_icmp_error_rfc4884)"},
	{SocketOption, "IPV6_ADDR_PREFERENCES", `^IPV6/ADDR_PREFERENCES_`, "every AF_INET6 kind: RFC 5014's flags, at most one of PUBLIC/TMP/PUBTMP_DEFAULT, HOME/COA, CGA/NONCGA (EINVAL), each value replacing the last, read back as TMP, PUBLIC or PUBTMP_DEFAULT with COA or HOME; source selection is unchanged, as netsandbox has only public, home, non-CGA addresses"},
	{SocketOption, "IPV6_MINHOPCOUNT", `^IPV6/(PING_)?MINHOPCOUNT`, "every AF_INET6 kind: an int of at least 4 bytes in 0..255 (EINVAL); TCP drops IPv6 segments whose hop limit is below it, a listener's judging SYNs and passed to its children (tcp_v6_rcv, counted as TCPMinTTLDrop); IPv4 (v4-mapped) segments are IP_MINTTL's; the other kinds keep it, as Linux"},
	{SocketOption, "IPV6_UNICAST_IF", `^IPV6/(UNICAST_IF|PING_MINHOPCOUNT_UNICAST_IF)`, "every AF_INET6 kind: exactly an int, an ifindex in network byte order as IPv4's IP_UNICAST_IF; 0 clears, an unknown index is EADDRNOTAVAIL, a bound device EINVAL (binding one afterwards wins); the interface of UDP, UDP-Lite, raw and ping unicast sends to IPv6 destinations that no scope id, bound device or IPV6_PKTINFO named, and of their connect (ENETUNREACH when it has no route; a connected send after it changes is checked against it); TCP keeps it (tcp_v6_connect never reads it); v4-mapped traffic is IP_UNICAST_IF's"},
	{SocketOption, "IPV6_RECVORIGDSTADDR", `^IPV6/(SOCKOPT|UDP_ORIGINAL_DESTINATION)`, "UDP; none for a dual-stack socket's IPv4 datagrams"},
	{SocketOption, "IPV6_FREEBIND / IPV6_TRANSPARENT", `^IPV6/(UDP_FREEBIND|NONLOCAL_BIND_)`, "every kind: IPv4's FREEBIND and TRANSPARENT bits (SOL_IP's IP_FREEBIND/IP_TRANSPARENT set them too), TRANSPARENT on needs CAP_NET_RAW or CAP_NET_ADMIN, a non-local bind(2) (v4-mapped too on UDP and TCP), a TCP listen on it; UDP sends from it (ip6_dst_lookup_tail keeps the source; netsandbox writes the header); missing: a TCP connect from it (EADDRNOTAVAIL; gVisor routes no source its NICs lack)"},
	{SocketOption, "IPV6_CHECKSUM", `^IPV6/RAW_(CHECKSUM_OPTION|PROTO_CHECKSUM_LOOPBACK)`, "raw only: an even offset, -1 off; put on send (EINVAL when the message is too short), verified on receive; ICMPv6 sockets at 2, EINVAL at SOL_IPV6; missing: changing ICMPv6's through SOL_RAW (ENOPROTOOPT)"},
	{SocketOption, "ICMPV6_FILTER", `^IPV6/RAW_ICMP6_(FILTER_OPTION|ECHO_AND_FILTER)`, "SOL_ICMPV6, raw ICMPv6 sockets only (EOPNOTSUPP on others); struct icmp6_filter, a shorter value replaces its first bytes"},
	{SocketOption, "IPV6_HDRINCL", `^IPV6/RAW_(HDRINCL|IPPROTO_RAW)`, "raw only (SOL_IPV6 or SOL_RAW; ENOPROTOOPT elsewhere), on from the start on IPPROTO_RAW sockets: the packet goes to the sockaddr's destination (:: is ::1) as written, EINVAL under 40 bytes, EMSGSIZE past the device MTU with ipv6_local_error's entry; gVisor's write sets the payload length and fills a :: source (Linux leaves both); missing: an IPPROTO_RAW socket receives nothing (Linux gives it packets of next header 255)"},
	{SocketOption, "MCAST_JOIN_GROUP / MCAST_LEAVE_GROUP / MCAST_JOIN_SOURCE_GROUP / MCAST_LEAVE_SOURCE_GROUP / MCAST_BLOCK_SOURCE / MCAST_UNBLOCK_SOURCE / MCAST_MSFILTER on AF_INET6", `^IPV6/MCAST_(SOURCE_|OPTIONS_)`, "SOL_IPV6, every AF_INET6 kind: per-socket and per-interface source filters with Linux's errnos and limits (64 sources, mld_max_msf, fixed: Linux shows it only in the host namespace; optmem_max), IPV6_JOIN_GROUP memberships in the same list, reported by MLD; UDP and UDP-Lite deliver by source over a link; missing: a raw or ping socket's own filter on delivery (gVisor's endpoint hands it a group's packets)"},
	{SocketOption, "IPV6_MULTICAST_ALL", `^IPV6/(MCAST_MULTICAST_ALL|TCP_PATHMTU_MCAST_ALL)`, "UDP and UDP-Lite; default 1; TCP and ping keep it (neither takes multicast by membership, as on Linux); missing on raw sockets"},
	{SocketOption, "MLDv2 reports with source lists", `^IPV6/(MCAST_MLD_REPORT|MLD_)`, "netsandbox's own MLD on the IGMPv3 machinery (gVisor's is off): state-change records with sources (ALLOW/BLOCK/TO_IN/TO_EX) retransmitted mld_qrv times within mldv2_unsolicited_report_interval; answers to MLDv2 general, group and group-and-source queries; MLDv1 reports and done under force_mld_version=1 or after an MLDv1 querier; hop limit 1, Router Alert, from the link-local address or ::; an address's solicited-node group reported too; deviation: none on lo, where Linux sends them from ::"},
	{SocketOption, "IP_TTL / IP_TOS on an AF_INET6 socket", `^IPV6/SOL_IP_TTL_TOS`, "applied to v4-mapped traffic, as Linux"},
	{SocketOption, "other SOL_IP options on an AF_INET6 socket", `^IPV6/(UDP_SOLIP_OPTIONS|UDP_MAPPED_|UDP_V4MAPPED_ICMP_ERRORS|SOLIP_OPTIONS_)|^IPOPT/MINTTL_TCP.*_MAPPED$|^WIRE/TCP6_MAPPED_PMTUDISC$|^TCPOPT/IP_PKTOPTIONS_TCP6$|^WIRE/TCP6_IP_OPTIONS$|^(BIND/ADDRESS_NO_PORT|IPOPT/LOCAL_PORT_RANGE)_TCP_V6$`, "UDP: every one, applied to v4-mapped traffic as Linux (udp_sendmsg's TTL, TOS, IP options, multicast interface, TTL and membership, IP_MULTICAST_ALL off by default; ip_cmsg_send's messages and a v4-mapped IPV6_PKTINFO; an IPv4 datagram's SOL_IP receive messages after IPV6_PKTINFO; ICMP errors queued and read back v4-mapped); TCP: the values, `IP_BIND_ADDRESS_NO_PORT` and `IP_LOCAL_PORT_RANGE` for its binds, `IP_MINTTL` on v4-mapped segments, `IP_MTU`, `IP_MTU_DISCOVER` as the DF of a v4-mapped connection, `IP_PKTOPTIONS` (LOOPBACK4_IPV6 for an IPv6 address), `IP_OPTIONS` on a v4-mapped connection's segments; ping: the values; on raw none (ENOPROTOOPT, as Linux's raw)"},
	{SocketOption, "SOL_TCP options on an AF_INET6 socket", `^TCPOPT/.*_V6$`, "AF_INET TCP's socket over gVisor's IPv6 endpoint: every tcp(7) option with its bounds and effects (TCP_INFO, TCP_MAXSEG, TCP_CORK, TCP_INQ, TCP_DEFER_ACCEPT, inheritance by accept), over ::1"},
	{ControlMsg, "IPV6_PKTINFO (recv)", `^IPV6/(UDP_LOOPBACK_CMSGS|UDP_DUAL_STACK|PING_LOOPBACK_ECHO|RAW_ICMP6_RECV_CMSGS)`, "UDP, raw and ping; an IPv4 datagram's is v4-mapped"},
	{ControlMsg, "IPV6_PKTINFO (send)", `^IPV6/UDP_SEND_CMSG_ERRORS`, "ENODEV, EINVAL for a non-local source"},
	{ControlMsg, "IPV6_ORIGDSTADDR (recv)", `^IPV6/UDP_ORIGINAL_DESTINATION`, "sockaddr_in6 of the destination; EINVAL on send"},
	{Errno, "ENETUNREACH: IPv6 multicast over lo", `^IPV6/UDP_MULTICAST_LOOPBACK`, "lo has no IFF_MULTICAST (route lookup)"},
	{ControlMsg, "IPV6_HOPLIMIT (recv and send)", `^IPV6/(UDP_LOOPBACK_CMSGS|UDP_SEND_CMSG_ERRORS|PING_SEND_CMSGS|RAW_ICMP6_RECV_CMSGS)`, "UDP, raw and ping"},
	{ControlMsg, "IPV6_TCLASS (recv and send)", `^IPV6/(UDP_LOOPBACK_CMSGS|UDP_SEND_CMSG_ERRORS|PING_SEND_CMSGS|RAW_ICMP6_RECV_CMSGS)`, "UDP, raw and ping; -1 leaves as 0xff, as Linux 6.18"},
	{ControlMsg, "IPV6_FLOWINFO, extension headers (send)", ``, "missing: EINVAL"},
	{SocketOption, "IPV6_DONTFRAG (option and send message)", `^IPV6/(DONTFRAG|TCP_DONTFRAG)`, "UDP, raw and ping: a packet past the MTU it is held to is EMSGSIZE with ipv6_local_error's entry instead of fragmented; the message overrides the option either way; any option length (short reads as 0); TCP keeps it and never reads it, as Linux"},
	{SocketOption, "IPV6_2292PKTINFO / IPV6_2292HOPLIMIT", `^IPV6/UDP_RFC2292`, "UDP: RFC 2292's receive messages, after IPV6_TCLASS; IPV6_HOPLIMIT itself is ENOPROTOOPT, as Linux"},
	{Errno, "EMSGSIZE and ipv6_local_error (IPV6_RECVERR)", `^IPV6/(UDP_LOCAL_EMSGSIZE|PING_RAW_LOCAL_EMSGSIZE|DONTFRAG)`, "UDP, raw and ping: SO_EE_ORIGIN_LOCAL with the MTU (path, or device from PROBE on), msg_name the destination with its port (an ICMPv6 message's type and code); under DONT, WANT and OMIT a raw or ping datagram past the path MTU leaves in fragments netsandbox cuts (gVisor's raw endpoint refuses it past the device MTU, its ICMP endpoint cuts at the device MTU)"},
	{Errno, "AF_INET6 sockaddr rules (EINVAL, EAFNOSUPPORT, ENETUNREACH)", `^IPV6/(BIND_RULES|UDP_SENDTO_ADDRESSES|UDP_CONNECT|TCP_V6ONLY)`, ""},
	{Errno, "AF_INET6 raw sockets (EPERM, sockaddr rules, EFAULT, EDESTADDRREQ)", `^IPV6/RAW_(SOCKET_IDENTITY|SEND_ERRORS|BIND_CONNECT_NAMES|SEND_MSG_OOB|ICMP6_ECHO_AND_FILTER|PROTO_CHECKSUM_LOOPBACK)`, "CAP_NET_RAW; received without the IPv6 header; the sockaddr port is the protocol; missing: protocols gVisor has no transport for (other than TCP, UDP, UDP-Lite, ICMPv6: EPROTONOSUPPORT)"},
	{Errno, "ICMPv6 ping sockets (EACCES, EINVAL for all but echo requests)", `^IPV6/PING_`, "net.ipv4.ping_group_range; the identifier is the socket's, only echo replies are delivered; the identifier is gVisor's pick, not Linux's sequence"},
	// UDP-Lite over IPv6 (issue 14): netsandbox's own UDP transport
	// carries IPv6 for it and for UDP (stack/udp_ipv6.go, endpoint/udp6*.go).
	{SocketOption, "UDPLITE_SEND_CSCOV / UDPLITE_RECV_CSCOV on AF_INET6 (IPPROTO_UDPLITE)", `^UDPLITE6/`, "checksum over the IPv6 pseudo-header and the coverage; a zero checksum, a coverage of 1..7 or past the end dropped; dual-stack (v4-mapped peers, IPv4 UDP-Lite's port space), IPV6_PKTINFO/HOPLIMIT/TCLASS both ways, MSG_CTRUNC; the SOL_IPV6 options and ICMPv6 errors of AF_INET6 UDP, which shares its code"},
	// FreeBSD ip(4): not Linux options. A Linux socket answers the FreeBSD
	// numbers as Linux does (they mean other things, or nothing, there); a
	// socket of the FreeBSD personality (freebsd.New) speaks them. These rows
	// count the FreeBSD group (scenarios.FreeBSD()), each pinned to the
	// FreeBSD source it cites and, where Linux has the equivalent named in the
	// note, compared on the wire with that equivalent run on the kernel.
	{BSDOption, "IP_RECVDSTADDR", `^FREEBSD/(IP_RECVDSTADDR|RECV_CONTROL_TRUNCATED)`, "a bare in_addr, the header's destination; Linux: IP_PKTINFO (ipi_addr) or IP_RECVORIGDSTADDR"},
	{BSDOption, "IP_SENDSRCADDR", `^FREEBSD/(IP_SENDSRCADDR|IP_BINDANY)`, "udp_output's checks; Linux: IP_PKTINFO on sendmsg (ipi_spec_dst)"},
	{BSDOption, "IP_RECVIF", `^FREEBSD/IP_RECVIF`, "struct sockaddr_dl (56 bytes); Linux: IP_PKTINFO (ipi_ifindex)"},
	{BSDOption, "IP_ONESBCAST", `^FREEBSD/(IP_ONESBCAST|RAW_BROADCAST_ONESBCAST)`, "UDP and raw (not with IP_HDRINCL); Linux: a sendto 255.255.255.255 with IP_PKTINFO naming the interface"},
	{BSDOption, "IP_BINDANY", `^FREEBSD/IP_BINDANY`, "needs CAP_NET_ADMIN (PRIV_NETINET_BINDANY); Linux: IP_FREEBIND / IP_TRANSPARENT"},
	{BSDOption, "IP_DONTFRAG", `^FREEBSD/IP_DONTFRAG`, "UDP; Linux: IP_MTU_DISCOVER = IP_PMTUDISC_DO"},
	{BSDOption, "IP_PORTRANGE", `^FREEBSD/IP_PORTRANGE`, "net.inet.ip.portrange.* knobs (freebsd.Sysctl), LOW counting down from 1023 and privileged; Linux: ip_local_port_range, IP_LOCAL_PORT_RANGE"},
	{BSDOption, "IP_TOS / IP_TTL / IP_MINTTL / IP_OPTIONS (FreeBSD rules)", `^FREEBSD/(IP_TTL|IP_MINTTL|IP_OPTIONS|UNKNOWN_OPTION|RAW_RECV_CONTROL_AND_MINTTL)`, "an int, the low byte kept (TTL 0 sent as 0 by UDP and raw); MINTTL also drops UDP and raw datagrams; options stored behind the first hop"},
	{BSDOption, "IP_RECVTTL / IP_RECVTOS (FreeBSD u_char)", `^FREEBSD/(IP_RECVDSTADDR_IP_RECVTTL|IP_RECVIF_IP_RECVTOS|RAW_RECV_CONTROL_AND_MINTTL)`, "ip_savecontrol's order; Linux: IP_RECVTTL, IP_RECVTOS"},
	{BSDOption, "IP_MULTICAST_IF / _TTL / _LOOP, IP_ADD/DROP_(SOURCE_)MEMBERSHIP, IP_(UN)BLOCK_SOURCE (FreeBSD rules)", `^FREEBSD/MCAST_(TTL|MEMBERSHIP)`, "FreeBSD 8's in_mcast.c: u_char or int, ip_mreqn or in_addr, ip_mreq_source with the source before the interface, net.inet.ip.mcast.loop; Linux: the same options"},
	{BSDOption, "IP_MAX_MEMBERSHIPS, net.inet.ip.mcast.maxgrpsrc (FreeBSD multicast limits)", `^FREEBSD/MCAST_LIMITS`, "4095 memberships then ETOOMANYREFS; a group's sources over every socket, then ENOSPC"},
	{BSDOption, "MCAST_JOIN/LEAVE_GROUP, MCAST_JOIN/LEAVE_SOURCE_GROUP, MCAST_BLOCK/UNBLOCK_SOURCE (FreeBSD group_req)", `^FREEBSD/MCAST_GROUP_REQ`, "struct group_req/group_source_req with FreeBSD's sockaddr_storage; Linux: the same options"},
	{BSDOption, "IP_MSFILTER, net.inet.ip.mcast.maxsocksrc (FreeBSD full-state API)", `^FREEBSD/MCAST_MSFILTER`, "struct __msfilterreq; msfr_srcs stands for the array after the structure; Linux: IP_MSFILTER"},
	{BSDOption, "IP_HDRINCL (FreeBSD raw: ip_len/ip_off in host order)", `^FREEBSD/RAW_IP_HDRINCL`, "FreeBSD 8's rip_output: ip_len over the length or below the header EINVAL, ip_id 0 and source 0.0.0.0 filled; Linux: IP_HDRINCL, both fields in network order"},
}
