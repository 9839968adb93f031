package scenarios

import "netsandbox/test/harness"

// ioctlScenarios: socket ioctls (SIOCGSTAMP, FIONREAD/SIOCINQ, SIOCOUTQ, SIOCGIF*) and SO_PRIORITY.
func ioctlScenarios() []harness.Scenario {
	return nil
}
