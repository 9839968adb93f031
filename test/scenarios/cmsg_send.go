package scenarios

import "netsandbox/test/harness"

// cmsgSendScenarios: sendmsg control messages and per-packet options on raw, ping and TCP sockets, and IP_RECVFRAGSIZE.
func cmsgSendScenarios() []harness.Scenario {
	return nil
}
