package conformance

// SentryExpected lists the scenarios in which runsc-netsandbox differs from
// Linux only because of gVisor's sentry, which sits between the program's
// system call and netsandbox's socket. Each reason names the gVisor code
// (gvisor.dev/gvisor, the version in go.mod) that decides it. A difference
// not listed here, nor in scenarios.Expected, is a netsandbox bug.
var SentryExpected = map[string]string{}
