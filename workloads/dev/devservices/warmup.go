package devservices

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// WarmupEnv bounds the warm-up Up runs on an engine it has just started:
// "0" (or "off") skips it, a duration such as "2m" caps each engine's
// warm-up; unset or empty means DefaultWarmupCap.
const WarmupEnv = "SLUICE_WARMUP"

// DefaultWarmupCap is the longest an engine's warm-up lasts by default. A
// cold Cassandra on two busy cores settles in about half of it.
const DefaultWarmupCap = 90 * time.Second

// ParseWarmup reads a WarmupEnv value: the cap of each warm-up, 0 for none.
func ParseWarmup(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "":
		return DefaultWarmupCap, nil
	case "0", "off", "false", "no":
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		// A bare number is seconds.
		n, nerr := strconv.Atoi(s)
		if nerr != nil {
			return 0, fmt.Errorf("%s=%q: want 0 to skip the warm-up or a duration such as 90s", WarmupEnv, s)
		}
		d = time.Duration(n) * time.Second
	}
	if d < 0 {
		return 0, fmt.Errorf("%s=%q: a cap cannot be negative", WarmupEnv, s)
	}
	return d, nil
}

// Warmup is what one engine's warm-up did.
type Warmup struct {
	Engine  Engine
	Took    time.Duration
	Settled bool // the latencies settled; false when the cap ended it
	Ops     int  // operations timed (batches, messages, round trips)
	Errors  int  // operations that failed (timeouts of a cold engine)
	// Paths are the settled (or last) latencies of each path exercised,
	// such as "write" and "read".
	Paths []PathLatency
}

// PathLatency is one path's latency over the warm-up's last window.
type PathLatency struct {
	Name     string
	P50, P99 time.Duration
}

// String is the warm-up as its one progress line shows it, such as
// "warm (21.3s, write p99 3.1 ms, read p99 1.2 ms)".
func (w Warmup) String() string {
	var b strings.Builder
	if w.Settled {
		b.WriteString("warm (")
	} else {
		b.WriteString("warm-up stopped at its cap, not settled (")
	}
	fmt.Fprintf(&b, "%.1fs", w.Took.Seconds())
	for _, p := range w.Paths {
		fmt.Fprintf(&b, ", %s p99 %s", p.Name, fmtMS(p.P99))
	}
	if w.Errors > 0 {
		fmt.Fprintf(&b, ", %d of %d failed", w.Errors, w.Ops)
	}
	b.WriteString(")")
	return b.String()
}

func fmtMS(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	if ms < 10 {
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

// settler decides when a path's latencies have settled: after at least
// min samples, a window of samples whose p99 is at most threshold, or the
// last three windows' p99s within a band of plateau (1.25: the highest at
// most 1.25× the lowest) — a machine too busy for the threshold, whose
// engine has nothing left to compile.
type settler struct {
	window    int
	min       int
	threshold time.Duration
	plateau   float64

	n       int
	buf     []time.Duration
	recent  []PathLatency // the last three windows
	settled bool
}

// newSettler returns a settler with windows of window samples.
func newSettler(window, min int, threshold time.Duration, plateau float64) *settler {
	return &settler{window: window, min: min, threshold: threshold, plateau: plateau}
}

// add records one latency and reports whether the path has settled; once
// settled it stays so.
func (s *settler) add(d time.Duration) bool {
	s.n++
	s.buf = append(s.buf, d)
	if len(s.buf) < s.window {
		return s.settled
	}
	slices.Sort(s.buf)
	w := PathLatency{P50: quantile(s.buf, 0.50), P99: quantile(s.buf, 0.99)}
	s.buf = s.buf[:0]
	s.recent = append(s.recent, w)
	if len(s.recent) > 3 {
		s.recent = s.recent[1:]
	}
	if s.n >= s.min && (w.P99 <= s.threshold || s.plateaued()) {
		s.settled = true
	}
	return s.settled
}

func (s *settler) plateaued() bool {
	if len(s.recent) < 3 {
		return false
	}
	lo, hi := s.recent[0].P99, s.recent[0].P99
	for _, w := range s.recent[1:] {
		lo, hi = min(lo, w.P99), max(hi, w.P99)
	}
	return float64(hi) <= s.plateau*float64(lo)
}

// last is the latest full window's latencies (zero before the first).
func (s *settler) last(name string) PathLatency {
	if len(s.recent) == 0 {
		if len(s.buf) == 0 {
			return PathLatency{Name: name}
		}
		// Fewer samples than a window: what there is.
		b := slices.Sorted(slices.Values(s.buf))
		return PathLatency{Name: name, P50: quantile(b, 0.50), P99: quantile(b, 0.99)}
	}
	w := s.recent[len(s.recent)-1]
	w.Name = name
	return w
}

// quantile is the p-quantile of sorted (nearest rank below).
func quantile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(p*float64(len(sorted)-1))]
}

