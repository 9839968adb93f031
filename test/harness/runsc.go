package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/agent"
)

// Sandboxed DUTs: the agent (test/agent/cmd/agent) runs as the only
// process of an OCI container that `runsc run` starts from a bundle whose
// network namespace is the topology's DUT namespace, so the sandbox takes
// that namespace's eth0 (its address, routes and an AF_PACKET socket on
// it) as the kernel DUT has it:
//
//	runsc-netsandbox  runsc-netsandbox --network=plugin: netsandbox
//	runsc             the same binary with --network=sandbox: gVisor's netstack
//
// The root file system is the host's /, read-only under an overlay in
// memory, so the agent binary is run from the temporary directory it was
// built into. `run` is used, never `do`: `runsc do` with a sandbox network
// sets the host's net.ipv4.ip_forward, which the harness must not touch
// (hostIPForward checks it anyway).

// RunscKinds are the DUT kinds NewRunscDUT makes, with runsc's --network.
var RunscKinds = map[string]string{"runsc-netsandbox": "plugin", "runsc": "sandbox"}

// Environment variables naming prebuilt binaries (both static); unset, the
// harness builds them from the module it runs in.
const (
	EnvRunscBin = "NETSANDBOX_RUNSC_BIN" // a runsc-netsandbox binary
	EnvAgentBin = "NETSANDBOX_AGENT_BIN" // a test/agent/cmd/agent binary
)

// Timeouts of the sandboxed DUTs.
const (
	buildTimeout   = 15 * time.Minute
	startTimeout   = time.Minute      // runsc run until the agent answers
	stopTimeout    = 15 * time.Second // the agent's exit once its stdin is closed
	agentCallLimit = time.Minute      // any one call (Client.MaxWait)
	maxRestarts    = 10               // per DUT
)

// binaries are built once per process and shared by the DUTs using them.
var binaries struct {
	sync.Mutex
	users       int
	dir         string
	runsc, agnt string
}

// acquireBinaries returns runsc-netsandbox and the agent, building them on
// first use, and a release function that removes them after the last user.
func acquireBinaries() (runsc, agnt string, release func() error, err error) {
	binaries.Lock()
	defer binaries.Unlock()
	if binaries.users == 0 {
		dir, err := os.MkdirTemp("", RunPrefix()+"bin-")
		if err != nil {
			return "", "", nil, err
		}
		r, rerr := buildBinary(dir, EnvRunscBin, "runsc-netsandbox", "netsandbox/cmd/runsc-netsandbox")
		a, aerr := buildBinary(dir, EnvAgentBin, "agent", "netsandbox/test/agent/cmd/agent")
		if err := errors.Join(rerr, aerr); err != nil {
			os.RemoveAll(dir)
			return "", "", nil, err
		}
		// The sandbox's gofer serves / to the agent: every directory on
		// the way must be searchable.
		if err := os.Chmod(dir, 0o755); err != nil {
			os.RemoveAll(dir)
			return "", "", nil, err
		}
		binaries.dir, binaries.runsc, binaries.agnt = dir, r, a
	}
	binaries.users++
	var once sync.Once
	release = func() error {
		var err error
		once.Do(func() {
			binaries.Lock()
			defer binaries.Unlock()
			if binaries.users--; binaries.users == 0 {
				err = os.RemoveAll(binaries.dir)
			}
		})
		return err
	}
	return binaries.runsc, binaries.agnt, release, nil
}

// buildBinary returns the path in env if set, else builds pkg (static) into
// dir/name.
func buildBinary(dir, env, name, pkg string) (string, error) {
	if p := os.Getenv(env); p != "" {
		return filepath.Abs(p)
	}
	out := filepath.Join(dir, name)
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s (run inside the netsandbox module, or set %s): %v\n%s", pkg, env, err, b)
	}
	return out, nil
}

// hostIPForward reads the host's net.ipv4.ip_forward (this process's
// namespace, the one runsc runs in).
func hostIPForward() ([]byte, error) { return os.ReadFile("/proc/sys/net/ipv4/ip_forward") }

// restoreIPForward puts the host's ip_forward back if it changed and says so.
func restoreIPForward(before []byte) error {
	after, err := hostIPForward()
	if err != nil || bytes.Equal(before, after) {
		return err
	}
	werr := os.WriteFile("/proc/sys/net/ipv4/ip_forward", before, 0o644)
	return errors.Join(fmt.Errorf("the host's net.ipv4.ip_forward changed from %q to %q while a sandbox started; restored", bytes.TrimSpace(before), bytes.TrimSpace(after)), werr)
}

