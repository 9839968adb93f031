package mdb

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A database as bridge 6.1 prints it (trimmed from a real run): an (S,G)
// entry, an EXCLUDE (*,G) entry with an excluded and a requested source,
// and an entry of the bridge itself.
const sampleMDB = `[{"mdb":[{"index":2,"dev":"br0","port":"pk","grp":"239.9.9.8","src":"198.18.0.12","state":"temp","filter_mode":"include","protocol":"kernel","flags":["blocked"]},
{"index":2,"dev":"br0","port":"pk","grp":"239.9.9.8","state":"temp","filter_mode":"exclude","source_list":[{"address":"198.18.0.13","timer":"  12.50"},{"address":"198.18.0.12","timer":"   0.00"}],"protocol":"kernel","flags":[]},
{"index":2,"dev":"br0","port":"br0","grp":"224.0.0.251","state":"temp","flags":[]}],"router":{}}]`

func TestParseMDB(t *testing.T) {
	db, err := ParseMDB([]byte(sampleMDB))
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Group: "239.9.9.8", Mode: "exclude", State: "temp", Sources: []Source{{"198.18.0.12", false}, {"198.18.0.13", true}}},
		{Group: "239.9.9.8", Src: "198.18.0.12", Mode: "include", State: "temp", Flags: []string{"blocked"}},
	}
	if diff := cmp.Diff(want, db["pk"]); diff != "" {
		t.Errorf("ParseMDB (-want +got):\n%s", diff)
	}
	if got := Filter(db["pk"], "239.9.9.8"); got != "EX{198.18.0.12}" {
		t.Errorf("Filter = %q, want EX{198.18.0.12} (the requested source is not excluded)", got)
	}
	if got := Filter(db["pk"], "239.9.9.9"); got != "" {
		t.Errorf("Filter of an absent group = %q", got)
	}
	if _, err := ParseMDB([]byte(`[{"mdb":[{"grp":"239.1.1.1","source_list":[{"address":"1.2.3.4","timer":"soon"}]}]}]`)); err == nil {
		t.Errorf("a timer that is no number parsed")
	}
}

// Two records in one report, the second with two sources, as tshark 4.0
// prints tsharkFields.
const sampleLine = "7\t198.18.0.3\t224.0.0.22\t1\t0xc0\t1\t0x0000\t0\t1\t3\t0x22\t1\t2\t4,5\t239.99.3.1,239.99.2.1\t0,2\t198.18.0.11,198.18.0.12\t"

func TestParseLine(t *testing.T) {
	p, err := ParseLine(sampleLine, "198.18.0.3")
	if err != nil {
		t.Fatal(err)
	}
	want := Packet{
		Frame:  7,
		Header: "igmpv3 type=0x22 src=self dst=224.0.0.22 ttl=1 tos=0xc0 df=1 id=0x0000 router-alert=present(0) ipsum=good igmpsum=good expert=[]",
		Type:   0x22,
		Records: []Record{
			{Type: 4, Group: "239.99.3.1"},
			{Type: 5, Group: "239.99.2.1", Sources: []string{"198.18.0.11", "198.18.0.12"}},
		},
	}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("ParseLine (-want +got):\n%s", diff)
	}
	for _, bad := range []string{
		"",
		"x\t\t\t\t\t\t\t\t\t\t0x22\t\t1\t4\t239.1.1.1\t0\t\t",
		"1\t\t\t\t\t\t\t\t\t\t0x22\t\t2\t4\t239.1.1.1\t0\t\t",        // two records, one described
		"1\t\t\t\t\t\t\t\t\t\t0x22\t\t1\t4\t239.1.1.1\t1\t\t",        // a source missing
		"1\t\t\t\t\t\t\t\t\t\t0x22\t\t1\t4\t239.1.1.1\t0\t1.2.3.4\t", // a source too many
	} {
		if _, err := ParseLine(bad, ""); err == nil {
			t.Errorf("ParseLine(%q) accepted it", bad)
		}
	}
}

func TestSummarise(t *testing.T) {
	pkts := []Packet{
		{Frame: 1, Type: 0x22, Records: []Record{{Type: 5, Group: "239.1.1.1", Sources: []string{"10.0.0.1", "10.0.0.2"}}, {Type: 4, Group: "239.9.9.9"}}},
		{Frame: 2, Type: 0x22, Records: []Record{{Type: 5, Group: "239.1.1.1", Sources: []string{"10.0.0.2"}}, {Type: 5, Group: "239.1.1.1", Sources: []string{"10.0.0.1"}}}},
		{Frame: 3, Type: 0x11, Group: "239.1.1.1", Sources: []string{"10.0.0.3"}},
		{Frame: 4, Type: 0x11, Group: "239.1.1.1", Sources: []string{"10.0.0.3"}},
		{Frame: 5, Type: 0x22, Records: []Record{{Type: 1, Group: "239.1.1.1", Sources: []string{"10.0.0.1"}}}},
		{Frame: 6, Type: 0x22, Records: []Record{{Type: 1, Group: "239.1.1.1", Sources: []string{"10.0.0.1"}}}},
	}
	out := func(f int) bool { return f == 3 || f == 4 }
	got := Summarise(pkts, out, "239.1.1.1")
	want := Summary{
		Changes: []string{"ALLOW 239.1.1.1 10.0.0.1", "ALLOW 239.1.1.1 10.0.0.1", "ALLOW 239.1.1.1 10.0.0.2", "ALLOW 239.1.1.1 10.0.0.2"},
		Current: []string{"IS_IN 239.1.1.1 {10.0.0.1}"},
		Queries: []string{"Q type=0x11 239.1.1.1 {10.0.0.3}"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Summarise (-want +got):\n%s", diff)
	}
}

// FuzzParseLine: whatever tshark prints, the parser answers without
// panicking, and only reports carry records.
func FuzzParseLine(f *testing.F) {
	f.Add(sampleLine)
	f.Add("1\t0.0.0.0\t224.0.0.1\t1\t0xc0\t0\t0x0000\t0\t1\t3\t0x11\t1\t\t\t0.0.0.0\t0\t\t")
	f.Fuzz(func(t *testing.T, line string) {
		p, err := ParseLine(line, "198.18.0.3")
		if err != nil {
			return
		}
		if len(p.Records) > 0 && p.Type != 0x22 {
			t.Fatalf("records in a non-report: %+v", p)
		}
	})
}

// FuzzParseMDB: malformed JSON is an error, never a panic.
func FuzzParseMDB(f *testing.F) {
	f.Add([]byte(sampleMDB))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, js []byte) {
		db, err := ParseMDB(js)
		if err != nil {
			return
		}
		for _, es := range db {
			for _, e := range es {
				Filter(es, e.Group)
			}
		}
	})
}
