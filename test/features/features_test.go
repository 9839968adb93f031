package features

import (
	"os"
	"regexp"
	"testing"
)

func TestREADMETableIsCurrent(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Splice(string(readme), Markdown(PinnedScenarios()))
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
