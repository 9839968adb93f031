package mdb

import (
	"fmt"
	"slices"
	"strings"
)

// Summary is what one host's port carried about one group in one phase of
// a step, normalised so that the kernel's and netsandbox's compare equal
// when they said the same things, whatever the timing:
//
//   - Reports are split into their records. Which records share a packet
//     depends on timer races (Linux sends every record pending on the
//     interface together), so packets are not compared, records are.
//   - ALLOW and BLOCK records are flattened to one item per source, kept as
//     a multiset. Each source is retransmitted robustness-variable times
//     (RFC 3376 8.1), but whether two sources added by calls a millisecond
//     apart travel in one record or two is again a race.
//   - TO_IN and TO_EX records stay whole (their source list is the new
//     state) and are a multiset too: each is sent robustness-variable times.
//   - IS_IN and IS_EX records (answers to queries) are a set: how many
//     answers a pair of queries 100 ms apart gets depends on whether the
//     second query comes before the first answer.
//   - The queries the bridge sends the port (its reaction to the reports)
//     are a set for the same reason.
//
// Source order inside a record is kept: both hosts should list sources as
// Linux does.
type Summary struct {
	Changes []string // multiset, sorted
	Current []string // set, sorted
	Queries []string // set, sorted
}

// Summarise builds the summary of group over pkts (those of one port and
// one phase); out tells the bridge's frames (queries) from the host's.
func Summarise(pkts []Packet, out func(frame int) bool, group string) Summary {
	var s Summary
	for _, p := range pkts {
		if out(p.Frame) {
			if p.Group == group {
				s.Queries = append(s.Queries, fmt.Sprintf("Q type=%#x %s {%s}", p.Type, p.Group, strings.Join(p.Sources, ",")))
			}
			continue
		}
		if p.Type != 0x22 {
			// IGMPv1/v2 reports and leaves: not expected with an IGMPv3
			// querier, kept whole if they appear.
			if p.Group == group {
				s.Changes = append(s.Changes, fmt.Sprintf("type=%#x %s", p.Type, p.Group))
			}
			continue
		}
		for _, r := range p.Records {
			if r.Group != group {
				continue
			}
			switch {
			case r.Type == 5 || r.Type == 6:
				if len(r.Sources) == 0 {
					s.Changes = append(s.Changes, r.String())
				}
				for _, a := range r.Sources {
					s.Changes = append(s.Changes, fmt.Sprintf("%s %s %s", recordNames[r.Type], r.Group, a))
				}
			case r.Type == 3 || r.Type == 4:
				s.Changes = append(s.Changes, r.String())
			default:
				s.Current = append(s.Current, r.String())
			}
		}
	}
	slices.Sort(s.Changes)
	slices.Sort(s.Current)
	s.Current = slices.Compact(s.Current)
	slices.Sort(s.Queries)
	s.Queries = slices.Compact(s.Queries)
	return s
}

// GeneralQueries counts the general queries the bridge sent in pkts.
func GeneralQueries(pkts []Packet, out func(frame int) bool) int {
	n := 0
	for _, p := range pkts {
		if out(p.Frame) && p.Type == 0x11 && p.Group == "0.0.0.0" {
			n++
		}
	}
	return n
}

// Headers is the set of distinct headers of the packets the host sent.
func Headers(pkts []Packet, out func(frame int) bool) []string {
	var hs []string
	for _, p := range pkts {
		if !out(p.Frame) {
			hs = append(hs, p.Header)
		}
	}
	slices.Sort(hs)
	return slices.Compact(hs)
}

// InRange keeps the packets whose frame number lies in (from, to], frame
// numbers being 1-based and marks counts of frames.
func InRange(pkts []Packet, from, to int) []Packet {
	var out []Packet
	for _, p := range pkts {
		if p.Frame > from && p.Frame <= to {
			out = append(out, p)
		}
	}
	return out
}
