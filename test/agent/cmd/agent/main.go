// Command agent makes socket system calls on request: gob-encoded
// agent.Requests on stdin, agent.Responses on stdout (see package agent).
// The conformance harness runs it inside a gVisor sandbox, so the calls of
// a scenario go through the sentry. Build it static (CGO_ENABLED=0).
package main

import (
	"fmt"
	"os"

	"netsandbox/test/agent"
)

func main() {
	if err := agent.Serve(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "agent:", err)
		os.Exit(1)
	}
}
