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
	{SocketOption, "IP_PKTINFO", `IP_PKTINFO`, ""},
	{SocketOption, "IP_RECVTTL", `IP_RECVTTL`, ""},
	{SocketOption, "IP_RECVTOS", `IP_RECVTOS`, ""},
	{SocketOption, "IP_RECVOPTS", `IP_RECVOPTS`, ""},
	{SocketOption, "IP_RETOPTS", `IP_RETOPTS`, ""},
	{SocketOption, "IP_RECVORIGDSTADDR", `IP_RECVORIGDSTADDR`, ""},
	{SocketOption, "IP_RECVERR", `IP_RECVERR`, ""},
	{SocketOption, "IP_MTU_DISCOVER", `IP_MTU_DISCOVER`, ""},
	{SocketOption, "IP_MTU", `IP_MTU\b`, ""},
	{SocketOption, "IP_ROUTER_ALERT", `IP_ROUTER_ALERT`, ""},
	{SocketOption, "IP_FREEBIND", `IP_FREEBIND`, ""},
	{SocketOption, "IP_TRANSPARENT", `IP_TRANSPARENT`, ""},
	{SocketOption, "IP_BIND_ADDRESS_NO_PORT", `IP_BIND_ADDRESS_NO_PORT`, ""},
	{SocketOption, "IP_NODEFRAG", `IP_NODEFRAG`, ""},
	{SocketOption, "IP_PASSSEC", `IP_PASSSEC`, ""},
	{SocketOption, "IP_MINTTL", `IP_MINTTL`, ""},
	{SocketOption, "IP_MULTICAST_IF", `IP_MULTICAST_IF`, ""},
	{SocketOption, "IP_MULTICAST_TTL", `IP_MULTICAST_TTL`, ""},
	{SocketOption, "IP_MULTICAST_LOOP", `IP_MULTICAST_LOOP`, ""},
	{SocketOption, "IP_MULTICAST_ALL", `IP_MULTICAST_ALL`, ""},
	{SocketOption, "IP_ADD_MEMBERSHIP", `IP_ADD_MEMBERSHIP`, ""},
	{SocketOption, "IP_DROP_MEMBERSHIP", `IP_DROP_MEMBERSHIP`, ""},
	{SocketOption, "IP_ADD_SOURCE_MEMBERSHIP", `IP_ADD_SOURCE_MEMBERSHIP`, ""},
	{SocketOption, "IP_DROP_SOURCE_MEMBERSHIP", `IP_DROP_SOURCE_MEMBERSHIP`, ""},
	{SocketOption, "IP_BLOCK_SOURCE", `IP_BLOCK_SOURCE`, ""},
	{SocketOption, "IP_UNBLOCK_SOURCE", `IP_UNBLOCK_SOURCE`, ""},
	{SocketOption, "IP_MSFILTER", `IP_MSFILTER`, ""},
	{SocketOption, "MCAST_JOIN_GROUP / MCAST_LEAVE_GROUP", `MCAST_(JOIN|LEAVE)_GROUP`, ""},
	{SocketOption, "MCAST_JOIN_SOURCE_GROUP / MCAST_LEAVE_SOURCE_GROUP", `MCAST_(JOIN|LEAVE)_SOURCE_GROUP`, ""},
	{SocketOption, "MCAST_BLOCK_SOURCE / MCAST_UNBLOCK_SOURCE", `MCAST_(UN)?BLOCK_SOURCE`, ""},
	{SocketOption, "MCAST_MSFILTER", `MCAST_MSFILTER`, ""},
	// Control messages (recvmsg and sendmsg).
	{ControlMsg, "IP_PKTINFO (recv)", `CMSG/RECV_PKTINFO|RECVCMSG/.*PKTINFO`, ""},
	{ControlMsg, "IP_PKTINFO (send)", `CMSG/SEND_PKTINFO|SENDCMSG/.*PKTINFO`, ""},
	{ControlMsg, "IP_TTL (recv)", `RECV_TTL|RECVCMSG/.*TTL`, ""},
	{ControlMsg, "IP_TTL (send)", `CMSG/SEND_TTL`, ""},
	{ControlMsg, "IP_TOS (recv)", `RECV_TTL_TOS|RECVCMSG/.*TOS`, ""},
	{ControlMsg, "IP_TOS (send)", `CMSG/SEND_TTL_TOS`, ""},
	{ControlMsg, "IP_OPTIONS / IP_RECVOPTS (recv)", `RECVCMSG/.*RECVOPTS`, ""},
	{ControlMsg, "IP_RETOPTS (recv and send)", `RECVCMSG/.*RETOPTS`, ""},
	{ControlMsg, "IP_ORIGDSTADDR (recv)", `RECVCMSG/.*ORIGDSTADDR`, ""},
	{ControlMsg, "IP_RECVERR (MSG_ERRQUEUE)", `ERRQUEUE/|RECVERR`, ""},
	{ControlMsg, "SCM_SECURITY (IP_PASSSEC)", `PASSSEC`, ""},
	// /proc/sys/net/ipv4 knobs, as a sandbox runtime forwards writes under /proc/sys.
	{ProcKnob, "ip_default_ttl", `IP_DEFAULT_TTL`, ""},
	{ProcKnob, "ip_local_port_range", `BIND/EPHEMERAL_PORT|IP_LOCAL_PORT_RANGE`, ""},
	{ProcKnob, "ip_nonlocal_bind", `NONLOCAL_BIND`, ""},
	{ProcKnob, "ip_no_pmtu_disc", `NO_PMTU_DISC`, ""},
	{ProcKnob, "ping_group_range", `PING/.*GROUP_RANGE`, ""},
	{ProcKnob, "ip_forward", `SYSCTL/IP_FORWARD`, ""},
	{ProcKnob, "ip_dynaddr", `SYSCTL/IP_DYNADDR`, ""},
	{ProcKnob, "ipfrag_high_thresh / ipfrag_low_thresh", `SYSCTL/IPFRAG_`, ""},
	{ProcKnob, "neigh/*", `SYSCTL/NEIGH`, ""},
	{ProcKnob, "ip_always_defrag", ``, "removed from Linux in 2.4; Linux has no such file either"},
	{ProcKnob, "ip_autoconfig", ``, "removed from Linux in 2.6.18; Linux has no such file either"},
	// ioctls of socket(7) that apply to IP sockets.
	{Ioctl, "SIOCGSTAMP", `IOCTL/SIOCGSTAMP`, ""},
	{Ioctl, "FIONREAD / SIOCINQ", `IOCTL/(FIONREAD|SIOCINQ)`, ""},
	{Ioctl, "SIOCOUTQ", `IOCTL/SIOCOUTQ`, ""},
	{Ioctl, "SIOCGIFCONF / SIOCGIFFLAGS (netdevice(7))", `IOCTL/SIOCGIF`, ""},
	// The ERRORS section of ip(7).
	{Errno, "EACCES: broadcast without SO_BROADCAST", `UDP/BROADCAST_PERMISSION|CONNECT/UDP_UNREACHABLE_AND_BROADCAST`, ""},
	{Errno, "EACCES: privileged port without CAP_NET_BIND_SERVICE", ``, ""},
	{Errno, "EADDRINUSE", `BIND/(UDP|TCP)_IN_USE`, ""},
	{Errno, "EADDRNOTAVAIL", `BIND/ADDRESS_KINDS`, ""},
	{Errno, "EAGAIN", `EAGAIN`, ""},
	{Errno, "EALREADY", `TCP_NONBLOCKING$`, ""},
	{Errno, "ECONNABORTED", ``, ""},
	{Errno, "ECONNREFUSED", `TCP_REFUSED|NONBLOCKING_REFUSED|UDP/PORT_UNREACHABLE`, ""},
	{Errno, "EHOSTUNREACH", `ICMP/`, ""},
	{Errno, "EINVAL", `BIND/(ADDRLEN|TWICE)|SHUTDOWN/BAD_HOW|SET_LEN_0`, ""},
	{Errno, "EISCONN", `TCP_NONBLOCKING$|TCP/LISTEN_UNBOUND`, ""},
	{Errno, "EMSGSIZE", `UDP/MESSAGE_SIZE_LIMIT`, ""},
	{Errno, "ENOBUFS", ``, ""},
	{Errno, "ENOPROTOOPT", `UNKNOWN_OPTIONS|IP_HDRINCL/NON_RAW`, ""},
	{Errno, "ENOTCONN", `SHUTDOWN/UNCONNECTED|TCP/UNCONNECTED_ERRORS|CONNECT/UDP_NAMES`, ""},
	{Errno, "EOPNOTSUPP", `TCP/LISTEN_UNBOUND`, ""},
	{Errno, "EPERM", ``, ""},
	{Errno, "EPIPE", `SEND_AFTER_PEER_RESET`, ""},
	{Errno, "ESOCKTNOSUPPORT / EPROTONOSUPPORT", `SOCKET/(MISMATCHED_PROTOCOL|BAD_PROTOCOL_NUMBERS|TYPES|RAW_NEEDS_PROTOCOL)`, ""},
	{Errno, "EAFNOSUPPORT", `BIND/FAMILY|SOCKET/BAD_FAMILY`, ""},
	{Errno, "EDESTADDRREQ", `UDP/EDESTADDRREQ`, ""},
	// FreeBSD ip(4): not Linux options. A Linux program uses the equivalent named
	// in the note; the FreeBSD numbers mean other things (or nothing) on Linux, and
	// netsandbox answers them as Linux does.
	{BSDOption, "IP_RECVDSTADDR", ``, "Linux: IP_PKTINFO (ipi_addr) or IP_RECVORIGDSTADDR"},
	{BSDOption, "IP_SENDSRCADDR", ``, "Linux: IP_PKTINFO on sendmsg (ipi_spec_dst)"},
	{BSDOption, "IP_RECVIF", ``, "Linux: IP_PKTINFO (ipi_ifindex)"},
	{BSDOption, "IP_ONESBCAST", ``, "no Linux equivalent"},
	{BSDOption, "IP_BINDANY", ``, "Linux: IP_FREEBIND / IP_TRANSPARENT"},
	{BSDOption, "IP_DONTFRAG", ``, "Linux: IP_MTU_DISCOVER = IP_PMTUDISC_DO"},
	{BSDOption, "IP_PORTRANGE", ``, "Linux: ip_local_port_range, IP_LOCAL_PORT_RANGE"},
}
