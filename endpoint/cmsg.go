package endpoint

import (
	"golang.org/x/sys/unix"

	"netsandbox/options"
)

// sendParams are the per-call overrides of ip_cmsg_send.
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

// parseSendCmsgs applies ip_cmsg_send's rules to a sendmsg control buffer.
// SOL_IP IP_TTL, IP_TOS, IP_PKTINFO and IP_RETOPTS are implemented; other SOL_IP and SOL_SOCKET
// types are EINVAL (Linux implements some of them: they are not yet here);
// other levels are skipped, as Linux does.
func parseSendCmsgs(oob []byte) (sendParams, error) {
	sp := sendParams{tos: -1}
	p := options.NewCmsgParser(oob)
	for {
		m, ok := p.Next()
		if !ok {
			break
		}
		switch m.Level {
		case unix.SOL_SOCKET:
			return sp, unix.EINVAL
		case unix.SOL_IP:
		default:
			continue
		}
		switch m.Type {
		case unix.IP_TTL:
			if len(m.Data) != 4 {
				return sp, unix.EINVAL
			}
			v := options.Int32(m.Data)
			if v < 1 || v > 255 {
				return sp, unix.EINVAL
			}
			sp.ttl = int(v)
		case unix.IP_TOS:
			var v int32
			switch len(m.Data) {
			case 4:
				v = options.Int32(m.Data)
			case 1:
				v = int32(m.Data[0])
			default:
				return sp, unix.EINVAL
			}
			if v < 0 || v > 255 {
				return sp, unix.EINVAL
			}
			sp.tos = int(v)
		case unix.IP_RETOPTS:
			sp.hasOpts, sp.opts = true, m.Data[:min(len(m.Data), 40)]
		case unix.IP_PKTINFO:
			pi, err := options.ParseInPktinfo(m.Data)
			if err != nil || len(m.Data) != options.SizeofInPktinfo {
				return sp, unix.EINVAL
			}
			sp.hasPktinfo, sp.pktinfo = true, pi
		default:
			return sp, unix.EINVAL
		}
	}
	return sp, p.Err()
}

// checkStreamCmsgs is tcp_sendmsg's sock_cmsg_send: only SOL_SOCKET
// messages are looked at (none is implemented here, so each is EINVAL);
// other levels are ignored; a malformed buffer is EINVAL.
func checkStreamCmsgs(oob []byte) error {
	p := options.NewCmsgParser(oob)
	for {
		m, ok := p.Next()
		if !ok {
			return p.Err()
		}
		if m.Level == unix.SOL_SOCKET {
			return unix.EINVAL
		}
	}
}
