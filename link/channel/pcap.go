package channel

import (
	"encoding/binary"
	"errors"
	"io"
	"sync"
	"time"
)

// Link types of the pcap file header (tcpdump.org/linktypes.html).
const (
	LinkTypeEthernet uint32 = 1   // LINKTYPE_ETHERNET: Ethernet II frames
	LinkTypeRaw      uint32 = 101 // LINKTYPE_RAW: bare IPv4/IPv6 packets
)

// pcapSnapLen is the largest frame a record holds whole; longer frames are
// cut, with their real length kept in the record header as libpcap does.
const pcapSnapLen = 262144

// PcapWriter writes a classic libpcap capture file (microsecond timestamps,
// little-endian), the format tcpdump -w writes and every reader accepts.
// It is safe for concurrent use.
type PcapWriter struct {
	mu  sync.Mutex
	w   io.Writer
	err error
	rec [16]byte
}

// NewPcapWriter writes the file header for linkType to w.
func NewPcapWriter(w io.Writer, linkType uint32) (*PcapWriter, error) {
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4) // magic: microsecond resolution
	binary.LittleEndian.PutUint16(h[4:], 2)          // version 2.4
	binary.LittleEndian.PutUint16(h[6:], 4)
	// thiszone and sigfigs stay 0: timestamps are UTC.
	binary.LittleEndian.PutUint32(h[16:], pcapSnapLen)
	binary.LittleEndian.PutUint32(h[20:], linkType)
	if _, err := w.Write(h[:]); err != nil {
		return nil, err
	}
	return &PcapWriter{w: w}, nil
}

// WritePacket appends one record. After a write error every later call
// returns that error.
func (p *PcapWriter) WritePacket(ts time.Time, frame []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	data := frame
	if len(data) > pcapSnapLen {
		data = data[:pcapSnapLen]
	}
	binary.LittleEndian.PutUint32(p.rec[0:], uint32(ts.Unix()))
	binary.LittleEndian.PutUint32(p.rec[4:], uint32(ts.Nanosecond()/1000))
	binary.LittleEndian.PutUint32(p.rec[8:], uint32(len(data)))
	binary.LittleEndian.PutUint32(p.rec[12:], uint32(len(frame)))
	if _, p.err = p.w.Write(p.rec[:]); p.err != nil {
		return p.err
	}
	_, p.err = p.w.Write(data)
	return p.err
}

// Err reports the first write error, if any.
func (p *PcapWriter) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// PcapLinkType is the pcap link type of the frames e carries.
func (e *Endpoint) PcapLinkType() uint32 {
	if e.port.ethernet {
		return LinkTypeEthernet
	}
	return LinkTypeRaw
}

// CapturePcap records every frame crossing e, both directions, into a new
// pcap stream on w with e's link type. Write errors stop the capture; the
// returned writer's Err reports them.
func (e *Endpoint) CapturePcap(w io.Writer) (*PcapWriter, error) {
	if w == nil {
		return nil, errors.New("channel: CapturePcap: nil writer")
	}
	pw, err := NewPcapWriter(w, e.PcapLinkType())
	if err != nil {
		return nil, err
	}
	e.OnFrame(func(_ Direction, frame []byte) {
		_ = pw.WritePacket(time.Now(), frame)
	})
	return pw, nil
}
