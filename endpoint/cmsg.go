package endpoint

import (
	"golang.org/x/sys/unix"

	"netsandbox/options"
	"netsandbox/stack"
)

// sendParams are the per-call overrides a datagram send takes from
// options.ParseIPSendControl.
type sendParams struct {
	ttl int // 0 = socket's
	tos int // -1 = socket's
	// IP_PKTINFO: ipi_spec_dst replaces the source address and a non-zero
	// ipi_ifindex the output interface (udp_sendmsg's ipc.addr, ipc.oif).
	hasPktinfo bool
	pktinfo    options.InPktinfo
	// IP_RETOPTS: IP options for this message instead of the socket's
	// (at most 40 bytes, the rest cut as ip_cmsg_send does), still to be
	// compiled; empty means none.
	hasOpts bool
	opts    []byte
}

// What the parser accepts and the sockets do not act on:
//   - SCM_RIGHTS, SCM_CREDENTIALS: skipped, as Linux skips them.
//   - SO_MARK, SO_PRIORITY: as their socket options (sockopts_misc.go),
//     they steer policy routing and queueing disciplines, which the stack
//     does not have.
//   - SCM_DEVMEM_DMABUF on a datagram socket: only TCP uses it (see
//     checkStreamCmsgs).
//   - IP_PROTOCOL: raw_sendmsg gives it to the route lookup of an
//     IP_HDRINCL socket only, where nothing here routes by protocol.
//
// What it accepts and the sockets refuse: a SO_TIMESTAMPING message with
// transmit-timestamp flags. Linux queues the timestamps on the error
// queue; the stack takes none, so the send is refused (EINVAL, what
// __sock_cmsg_send answers a message it does not take) rather than sent
// without them. SCM_TXTIME needs SO_TXTIME, which these sockets do not
// implement (ENOPROTOOPT), so the parser refuses it as Linux does without
// SO_TXTIME.

// sendCmsgPolicy is the socket state __sock_cmsg_send consults.
func sendCmsgPolicy(s *stack.Stack) options.SendCmsgPolicy {
	caps := s.Caps()
	return options.SendCmsgPolicy{NetAdminOrRaw: caps.Has(stack.CapNetAdmin) || caps.Has(stack.CapNetRaw)}
}

// sendCmsgs reads a datagram sendmsg's control messages as ip_cmsg_send.
func (b *base) sendCmsgs(oob []byte, mapped bool) (sendParams, error) {
	if len(oob) == 0 {
		// Most sends carry none; skip reading the capabilities.
		return sendParams{tos: -1}, nil
	}
	return sendParamsOf(oob, sendCmsgPolicy(b.s), mapped)
}

// sendParamsOf reads ip_cmsg_send's messages; mapped is its allow_ipv6
// (an AF_INET6 socket's v4-mapped send).
func sendParamsOf(oob []byte, pol options.SendCmsgPolicy, mapped bool) (sendParams, error) {
	sp := sendParams{tos: -1}
	if len(oob) == 0 {
		return sp, nil
	}
	parse := options.ParseIPSendControl
	if mapped {
		parse = options.ParseMappedSendControl
	}
	c, err := parse(oob, pol)
	if err != nil {
		return sp, err
	}
	if c.HasTimestamp && c.Timestamping != 0 {
		return sp, unix.EINVAL
	}
	if c.HasTTL {
		sp.ttl = int(c.TTL)
	}
	if c.HasTOS {
		sp.tos = int(c.TOS)
	}
	sp.hasPktinfo, sp.pktinfo = c.HasPktinfo, c.Pktinfo
	sp.hasOpts, sp.opts = c.HasOptions, c.Options
	return sp, nil
}

// checkStreamCmsgs is tcp_sendmsg's sock_cmsg_send: only SOL_SOCKET
// messages are looked at, other levels are ignored. A dma-buf id is
// EINVAL: tcp_sendmsg takes one only with MSG_ZEROCOPY on a SO_ZEROCOPY
// socket, and then only for a dma-buf bound to a device, which no link
// here has.
func (b *base) checkStreamCmsgs(oob []byte) error {
	if len(oob) == 0 {
		return nil
	}
	c, err := options.ParseSocketSendControl(oob, sendCmsgPolicy(b.s))
	if err != nil {
		return err
	}
	if c.HasDmabuf || c.HasTimestamp && c.Timestamping != 0 {
		return unix.EINVAL
	}
	return nil
}
