package mdb

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// Packet is one IGMP packet as tshark decodes it.
type Packet struct {
	Frame int // tshark's frame number, 1-based
	// Header is what every IGMP packet a host sends must show, rendered
	// with the sender's address replaced by its role ("self" when it is the
	// host's own address).
	Header  string
	Type    int // IGMP type: 0x11 query, 0x22 v3 report, ...
	Records []Record
	// Query fields (Type 0x11): the queried group and sources.
	Group   string
	Sources []string
}

// Record is one group record of an IGMPv3 report.
type Record struct {
	Type    int
	Group   string
	Sources []string // in the order of the report
}

// IGMPv3 record type names (RFC 3376 4.2.12).
var recordNames = map[int]string{1: "IS_IN", 2: "IS_EX", 3: "TO_IN", 4: "TO_EX", 5: "ALLOW", 6: "BLOCK"}

func (r Record) String() string {
	name := recordNames[r.Type]
	if name == "" {
		name = fmt.Sprintf("rec%d", r.Type)
	}
	return name + " " + r.Group + " {" + strings.Join(r.Sources, ",") + "}"
}

// tsharkFields are the fields decoded, in the order of a line.
var tsharkFields = []string{
	"frame.number",
	"ip.src", "ip.dst", "ip.ttl", "ip.dsfield", "ip.flags.df", "ip.id",
	"ip.opt.ra", "ip.checksum.status",
	"igmp.version", "igmp.type", "igmp.checksum.status",
	"igmp.num_grp_recs", "igmp.record_type", "igmp.maddr", "igmp.num_src", "igmp.saddr",
	"_ws.expert.message",
}

const (
	fFrame = iota
	fSrc
	fDst
	fTTL
	fDS
	fDF
	fID
	fRA
	fIPSum
	fVersion
	fType
	fSum
	fNRec
	fRecType
	fMaddr
	fNSrc
	fSaddr
	fExpert
)

// Decode runs tshark on a pcap file. self is the capturing host's address,
// written "self" in headers. IPv4 header checksums are checked
// (ip.check_checksum); IGMP checksums tshark always checks.
func Decode(path, self string) ([]Packet, error) {
	if _, err := exec.LookPath("tshark"); err != nil {
		return nil, fmt.Errorf("tshark not installed (apt-get install -y tshark): %w", err)
	}
	args := []string{"-n", "-r", path, "-o", "ip.check_checksum:TRUE", "-Y", "igmp",
		"-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"}
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	out, err := run("tshark", args...)
	if err != nil {
		return nil, err
	}
	var pkts []Packet
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		p, err := ParseLine(line, self)
		if err != nil {
			return nil, err
		}
		pkts = append(pkts, p)
	}
	return pkts, nil
}

// ParseLine reads one line of tshark's field output (tsharkFields).
func ParseLine(line, self string) (Packet, error) {
	f := strings.Split(line, "\t")
	if len(f) != len(tsharkFields) {
		return Packet{}, fmt.Errorf("tshark line has %d fields, want %d: %q", len(f), len(tsharkFields), line)
	}
	var p Packet
	var err error
	if p.Frame, err = strconv.Atoi(f[fFrame]); err != nil {
		return p, fmt.Errorf("tshark frame number %q: %w", f[fFrame], err)
	}
	typ, err := strconv.ParseInt(f[fType], 0, 16)
	if err != nil {
		return p, fmt.Errorf("frame %d: igmp.type %q: %w", p.Frame, f[fType], err)
	}
	p.Type = int(typ)
	src := f[fSrc]
	if src == self {
		src = "self"
	}
	ra := "absent"
	if f[fRA] != "" {
		ra = "present(" + f[fRA] + ")"
	}
	p.Header = fmt.Sprintf("igmpv%s type=%s src=%s dst=%s ttl=%s tos=%s df=%s id=%s router-alert=%s ipsum=%s igmpsum=%s expert=[%s]",
		f[fVersion], f[fType], src, f[fDst], f[fTTL], f[fDS], f[fDF], f[fID], ra,
		checksumStatus(f[fIPSum]), checksumStatus(f[fSum]), f[fExpert])
	saddrs := split(f[fSaddr])
	if p.Type != 0x22 {
		p.Group = f[fMaddr]
		p.Sources = saddrs
		return p, nil
	}
	types, groups, nsrc := split(f[fRecType]), split(f[fMaddr]), split(f[fNSrc])
	n, err := strconv.Atoi(f[fNRec])
	if err != nil || len(types) != n || len(groups) != n || len(nsrc) != n {
		return p, fmt.Errorf("frame %d: %s records but types %q groups %q source counts %q", p.Frame, f[fNRec], f[fRecType], f[fMaddr], f[fNSrc])
	}
	for i := range n {
		t, err1 := strconv.Atoi(types[i])
		k, err2 := strconv.Atoi(nsrc[i])
		if err1 != nil || err2 != nil || k < 0 || k > len(saddrs) {
			return p, fmt.Errorf("frame %d: record %d: type %q, %q sources of %d left", p.Frame, i, types[i], nsrc[i], len(saddrs))
		}
		r := Record{Type: t, Group: groups[i]}
		if k > 0 {
			r.Sources = saddrs[:k:k]
		}
		p.Records = append(p.Records, r)
		saddrs = saddrs[k:]
	}
	if len(saddrs) != 0 {
		return p, fmt.Errorf("frame %d: %d sources beyond the records' counts", p.Frame, len(saddrs))
	}
	return p, nil
}

// checksumStatus names tshark's checksum status values.
func checksumStatus(v string) string {
	switch v {
	case "0":
		return "bad"
	case "1":
		return "good"
	case "2":
		return "unverified"
	case "":
		return "none"
	}
	return "status" + v
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
