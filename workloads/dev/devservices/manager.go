package devservices

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// service is one engine's recipe.
type service interface {
	engine() Engine
	// prepare fetches artifacts, writes the generated config and does the
	// one-time initialisation (KRaft format, initdb).
	prepare(ctx context.Context, t tools) error
	// command is the long-running server process (after prepare).
	command(t tools) (*exec.Cmd, error)
	// probe is one readiness attempt while a fresh start is awaited.
	probe(ctx context.Context) error
	// bootstrap runs once the probe passes (roles, databases).
	bootstrap(ctx context.Context) error
	// check is the client's view of health, used by Status and by Up to
	// leave a healthy engine alone.
	check(ctx context.Context) error
	waitLabel() string
	stopSignal() syscall.Signal
	startTimeout() time.Duration
	stopTimeout() time.Duration
	describe() string
}

// EngineStatus is one engine's state as Status sees it.
type EngineStatus struct {
	Engine  Engine
	Running bool   // a process recorded in the pid file is alive
	Healthy bool   // it answers a client request
	PID     int    // 0 when not running
	Ports   []int  // the ports it listens on
	LogFile string // its log
	Detail  string // why it is not healthy, or a stale pid file note
}

// Manager installs, starts, stops and checks the local engines under one
// home folder. Its methods are safe for concurrent use; across processes a
// lock file serialises Up, Stop and Purge.
type Manager struct {
	layout Layout
	sys    *system

	outMu       sync.Mutex
	out         io.Writer
	statusShown bool                 // a transient status line is on the terminal
	lastStatus  map[Engine]time.Time // when each engine's last status line was printed

	mu                sync.Mutex
	aptUpdated        bool
	cassandraPassword string
	timeouts          map[Engine]time.Duration
	services          map[Engine]service
	logMaxBytes       int64
	warmup            time.Duration // cap of each warm-up after a start; 0 skips them
	warmups           map[Engine]Warmup
}

// New returns a Manager for home, or for the default home ($SLUICE_HOME, else
// .sluice at the repository root) when home is "". $SLUICE_CACHE_DIR, when
// set, moves the download cache out of the home folder; $SLUICE_WARMUP
// bounds the warm-up after a start (see WarmupEnv).
func New(home string) (*Manager, error) {
	if home == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("working directory: %w", err)
		}
		h, err := DiscoverHome(wd)
		if err != nil {
			return nil, err
		}
		home = h
	}
	abs, err := filepath.Abs(home)
	if err != nil {
		return nil, fmt.Errorf("resolve home %s: %w", home, err)
	}
	layout := Layout{Home: abs}
	if c := os.Getenv(CacheEnv); c != "" {
		if layout.Cache, err = filepath.Abs(c); err != nil {
			return nil, fmt.Errorf("resolve %s: %w", CacheEnv, err)
		}
	}
	warmup, err := ParseWarmup(os.Getenv(WarmupEnv))
	if err != nil {
		return nil, err
	}
	m := &Manager{
		layout:            layout,
		lastStatus:        map[Engine]time.Time{},
		warmup:            warmup,
		warmups:           map[Engine]Warmup{},
		sys:               realSystem(),
		out:               os.Stderr,
		cassandraPassword: CassandraPassword,
		timeouts:          map[Engine]time.Duration{},
		logMaxBytes:       64 << 20,
	}
	m.sys.run = m.runLogged
	m.services = map[Engine]service{
		Kafka:     &kafkaService{m: m},
		Cassandra: &cassandraService{m: m},
		Postgres:  &postgresService{m: m},
		Redis:     &redisService{m: m},
	}
	return m, nil
}

// Layout returns where the manager keeps its files.
func (m *Manager) Layout() Layout { return m.layout }

// SetOutput sets where progress lines go (default os.Stderr; io.Discard to
// silence them).
func (m *Manager) SetOutput(w io.Writer) {
	m.outMu.Lock()
	defer m.outMu.Unlock()
	m.out = w
}

// SetStartTimeout overrides how long Up waits for e to answer.
func (m *Manager) SetStartTimeout(e Engine, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.timeouts[e] = d
}

// SetCassandraPassword sets the superuser password the Cassandra health check
// logs in with, for a test that rotated it (default "cassandra").
func (m *Manager) SetCassandraPassword(p string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cassandraPassword = p
}

func (m *Manager) progressf(e Engine, format string, args ...any) {
	m.outMu.Lock()
	defer m.outMu.Unlock()
	msg := fmt.Sprintf(format, args...)
	if e != "" {
		msg = string(e) + ": " + msg
	}
	if m.statusShown {
		fmt.Fprint(m.out, "\r\x1b[K")
		m.statusShown = false
	}
	fmt.Fprintln(m.out, msg)
}

