package harness

import "errors"

// NewNetsandboxDUT builds a topology whose DUT is a netsandbox stack.
// Placeholder until endpoint/ and link/fdbased exist in the tree.
func NewNetsandboxDUT(tag string) (*DUT, error) {
	return nil, errors.New("netsandbox host not available yet")
}
