// Package freebsd is netsandbox's FreeBSD ip(4) personality: a socket that
// speaks FreeBSD's IP-level ABI (FreeBSD/amd64) on the same Linux-faithful
// stack as endpoint.New's sockets.
//
// # Design
//
// The personality is chosen when a socket is made: freebsd.New(st, domain,
// typ, proto) returns a *Socket that wraps an endpoint.Socket of the same
// stack. The wrapped socket does the work (binding, routing, queues, the
// wire); the wrapper translates, at the boundary, everything whose bytes or
// rules differ on FreeBSD:
//
//   - option numbers of level IPPROTO_IP (netinet/in.h: IP_TOS is 3, IP_TTL
//     4, IP_RECVDSTADDR 7, IP_RECVIF 20, IP_RECVTTL 65, IP_MINTTL 66,
//     IP_DONTFRAG 67, IP_RECVTOS 68, ...) and their value rules:
//     ip_ctloutput's sooptcopyin takes an int and nothing shorter (EINVAL),
//     IP_TTL and IP_TOS keep the low byte of any int (TTL 0 is allowed),
//     getsockopt answers sooptcopyout's min(4, optlen) bytes;
//   - the socket level SOL_SOCKET = 0xffff with the boolean options
//     SO_REUSEADDR (4), SO_BROADCAST (0x20) and SO_REUSEPORT (0x200); other
//     socket-level options answer ENOPROTOOPT. Levels other than IPPROTO_IP
//     and 0xffff (IPPROTO_TCP, IPPROTO_UDP) are passed to the wrapped socket
//     untranslated: their numbers and rules are Linux's;
//   - struct sockaddr_in with sin_len (getsockaddr sets it from namelen; a
//     length other than 16 is EINVAL; connect and sendto refuse a family
//     other than AF_INET with EAFNOSUPPORT, bind does not look at it), and
//     every sockaddr handed back carries sin_len = 16;
//   - control messages in FreeBSD's layout: a 12-byte cmsghdr (socklen_t
//     cmsg_len, int level, int type) padded to 16, data aligned to 8;
//     IP_RECVDSTADDR is a bare in_addr, IP_RECVTTL and IP_RECVTOS one u_char,
//     IP_RECVIF a struct sockaddr_dl (56 bytes, as if_attach_internal sizes
//     an interface's link address), in ip_savecontrol's order; on sendmsg
//     IP_SENDSRCADDR (= IP_RECVDSTADDR) and IP_TOS (one u_char) with
//     udp_output's checks;
//   - msghdr flags (MSG_DONTWAIT 0x80, MSG_TRUNC 0x10, MSG_CTRUNC 0x20,
//     MSG_WAITALL 0x40, MSG_EOR 8, MSG_NOSIGNAL 0x20000).
//
// IP_MINTTL also drops UDP and raw datagrams below it (udp_input and
// rip_input; for UDP the stack's own check, endpoint.SetDatagramMinTTL, for
// raw sockets recvmsg's), where Linux's applies to TCP only. Raw sockets
// get the same control messages as UDP (rip_input calls ip_savecontrol).
//
// Defaults follow FreeBSD where they differ: UDP and raw sockets leave
// without DF unless IP_DONTFRAG is set (the wrapped socket runs with
// IP_PMTUDISC_DONT, and IP_DONTFRAG switches it to IP_PMTUDISC_DO, which
// sets DF and answers EMSGSIZE over the route's MTU, as ip_output does).
//
// # Errors
//
// Every method returns a unix.Errno, and its numbering is Linux's: the
// value identifies the condition (errors.Is(err, unix.EINVAL) works, as for
// endpoint sockets). A FreeBSD-ABI layer that must write the guest's errno
// converts it with Errno, which gives FreeBSD's number (sys/sys/errno.h:
// EAGAIN 35, EMSGSIZE 40, ENOPROTOOPT 42, EADDRNOTAVAIL 49, ...).
//
// ip(4)'s ERRORS section says an unknown option is EINVAL; FreeBSD's source
// decides otherwise and the source wins: ip_ctloutput's default case is
// ENOPROTOOPT for an unknown IPPROTO_IP name, and EINVAL is its answer for a
// level it does not know. Both are what this package answers.
//
// # What is done and what is not
//
// Done, each pinned by a scenario of test/scenarios/freebsd*.go citing the
// FreeBSD source that decides it: IP_OPTIONS, IP_TOS, IP_TTL, IP_MINTTL,
// IP_DONTFRAG, IP_RECVDSTADDR, IP_SENDSRCADDR, IP_RECVTTL, IP_RECVTOS,
// IP_RECVIF, IP_RECVOPTS/IP_RECVRETOPTS (kept and read back; FreeBSD's
// ip_savecontrol delivers nothing for them: "notyet"), and:
//
//   - IP_ONESBCAST (UDP, and raw without IP_HDRINCL): a datagram to an
//     interface's directed broadcast address leaves to 255.255.255.255
//     through that interface; a broadcast needs SO_BROADCAST (EACCES) but
//     from a raw socket (rip_output always allows it) and is never
//     fragmented (EMSGSIZE over the interface MTU), as ip_output decides;
//   - IP_BINDANY: FreeBSD's PRIV_NETINET_BINDANY is the stack's
//     CapNetAdmin (EPERM without it, before the value is read); the socket
//     binds and sends from any address (IP_FREEBIND and IP_TRANSPARENT on
//     the wrapped socket), IP_SENDSRCADDR included;
//   - IP_PORTRANGE: every port the socket is given (bind to port 0, and the
//     implicit binds of connect, sendto and listen) is picked here from the
//     range's net.inet.ip.portrange knobs (Sysctl: first/last 10000..65535,
//     hifirst/hilast 49152..65535, lowfirst/lowlast 1023..600,
//     randomized, randomcps, randomtime, reservedlow/reservedhigh), as
//     FreeBSD 8's in_pcbbind_setup does, the version of the ip(4) page:
//     from the range's last port, counting down for LOW, at a random point
//     when randomized (TCP only while ipport_tick allows it), LOW needing
//     the reserved-port privilege (CapNetBindService; EPERM), an explicit
//     port in reservedlow..reservedhigh too (EACCES). FreeBSD 10 and later
//     count every range upwards;
//   - IP_HDRINCL on raw sockets (rip_ctloutput; read back as INP_HDRINCL,
//     8; off at creation even for IPPROTO_RAW, unlike Linux): the datagram
//     written has ip_len and ip_off in host byte order, checked as FreeBSD
//     8's rip_output does (LinuxHeader); ip_id 0 and source 0.0.0.0 are
//     filled by the stack. FreeBSD 11 and later take both fields in network
//     order and refuse any ip_len but the length written;
//   - the multicast options of FreeBSD 8's in_mcast.c, with the socket's
//     own ip_moptions (mcast.go): IP_MULTICAST_TTL/LOOP (u_char or int;
//     defaults 1, the loop default from net.inet.ip.mcast.loop once the
//     options exist), IP_MULTICAST_IF (in_addr or ip_mreqn),
//     IP_ADD/DROP_MEMBERSHIP, IP_ADD/DROP_SOURCE_MEMBERSHIP and
//     IP_BLOCK/UNBLOCK_SOURCE with struct ip_mreq_source's FreeBSD layout
//     (source before interface) and inp_join_group's, inp_leave_group's and
//     inp_block_unblock_source's errors, and the same through MCAST_JOIN_GROUP
//     and the other protocol-independent options with FreeBSD's struct
//     group_req and group_source_req, and IP_MSFILTER (struct
//     __msfilterreq, whose msfr_srcs pointer stands for the
//     sockaddr_storage array after the structure in the option buffer, as
//     endpoint's SIOCGIFCONF does; net.inet.ip.mcast.maxsocksrc); only
//     datagram and raw sockets (EOPNOTSUPP).
//
// Multicast limits are FreeBSD's: IP_MAX_MEMBERSHIPS (4095, then
// ETOOMANYREFS) per socket and net.inet.ip.mcast.maxgrpsrc (sources of a
// group on an interface over every FreeBSD socket of the stack, then
// ENOSPC); the wrapped socket's Linux limits are lifted
// (endpoint.SetMulticastLimits).
//
// Not done, or done differently (each listed in the README too):
//
//   - raw sockets of the personality receive the IP header as the stack
//     delivers it (network order; FreeBSD 8 hands ip_len and ip_off over
//     in host order) and apply no IP_ONESBCAST with IP_HDRINCL; a
//     header-included datagram over the MTU without DF is EMSGSIZE
//     (FreeBSD fragments it); their IP_MINTTL drops datagrams when they are
//     read, so poll may report one that recvmsg then discards;
//   - TTL 0 (allowed by FreeBSD) leaves as 0 on UDP and raw sockets; TCP
//     sockets keep and read it back but send with the default TTL;
//   - a directed broadcast is the subnet's all-ones address only (not
//     in_broadcast's all-zeros network address);
//   - SOL_SOCKET (0xffff) knows SO_REUSEADDR, SO_BROADCAST and SO_REUSEPORT
//     only (ENOPROTOOPT for the others); IPPROTO_TCP and IPPROTO_UDP options
//     keep Linux's numbers and rules.
package freebsd
