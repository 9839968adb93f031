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
	{SocketOption, "SO_BROADCAST", `SO_BROADCAST`, "EACCES for a broadcast destination without it"},
	{SocketOption, "SO_ERROR", `SO_ERROR`, ""},
	{SocketOption, "SO_REUSEADDR", `SO_REUSEADDR`, "bind conflict rules"},
	{SocketOption, "SO_REUSEPORT", `SO_REUSEPORT`, "bind conflict rules"},
	{SocketOption, "SO_RCVBUF", `SO_RCVBUF`, "doubling, clamps to rmem_max, minimum"},
	{SocketOption, "SO_SNDBUF", `SO_SNDBUF`, "doubling, clamps to wmem_max, minimum"},
	{SocketOption, "SO_RCVBUFFORCE / SO_SNDBUFFORCE", `SO_(RCV|SND)BUFFORCE`, ""},
	{SocketOption, "SO_TYPE", `SO_TYPE`, ""},
	{SocketOption, "SO_PROTOCOL", `SO_PROTOCOL`, ""},
	{SocketOption, "SO_DOMAIN", `SO_DOMAIN`, ""},
	{SocketOption, "SO_ACCEPTCONN", `SO_ACCEPTCONN`, ""},
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
	{ControlMsg, "IP_PKTINFO (recv)", `cmsg/recv/IP_PKTINFO`, ""},
	{ControlMsg, "IP_PKTINFO (send)", `cmsg/send/IP_PKTINFO`, ""},
	{ControlMsg, "IP_TTL (recv)", `cmsg/recv/IP_TTL`, ""},
	{ControlMsg, "IP_TTL (send)", `cmsg/send/IP_TTL`, ""},
	{ControlMsg, "IP_TOS (recv)", `cmsg/recv/IP_TOS`, ""},
	{ControlMsg, "IP_TOS (send)", `cmsg/send/IP_TOS`, ""},
	{ControlMsg, "IP_OPTIONS / IP_RECVOPTS (recv)", `cmsg/recv/IP_(RECV)?OPTS`, ""},
	{ControlMsg, "IP_RETOPTS (recv and send)", `cmsg/.*/IP_RETOPTS`, ""},
	{ControlMsg, "IP_ORIGDSTADDR (recv)", `cmsg/recv/IP_ORIGDSTADDR`, ""},
	{ControlMsg, "IP_RECVERR (MSG_ERRQUEUE)", `errqueue/`, ""},
	{ControlMsg, "SCM_SECURITY (IP_PASSSEC)", `cmsg/recv/SCM_SECURITY`, ""},
	// /proc/sys/net/ipv4 knobs, as a sandbox runtime forwards writes under /proc/sys.
	{ProcKnob, "ip_default_ttl", `sysctl/ip_default_ttl`, ""},
	{ProcKnob, "ip_local_port_range", `sysctl/ip_local_port_range`, ""},
	{ProcKnob, "ip_nonlocal_bind", `sysctl/ip_nonlocal_bind`, ""},
	{ProcKnob, "ip_no_pmtu_disc", `sysctl/ip_no_pmtu_disc`, ""},
	{ProcKnob, "ping_group_range", `ping_group_range`, ""},
	{ProcKnob, "ip_forward", `sysctl/ip_forward`, ""},
	{ProcKnob, "ip_dynaddr", `sysctl/ip_dynaddr`, ""},
	{ProcKnob, "ipfrag_high_thresh / ipfrag_low_thresh", `sysctl/ipfrag_`, ""},
	{ProcKnob, "neigh/*", `sysctl/neigh`, ""},
	{ProcKnob, "ip_always_defrag", ``, "removed from Linux in 2.4; Linux has no such file either"},
	{ProcKnob, "ip_autoconfig", ``, "removed from Linux in 2.6.18; Linux has no such file either"},
	// ioctls of socket(7) that apply to IP sockets.
	{Ioctl, "SIOCGSTAMP", `ioctl/SIOCGSTAMP`, ""},
	{Ioctl, "FIONREAD / SIOCINQ", `ioctl/(FIONREAD|SIOCINQ)`, ""},
	{Ioctl, "SIOCOUTQ", `ioctl/SIOCOUTQ`, ""},
	{Ioctl, "SIOCGIFCONF / SIOCGIFFLAGS (netdevice(7))", `ioctl/SIOCGIF`, ""},
	// The ERRORS section of ip(7).
	{Errno, "EACCES: broadcast without SO_BROADCAST", `SO_BROADCAST`, ""},
	{Errno, "EACCES: privileged port without CAP_NET_BIND_SERVICE", `bind/.*privileged`, ""},
	{Errno, "EADDRINUSE", `EADDRINUSE`, ""},
	{Errno, "EADDRNOTAVAIL", `EADDRNOTAVAIL`, ""},
	{Errno, "EAGAIN", `EAGAIN`, ""},
	{Errno, "EALREADY", `EALREADY`, ""},
	{Errno, "ECONNABORTED", `ECONNABORTED`, ""},
	{Errno, "ECONNREFUSED", `ECONNREFUSED`, ""},
	{Errno, "EHOSTUNREACH", `EHOSTUNREACH`, ""},
	{Errno, "EINVAL", `EINVAL`, ""},
	{Errno, "EISCONN", `EISCONN`, ""},
	{Errno, "EMSGSIZE", `EMSGSIZE`, ""},
	{Errno, "ENOBUFS", `ENOBUFS`, ""},
	{Errno, "ENOPROTOOPT", `ENOPROTOOPT`, ""},
	{Errno, "ENOTCONN", `ENOTCONN`, ""},
	{Errno, "EOPNOTSUPP", `EOPNOTSUPP`, ""},
	{Errno, "EPERM", `EPERM`, ""},
	{Errno, "EPIPE", `EPIPE`, ""},
	{Errno, "ESOCKTNOSUPPORT / EPROTONOSUPPORT", `E(SOCKT|PROTO)NOSUPPORT`, ""},
	{Errno, "EAFNOSUPPORT", `EAFNOSUPPORT`, ""},
	{Errno, "EDESTADDRREQ", `EDESTADDRREQ`, ""},
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
