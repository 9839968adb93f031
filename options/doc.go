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
package options