// rel shortens a path under the home folder's parent for messages.
func (m *Manager) rel(p string) string {
	if r, err := filepath.Rel(filepath.Dir(m.layout.Home), p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

// runLogged runs a command with its output appended to logs/setup.log.
func (m *Manager) runLogged(ctx context.Context, env []string, name string, args ...string) error {
	path := filepath.Join(m.layout.LogDir(), "setup.log")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	var tail bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Stdout = io.MultiWriter(f, &tail)
	cmd.Stderr = cmd.Stdout
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w (full output in %s)\n%s", name, strings.Join(args, " "), err, path, lastLines(tail.String(), 20))
	}
	return nil
}

func (m *Manager) startTimeout(s service) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d, ok := m.timeouts[s.engine()]; ok && d > 0 {
		return d
	}
	return s.startTimeout()
}

// normalize validates engines, drops duplicates, defaults to all of them, and
// orders them as AllEngines does.
func normalize(engines []Engine) ([]Engine, error) {
	if len(engines) == 0 {
		return AllEngines(), nil
	}
	want := map[Engine]bool{}
	for _, e := range engines {
		pe, err := ParseEngine(string(e))
		if err != nil {
			return nil, err
		}
		want[pe] = true
	}
	var out []Engine
	for _, e := range AllEngines() {
		if want[e] {
			out = append(out, e)
		}
	}
	return out, nil
}

// running reads e's pid file. A pid file whose process is gone (or is another
// process by now) is stale: it is removed and reported.
func (m *Manager) running(e Engine) (pidRecord, bool, error) {
	path := m.layout.PidFile(e)
	rec, err := readPidFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return pidRecord{}, false, nil
	}
	if err != nil {
		m.progressf(e, "removing unreadable pid file (%v)", err)
		return pidRecord{}, false, removePidFile(path)
	}
	if alive(rec) {
		return rec, true, nil
	}
	m.progressf(e, "removing stale pid file (pid %d is gone)", rec.PID)
	return pidRecord{}, false, removePidFile(path)
}

// portsInUse returns the ports that something already listens on.
func portsInUse(ports []int) []int {
	var busy []int
	for _, p := range ports {
		l, err := net.Listen("tcp", hostPort(p))
		if err != nil {
			busy = append(busy, p)
			continue
		}
		l.Close()
	}
	return busy
}

// starting is an engine Up waits for.
type starting struct {
	svc    service
	rec    pidRecord
	begin  time.Time
	exited <-chan error // nil when another process started it
}

// Up starts the engines (all when none is named) and waits until each
// answers a client request. An engine already running and healthy is left
// alone; a stale pid file is cleaned up. It is safe to call repeatedly.
func (m *Manager) Up(ctx context.Context, engines ...Engine) error {
	engines, err := normalize(engines)
	if err != nil {
		return err
	}
	if err := m.layout.ensureBase(); err != nil {
		return err
	}
	lock, err := acquireLock(ctx, m.layout.LockFile())
	if err != nil {
		return err
	}
	defer lock.release()

	t, err := m.checkPrereqs(ctx, engines)
	if err != nil {
		return err
	}

	var toStart []service
	var waits []starting
	var problems []error
	for _, e := range engines {
		svc := m.services[e]
		rec, ok, err := m.running(e)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", e, err))
			continue
		}
		if ok {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := svc.check(cctx)
			cancel()
			if err == nil {
				m.progressf(e, "already running (pid %d)", rec.PID)
				continue
			}
			m.progressf(e, "running (pid %d) but not answering yet (%v); waiting", rec.PID, err)
			waits = append(waits, starting{svc: svc, rec: rec, begin: time.Now()})
			continue
		}
		if busy := portsInUse(e.Ports()); len(busy) > 0 {
			problems = append(problems, fmt.Errorf("%s: port(s) %s on %s already in use by a process devservices did not start: stop it (ss -ltnp shows which)",
				e, joinInts(busy), Host))
			continue
		}
		toStart = append(toStart, svc)
	}
	if len(problems) > 0 {
		return errors.Join(problems...)
	}

	for _, svc := range toStart {
		if err := svc.prepare(ctx, t); err != nil {
			return fmt.Errorf("%s: %w", svc.engine(), err)
		}
	}
	for _, svc := range toStart {
		st, err := m.start(svc, t)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", svc.engine(), err))
			continue
		}
		waits = append(waits, st)
	}

	errs := make([]error, len(waits))
	var wg sync.WaitGroup
	for i, st := range waits {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = m.waitReady(ctx, st)
		}()
	}
	wg.Wait()
	problems = append(problems, errs...)
	return errors.Join(problems...)
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}

