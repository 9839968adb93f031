// Package options holds the pure codecs of netsandbox's socket layer: option
// numbers, Linux's rules for reading and writing integer options, the
// sockaddr_in layout and its per-call-site checks, control-message
// building and parsing, and the byte layouts of the IPv4 option structs.
//
// Nothing here knows about gVisor or keeps state. Every decoder takes the
// bytes a program handed to the kernel and answers what Linux answers for
// them: a value or a unix.Errno. Multi-byte host fields are native-endian
// (little-endian on the amd64/arm64 targets); addresses and ports are
// network order, as in the C structs.
//
// # What this package does not repeat
//
// We mirror only what golang.org/x/sys/unix lacks or cannot serve equally.
// Option levels, option numbers, cmsg types, SO_EE_* and MCAST_* values
// come from unix (unix.IP_PKTINFO, not options.IP_PKTINFO), as do the sizes
// it has (unix.SizeofInet4Pktinfo, unix.SizeofIPMreq, unix.SizeofIPMreqn,
// unix.SizeofSockaddrInet4). What stays here says why on its declaration:
//   - structs x/sys/unix lacks or hides: ip_mreq_source, group_req,
//     group_source_req, ip_msfilter, group_filter, struct ifconf, struct
//     ifreq as bytes (unix.Ifreq is opaque), and the sizes of those and of
//     sockaddr_storage and sock_extended_err;
//   - decoded values (netip.Addr fields) whose parsers answer Linux's errno
//     for short or malformed bytes, where unix's raw struct would have a
//     caller slice or panic: InPktinfo, IPMreqn;
//   - layouts fixed at 64-bit Linux on every build, where unix's follow
//     GOARCH: cmsghdr (SizeofCmsghdr, CmsgLen, CmsgSpace), Timeval;
//   - SockExtendedErr, defined over unix.SockExtendedErr (convert either
//     way) only to carry Encode and the RFC 4884 accessors.
package options
