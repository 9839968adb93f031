// Option numbers re-exported from golang.org/x/sys/unix (linux, amd64 values),
// so callers of this package need no second import for them.

package options

import "golang.org/x/sys/unix"

// Socket option levels.
const (
	SOL_SOCKET = unix.SOL_SOCKET
	SOL_IP     = unix.SOL_IP
)

// sock_extended_err origins and flags.
const (
	SO_EE_ORIGIN_ICMP          = unix.SO_EE_ORIGIN_ICMP
	SO_EE_ORIGIN_ICMP6         = unix.SO_EE_ORIGIN_ICMP6
	SO_EE_ORIGIN_LOCAL         = unix.SO_EE_ORIGIN_LOCAL
	SO_EE_ORIGIN_NONE          = unix.SO_EE_ORIGIN_NONE
	SO_EE_ORIGIN_TIMESTAMPING  = unix.SO_EE_ORIGIN_TIMESTAMPING
	SO_EE_ORIGIN_TXSTATUS      = unix.SO_EE_ORIGIN_TXSTATUS
	SO_EE_ORIGIN_TXTIME        = unix.SO_EE_ORIGIN_TXTIME
	SO_EE_ORIGIN_ZEROCOPY      = unix.SO_EE_ORIGIN_ZEROCOPY
	SO_EE_RFC4884_FLAG_INVALID = unix.SO_EE_RFC4884_FLAG_INVALID
)

// SOL_SOCKET option numbers (asm-generic values, as on x86_64).
const (
	SO_ACCEPTCONN            = unix.SO_ACCEPTCONN
	SO_ATTACH_BPF            = unix.SO_ATTACH_BPF
	SO_ATTACH_FILTER         = unix.SO_ATTACH_FILTER
	SO_ATTACH_REUSEPORT_CBPF = unix.SO_ATTACH_REUSEPORT_CBPF
	SO_ATTACH_REUSEPORT_EBPF = unix.SO_ATTACH_REUSEPORT_EBPF
	SO_BINDTODEVICE          = unix.SO_BINDTODEVICE
	SO_BINDTOIFINDEX         = unix.SO_BINDTOIFINDEX
	SO_BPF_EXTENSIONS        = unix.SO_BPF_EXTENSIONS
	SO_BROADCAST             = unix.SO_BROADCAST
	SO_BSDCOMPAT             = unix.SO_BSDCOMPAT
	SO_BUF_LOCK              = unix.SO_BUF_LOCK
	SO_BUSY_POLL             = unix.SO_BUSY_POLL
	SO_BUSY_POLL_BUDGET      = unix.SO_BUSY_POLL_BUDGET
	SO_CNX_ADVICE            = unix.SO_CNX_ADVICE
	SO_COOKIE                = unix.SO_COOKIE
	SO_DEBUG                 = unix.SO_DEBUG
	SO_DETACH_BPF            = unix.SO_DETACH_BPF
	SO_DETACH_FILTER         = unix.SO_DETACH_FILTER
	SO_DETACH_REUSEPORT_BPF  = unix.SO_DETACH_REUSEPORT_BPF
	SO_DEVMEM_DMABUF         = unix.SO_DEVMEM_DMABUF
	SO_DEVMEM_DONTNEED       = unix.SO_DEVMEM_DONTNEED
	SO_DEVMEM_LINEAR         = unix.SO_DEVMEM_LINEAR
	SO_DOMAIN                = unix.SO_DOMAIN
	SO_DONTROUTE             = unix.SO_DONTROUTE
	SO_ERROR                 = unix.SO_ERROR
	SO_GET_FILTER            = unix.SO_GET_FILTER
	SO_INCOMING_CPU          = unix.SO_INCOMING_CPU
	SO_INCOMING_NAPI_ID      = unix.SO_INCOMING_NAPI_ID
	SO_INQ                   = unix.SO_INQ
	SO_KEEPALIVE             = unix.SO_KEEPALIVE
	SO_LINGER                = unix.SO_LINGER
	SO_LOCK_FILTER           = unix.SO_LOCK_FILTER
	SO_MARK                  = unix.SO_MARK
	SO_MAX_PACING_RATE       = unix.SO_MAX_PACING_RATE
	SO_MEMINFO               = unix.SO_MEMINFO
	SO_NETNS_COOKIE          = unix.SO_NETNS_COOKIE
	SO_NOFCS                 = unix.SO_NOFCS
	SO_NO_CHECK              = unix.SO_NO_CHECK
	SO_OOBINLINE             = unix.SO_OOBINLINE
	SO_PASSCRED              = unix.SO_PASSCRED
	SO_PASSPIDFD             = unix.SO_PASSPIDFD
	SO_PASSRIGHTS            = unix.SO_PASSRIGHTS
	SO_PASSSEC               = unix.SO_PASSSEC
	SO_PEEK_OFF              = unix.SO_PEEK_OFF
	SO_PEERCRED              = unix.SO_PEERCRED
	SO_PEERGROUPS            = unix.SO_PEERGROUPS
	SO_PEERNAME              = unix.SO_PEERNAME
	SO_PEERPIDFD             = unix.SO_PEERPIDFD
	SO_PEERSEC               = unix.SO_PEERSEC
	SO_PREFER_BUSY_POLL      = unix.SO_PREFER_BUSY_POLL
	SO_PRIORITY              = unix.SO_PRIORITY
	SO_PROTOCOL              = unix.SO_PROTOCOL
	SO_RCVBUF                = unix.SO_RCVBUF
	SO_RCVBUFFORCE           = unix.SO_RCVBUFFORCE
	SO_RCVLOWAT              = unix.SO_RCVLOWAT
	SO_RCVMARK               = unix.SO_RCVMARK
	SO_RCVPRIORITY           = unix.SO_RCVPRIORITY
	SO_RCVTIMEO              = unix.SO_RCVTIMEO
	SO_RCVTIMEO_NEW          = unix.SO_RCVTIMEO_NEW
	SO_RCVTIMEO_OLD          = unix.SO_RCVTIMEO_OLD
	SO_RESERVE_MEM           = unix.SO_RESERVE_MEM
	SO_REUSEADDR             = unix.SO_REUSEADDR
	SO_REUSEPORT             = unix.SO_REUSEPORT
	SO_RXQ_OVFL              = unix.SO_RXQ_OVFL
	SO_SELECT_ERR_QUEUE      = unix.SO_SELECT_ERR_QUEUE
	SO_SNDBUF                = unix.SO_SNDBUF
	SO_SNDBUFFORCE           = unix.SO_SNDBUFFORCE
	SO_SNDLOWAT              = unix.SO_SNDLOWAT
	SO_SNDTIMEO              = unix.SO_SNDTIMEO
	SO_SNDTIMEO_NEW          = unix.SO_SNDTIMEO_NEW
	SO_SNDTIMEO_OLD          = unix.SO_SNDTIMEO_OLD
	SO_TIMESTAMP             = unix.SO_TIMESTAMP
	SO_TIMESTAMPING          = unix.SO_TIMESTAMPING
	SO_TIMESTAMPING_NEW      = unix.SO_TIMESTAMPING_NEW
	SO_TIMESTAMPING_OLD      = unix.SO_TIMESTAMPING_OLD
	SO_TIMESTAMPNS           = unix.SO_TIMESTAMPNS
	SO_TIMESTAMPNS_NEW       = unix.SO_TIMESTAMPNS_NEW
	SO_TIMESTAMPNS_OLD       = unix.SO_TIMESTAMPNS_OLD
	SO_TIMESTAMP_NEW         = unix.SO_TIMESTAMP_NEW
	SO_TIMESTAMP_OLD         = unix.SO_TIMESTAMP_OLD
	SO_TXREHASH              = unix.SO_TXREHASH
	SO_TXTIME                = unix.SO_TXTIME
	SO_TYPE                  = unix.SO_TYPE
	SO_WIFI_STATUS           = unix.SO_WIFI_STATUS
	SO_ZEROCOPY              = unix.SO_ZEROCOPY
)