func (m *Manager) start(svc service, t tools) (starting, error) {
	e := svc.engine()
	cmd, err := svc.command(t)
	if err != nil {
		return starting{}, err
	}
	logPath := m.layout.LogFile(e)
	if err := rotateLog(logPath, m.logMaxBytes); err != nil {
		return starting{}, err
	}
	begin := time.Now()
	rec, exited, err := startDetached(cmd, logPath)
	if err != nil {
		return starting{}, err
	}
	if err := writePidFile(m.layout.PidFile(e), rec); err != nil {
		killGroup(rec.PID)
		return starting{}, err
	}
	m.progressf(e, "starting %s (pid %d, log %s)", svc.describe(), rec.PID, m.rel(logPath))
	return starting{svc: svc, rec: rec, begin: begin, exited: exited}, nil
}

// waitReady polls the engine until it answers, it dies, or its deadline
// passes; on failure it stops the process and returns what went wrong with
// the tail of its log.
func (m *Manager) waitReady(ctx context.Context, st starting) error {
	svc, e := st.svc, st.svc.engine()
	timeout := m.startTimeout(svc)
	deadline := st.begin.Add(timeout)
	lastReport := time.Now()
	var lastErr error
	for {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		lastErr = svc.probe(pctx)
		cancel()
		if lastErr == nil {
			break
		}
		if !alive(st.rec) {
			why := "exited"
			if st.exited != nil {
				select {
				case err := <-st.exited:
					if err != nil {
						why = "exited (" + err.Error() + ")"
					}
				case <-time.After(time.Second):
				}
			}
			_ = removePidFile(m.layout.PidFile(e)) // best effort: the process is gone either way
			return m.failure(e, fmt.Sprintf("process %s before it answered %s (last error: %v)", why, svc.waitLabel(), lastErr))
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: waiting for %s: %w (pid %d left running; `devservices down %s` stops it)", e, svc.waitLabel(), ctx.Err(), st.rec.PID, e)
		}
		if time.Now().After(deadline) {
			m.progressf(e, "not ready after %s; stopping pid %d", timeout.Round(time.Second), st.rec.PID)
			_, _ = stopProcess(context.WithoutCancel(ctx), st.rec, syscall.SIGKILL, 5*time.Second) // it failed already; the report matters more
			_ = removePidFile(m.layout.PidFile(e))
			return m.failure(e, fmt.Sprintf("no answer to %s within %s: %v", svc.waitLabel(), timeout.Round(time.Second), lastErr))
		}
		if time.Since(lastReport) >= 5*time.Second {
			m.progressf(e, "waiting for %s (%ds)…", svc.waitLabel(), int(time.Since(st.begin).Seconds()))
			lastReport = time.Now()
		}
		// Poll briskly at first: PostgreSQL and Redis answer within a second.
		interval := time.Second
		if time.Since(st.begin) < 5*time.Second {
			interval = 250 * time.Millisecond
		}
		select {
		case <-ctx.Done():
		case <-time.After(interval):
		}
	}
	bctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := svc.bootstrap(bctx); err != nil {
		return m.failure(e, "bootstrap: "+err.Error())
	}
	if err := svc.check(bctx); err != nil {
		return m.failure(e, "health check after start: "+err.Error())
	}
	m.progressf(e, "answers (%.1fs)", time.Since(st.begin).Seconds())
	// Answering is not serving at speed: a JVM just started interprets
	// its hot paths until the JIT has compiled them. Only an engine this
	// call started is warmed; one another process started is its to warm.
	if limit := m.warmupCap(); limit > 0 && st.exited != nil {
		if _, err := m.warmUp(ctx, svc, limit); err != nil {
			return err
		}
	}
	m.progressf(e, "ready (%.1fs)", time.Since(st.begin).Seconds())
	return nil
}

// failure builds an error naming what is wrong plus the tail of the log.
func (m *Manager) failure(e Engine, what string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", e, what)
	logPath := m.layout.LogFile(e)
	lines, err := tailLines(logPath, 30)
	if err != nil {
		fmt.Fprintf(&b, "\n  (no log: %v)", err)
	} else {
		fmt.Fprintf(&b, "\n  last %d lines of %s:", len(lines), logPath)
		for _, l := range lines {
			b.WriteString("\n    ")
			b.WriteString(l)
		}
	}
	return errors.New(b.String())
}

