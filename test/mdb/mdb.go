package mdb

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Entry is one multicast database entry of a port, normalised so that the
// kernel port's and the netsandbox port's entries compare equal when the
// bridge holds the same state for both:
//   - the port name becomes the host's role (and is then the map key);
//   - timers are dropped, except whether a source's timer runs: in EXCLUDE
//     mode that is what tells a requested source (timer > 0) from an
//     excluded one (timer 0), RFC 3376 6.2.1;
//   - the bridge's index and dev are the same for every entry and dropped;
//   - sources, flags and entries are sorted.
type Entry struct {
	Group   string
	Src     string // set for the bridge's (S,G) entries; "" for (*,G)
	Mode    string // "include", "exclude", or "" (no IGMPv3 state)
	Sources []Source
	State   string // "temp" (learnt from IGMP) or "permanent"
	Flags   []string
}

// Source is a source of a (*,G) entry's list.
type Source struct {
	Addr    string
	Running bool // its timer is not 0
}

// rawMDB is `bridge -d -j mdb show`: one object per bridge.
type rawMDB []struct {
	MDB []rawEntry `json:"mdb"`
}

type rawEntry struct {
	Port       string   `json:"port"`
	Grp        string   `json:"grp"`
	Src        string   `json:"src"`
	State      string   `json:"state"`
	FilterMode string   `json:"filter_mode"`
	Flags      []string `json:"flags"`
	SourceList []struct {
		Address string `json:"address"`
		Timer   string `json:"timer"`
	} `json:"source_list"`
}

// ReadMDB reads the database of the bridge namespace.
func ReadMDB(ns string) (map[string][]Entry, error) {
	out, err := run("bridge", "-n", ns, "-d", "-j", "mdb", "show")
	if err != nil {
		return nil, err
	}
	return ParseMDB(out)
}

// ParseMDB normalises bridge's JSON and files entries by port name (the
// caller maps port names to roles).
func ParseMDB(js []byte) (map[string][]Entry, error) {
	var raw rawMDB
	if err := json.Unmarshal(js, &raw); err != nil {
		return nil, fmt.Errorf("bridge mdb JSON: %w", err)
	}
	byPort := make(map[string][]Entry)
	for _, br := range raw {
		for _, r := range br.MDB {
			e := Entry{Group: r.Grp, Src: r.Src, Mode: r.FilterMode, State: r.State, Flags: slices.Clone(r.Flags)}
			for _, s := range r.SourceList {
				v, err := strconv.ParseFloat(strings.TrimSpace(s.Timer), 64)
				if err != nil {
					return nil, fmt.Errorf("bridge mdb: source %s of %s: timer %q: %w", s.Address, r.Grp, s.Timer, err)
				}
				e.Sources = append(e.Sources, Source{Addr: s.Address, Running: v > 0})
			}
			slices.SortFunc(e.Sources, func(a, b Source) int { return compareAddr(a.Addr, b.Addr) })
			slices.Sort(e.Flags)
			if len(e.Flags) == 0 {
				e.Flags = nil
			}
			byPort[r.Port] = append(byPort[r.Port], e)
		}
	}
	for _, es := range byPort {
		slices.SortFunc(es, func(a, b Entry) int {
			if c := compareAddr(a.Group, b.Group); c != 0 {
				return c
			}
			return compareAddr(a.Src, b.Src)
		})
	}
	return byPort, nil
}

// Only keeps the entries of one group.
func Only(es []Entry, group string) []Entry {
	var out []Entry
	for _, e := range es {
		if e.Group == group {
			out = append(out, e)
		}
	}
	return out
}

// Filter renders the (*,G) entry of group the way the host-side
// expectation is written, "IN{a,b}" or "EX{a}", "member" for an entry
// without IGMPv3 state (a bridge speaking IGMPv2), or "" when the bridge
// has no entry. In EXCLUDE mode only sources whose timer is 0 are listed: a
// source with a running timer is one some host asked for again (RFC 3376
// 6.2.1's "requested list"), forwarded like any source not excluded.
func Filter(es []Entry, group string) string {
	for _, e := range es {
		if e.Group != group || e.Src != "" {
			continue
		}
		if e.Mode == "" && len(e.Sources) == 0 {
			return "member"
		}
		var srcs []string
		for _, s := range e.Sources {
			if e.Mode != "exclude" || !s.Running {
				srcs = append(srcs, s.Addr)
			}
		}
		mode := map[string]string{"include": "IN", "exclude": "EX"}[e.Mode]
		if mode == "" {
			mode = "?" + e.Mode
		}
		return mode + "{" + strings.Join(srcs, ",") + "}"
	}
	return ""
}

// compareAddr orders addresses numerically ("" and anything unparsable
// first, by text).
func compareAddr(a, b string) int {
	x, errA := netip.ParseAddr(a)
	y, errB := netip.ParseAddr(b)
	switch {
	case errA == nil && errB == nil:
		return x.Compare(y)
	case errA == nil:
		return 1
	case errB == nil:
		return -1
	}
	return strings.Compare(a, b)
}
