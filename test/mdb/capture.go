package mdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/link/channel"
	"netsandbox/test/harness"
)

// Frame is one captured IGMP frame.
type Frame struct {
	TS   time.Time
	Data []byte // the whole Ethernet frame
	Out  bool   // sent by the bridge toward the host (a query)
}

// Capture records the IGMP frames crossing one bridge port, both ways,
// through an AF_PACKET socket in the bridge namespace: the reports the host
// sends and the queries the bridge sends it.
type Capture struct {
	fd    int
	mark  chan chan int
	stop  chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	frame []Frame
	err   error
}

// pollEvery bounds how long the reader sleeps between looks at its
// requests (Mark, Stop).
const pollEvery = 20 * time.Millisecond

// maxFrames bounds what one capture keeps; the test sends a few hundred.
const maxFrames = 100000

// StartCapture opens the capture on dev in namespace ns.
func StartCapture(ns, dev string) (*Capture, error) {
	fd := -1
	err := harness.InNetns(ns, func() error {
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return fmt.Errorf("capture: %s: %w", dev, err)
		}
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return fmt.Errorf("capture %s: packet socket: %w", dev, err)
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
			unix.Close(fd)
			fd = -1
			return fmt.Errorf("capture %s: bind: %w", dev, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c := &Capture{fd: fd, mark: make(chan chan int), stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c, nil
}

func (c *Capture) loop() {
	defer close(c.done)
	defer unix.Close(c.fd)
	fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLIN}}
	for {
		select {
		case <-c.stop:
			c.drain()
			return
		case reply := <-c.mark:
			// Everything that reached the socket before Mark is counted
			// on Mark's side of the line.
			c.drain()
			c.mu.Lock()
			reply <- len(c.frame)
			c.mu.Unlock()
			continue
		default:
		}
		if _, err := unix.Poll(fds, int(pollEvery/time.Millisecond)); err != nil && !errors.Is(err, unix.EINTR) {
			c.fail(err)
			return
		}
		c.drain()
	}
}

// drain reads every frame queued on the socket now.
func (c *Capture) drain() {
	buf := make([]byte, 65536)
	for range maxFrames {
		n, from, err := unix.Recvfrom(c.fd, buf, unix.MSG_DONTWAIT)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			return
		}
		if err != nil {
			c.fail(err)
			return
		}
		if !isIGMP(buf[:n]) {
			continue
		}
		out := false
		if ll, ok := from.(*unix.SockaddrLinklayer); ok {
			out = ll.Pkttype == unix.PACKET_OUTGOING
		}
		c.mu.Lock()
		if len(c.frame) < maxFrames {
			c.frame = append(c.frame, Frame{TS: time.Now(), Data: append([]byte(nil), buf[:n]...), Out: out})
		}
		c.mu.Unlock()
	}
}

func (c *Capture) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
}

// isIGMP tells an untagged Ethernet frame carrying IPv4 protocol 2.
func isIGMP(f []byte) bool {
	return len(f) >= 14+20 && binary.BigEndian.Uint16(f[12:]) == unix.ETH_P_IP && f[14]>>4 == 4 && f[14+9] == unix.IPPROTO_IGMP
}

// Mark returns how many frames have been captured so far, after reading
// everything already queued: the boundary between two phases of a test.
func (c *Capture) Mark() int {
	reply := make(chan int, 1)
	select {
	case c.mark <- reply:
		return <-reply
	case <-c.done:
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.frame)
	}
}

// Stop ends the capture and returns its frames.
func (c *Capture) Stop() ([]Frame, error) {
	select {
	case <-c.done:
	default:
		close(c.stop)
		<-c.done
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frame, c.err
}

// WritePcap writes frames as a pcap file (frame numbers in tshark's output
// are then 1 + the index in frames).
func WritePcap(path string, frames []Frame) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w, err := channel.NewPcapWriter(f, channel.LinkTypeEthernet)
	if err == nil {
		for _, fr := range frames {
			if err = w.WritePacket(fr.TS, fr.Data); err != nil {
				break
			}
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
