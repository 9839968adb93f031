package scenarios

import (
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// timeval encodes a struct timeval (64-bit).
func timeval(d time.Duration) []byte {
	b := append(harness.Int32(int32(d/time.Second)), 0, 0, 0, 0)
	return append(b, append(harness.Int32(int32(d%time.Second/time.Microsecond)), 0, 0, 0, 0)...)
}

// within reports whether d lies in [lo, hi): blocking calls are timed in
// coarse buckets so scheduling noise cannot make two kernels differ.
func within(d, lo, hi time.Duration) bool { return d >= lo && d < hi }

func blockingScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "blocking/so-rcvtimeo", Run: func(e *harness.Env) {
			for _, typ := range []int{unix.SOCK_DGRAM, unix.SOCK_STREAM} {
				var s harness.Sock
				if typ == unix.SOCK_DGRAM {
					s = dutUDP(e, 0)
				} else {
					s, _ = tcpPair(e)
				}
				e.Rec("SO_RCVTIMEO", s.SetSockOpt(unix.SOL_SOCKET, unix.SO_RCVTIMEO_OLD, timeval(150*time.Millisecond)))
				start := time.Now()
				_, _, _, _, err := s.RecvMsg(make([]byte, 8), nil, 0)
				e.Rec("blocking recv", err, "took 100ms..2s", within(time.Since(start), 100*time.Millisecond, 2*time.Second))
				e.Rec("SO_RCVTIMEO bad usec", s.SetSockOpt(unix.SOL_SOCKET, unix.SO_RCVTIMEO_OLD, timeval(0)[:8]))
				bad := timeval(0)
				copy(bad[8:], harness.Int32(1000000))
				e.Rec("SO_RCVTIMEO usec 1e6", s.SetSockOpt(unix.SOL_SOCKET, unix.SO_RCVTIMEO_OLD, bad))
				neg := timeval(0)
				copy(neg, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
				e.Rec("SO_RCVTIMEO negative sec", s.SetSockOpt(unix.SOL_SOCKET, unix.SO_RCVTIMEO_OLD, neg))
				buf := make([]byte, 16)
				n, err := s.GetSockOpt(unix.SOL_SOCKET, unix.SO_RCVTIMEO_OLD, buf)
				e.Rec("get SO_RCVTIMEO", err, n, buf)
			}
		}},
		{Name: "blocking/recv-wakes-on-data", Run: func(e *harness.Env) {
			p := peerUDP(e, e.BasePort)
			s := dutUDP(e, e.BasePort+1)
			go func() {
				time.Sleep(100 * time.Millisecond)
				p.SendMsg([]byte("late"), nil, harness.Sockaddr(e.DUTAddr, e.BasePort+1), 0)
			}()
			e.Rec("SO_RCVTIMEO 2s", s.SetSockOpt(unix.SOL_SOCKET, unix.SO_RCVTIMEO_OLD, timeval(2*time.Second)))
			buf := make([]byte, 16)
			start := time.Now()
			n, _, _, _, err := s.RecvMsg(buf, nil, 0)
			e.Rec("blocking recv", err, n, buf[:n], "woke within 50ms..1.5s", within(time.Since(start), 50*time.Millisecond, 1500*time.Millisecond))
		}},
		{Name: "blocking/tcp-waitall-and-peek", Run: func(e *harness.Env) {
			s, a := tcpPair(e)
			send(e, "peer send abc", a, []byte("abc"), nil, 0)
			go func() {
				time.Sleep(100 * time.Millisecond)
				a.SendMsg([]byte("def"), nil, nil, 0)
			}()
			e.Rec("SO_RCVTIMEO 2s", s.SetSockOpt(unix.SOL_SOCKET, unix.SO_RCVTIMEO_OLD, timeval(2*time.Second)))
			buf := make([]byte, 6)
			n, _, fl, _, err := s.RecvMsg(buf, nil, unix.MSG_WAITALL)
			e.Rec("recv MSG_WAITALL", err, n, fl, buf[:n])
			send(e, "peer send ghi", a, []byte("ghi"), nil, 0)
			harness.WaitReadable(s, 2*time.Second)
			n, _, _, _, err = s.RecvMsg(buf[:2], nil, unix.MSG_PEEK)
			e.Rec("peek 2", err, n, buf[:n])
			n, _, fl, _, err = s.RecvMsg(buf, nil, unix.MSG_TRUNC|unix.MSG_DONTWAIT)
			e.Rec("recv MSG_TRUNC on tcp", err, n, fl)
			send(e, "send with address on connected tcp", s, []byte("x"), harness.Sockaddr(e.PeerAddr, e.BasePort), 0)
			send(e, "send MSG_OOB", s, []byte("!"), nil, unix.MSG_OOB)
		}},
	}
}
