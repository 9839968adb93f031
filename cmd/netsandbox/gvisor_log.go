package main

import (
	"io"
	"time"

	glog "gvisor.dev/gvisor/pkg/log"
)

// routeGvisorLog sends gVisor's own log lines (a martian packet dropped,
// a frame it could not parse) to stderr with -v, and nowhere without it:
// they speak of gVisor's knobs, not netsandbox's flags, and the sandbox's
// program owns the terminal. Call it before the stack exists (gVisor's
// SetTarget must not race its logging).
func routeGvisorLog(verbose bool, stderr io.Writer) {
	if verbose {
		glog.SetTarget(glog.GoogleEmitter{Writer: &glog.Writer{Next: stderr}})
		return
	}
	glog.SetTarget(discardLog{})
}

type discardLog struct{}

func (discardLog) Emit(int, glog.Level, time.Time, string, ...any) {}
