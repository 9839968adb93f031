package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// The test binary doubles as a probe run inside the sandbox and in a kernel
// namespace: with helperEnv set it runs the probe named there instead of
// the tests.
const helperEnv = "NSBX_E2E_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "ctrunc":
		if err := ctruncProbe(); err != nil {
			fmt.Fprintln(os.Stderr, "ctrunc probe:", err)
			os.Exit(1)
		}
		os.Exit(0)
	default:
		if h, ok := helpers[os.Getenv(helperEnv)]; ok {
			if err := h(); err != nil {
				fmt.Fprintf(os.Stderr, "%s helper: %v\n", os.Getenv(helperEnv), err)
				os.Exit(1)
			}
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "unknown helper", os.Getenv(helperEnv))
		os.Exit(2)
	}
}

// helpers are the other probes, by the name helperEnv gives, registered by
// the test files that run them.
var helpers = map[string]func() error{}

// ctruncSizes are the control buffer lengths the probe tries: around each
// boundary of IP_PKTINFO (CMSG_LEN 28, CMSG_SPACE 32), IP_TTL (20, 24) and
// IP_TOS (17, 24) in Linux's order, and of the sentry's order (TOS, TTL,
// PKTINFO: 24, 48, 76).
var ctruncSizes = []int{0, 1, 15, 16, 19, 20, 27, 28, 31, 32, 47, 48, 51, 52, 55, 56, 63, 71, 72, 73, 75, 76, 80, 200}

// ctruncProbe receives a datagram on loopback with IP_PKTINFO, IP_RECVTTL
// and IP_RECVTOS on, once for each control buffer length, and prints per
// length whether MSG_CTRUNC was set and the messages written (level, type,
// data length as cmsg_len gives it, and the data when whole).
func ctruncProbe() error {
	r, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer unix.Close(r)
	if err := unix.Bind(r, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return err
	}
	for _, o := range []int{unix.IP_PKTINFO, unix.IP_RECVTTL, unix.IP_RECVTOS} {
		if err := unix.SetsockoptInt(r, unix.SOL_IP, o, 1); err != nil {
			return err
		}
	}
	to, err := unix.Getsockname(r)
	if err != nil {
		return err
	}
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer unix.Close(s)
	for _, n := range ctruncSizes {
		if err := unix.Sendto(s, []byte{'x'}, 0, to); err != nil {
			return err
		}
		buf := make([]byte, 16)
		oob := make([]byte, n)
		_, oobn, flags, _, err := unix.Recvmsg(r, buf, oob, 0)
		if err != nil {
			return fmt.Errorf("recvmsg with %d control bytes: %w", n, err)
		}
		fmt.Println(ctruncLine(n, flags, oob[:oobn]))
	}
	return nil
}

// ctruncLine formats one probe result, walking the control bytes as
// CMSG_NXTHDR does (a cut message's cmsg_len may run past the buffer).
func ctruncLine(n, flags int, oob []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ctrunc %d:", n)
	if flags&unix.MSG_CTRUNC != 0 {
		b.WriteString(" MSG_CTRUNC")
	}
	for off := 0; off+unix.SizeofCmsghdr <= len(oob); {
		cmlen := int(binary.NativeEndian.Uint64(oob[off:]))
		level := binary.NativeEndian.Uint32(oob[off+8:])
		typ := binary.NativeEndian.Uint32(oob[off+12:])
		if cmlen < unix.SizeofCmsghdr {
			fmt.Fprintf(&b, " bad-cmsg_len-%d", cmlen)
			break
		}
		data := oob[off+unix.SizeofCmsghdr : min(off+cmlen, len(oob))]
		fmt.Fprintf(&b, " %d/%d/%d", level, typ, cmlen-unix.SizeofCmsghdr)
		if full := map[uint32]int{unix.IP_PKTINFO: 12, unix.IP_TTL: 4, unix.IP_TOS: 1}[typ]; len(data) == full {
			fmt.Fprintf(&b, "=%x", data)
		}
		off += unix.CmsgSpace(cmlen - unix.SizeofCmsghdr)
	}
	return b.String()
}
