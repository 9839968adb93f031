package plugin

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestLinuxControl checks the put_cmsg walk against the layouts Linux
// gives: IP_PKTINFO (12 bytes of data, CMSG_SPACE 32) then IP_TTL (4 bytes,
// CMSG_LEN 20, CMSG_SPACE 24).
func TestLinuxControl(t *testing.T) {
	var oob []byte
	oob = appendCmsg(oob, unix.SOL_IP, unix.IP_PKTINFO, make([]byte, 12))
	oob = appendCmsg(oob, unix.SOL_IP, unix.IP_TTL, []byte{64, 0, 0, 0})
	for _, c := range []struct {
		controlLen int
		msgs       int // messages delivered, the last possibly cut
		ctrunc     bool
	}{
		{0, 0, true},
		{15, 0, true},
		{16, 1, true}, // PKTINFO's header alone
		{27, 1, true}, // PKTINFO cut in its data
		{28, 1, true}, // PKTINFO whole (CMSG_LEN 28), no room for TTL's header
		{32 + 15, 1, true},
		{32 + 16, 2, true}, // TTL's header alone
		{32 + 19, 2, true},
		{32 + 20, 2, false}, // TTL whole without its padding
		{56, 2, false},
		{512, 2, false},
	} {
		got, ctrunc := linuxControl(oob, c.controlLen)
		msgs, err := unix.ParseSocketControlMessage(got)
		if err != nil {
			t.Fatalf("controlLen %d: %v", c.controlLen, err)
		}
		if len(msgs) != c.msgs || ctrunc != c.ctrunc {
			t.Errorf("controlLen %d: %d messages, MSG_CTRUNC %v; want %d, %v", c.controlLen, len(msgs), ctrunc, c.msgs, c.ctrunc)
		}
	}
}

// TestSentryTruncates checks the sentry's packing order: IP_TOS (CMSG_LEN
// 17), IP_TTL (20), IP_PKTINFO (28), each but the last padded to 8 bytes.
func TestSentryTruncates(t *testing.T) {
	var oob []byte
	oob = appendCmsg(oob, unix.SOL_IP, unix.IP_PKTINFO, make([]byte, 12))
	oob = appendCmsg(oob, unix.SOL_IP, unix.IP_TTL, []byte{64, 0, 0, 0})
	oob = appendCmsg(oob, unix.SOL_IP, unix.IP_TOS, []byte{0})
	cm := controlMessagesFrom(oob)
	if !cm.IP.HasTOS || !cm.IP.HasTTL || !cm.IP.HasIPPacketInfo {
		t.Fatalf("parsed %+v", cm.IP)
	}
	for _, c := range []struct {
		controlLen int
		want       bool
	}{
		{0, true}, {16, true}, {24 + 24 + 27, true},
		{24 + 24 + 28, false}, // Linux needs 73 (32 + 24 + 17), the sentry 76
		{200, false},
	} {
		if got := sentryTruncates(&cm, c.controlLen); got != c.want {
			t.Errorf("controlLen %d: %v, want %v", c.controlLen, got, c.want)
		}
	}
}

// TestControlMessages2292HopLimit checks that RFC 2292's IPV6_2292HOPLIMIT,
// which the sentry's struct has no field for, reaches the caller as the
// hop limit (packed as IPV6_HOPLIMIT) instead of being dropped.
func TestControlMessages2292HopLimit(t *testing.T) {
	for _, typ := range []int{unix.IPV6_HOPLIMIT, unix.IPV6_2292HOPLIMIT} {
		cm := controlMessagesFrom(appendCmsg(nil, unix.SOL_IPV6, typ, []byte{63, 0, 0, 0}))
		if !cm.IP.HasHopLimit || cm.IP.HopLimit != 63 {
			t.Errorf("type %d: HasHopLimit %v, HopLimit %d; want true, 63", typ, cm.IP.HasHopLimit, cm.IP.HopLimit)
		}
	}
	// Too short: not a hop limit.
	if cm := controlMessagesFrom(appendCmsg(nil, unix.SOL_IPV6, unix.IPV6_2292HOPLIMIT, []byte{63})); cm.IP.HasHopLimit {
		t.Errorf("a 1-byte IPV6_2292HOPLIMIT became a hop limit")
	}
}
