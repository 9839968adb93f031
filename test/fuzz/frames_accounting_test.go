package fuzz

import (
	"encoding/binary"

	"netsandbox/stack"
)

// Frame accounting: every frame the fuzzers inject must end in exactly one
// outcome that stack.Accounting counts, except the gaps accounting.go
// documents, which these helpers recognise from the frame itself.

const ethHeaderLen = 14

// ipv4Of returns the IPv4 packet an Ethernet frame carries, or nil.
func ipv4Of(fr []byte) []byte {
	if len(fr) < ethHeaderLen+20 || binary.BigEndian.Uint16(fr[12:14]) != 0x0800 {
		return nil
	}
	return fr[ethHeaderLen:]
}

// accountingGap names why a frame may end with no counted outcome, or
// returns "" when it must have one. The gaps are gVisor's: a fragment held
// for reassembly, an IP option problem dropped without an ICMP answer, an
// IGMP message shorter than its 8-byte header.
func accountingGap(fr []byte) string {
	ip := ipv4Of(fr)
	if ip == nil || ip[0]>>4 != 4 {
		return ""
	}
	ihl := int(ip[0]&0xf) * 4
	switch {
	case binary.BigEndian.Uint16(ip[6:8])&0x3fff != 0: // MF or an offset
		return "fragment held for reassembly"
	case ihl > 20 && hasTimestampOption(ip[20:min(ihl, len(ip))]):
		// gVisor's silent option drops (NeedICMP false) on this target:
		// a timestamp option whose data is not whole entries.
		return "IP option problem dropped without ICMP"
	case ip[9] == 2 && int(binary.BigEndian.Uint16(ip[2:4]))-ihl < 8:
		return "IGMP message shorter than 8 bytes"
	}
	return ""
}

// checkFrameAccounting compares the accounting before and after one
// injected frame: a frame shorter than an Ethernet header never reaches
// the NIC (nothing moves); any other frame is taken in once and ends in
// exactly one outcome, or in none when it is a documented gap.
func checkFrameAccounting(fail failFunc, i int, fr []byte, before, after stack.Accounting) {
	d := after.Sub(before)
	if len(fr) < ethHeaderLen {
		if d.Frames != 0 || d.Total() != 0 {
			fail("frame %d (%d bytes, shorter than Ethernet) moved the counters: %v", i, len(fr), d)
		}
		return
	}
	if d.Frames != 1 {
		fail("frame %d: NIC took in %d frames, want 1: %v: %x", i, d.Frames, d, fr)
	}
	switch n := d.Total(); {
	case n == 1:
	case n == 0 && accountingGap(fr) != "":
	default:
		fail("frame %d ended in %d counted outcomes, want exactly 1: %v: %x", i, n, d, fr)
	}
}

// hasTimestampOption walks an IPv4 option list for a timestamp option
// (type 68); a list that does not parse has none.
func hasTimestampOption(opts []byte) bool {
	for i := 0; i < len(opts); {
		switch opts[i] {
		case 0: // end of list
			return false
		case 1: // no-op
			i++
			continue
		case 68:
			return true
		}
		if i+1 >= len(opts) || opts[i+1] < 2 {
			return false
		}
		i += int(opts[i+1])
	}
	return false
}