// NewRunscDUT builds a topology whose DUT is the agent inside a sandbox of
// the given kind (a key of RunscKinds). The DUT namespace starts as the
// kernel DUT's (address, route to the far net, Linux's default knobs); the
// sandbox's stack then takes over eth0.
func NewRunscDUT(kind, tag string) (d *DUT, err error) {
	network, ok := RunscKinds[kind]
	if !ok {
		return nil, fmt.Errorf("unknown sandboxed DUT kind %q", kind)
	}
	runsc, agnt, release, err := acquireBinaries()
	if err != nil {
		return nil, err
	}
	t, err := NewTopology(RunPrefix(), tag, true)
	if err != nil {
		release()
		return nil, err
	}
	d = &DUT{Kind: kind, Peer: NewKernelHost("peer", t.PeerNS), Far: NewKernelHost("far", t.FarNS), Topo: t}
	d.closers = append(d.closers, release)
	defer func() {
		if err != nil {
			d.Close()
			d = nil
		}
	}()
	dir, err := os.MkdirTemp("", RunPrefix()+tag+"-sandbox-")
	if err != nil {
		return d, err
	}
	d.closers = append(d.closers, func() error { return os.RemoveAll(dir) })
	cfg := &sandboxConfig{runsc: runsc, agent: agnt, network: network, netns: t.DUTNS, dir: dir, cidPrefix: RunPrefix() + tag}
	sb, err := cfg.start(0)
	if sb != nil && sb.note != "" {
		d.Notes = append(d.Notes, sb.note)
	}
	if err != nil {
		return d, err
	}
	h := &AgentHost{name: "dut", sb: sb}
	d.closers = append(d.closers, h.Close)
	d.Host = h
	d.Prepare = h.Revive
	return d, nil
}

// sandboxConfig is what every (re)start of a DUT's sandbox shares.
type sandboxConfig struct {
	runsc, agent, network, netns, dir, cidPrefix string
}

// runscSandbox is one `runsc run` of the agent.
type runscSandbox struct {
	cfg      *sandboxConfig
	n        int // restarts before this one
	cid      string
	state    string
	cmd      *exec.Cmd
	exited   chan struct{}
	stderr   string // runsc's stderr file
	client   *agent.Client
	note     string // a finding worth reporting (ip_forward)
	stopOnce sync.Once
	stopErr  error
}

// runscArgs are runsc's global flags for this sandbox.
func (sb *runscSandbox) runscArgs() []string {
	return []string{"--root=" + sb.state, "--network=" + sb.cfg.network, "--overlay2=all:memory", "--net-raw"}
}

// start (re)configures the DUT namespace's eth0 as the kernel DUT's (a
// previous sandbox took its address), starts `runsc run` and waits for the
// agent's first answer.
func (c *sandboxConfig) start(n int) (sb *runscSandbox, err error) {
	for _, args := range [][]string{
		{"-n", c.netns, "addr", "replace", fmt.Sprintf("%s/%d", DUTAddr, PrefixLen), "dev", "eth0"},
		{"-n", c.netns, "route", "replace", FarNet.String(), "via", PeerAddr.String()},
	} {
		if _, err := runIP(args...); err != nil {
			return nil, err
		}
	}
	sb = &runscSandbox{cfg: c, n: n, cid: fmt.Sprintf("%s-agent%d", c.cidPrefix, n), exited: make(chan struct{})}
	sb.state = filepath.Join(c.dir, fmt.Sprintf("state%d", n))
	bundle := filepath.Join(c.dir, fmt.Sprintf("bundle%d", n))
	sb.stderr = filepath.Join(c.dir, fmt.Sprintf("runsc%d.stderr", n))
	for _, d := range []string{sb.state, bundle} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := writeAgentBundle(bundle, c.agent, c.netns); err != nil {
		return nil, err
	}
	fwd, err := hostIPForward()
	if err != nil {
		return nil, err
	}
	defer func() {
		if ferr := restoreIPForward(fwd); ferr != nil {
			sb.note = ferr.Error()
		}
		if err != nil {
			err = errors.Join(err, sb.stop())
			if b, rerr := os.ReadFile(sb.stderr); rerr == nil && len(b) > 0 {
				err = fmt.Errorf("%w\nrunsc stderr:\n%s", err, tail(b, 4096))
			}
		}
	}()
	inR, inW, err := os.Pipe()
	if err != nil {
		return sb, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return sb, err
	}
	errF, err := os.Create(sb.stderr)
	if err != nil {
		inR.Close()
		inW.Close()
		outR.Close()
		outW.Close()
		return sb, err
	}
	sb.cmd = exec.Command(c.runsc, append(sb.runscArgs(), "run", "--bundle", bundle, sb.cid)...)
	sb.cmd.Stdin, sb.cmd.Stdout, sb.cmd.Stderr = inR, outW, errF
	err = sb.cmd.Start()
	inR.Close()
	outW.Close()
	errF.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		sb.cmd = nil
		return sb, err
	}
	sb.client = agent.NewClient(inW, outR)
	go func() {
		sb.cmd.Wait()
		outR.Close()
		close(sb.exited)
	}()
	sb.client.MaxWait = startTimeout
	if err := sb.client.Ping(); err != nil {
		return sb, fmt.Errorf("%s --network=%s: the agent did not answer: %w", filepath.Base(c.runsc), c.network, err)
	}
	sb.client.MaxWait = agentCallLimit
	return sb, nil
}

