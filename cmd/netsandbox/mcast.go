package main

import (
	"errors"
	"io"
)

// runMcast is being written; until then it says so rather than pretending.
func runMcast(args []string, stdout, stderr io.Writer) error {
	return errors.New("not built yet")
}
