package main

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// TestServeVethOffloads attaches serve to a veth whose kernel peer keeps
// its offloads on: its TCP and UDP leave with checksums left to "hardware"
// (the packet socket reports them partial), its TCP in segments of up to
// 64 KiB, and a UDP_SEGMENT send as one train of datagrams. The stack
// finishes the checksums, takes the segments and cuts the train into the
// datagrams the peer wrote.
func TestServeVethOffloads(t *testing.T) {
	requireNetns(t)
	bin := buildBinary(t)
	prefix := harness.NewRunPrefix()
	host := newNetns(t, prefix+"so-host")
	peer := newNetns(t, prefix+"so-peer")
	ipCmd(t, "-n", host, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", peer)
	ipCmd(t, "-n", peer, "addr", "add", "198.18.0.1/24", "dev", "eth0")
	ipCmd(t, "-n", peer, "link", "set", "eth0", "up")
	ipCmd(t, "-n", host, "link", "set", "eth0", "up")
	startServe(t, bin, host, "--link", "iface:eth0", "--addr", "198.18.0.2/24", "--udp-echo", "7", "--tcp-echo", "7")
	checkEcho(t, peer, "198.18.0.2")

	t.Run("TCP bulk", func(t *testing.T) {
		msg := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
		got := make([]byte, len(msg))
		err := harness.InNetns(peer, func() error {
			c, err := net.DialTimeout("tcp4", "198.18.0.2:7", 5*time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			go c.Write(msg)
			_, err = io.ReadFull(c, got)
			return err
		})
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("1 MiB through the TCP echo: %v (equal %v)", err, bytes.Equal(got, msg))
		}
	})

	t.Run("UDP_SEGMENT train", func(t *testing.T) {
		const size, count = 500, 3
		var echoes []int
		err := harness.InNetns(peer, func() error {
			fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return err
			}
			defer unix.Close(fd)
			if err := unix.SetsockoptInt(fd, unix.SOL_UDP, unix.UDP_SEGMENT, size); err != nil {
				return err
			}
			unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 3})
			to := &unix.SockaddrInet4{Port: 7, Addr: [4]byte{198, 18, 0, 2}}
			if err := unix.Sendto(fd, bytes.Repeat([]byte{'x'}, size*count), 0, to); err != nil {
				return err
			}
			buf := make([]byte, 4096)
			for range count {
				n, _, err := unix.Recvfrom(fd, buf, 0)
				if err != nil {
					return err
				}
				echoes = append(echoes, n)
			}
			return nil
		})
		if err != nil || len(echoes) != count {
			t.Fatalf("echoes of a %d x %d-byte UDP_SEGMENT send: %v, %v", count, size, echoes, err)
		}
		for _, n := range echoes {
			if n != size {
				t.Errorf("echoes %v: want %d datagrams of %d bytes", echoes, count, size)
				break
			}
		}
	})
}