// restart stops this sandbox and starts the next one.
func (sb *runscSandbox) restart() (*runscSandbox, error) {
	sb.stop()
	if sb.n+1 > maxRestarts {
		return nil, fmt.Errorf("%d restarts already", maxRestarts)
	}
	return sb.cfg.start(sb.n + 1)
}

// stop ends the agent (its stdin closes), then runsc, and removes the
// container and its state. Every wait is bounded.
func (sb *runscSandbox) stop() error {
	sb.stopOnce.Do(func() {
		var errs []error
		if sb.client != nil {
			sb.client.Close()
		}
		if sb.cmd != nil {
			select {
			case <-sb.exited:
			case <-time.After(stopTimeout):
				sb.cmd.Process.Kill()
				select {
				case <-sb.exited:
				case <-time.After(stopTimeout):
					errs = append(errs, fmt.Errorf("runsc run %s (pid %d) did not exit", sb.cid, sb.cmd.Process.Pid))
				}
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// Removes the sandbox and gofer if the run did not end them; an
		// error here is usual (the container is already gone).
		exec.CommandContext(ctx, sb.cfg.runsc, append(sb.runscArgs(), "delete", "-force", sb.cid)...).Run()
		// runsc bind-mounts an empty network namespace for the gofer in
		// its state directory.
		for i := 0; i < 100 && unix.Unmount(filepath.Join(sb.state, "null-netns"), unix.MNT_DETACH) == nil; i++ {
		}
		if err := os.RemoveAll(sb.state); err != nil {
			errs = append(errs, err)
		}
		sb.stopErr = errors.Join(errs...)
	})
	return sb.stopErr
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimRight(string(b), "\n")
}

// writeAgentBundle writes an OCI bundle (config.json) that runs the agent
// as root with every capability in network namespace netns, with the
// host's / read-only as its root.
func writeAgentBundle(dir, agentBin, netns string) error {
	var caps []string
	for _, c := range strings.Fields(`CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID
		SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER
		SYS_CHROOT SYS_PTRACE SYS_ADMIN SYS_NICE SYS_RESOURCE SYS_TIME MKNOD LEASE AUDIT_WRITE SETFCAP`) {
		caps = append(caps, "CAP_"+c)
	}
	type ns struct {
		Type string `json:"type"`
		Path string `json:"path,omitempty"`
	}
	spec := map[string]any{
		"ociVersion": "1.0.2",
		"root":       map[string]any{"path": "/", "readonly": true},
		"hostname":   "nsbx-dut",
		"process": map[string]any{
			"cwd":  "/",
			"args": []string{agentBin},
			"env":  []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "GOTRACEBACK=all"},
			"user": map[string]any{"uid": 0, "gid": 0},
			"capabilities": map[string]any{
				"bounding": caps, "effective": caps, "permitted": caps, "inheritable": caps, "ambient": caps,
			},
		},
		"linux": map[string]any{"namespaces": []ns{
			{Type: "pid"}, {Type: "ipc"}, {Type: "uts"}, {Type: "mount"},
			{Type: "network", Path: "/run/netns/" + netns},
		}},
	}
	b, err := json.MarshalIndent(spec, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644)
}
