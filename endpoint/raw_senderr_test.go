package endpoint

import (
	"encoding/binary"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A raw ICMP socket with IP_RECVERR keeps sending after a "time exceeded"
// (raw_sendmsg without IP_HDRINCL never looks at sk_err) and the error
// stays for SO_ERROR; with IP_HDRINCL the send takes it (sock_alloc_send_skb
// in raw_send_hdrinc), and so does a ping socket's (ip_append_data with a
// transport header).
func TestRawSendKeepsICMPError(t *testing.T) {
	s, ch, _ := errqWorld(t)
	if err := s.Sysctl().Set("net.ipv4.ping_group_range", "0 0"); err != nil {
		t.Fatal(err)
	}
	soError := func(so Socket) int {
		b := make([]byte, 4)
		if _, err := so.GetSockOpt(unix.SOL_SOCKET, unix.SO_ERROR, b); err != nil {
			t.Fatal(err)
		}
		return int(binary.NativeEndian.Uint32(b))
	}
	for _, c := range []struct {
		name     string
		typ      int
		hdrincl  bool
		sendTake bool // the send answers the error and clears it
	}{
		{"raw", unix.SOCK_RAW, false, false},
		{"raw IP_HDRINCL", unix.SOCK_RAW, true, true},
		{"ping", unix.SOCK_DGRAM, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			so, err := New(s, unix.AF_INET, c.typ, unix.IPPROTO_ICMP)
			if err != nil {
				t.Fatal(err)
			}
			defer so.Close()
			id := uint16(700)
			if c.typ == unix.SOCK_DGRAM {
				if err := so.Bind(sa("10.0.0.1:700")); err != nil {
					t.Fatal(err)
				}
			}
			if err := so.Connect(sa("10.0.0.9:0")); err != nil {
				t.Fatal(err)
			}
			so.SetSockOpt(unix.SOL_IP, unix.IP_RECVERR, intOpt(1))
			injectFrame(ch, icmpErrQuoting(11, 0, 1, echo(id, "probe")))
			if r, err := so.Wait(unix.EPOLLERR, time.Now().Add(time.Second)); err != nil || r == 0 {
				t.Fatalf("no EPOLLERR (%v)", err)
			}
			if c.hdrincl {
				if err := so.SetSockOpt(unix.SOL_IP, unix.IP_HDRINCL, intOpt(1)); err != nil {
					t.Fatal(err)
				}
			}
			p := echo(id, "next")
			if c.hdrincl {
				p = append(make([]byte, 20), p...)
				p[0], p[8], p[9] = 0x45, 64, 1
				copy(p[12:16], []byte{10, 0, 0, 1})
				copy(p[16:20], []byte{10, 0, 0, 9})
			}
			n, err := so.SendMsg(p, nil, nil, unix.MSG_DONTWAIT)
			if c.sendTake {
				if err != unix.EHOSTUNREACH || soError(so) != 0 {
					t.Errorf("send: %d, %v, then SO_ERROR %d; want EHOSTUNREACH, then 0", n, err, soError(so))
				}
				return
			}
			if err != nil || n != len(p) {
				t.Errorf("send: %d, %v; want %d bytes sent", n, err, len(p))
			}
			if e := soError(so); e != int(unix.EHOSTUNREACH) {
				t.Errorf("SO_ERROR after the send: %d, want EHOSTUNREACH", e)
			}
		})
	}
}
