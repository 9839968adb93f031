package freebsd

// FreeBSD's numbers (sys/netinet/in.h, sys/sys/socket.h). They are the
// FreeBSD ABI; the Linux ones live in golang.org/x/sys/unix.
const (
	IPPROTO_IP = 0
	SOL_SOCKET = 0xffff
	AF_INET    = 2
	AF_LINK    = 18

	IP_OPTIONS                = 1
	IP_HDRINCL                = 2
	IP_TOS                    = 3
	IP_TTL                    = 4
	IP_RECVOPTS               = 5
	IP_RECVRETOPTS            = 6
	IP_RECVDSTADDR            = 7
	IP_SENDSRCADDR            = IP_RECVDSTADDR
	IP_RETOPTS                = 8
	IP_MULTICAST_IF           = 9
	IP_MULTICAST_TTL          = 10
	IP_MULTICAST_LOOP         = 11
	IP_ADD_MEMBERSHIP         = 12
	IP_DROP_MEMBERSHIP        = 13
	IP_PORTRANGE              = 19
	IP_RECVIF                 = 20
	IP_ONESBCAST              = 23
	IP_BINDANY                = 24
	IP_RECVTTL                = 65
	IP_MINTTL                 = 66
	IP_DONTFRAG               = 67
	IP_RECVTOS                = 68
	IP_ADD_SOURCE_MEMBERSHIP  = 70
	IP_DROP_SOURCE_MEMBERSHIP = 71
	IP_BLOCK_SOURCE           = 72
	IP_UNBLOCK_SOURCE         = 73
	IP_MSFILTER               = 74
	MCAST_JOIN_GROUP          = 80
	MCAST_LEAVE_GROUP         = 81
	MCAST_JOIN_SOURCE_GROUP   = 82
	MCAST_LEAVE_SOURCE_GROUP  = 83
	MCAST_BLOCK_SOURCE        = 84
	MCAST_UNBLOCK_SOURCE      = 85

	IP_PORTRANGE_DEFAULT = 0
	IP_PORTRANGE_HIGH    = 1
	IP_PORTRANGE_LOW     = 2

	SO_REUSEADDR = 0x4
	SO_BROADCAST = 0x20
	SO_REUSEPORT = 0x200

	MSG_OOB       = 0x1
	MSG_PEEK      = 0x2
	MSG_DONTROUTE = 0x4
	MSG_EOR       = 0x8
	MSG_TRUNC     = 0x10
	MSG_CTRUNC    = 0x20
	MSG_WAITALL   = 0x40
	MSG_DONTWAIT  = 0x80
	MSG_NOSIGNAL  = 0x20000

	// IFT_ETHER and IFT_LOOP are sdl_type values (net/if_types.h).
	IFT_ETHER = 0x6
	IFT_LOOP  = 0x18

	// MAXTTL bounds IP_MINTTL (netinet/ip.h).
	MAXTTL = 255
	// MLEN is the most IP_OPTIONS bytes ip_ctloutput copies into an mbuf
	// (MSIZE 256 less the 32-byte m_hdr on amd64); more is EMSGSIZE.
	MLEN = 224
	// MAX_IPOPTLEN is the IP options area (netinet/ip_var.h).
	MAX_IPOPTLEN = 40
)
