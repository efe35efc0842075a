package localrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/workloads/dev/devservices"
)

// DemoRate is the event rate (events per second) the demo streams at
// unless its -rate flag says otherwise; benchmarks state their rates
// against it.
const DemoRate = 2000

// Local is the running local engines.
type Local struct {
	Manager   *devservices.Manager
	Home      string // the .sluice folder
	Endpoints devservices.Endpoints
}

// Up starts the named engines (every engine when none is named), or finds
// them running, and waits until they answer. The endpoints use the demo's
// Redis database; a benchmark sets Endpoints.RedisDB to its own.
func Up(ctx context.Context, engines ...devservices.Engine) (*Local, error) {
	m, err := devservices.New("")
	if err != nil {
		return nil, err
	}
	if err := m.Up(ctx, engines...); err != nil {
		return nil, err
	}
	home, err := devservices.DiscoverHome("")
	if err != nil {
		return nil, err
	}
	return &Local{Manager: m, Home: home, Endpoints: devservices.LocalEndpoints()}, nil
}

// LogDir is <home>/logs, where the demo and the benchmarks keep the logs of
// the workloads they run; it is created if missing.
func (l *Local) LogDir() (string, error) {
	dir := filepath.Join(l.Home, "logs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create log folder: %w", err)
	}
	return dir, nil
}

// Env is the workloads' environment for the local engines: the endpoints
// in their stable order, Cassandra read and written at ONE (a single node
// has no quorum to wait for), then extra (KEY=value).
func Env(ep devservices.Endpoints, extra ...string) []string {
	var env []string
	for _, kv := range ep.Env() {
		env = append(env, kv[0]+"="+kv[1])
	}
	env = append(env, "CASSANDRA_CONSISTENCY=ONE")
	return append(env, extra...)
}

// Lookup reads an environment of KEY=value entries the way exec does, the
// last entry of a key winning, so a tool can load the same configuration
// its child processes get (envconfig.NewFrom(Lookup(env))).
func Lookup(env []string) func(string) (string, bool) {
	return func(key string) (string, bool) {
		for i := len(env) - 1; i >= 0; i-- {
			if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
				return v, true
			}
		}
		return "", false
	}
}

// Defaults of a Launcher.
const (
	DefaultReadyTimeout = 90 * time.Second
	DefaultStopTimeout  = 30 * time.Second
)

// Launcher runs the workload binaries of one folder against the local
// engines, the one way the demo, the benchmarks and the pipeline tests do:
// every process gets the same environment plus its own, logs to
// <Logs>/<LogPrefix><name>.log, and StopAll stops them in reverse start
// order, so a process stops before those it reads from (the api before
// ingest, ingest before the change feed it feeds).
type Launcher struct {
	Bin       string   // folder holding the binaries
	Logs      string   // folder of the log files
	LogPrefix string   // prefix of each log file's name, e.g. "bench-e2e-"
	Env       []string // KEY=value for every process, after the process environment
	// ReadyTimeout bounds the wait for /readyz (DefaultReadyTimeout).
	ReadyTimeout time.Duration
	// StopTimeout is how long a process gets to stop after SIGTERM
	// before it is killed (DefaultStopTimeout).
	StopTimeout time.Duration

	mu    sync.Mutex
	procs []*Proc // in start order
}

// Spec is one long-running process to start.
type Spec struct {
	Name   string   // the binary in Bin, and the name of its log file
	Binary string   // another binary to run under Name instead
	Env    []string // KEY=value added to the launcher's environment
	Args   []string
}

// Start starts s and waits until it is ready. Starting a name again (after
// Kill) replaces the earlier process in the stop order.
func (l *Launcher) Start(ctx context.Context, s Spec) (*Proc, error) {
	bin := s.Binary
	if bin == "" {
		bin = filepath.Join(l.Bin, s.Name)
	}
	p, err := Start(ctx, s.Name, bin, l.env(s.Env), s.Args, l.LogPath(s.Name), or(l.ReadyTimeout, DefaultReadyTimeout))
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, q := range l.procs {
		if q.Name == s.Name {
			l.procs[i] = p
			return p, nil
		}
	}
	l.procs = append(l.procs, p)
	return p, nil
}

// Stop stops one process the launcher started.
func (l *Launcher) Stop(p *Proc) error {
	l.mu.Lock()
	for i, q := range l.procs {
		if q == p {
			l.procs = append(l.procs[:i], l.procs[i+1:]...)
			break
		}
	}
	l.mu.Unlock()
	return p.Stop(or(l.StopTimeout, DefaultStopTimeout))
}

// StopAll stops every process still running, the last started first, and
// returns their errors joined.
func (l *Launcher) StopAll() error {
	l.mu.Lock()
	procs := l.procs
	l.procs = nil
	l.mu.Unlock()
	var errs []error
	for i := len(procs) - 1; i >= 0; i-- {
		errs = append(errs, procs[i].Stop(or(l.StopTimeout, DefaultStopTimeout)))
	}
	return errors.Join(errs...)
}

// Command prepares a run-to-completion binary of Bin with the launcher's
// environment plus env, its stdout and stderr appended to its log; the
// caller closes the returned log file once the command is done.
func (l *Launcher) Command(ctx context.Context, name string, env []string, args ...string) (*exec.Cmd, *os.File, error) {
	lf, err := os.OpenFile(l.LogPath(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s log: %w", name, err)
	}
	cmd := exec.CommandContext(ctx, filepath.Join(l.Bin, name), args...)
	cmd.Env = append(os.Environ(), l.env(env)...)
	cmd.Stdout, cmd.Stderr = lf, lf
	return cmd, lf, nil
}

// Run runs a binary of Bin to completion (migrate, enrich).
func (l *Launcher) Run(ctx context.Context, name string, args ...string) error {
	cmd, lf, err := l.Command(ctx, name, nil, args...)
	if err != nil {
		return err
	}
	defer lf.Close()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w (log: %s)", name, err, lf.Name())
	}
	return nil
}

// Output runs a binary of Bin to completion and returns its stdout; its
// stderr goes to its log.
func (l *Launcher) Output(ctx context.Context, name string, args ...string) (string, error) {
	cmd, lf, err := l.Command(ctx, name, nil, args...)
	if err != nil {
		return "", err
	}
	defer lf.Close()
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w (log: %s)", name, err, lf.Name())
	}
	return out.String(), nil
}

// LogPath is the log file of the process called name.
func (l *Launcher) LogPath(name string) string {
	return filepath.Join(l.Logs, l.LogPrefix+name+".log")
}

// Tail returns the last n lines of name's log.
func (l *Launcher) Tail(name string, n int) string { return Tail(l.LogPath(name), n) }

func (l *Launcher) env(extra []string) []string {
	return append(append([]string(nil), l.Env...), extra...)
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