// Stop stops the engines (all when none is named) gracefully: the engine's
// shutdown signal, a deadline, then SIGKILL of its process group. Pid files
// are removed; data stays.
func (m *Manager) Stop(ctx context.Context, engines ...Engine) error {
	engines, err := normalize(engines)
	if err != nil {
		return err
	}
	if err := m.layout.ensureBase(); err != nil {
		return err
	}
	lock, err := acquireLock(ctx, m.layout.LockFile())
	if err != nil {
		return err
	}
	defer lock.release()
	return m.stopLocked(ctx, engines)
}

func (m *Manager) stopLocked(ctx context.Context, engines []Engine) error {
	errs := make([]error, len(engines))
	var wg sync.WaitGroup
	for i, e := range engines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = m.stopOne(ctx, m.services[e])
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (m *Manager) stopOne(ctx context.Context, svc service) error {
	e := svc.engine()
	rec, ok, err := m.running(e)
	if err != nil {
		return fmt.Errorf("%s: %w", e, err)
	}
	if !ok {
		m.progressf(e, "not running")
		return nil
	}
	begin := time.Now()
	m.progressf(e, "stopping (pid %d)…", rec.PID)
	killed, err := stopProcess(ctx, rec, svc.stopSignal(), svc.stopTimeout())
	if err != nil {
		return fmt.Errorf("%s: %w", e, err)
	}
	if err := removePidFile(m.layout.PidFile(e)); err != nil {
		return fmt.Errorf("%s: %w", e, err)
	}
	if killed {
		m.progressf(e, "killed after %s without exiting", svc.stopTimeout())
	} else {
		m.progressf(e, "stopped (%.1fs)", time.Since(begin).Seconds())
	}
	return nil
}

// Restart stops e and starts it again, waiting until it answers.
func (m *Manager) Restart(ctx context.Context, e Engine) error {
	if err := m.Stop(ctx, e); err != nil {
		return err
	}
	return m.Up(ctx, e)
}

// Purge stops every engine and deletes all engine data (data/), keeping the
// downloaded jars. The next Up starts from a clean slate.
func (m *Manager) Purge(ctx context.Context) error {
	if err := m.layout.ensureBase(); err != nil {
		return err
	}
	lock, err := acquireLock(ctx, m.layout.LockFile())
	if err != nil {
		return err
	}
	defer lock.release()
	if err := m.stopLocked(ctx, AllEngines()); err != nil {
		return err
	}
	if err := os.RemoveAll(m.layout.DataRoot()); err != nil {
		return fmt.Errorf("delete %s: %w", m.layout.DataRoot(), err)
	}
	m.progressf("", "deleted %s", m.rel(m.layout.DataRoot()))
	return nil
}

// Status reports every engine: whether its process runs and whether it
// answers a client request. It does not change anything.
func (m *Manager) Status(ctx context.Context) ([]EngineStatus, error) {
	out := make([]EngineStatus, 0, len(AllEngines()))
	for _, e := range AllEngines() {
		st := EngineStatus{Engine: e, Ports: e.Ports(), LogFile: m.layout.LogFile(e)}
		rec, err := readPidFile(m.layout.PidFile(e))
		switch {
		case errors.Is(err, os.ErrNotExist):
			st.Detail = "not running"
			if busy := portsInUse(e.Ports()); len(busy) > 0 {
				st.Detail = "not running; port(s) " + joinInts(busy) + " taken by another process"
			}
		case err != nil:
			st.Detail = err.Error()
		case !alive(rec):
			st.Detail = fmt.Sprintf("stale pid file (pid %d is gone)", rec.PID)
		default:
			st.Running, st.PID = true, rec.PID
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			cerr := m.services[e].check(cctx)
			cancel()
			if cerr != nil {
				st.Detail = cerr.Error()
			} else {
				st.Healthy = true
			}
		}
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("status: %w", err)
		}
		out = append(out, st)
	}
	return out, nil
}

// Logs returns the last n lines of e's log.
func (m *Manager) Logs(e Engine, n int) ([]string, error) {
	pe, err := ParseEngine(string(e))
	if err != nil {
		return nil, err
	}
	lines, err := tailLines(m.layout.LogFile(pe), n)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pe, err)
	}
	return lines, nil
}

// writeIfChanged writes content to path unless it already holds exactly that.
func writeIfChanged(path, content string) error {
	old, err := os.ReadFile(path)
	if err == nil && string(old) == content {
		return nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
