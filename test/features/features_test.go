package features

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

func TestREADMETableIsCurrent(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Splice(string(readme), Markdown(PinnedScenarios(), FreeBSDScenarios()))
	if err != nil {
		t.Fatal(err)
	}
	if string(readme) != want {
		t.Fatal("README.md's feature table is stale: run `go run ./test/features/gen` and commit README.md")
	}
}

func TestCatalogPatterns(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Catalog {
		if seen[f.Name] {
			t.Errorf("row %q appears twice", f.Name)
		}
		seen[f.Name] = true
		if _, err := regexp.Compile(f.Covers); err != nil {
			t.Errorf("row %q: %v", f.Name, err)
		}
	}
}

func TestStatusIgnoresNonMatching(t *testing.T) {
	f := Feature{Name: "SO_X", Covers: `^SOCKOPT/SO_X$`}
	if ok, n := f.Status([]string{"sockopt/so-y", "sockopt/so-x/extra", "sockopt/default/SO_X"}); ok || n != 0 {
		t.Fatalf("Status = %v, %d; want false, 0", ok, n)
	}
	if ok, n := f.Status([]string{"sockopt/so-x"}); !ok || n != 1 {
		t.Fatalf("Status = %v, %d; want true, 1", ok, n)
	}
	if ok, _ := (Feature{Name: "Z"}).Status([]string{"anything"}); ok {
		t.Fatal("a row without a pattern must read missing")
	}
}

func TestFreeBSDRowsCountTheirGroup(t *testing.T) {
	const row = "| FreeBSD option | `IP_DONTFRAG` |"
	for _, c := range []struct {
		linux, bsd []string
		want       string
	}{
		{[]string{"freebsd/ip-dontfrag"}, nil, row + " missing | 0 |"},
		{nil, []string{"freebsd/ip-dontfrag"}, row + " works, pinned to FreeBSD source | 1 |"},
	} {
		if md := Markdown(c.linux, c.bsd); !strings.Contains(md, c.want) {
			t.Errorf("Markdown(%v, %v) has no %q", c.linux, c.bsd, c.want)
		}
	}
}