// SOL_SOCKET control-message types.
const (
	SCM_CREDENTIALS            = unix.SCM_CREDENTIALS
	SCM_DEVMEM_DMABUF          = unix.SCM_DEVMEM_DMABUF
	SCM_DEVMEM_LINEAR          = unix.SCM_DEVMEM_LINEAR
	SCM_INQ                    = unix.SCM_INQ
	SCM_PIDFD                  = unix.SCM_PIDFD
	SCM_RIGHTS                 = unix.SCM_RIGHTS
	SCM_SECURITY               = unix.SCM_SECURITY
	SCM_TIMESTAMP              = unix.SCM_TIMESTAMP
	SCM_TIMESTAMPING           = unix.SCM_TIMESTAMPING
	SCM_TIMESTAMPING_OPT_STATS = unix.SCM_TIMESTAMPING_OPT_STATS
	SCM_TIMESTAMPING_PKTINFO   = unix.SCM_TIMESTAMPING_PKTINFO
	SCM_TIMESTAMPNS            = unix.SCM_TIMESTAMPNS
	SCM_TS_OPT_ID              = unix.SCM_TS_OPT_ID
	SCM_TXTIME                 = unix.SCM_TXTIME
	SCM_WIFI_STATUS            = unix.SCM_WIFI_STATUS
)

// IP_MTU_DISCOVER values.
const (
	IP_PMTUDISC_DO        = unix.IP_PMTUDISC_DO
	IP_PMTUDISC_DONT      = unix.IP_PMTUDISC_DONT
	IP_PMTUDISC_INTERFACE = unix.IP_PMTUDISC_INTERFACE
	IP_PMTUDISC_OMIT      = unix.IP_PMTUDISC_OMIT
	IP_PMTUDISC_PROBE     = unix.IP_PMTUDISC_PROBE
	IP_PMTUDISC_WANT      = unix.IP_PMTUDISC_WANT
)

