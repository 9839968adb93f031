package fuzz

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestFrameSeedsReachTheirTargets shows that the seeds are not dropped at
// the door: each reaches the socket or protocol it was built for, so the
// fuzzer starts from inputs that exercise the deep paths.
func TestFrameSeedsReachTheirTargets(t *testing.T) {
	byName := map[string][]byte{}
	for _, s := range frameSeeds() {
		byName[s.name] = s.data
	}
	delivered := func(ft *frameTarget) bool { return ft.s.Stats().UDPInDatagrams.Load() == 1 }
	soError := func(i int, want unix.Errno) func(ft *frameTarget) bool {
		return func(ft *frameTarget) bool {
			b := make([]byte, 4)
			n, err := ft.socks[i].GetSockOpt(unix.SOL_SOCKET, unix.SO_ERROR, b)
			return err == nil && n == 4 && unix.Errno(binary.NativeEndian.Uint32(b)) == want
		}
	}
	readable := func(i, flags int) func(ft *frameTarget) bool {
		return func(ft *frameTarget) bool {
			_, _, _, _, err := ft.socks[i].RecvMsg(make([]byte, 2048), make([]byte, 512), unix.MSG_DONTWAIT|flags)
			return err == nil
		}
	}
	// Indexes into frameTarget.socks, in the order newFrameTarget opens them.
	const connected, recvErr, ping = 1, 2, 5
	errQueued := func(ft *frameTarget) bool { return readable(recvErr, unix.MSG_ERRQUEUE)(ft) == ft.recvErrOn }
	checks := map[string]func(ft *frameTarget) bool{
		"udp-bound":                    delivered,
		"udp-connected":                delivered,
		"udp-recverr":                  delivered,
		"udp-broadcast":                delivered,
		"udp-multicast":                func(ft *frameTarget) bool { return delivered(ft) == ft.member },
		"udp-ip-options":               delivered,
		"frags-out-of-order":           delivered,
		"udp-multicast-blocked-source": func(ft *frameTarget) bool { return ft.s.Stats().UDPInDatagrams.Load() == 0 },
		// Of the two datagrams to the source-specific group, only the one
		// from the included source is delivered.
		"udp-ssm":           func(ft *frameTarget) bool { return delivered(ft) == ft.ssm },
		"udp-no-port":       func(ft *frameTarget) bool { return ft.s.Stats().UDPNoPorts.Load() == 1 },
		"icmp-port-unreach": soError(connected, unix.ECONNREFUSED),
		// Without IP_RECVERR (not every build has it) neither error may
		// reach the socket: both are soft errors for UDP.
		"icmp-time-exceeded": errQueued,
		"icmp-frag-needed":   errQueued,
		"icmp-echo-reply":    readable(ping, 0),
		"tcp-syn-listener": func(ft *frameTarget) bool {
			// gVisor's TCP answers from its own goroutines.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			for i := 0; i < 16; i++ {
				f, ok := ft.ch.Read(ctx)
				if !ok {
					return false
				}
				// Ethernet(14) + IPv4(20) + TCP: source port 80, SYN|ACK.
				if len(f) >= 54 && binary.BigEndian.Uint16(f[12:]) == 0x0800 && f[23] == 6 &&
					binary.BigEndian.Uint16(f[34:]) == portListen && f[47] == 0x12 {
					return true
				}
			}
			return false
		},
	}
	// The SYN-ACK to a SYN with IP options carries them echoed: the
	// record route then holds the peer's and this host's address.
	checks["tcp-syn-listener-ip-options"] = func(ft *frameTarget) bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for i := 0; i < 16; i++ {
			f, ok := ft.ch.Read(ctx)
			if !ok {
				return false
			}
			if len(f) < 34 || binary.BigEndian.Uint16(f[12:]) != 0x0800 || f[23] != 6 {
				continue
			}
			ihl := int(f[14]&0xf) * 4
			if ihl >= 32 && len(f) >= 14+ihl+14 && binary.BigEndian.Uint16(f[14+ihl:]) == portListen && f[14+ihl+13] == 0x12 {
				l := localAddr.As4()
				return f[34] == 7 && f[36] == 12 && [4]byte(f[41:45]) == l
			}
		}
		return false
	}
	for name, check := range checks {
		t.Run(name, func(t *testing.T) {
			data, ok := byName[name]
			if !ok {
				t.Fatalf("no seed %q", name)
			}
			ft := newFrameTarget(t.Fatalf)
			defer ft.close()
			for _, fr := range decodeFrames(data) {
				ft.ch.Inject(fr)
			}
			if !check(ft) {
				t.Errorf("seed %q did not reach its target (udp stats: in %d noports %d inerr %d)", name,
					ft.s.Stats().UDPInDatagrams.Load(), ft.s.Stats().UDPNoPorts.Load(), ft.s.Stats().UDPInErrors.Load())
			}
		})
	}
}
