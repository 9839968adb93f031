// Command gen rewrites the feature table in README.md from the scenario list:
//
//	go run ./test/features/gen
package main

import (
	"fmt"
	"os"

	"netsandbox/test/features"
)

func main() {
	const path = "README.md"
	old, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gen: %v (run it from the repository root)\n", err)
		os.Exit(1)
	}
	updated, err := features.Splice(string(old), features.Markdown(features.PinnedScenarios(), features.FreeBSDScenarios()))
	if err != nil {
		fmt.Fprintf(os.Stderr, "gen: %v\n", err)
		os.Exit(1)
	}
	if err := os.WriteFile(path, []byte(updated), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "gen: %v\n", err)
		os.Exit(1)
	}
}
