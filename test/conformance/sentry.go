package conformance

// Where gVisor's sentry decides, before or after netsandbox's socket sees
// a call (gvisor.dev/gvisor at the version in go.mod,
// v0.0.0-20260905035102-160fafc42237; paths under its pkg/sentry).
const (
	sentryProcsys = "sentry: /proc/sys/net is a fixed table built from the root namespace's inet.Stack " +
		"(fsimpl/proc/tasks_sys.go newSysNetDir): no net.ipv4.conf.*, ping_group_range, igmp_*, ip_default_ttl, neigh.*; " +
		"the rest are read-only stubs with fixed values (EIO on write), so a knob the scenario writes or reads never reaches netsandbox's sysctl table"
	sentryPack = "sentry: recvmsg control messages are packed by control.PackControlMessages (socket/control/control.go:336) " +
		"from socket.IPControlMessages: fixed order (timestamp, TOS, TTL, PKTINFO, ORIGDSTADDR, RECVERR) " +
		"and no field for IP_RECVOPTS, IP_RETOPTS, IP_CHECKSUM, IP_RECVFRAGSIZE, SO_RXQ_OVFL or SO_TIMESTAMPNS"
	sentryCtrunc = "sentry: a control message that does not fit is written as a bare 16-byte header, or not at all under 16 bytes " +
		"(socket/control/control.go:141 putCmsgStruct), where Linux writes the truncated message (put_cmsg)"
	sentryParse = "sentry: sendmsg control messages are parsed by control.Parse (socket/control/control.go:439): " +
		"a truncated header is EINVAL (:446), IP_TOS takes its first byte only (:505), IP_RETOPTS and any type it does not know are EINVAL (:607)"
	sentryParseSocket = "sentry: control.Parse (socket/control/control.go:463) decides SOL_SOCKET messages itself: SCM_RIGHTS looks up the fds " +
		"(an fd that is not open or a short body is EINVAL, :470), SCM_CREDENTIALS checks the pid (ESRCH, :78; EINVAL, :479), " +
		"and every other type (SO_MARK, SO_PRIORITY, SO_TIMESTAMPING, SCM_TXTIME) is EINVAL (:501); " +
		"Linux's inet sockets skip SCM_RIGHTS and SCM_CREDENTIALS and take the others (__sock_cmsg_send)"
	gvisorGSOCork = "gVisor's TCP: with GSO on the link (the plugin's, as stock runsc's) a corked or Nagle-delayed write is merged " +
		"into one segment of up to the GSO size (transport/tcp/snd.go:1097 limit, :864 merge) and held only while it is shorter " +
		"than one MSS (:892), so the partial tail leaves with the full segments; Linux cuts the burst at the last full segment " +
		"(tcp_mss_split_point)"
	sentryPack6 = "sentry: recvmsg control messages are packed by control.PackControlMessages (socket/control/control.go:336) " +
		"in its order (IPV6_TCLASS, IPV6_HOPLIMIT, then IPV6_PKTINFO); Linux's is IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS " +
		"(ip6_datagram_recv_specific_ctl)"
	sentry2292 = "sentry: control.PackControlMessages (socket/control/control.go:336) has no field for RFC 2292's IPV6_2292PKTINFO " +
		"and writes any hop limit as IPV6_HOPLIMIT (type 52, :269), in its own order; the plugin hands it an IPV6_2292HOPLIMIT as the hop limit"
	sentryDontFrag = "sentry: control.Parse refuses any SOL_IPV6 send message but IPV6_TCLASS, IPV6_HOPLIMIT and IPV6_PKTINFO " +
		"with EINVAL (socket/control/control.go:606), IPV6_DONTFRAG included, before the socket sees it; and PackControlMessages " +
		"(:336) has no IPV6_PATHMTU to hand a recvmsg"
	sentryParse6 = "sentry: control.Parse (socket/control/control.go) takes an IPV6_TCLASS message of any length of at least 4 bytes (:558) " +
		"where Linux wants exactly CMSG_LEN(4), refuses an IPV6_HOPLIMIT of -1 (:583, > MaxUint8) that Linux takes as the default, " +
		"and judges SOL_IP messages (IP_TTL 1000 is EINVAL, :520) that Linux skips on an AF_INET6 socket"
	sentrySendFlags = "sentry: sendmsg and sendto refuse any flag but MSG_DONTWAIT, MSG_EOR, MSG_MORE and MSG_NOSIGNAL with EINVAL " +
		"(syscalls/linux/sys_socket.go:980, :1022) before the socket sees the call; Linux's raw socket answers MSG_OOB with EOPNOTSUPP"
	sentryOptLen = "sentry: setsockopt refuses an optlen above maxOptLen (32 KiB) with EINVAL " +
		"(syscalls/linux/sys_socket.go:549) before the socket sees the call; Linux's limit is the option's own (optmem_max for a filter, ENOBUFS)"
	sentrySotype = "sentry: getsockopt SO_TYPE/SO_DOMAIN/SO_PROTOCOL is answered by the sentry, EINVAL under 4 bytes " +
		"(syscalls/linux/sys_socket.go:498); Linux writes the short value"
)