// SOL_IP option numbers and cmsg types.
const (
	IP_ADD_MEMBERSHIP         = unix.IP_ADD_MEMBERSHIP
	IP_ADD_SOURCE_MEMBERSHIP  = unix.IP_ADD_SOURCE_MEMBERSHIP
	IP_BIND_ADDRESS_NO_PORT   = unix.IP_BIND_ADDRESS_NO_PORT
	IP_BLOCK_SOURCE           = unix.IP_BLOCK_SOURCE
	IP_CHECKSUM               = unix.IP_CHECKSUM
	IP_DEFAULT_MULTICAST_LOOP = unix.IP_DEFAULT_MULTICAST_LOOP
	IP_DEFAULT_MULTICAST_TTL  = unix.IP_DEFAULT_MULTICAST_TTL
	IP_DROP_MEMBERSHIP        = unix.IP_DROP_MEMBERSHIP
	IP_DROP_SOURCE_MEMBERSHIP = unix.IP_DROP_SOURCE_MEMBERSHIP
	IP_FREEBIND               = unix.IP_FREEBIND
	IP_HDRINCL                = unix.IP_HDRINCL
	IP_IPSEC_POLICY           = unix.IP_IPSEC_POLICY
	IP_LOCAL_PORT_RANGE       = unix.IP_LOCAL_PORT_RANGE
	IP_MAX_MEMBERSHIPS        = unix.IP_MAX_MEMBERSHIPS
	IP_MINTTL                 = unix.IP_MINTTL
	IP_MSFILTER               = unix.IP_MSFILTER
	IP_MTU                    = unix.IP_MTU
	IP_MTU_DISCOVER           = unix.IP_MTU_DISCOVER
	IP_MULTICAST_ALL          = unix.IP_MULTICAST_ALL
	IP_MULTICAST_IF           = unix.IP_MULTICAST_IF
	IP_MULTICAST_LOOP         = unix.IP_MULTICAST_LOOP
	IP_MULTICAST_TTL          = unix.IP_MULTICAST_TTL
	IP_NODEFRAG               = unix.IP_NODEFRAG
	IP_OPTIONS                = unix.IP_OPTIONS
	IP_ORIGDSTADDR            = unix.IP_ORIGDSTADDR
	IP_PASSSEC                = unix.IP_PASSSEC
	IP_PKTINFO                = unix.IP_PKTINFO
	IP_PKTOPTIONS             = unix.IP_PKTOPTIONS
	IP_PROTOCOL               = unix.IP_PROTOCOL
	IP_RECVERR                = unix.IP_RECVERR
	IP_RECVERR_RFC4884        = unix.IP_RECVERR_RFC4884
	IP_RECVFRAGSIZE           = unix.IP_RECVFRAGSIZE
	IP_RECVOPTS               = unix.IP_RECVOPTS
	IP_RECVORIGDSTADDR        = unix.IP_RECVORIGDSTADDR
	IP_RECVRETOPTS            = unix.IP_RECVRETOPTS
	IP_RECVTOS                = unix.IP_RECVTOS
	IP_RECVTTL                = unix.IP_RECVTTL
	IP_RETOPTS                = unix.IP_RETOPTS
	IP_ROUTER_ALERT           = unix.IP_ROUTER_ALERT
	IP_TOS                    = unix.IP_TOS
	IP_TRANSPARENT            = unix.IP_TRANSPARENT
	IP_TTL                    = unix.IP_TTL
	IP_UNBLOCK_SOURCE         = unix.IP_UNBLOCK_SOURCE
	IP_UNICAST_IF             = unix.IP_UNICAST_IF
	IP_XFRM_POLICY            = unix.IP_XFRM_POLICY
)

// Protocol-independent multicast options and filter modes (RFC 3678).
const (
	MCAST_BLOCK_SOURCE       = unix.MCAST_BLOCK_SOURCE
	MCAST_EXCLUDE            = unix.MCAST_EXCLUDE
	MCAST_INCLUDE            = unix.MCAST_INCLUDE
	MCAST_JOIN_GROUP         = unix.MCAST_JOIN_GROUP
	MCAST_JOIN_SOURCE_GROUP  = unix.MCAST_JOIN_SOURCE_GROUP
	MCAST_LEAVE_GROUP        = unix.MCAST_LEAVE_GROUP
	MCAST_LEAVE_SOURCE_GROUP = unix.MCAST_LEAVE_SOURCE_GROUP
	MCAST_MSFILTER           = unix.MCAST_MSFILTER
	MCAST_UNBLOCK_SOURCE     = unix.MCAST_UNBLOCK_SOURCE
)