// syncSettler is a settler shared by concurrent workers.
type syncSettler struct {
	mu sync.Mutex
	s  *settler
}

func (s *syncSettler) add(d time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.s.add(d)
}

func (s *syncSettler) done() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.s.settled
}

func (s *syncSettler) last(name string) PathLatency {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.s.last(name)
}

func (s *syncSettler) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.s.n
}

// warmer is a service that warms its engine up after a start: it runs
// the paths the workloads use until their latencies settle or ctx (the
// cap) ends, reporting progress with status, and leaves nothing behind.
type warmer interface {
	warmUp(ctx context.Context, status func(format string, args ...any)) (Warmup, error)
}

// warmupCap is the cap of each warm-up, 0 to skip them.
func (m *Manager) warmupCap() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.warmup
}

// SetWarmup overrides the cap of each engine's warm-up (0 skips them),
// which New reads from $SLUICE_WARMUP.
func (m *Manager) SetWarmup(cap time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.warmup = cap
}

// Warmups returns the warm-ups this manager ran, the latest per engine,
// in AllEngines order.
func (m *Manager) Warmups() []Warmup {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Warmup
	for _, e := range AllEngines() {
		if w, ok := m.warmups[e]; ok {
			out = append(out, w)
		}
	}
	return out
}

// WarmUp runs the warm-up of each running engine (all when none is
// named) now, whether or not it is warm already, with the manager's cap
// (DefaultWarmupCap when warm-ups are off). Up runs it by itself after a
// start; this is for a check of what it does.
func (m *Manager) WarmUp(ctx context.Context, engines ...Engine) ([]Warmup, error) {
	engines, err := normalize(engines)
	if err != nil {
		return nil, err
	}
	limit := m.warmupCap()
	if limit == 0 {
		limit = DefaultWarmupCap
	}
	out := make([]Warmup, len(engines))
	errs := make([]error, len(engines))
	var wg sync.WaitGroup
	for i, e := range engines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = m.warmUp(ctx, m.services[e], limit)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// warmUp runs svc's warm-up within limit and records it.
func (m *Manager) warmUp(ctx context.Context, svc service, limit time.Duration) (Warmup, error) {
	e := svc.engine()
	w, ok := svc.(warmer)
	if !ok {
		return Warmup{Engine: e, Settled: true}, nil
	}
	begin := time.Now()
	wctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	m.progressf(e, "warming up its workload paths (at most %s; %s=0 skips)…", limit, WarmupEnv)
	res, err := w.warmUp(wctx, func(format string, args ...any) {
		m.statusf(e, "warming up (%ds): %s", int(time.Since(begin).Seconds()), fmt.Sprintf(format, args...))
	})
	res.Engine, res.Took = e, time.Since(begin)
	if err != nil {
		return res, fmt.Errorf("%s: warm-up: %w", e, err)
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("%s: warm-up: %w", e, ctx.Err())
	}
	m.mu.Lock()
	m.warmups[e] = res
	m.mu.Unlock()
	m.progressf(e, "%s", res)
	return res, nil
}

// statusf shows a transient progress line: rewritten in place on a
// terminal, else printed at most every 5 s per engine.
func (m *Manager) statusf(e Engine, format string, args ...any) {
	m.outMu.Lock()
	defer m.outMu.Unlock()
	msg := string(e) + ": " + fmt.Sprintf(format, args...)
	if f, ok := m.out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(m.out, "\r\x1b[K%s", msg)
		m.statusShown = true
		return
	}
	if time.Since(m.lastStatus[e]) < 5*time.Second {
		return
	}
	m.lastStatus[e] = time.Now()
	fmt.Fprintln(m.out, msg)
}

// runTimed runs op on workers goroutines until stop says so or ctx ends,
// feeding each operation's latency to record; it returns how many
// operations ran and how many failed. A failed operation (a timeout of a
// cold engine) is counted, not fatal: the warm-up is there to get past
// them.
func runTimed(ctx context.Context, workers int, op func(ctx context.Context, worker, i int) error, record func(time.Duration), stop func() bool) (ops, failed int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil && !stop(); i++ {
				begin := time.Now()
				err := op(ctx, w, i)
				if ctx.Err() != nil {
					return // cut by the cap: neither a sample nor a failure
				}
				mu.Lock()
				ops++
				if err != nil {
					failed++
				}
				mu.Unlock()
				if err == nil {
					record(time.Since(begin))
				}
			}
		}()
	}
	wg.Wait()
	return ops, failed
}

// opCounter counts operations and failures across goroutines.
type opCounter struct {
	mu          sync.Mutex
	ops, failed int
}

func (c *opCounter) add(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ops++
	if err != nil {
		c.failed++
	}
}

func (c *opCounter) get() (ops, failed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ops, c.failed
}

// tick calls f every period until the returned stop is called.
func tick(period time.Duration, f func()) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				f()
			}
		}
	}()
	return func() { close(done); <-finished }
}
