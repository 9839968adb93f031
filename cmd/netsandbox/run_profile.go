package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"strings"
)

// cpuProfile handles the hidden --cpuprofile FILE (or --cpuprofile=FILE)
// of run and serve before the flags proper: it removes the flag from
// *args, starts a CPU profile of the process into FILE and returns what
// stops it. --trace FILE does the same with an execution trace
// (runtime/trace), which shows where a packet waits between goroutines. It is for profiling the relay (scripts/bench-run.sh) and the
// echo (BenchmarkServeUDPEcho), so it is kept out of the usage text. The
// profile is complete when run's CMD exits 0 (a non-zero status ends the
// process through os.Exit) or serve stops on a signal.
func cpuProfile(args *[]string) (stop func()) {
	stop = func() {}
	files := map[string]string{}
	out := (*args)[:0:0]
	for i := 0; i < len(*args); i++ {
		a := (*args)[i]
		if a == "--" {
			out = append(out, (*args)[i:]...)
			break
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || (name != "cpuprofile" && name != "trace") {
			out = append(out, a)
			continue
		}
		if !hasVal && i+1 < len(*args) {
			i++
			val = (*args)[i]
		}
		files[name] = val
	}
	if len(files) == 0 {
		return stop
	}
	*args = out
	var stops []func()
	for name, file := range files {
		f, err := os.Create(file)
		if err == nil {
			if name == "trace" {
				err = trace.Start(f)
				stops = append(stops, func() { trace.Stop(); f.Close() })
			} else {
				err = pprof.StartCPUProfile(f)
				stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "netsandbox: --%s: %v\n", name, err)
			os.Exit(2)
		}
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}
