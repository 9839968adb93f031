package scenarios

import "netsandbox/test/harness"

// TCP_MAXSEG: the send MSS, user_mss and their effect on the wire.
func tcpMaxsegScenarios() []harness.Scenario {
	return nil
}