// SentryExpected lists the scenarios in which runsc-netsandbox differs from
// Linux only because of gVisor: its sentry, which sits between the
// program's system call and netsandbox's socket, or (tcpopt/cork) its TCP
// sender under the link's GSO; each reason names the gVisor code that
// decides it. A difference not listed here, nor in
// scenarios.Expected, is a netsandbox bug (in plugin/ or below). Measured
// with `netsandbox conformance --dut runsc-netsandbox` (FIDELITY.md).
var SentryExpected = map[string]string{
	// SOL_SOCKET control messages on sendmsg
	"cmsg/send-sol-socket-udp":          sentryParseSocket,
	"cmsg/send-sol-socket-raw":          sentryParseSocket,
	"cmsg/send-sol-socket-ping":         sentryParseSocket,
	"cmsg/send-sol-socket-unprivileged": sentryParseSocket,
	"cmsg/send-sol-socket-tcp":          sentryParseSocket,
	// AF_INET6 control messages (ipv6 group)
	"ipv6/udp-loopback-cmsgs":       sentryPack6,
	"ipv6/udp-send-cmsg-minus-one":  sentryParse6,
	"ipv6/udp-send-cmsg-lengths":    sentryParse6,
	"ipv6/udp-error-queue-ctrunc":   sentryCtrunc,
	"ipv6/mcast-source-optmem":      sentryOptLen,
	"ipv6/raw-icmp6-recv-cmsgs":     sentryPack6,
	"ipv6/udp-icmp6-errqueue-cmsgs": sentryPack6,
	"ipv6/udp-rfc2292-cmsgs":        sentry2292,
	"ipv6/udp-mapped-recv-cmsgs":    sentryPack,
	"ipv6/udp-mapped-send-retopts":  sentryParse,
	"ipv6/recvpathmtu":              sentryDontFrag,
	"ipv6/udp-ipv6-mtu-recvpathmtu": sentryDontFrag,
	"ipv6/udp-pmtu-fragments":       sentryProcsys, // net.ipv6.route.mtu_expires
	"ipv6/mld-force-v1":             sentryProcsys, // net.ipv6.conf.eth0.force_mld_version
	"udplite6/recv-cmsg-order":      sentryPack6,
	"ipv6/raw-send-msg-oob":         sentrySendFlags,
	// AF_INET6 ping sockets need net.ipv4.ping_group_range (procsys)
	"ipv6/ping-socket-group-range":     sentryProcsys,
	"ipv6/ping-loopback-echo":          sentryProcsys,
	"ipv6/ping-send-cmsgs":             sentryProcsys,
	"ipv6/ping-send-errors":            sentryProcsys,
	"ipv6/ping-bind":                   sentryProcsys,
	"ipv6/ping-connect":                sentryProcsys,
	"ipv6/ping-icmp6-errors":           sentryProcsys,
	"ipv6/ping-raw-local-emsgsize":     sentryProcsys,
	"ipv6/ping-minhopcount-unicast-if": sentryProcsys,
	"ipv6/dontfrag":                    sentryProcsys,
	"ipv6/nonlocal-bind-ping6":         sentryProcsys,
	"ipv6/ping-ipv6-mtu-sends":         sentryProcsys,
	// GSO on the plugin's link
	"tcpopt/cork": gvisorGSOCork,
	// SO_RXQ_OVFL is not packed
	"udplite/recv-coverage-from-peer": sentryPack,
	// procsys
	"bind/freebind-raw-ping":                 sentryProcsys,
	"bind/freebind-transparent":              sentryProcsys,
	"cmsg/ping-recv":                         sentryProcsys,
	"cmsg/send-ping-ctl":                     sentryProcsys,
	"cmsg/send-ping-retopts":                 sentryProcsys,
	"cmsg/send-ping-unbound-ctl":             sentryProcsys,
	"cmsg/send-raw-ping-unicast-if":          sentryProcsys,
	"defaults/ping/ip":                       sentryProcsys,
	"defaults/ping/sol_socket":               sentryProcsys,
	"defaults/ping/sol_socket-missing":       sentryProcsys,
	"defaults/ping/tcp":                      sentryProcsys,
	"defaults/ping/tcp-missing":              sentryProcsys,
	"defaults/ping/udp":                      sentryProcsys,
	"defaults/ping/udp-missing":              sentryProcsys,
	"defaults/sysctl":                        sentryProcsys,
	"defaults/ping6/ip":                      sentryProcsys,
	"defaults/ping6/ipv6":                    sentryProcsys,
	"defaults/ping6/ipv6-missing":            sentryProcsys,
	"defaults/ping6/sol_socket":              sentryProcsys,
	"defaults/ping6/sol_socket-missing":      sentryProcsys,
	"defaults/ping6/tcp":                     sentryProcsys,
	"defaults/ping6/tcp-missing":             sentryProcsys,
	"defaults/ping6/udp":                     sentryProcsys,
	"defaults/ping6/udp-missing":             sentryProcsys,
	"ipv6/solip-options-ping":                sentryProcsys,
	"ipv6/mcast-options-ping":                sentryProcsys,
	"errno/eacces-ping-group-range":          sentryProcsys,
	"errno/eacces-privileged-port":           sentryProcsys,
	"errno/ping-recv-zero-length":            sentryProcsys,
	"errqueue/local-ping-modes":              sentryProcsys,
	"errqueue/ping-frag-needed":              sentryProcsys,
	"errqueue/ping-param-problem":            sentryProcsys,
	"errqueue/ping-redirect":                 sentryProcsys,
	"errqueue/ping-source-quench":            sentryProcsys,
	"errqueue/ping-time-exceeded-connected":  sentryProcsys,
	"errqueue/ping-time-exceeded-real":       sentryProcsys,
	"errqueue/ping-unreach-host":             sentryProcsys,
	"errqueue/ping-unreach-port-connected":   sentryProcsys,
	"errqueue/ping-unreach-port-unconnected": sentryProcsys,
	"errqueue/rfc4884-ping-valid":            sentryProcsys,
	"fwd/ping-lo-all":                        sentryProcsys,
	"fwd/ping-lo-all-but-lo":                 sentryProcsys,
	"fwd/ping-lo-eth0":                       sentryProcsys,
	"fwd/ping-lo-lo":                         sentryProcsys,
	"fwd/ping-lo-off":                        sentryProcsys,
	"fwd/ping-out-all":                       sentryProcsys,
	"fwd/ping-out-all-but-lo":                sentryProcsys,
	"fwd/ping-out-eth0":                      sentryProcsys,
	"fwd/ping-out-lo":                        sentryProcsys,
	"fwd/ping-out-off":                       sentryProcsys,
	"fwd/raw-hdrincl-lo-all":                 sentryProcsys,
	"fwd/raw-hdrincl-lo-all-but-lo":          sentryProcsys,
	"fwd/raw-hdrincl-lo-eth0":                sentryProcsys,
	"fwd/raw-hdrincl-lo-lo":                  sentryProcsys,
	"fwd/raw-hdrincl-lo-off":                 sentryProcsys,
	"fwd/raw-hdrincl-out-all":                sentryProcsys,
	"fwd/raw-hdrincl-out-all-but-lo":         sentryProcsys,
	"fwd/raw-hdrincl-out-eth0":               sentryProcsys,
	"fwd/raw-hdrincl-out-lo":                 sentryProcsys,
	"fwd/raw-hdrincl-out-off":                sentryProcsys,
	"fwd/raw-lo-all":                         sentryProcsys,
	"fwd/raw-lo-all-but-lo":                  sentryProcsys,
	"fwd/raw-lo-eth0":                        sentryProcsys,
	"fwd/raw-lo-lo":                          sentryProcsys,
	"fwd/raw-lo-off":                         sentryProcsys,
	"fwd/raw-out-all":                        sentryProcsys,
	"fwd/raw-out-all-but-lo":                 sentryProcsys,
	"fwd/raw-out-eth0":                       sentryProcsys,
	"fwd/raw-out-lo":                         sentryProcsys,
	"fwd/raw-out-off":                        sentryProcsys,
	"fwd/udp-lo-all":                         sentryProcsys,
	"fwd/udp-lo-all-but-lo":                  sentryProcsys,
	"fwd/udp-lo-eth0":                        sentryProcsys,
	"fwd/udp-lo-lo":                          sentryProcsys,
	"fwd/udp-lo-off":                         sentryProcsys,
	"fwd/udp-out-all":                        sentryProcsys,
	"fwd/udp-out-all-but-lo":                 sentryProcsys,
	"fwd/udp-out-eth0":                       sentryProcsys,
	"fwd/udp-out-lo":                         sentryProcsys,
	"fwd/udp-out-off":                        sentryProcsys,
	"igmp/knob-all-intervals-ignored":        sentryProcsys,
	"igmp/knob-force-v1-all":                 sentryProcsys,
	"igmp/knob-force-v2":                     sentryProcsys,
	"igmp/knob-short-intervals":              sentryProcsys,
	"igmp/knob-v3-interval-only":             sentryProcsys,
	"igmp/knob-values":                       sentryProcsys,
	"ioctl/fionread-ping":                    sentryProcsys,
	"ioctl/siocgifaddr":                      sentryProcsys,
	"ioctl/siocgifbrdaddr":                   sentryProcsys,
	"ioctl/siocgifdstaddr":                   sentryProcsys,
	"ioctl/siocgifflags":                     sentryProcsys,
	"ioctl/siocgifhwaddr":                    sentryProcsys,
	"ioctl/siocgifindex":                     sentryProcsys,
	"ioctl/siocgifmap":                       sentryProcsys,
	"ioctl/siocgifmetric":                    sentryProcsys,
	"ioctl/siocgifmtu":                       sentryProcsys,
	"ioctl/siocgifname":                      sentryProcsys,
	"ioctl/siocgifnetmask":                   sentryProcsys,
	"ioctl/siocgifpflags":                    sentryProcsys,
	"ioctl/siocgifslave":                     sentryProcsys,
	"ioctl/siocgiftxqlen":                    sentryProcsys,
	"ioctl/siocgstamp-ping":                  sentryProcsys,
	"ioctl/so-priority-from-ip-tos-ping":     sentryProcsys,
	"ioctl/so-priority-ping":                 sentryProcsys,
	"ioctl/unknown-ping":                     sentryProcsys,
	"ipid/ping-connected-unconnected":        sentryProcsys,
	"ipopt/ping-ip-options-set-get":          sentryProcsys,
	"mcast/seq-max-memberships-sysctl":       sentryProcsys,
	"mcast/seq-max-msf-sysctl":               sentryProcsys,
	"mcast/seq-msfilter-set-lengths":         sentryProcsys,
	"mcast/seq-optmem-limit":                 sentryProcsys,
	"mcast/seq-ping-socket-membership":       sentryProcsys,
	"ping/bound-identifier":                  sentryProcsys,
	"ping/disconnect-keeps-queue":            sentryProcsys,
	"ping/group-range-sysctl":                sentryProcsys,
	"ping/ident-reuseaddr-off":               sentryProcsys,
	"ping/ident-shared-by-default":           sentryProcsys,
	"ping/ident-shared-reply-by-address":     sentryProcsys,
	"ping/ident-shared-reply-newest":         sentryProcsys,
	"ping/reconnect-after-unspec":            sentryProcsys,
	"ping/with-group-range":                  sentryProcsys,
	"ping/without-group-range":               sentryProcsys,
	"sysctl/ip-default-ttl":                  sentryProcsys,
	"sysctl/ip-dynaddr":                      sentryProcsys,
	"sysctl/ip-forward-propagation":          sentryProcsys,
	"sysctl/ip-forward-routes":               sentryProcsys,
	"sysctl/ip-forward-values":               sentryProcsys,
	"sysctl/ip-no-pmtu-disc-effect":          sentryProcsys,
	"sysctl/ip-no-pmtu-disc-values":          sentryProcsys,
	"sysctl/ipfrag-thresholds":               sentryProcsys,
	"sysctl/neigh-values":                    sentryProcsys,
	"tcpopt/ip-protocol":                     sentryProcsys,
	"wire/ping-ip-options":                   sentryProcsys,
	"wire/ping-ip-options-fragments":         sentryProcsys,
	"wire/tcp-ping-ip-options-source-route":  sentryProcsys,
	// pack
	"cmsg/ip-options-to-self":              sentryPack,
	"cmsg/raw-recv":                        sentryPack,
	"cmsg/raw-recv-ip-options":             sentryPack,
	"cmsg/recv-all-order":                  sentryPack,
	"cmsg/recv-checksum":                   sentryPack,
	"cmsg/recv-origdstaddr-and-opts":       sentryPack,
	"cmsg/recv-pktinfo-late":               sentryPack,
	"cmsg/recvfragsize-all":                sentryPack,
	"cmsg/recvfragsize-late-and-peek":      sentryPack,
	"cmsg/recvfragsize-order":              sentryPack,
	"cmsg/recvfragsize-peer-ipoptions":     sentryPack,
	"cmsg/recvfragsize-raw":                sentryPack,
	"cmsg/recvfragsize-udp-far":            sentryPack,
	"cmsg/recvfragsize-udp-peer":           sentryPack,
	"cmsg/rxq-ovfl":                        sentryPack,
	"cmsg/so-timestamp":                    sentryPack,
	"errqueue/cmsgs-with-error":            sentryPack,
	"errqueue/real-port-unreachable-cmsgs": sentryPack,
	"mcast/seq-real-sender-pktinfo":        sentryPack,
	"udp/recv-ttl-tos-cmsgs":               sentryPack,
	// ctrunc
	"cmsg/recv-all-ctrunc": sentryCtrunc,
	"cmsg/recv-ctrunc":     sentryCtrunc,
	"errqueue/truncation":  sentryCtrunc,
	// parse
	"cmsg/send-raw-ctl":         sentryParse,
	"cmsg/send-raw-hdrincl-ctl": sentryParse,
	"cmsg/send-retopts":         sentryParse,
	"cmsg/send-ttl-tos":         sentryParse,
	"wire/raw-ip-options":       sentryParse,
	// sotype
	"sockopt/identity-readonly": sentrySotype,
}
