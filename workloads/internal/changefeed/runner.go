package changefeed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicehq/sluice/workloads/internal/backoff"
)

// RunnerOptions tune a Runner.
type RunnerOptions struct {
	// Name is the consumer; leases and checkpoints are kept per Name and
	// feed kind, so two consumers of one feed do not share them.
	Name string
	// Owner names this replica in the leases. It must be unique among
	// running replicas; a stable one (a pod name) lets a restarted
	// replica take its ranges back without waiting for the lease to run out.
	Owner string
	// LeaseTTL is how long a lease lasts without renewal (default 15 s).
	LeaseTTL time.Duration
	// MaxSkew is the clock skew allowed between the replicas sharing the
	// leases, and the holder's safety margin: another replica takes a
	// lease over once its own clock passes the stored expiry, which by the
	// holder's clock can be up to MaxSkew early. The holder therefore
	// stops all work on a range MaxSkew before its lease expires unless a
	// renewal succeeded by then: the contexts of the handler and of each
	// renewal end at that deadline. It must be shorter than LeaseTTL; 0
	// means the clocks agree exactly (the binary's default is
	// DefaultLeaseMaxSkew).
	MaxSkew time.Duration
	// RenewEvery is the renewal period (default a third of LeaseTTL
	// minus MaxSkew, the time a lease is worth to its holder).
	RenewEvery time.Duration
	// IdleMin and IdleMax bound the wait after an empty batch; it doubles
	// from IdleMin while the feed stays empty (defaults 25 ms, 250 ms).
	IdleMin, IdleMax time.Duration
	// Gather is the pause after a batch that did not fill a page, so a
	// steady trickle is read in pages, not one query per change (default
	// 20 ms; negative: none).
	Gather time.Duration
	// CommitEvery is the longest time between checkpoints while batches
	// keep coming (default 1 s); a crash replays at most that much.
	CommitEvery time.Duration
	// Retry is the backoff for failed reads, handlers and commits.
	Retry backoff.Policy
	// Classify tells transient read errors from permanent ones.
	Classify func(error) backoff.Verdict
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger
	// Metrics, if nil, are registered on a private registry.
	Metrics *Metrics
}

func (o *RunnerOptions) defaults() {
	if o.Name == "" {
		o.Name = "default"
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 15 * time.Second
	}
	if usable := o.LeaseTTL - o.MaxSkew; usable > 0 && (o.RenewEvery <= 0 || o.RenewEvery >= usable) {
		o.RenewEvery = usable / 3
	}
	if o.IdleMin <= 0 {
		o.IdleMin = 25 * time.Millisecond
	}
	if o.IdleMax < o.IdleMin {
		o.IdleMax = max(250*time.Millisecond, o.IdleMin)
	}
	if o.CommitEvery <= 0 {
		o.CommitEvery = time.Second
	}
	if o.Gather == 0 {
		o.Gather = 20 * time.Millisecond
	}
	if o.Retry == (backoff.Policy{}) {
		o.Retry = backoff.Policy{Base: 50 * time.Millisecond, Max: 5 * time.Second}
	}
	if o.Classify == nil {
		o.Classify = func(error) backoff.Verdict { return backoff.Verdict{Retry: true} }
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(prometheus.NewRegistry())
	}
}

// check reports options no runner can work with.
func (o *RunnerOptions) check() error {
	if o.MaxSkew < 0 || o.MaxSkew >= o.LeaseTTL {
		return fmt.Errorf("lease safety margin (allowed clock skew) %s must be in [0, %s), the lease time to live", o.MaxSkew, o.LeaseTTL)
	}
	return nil
}

// Runner reads every range of a feed it can lease and hands the changes to
// a handler: one goroutine per range, each acquiring the range's lease,
// reading, handling, and checkpointing until the lease is lost or the
// context ends.
type Runner struct {
	feed    Feed
	leases  LeaseManager
	handle  Handler
	opts    RunnerOptions
	owned   atomic.Int32
	running atomic.Bool
}

// NewRunner assembles a runner.
func NewRunner(feed Feed, leases LeaseManager, handle Handler, opts RunnerOptions) *Runner {
	opts.defaults()
	return &Runner{feed: feed, leases: leases, handle: handle, opts: opts}
}

// Owned is the number of ranges this runner holds the lease of.
func (r *Runner) Owned() int { return int(r.owned.Load()) }

// Ready reports whether Run is running.
func (r *Runner) Ready() error {
	if !r.running.Load() {
		return errors.New("change feed not running")
	}
	return nil
}

// Run works until ctx ends, then commits what it processed, releases its
// leases and returns nil. It fails at once on unusable options.
func (r *Runner) Run(ctx context.Context) error {
	if err := r.opts.check(); err != nil {
		return fmt.Errorf("change feed runner: %w", err)
	}
	r.running.Store(true)
	defer r.running.Store(false)
	var wg sync.WaitGroup
	for _, rng := range r.feed.Ranges() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.runRange(ctx, rng)
		}()
	}
	wg.Wait()
	r.opts.Logger.Info("change feed stopped")
	return nil
}

func (r *Runner) leaseFeed() string { return r.opts.Name + "/" + r.feed.Kind() }

func (r *Runner) runRange(ctx context.Context, rng string) {
	log := r.opts.Logger.With("feed", r.leaseFeed(), "range", rng)
	failures := 0
	for ctx.Err() == nil {
		lease, err := r.leases.Acquire(ctx, r.leaseFeed(), rng, r.opts.Owner, r.opts.LeaseTTL)
		if err != nil {
			if errors.Is(err, ErrLeaseHeld) {
				// Someone else works on it; look again well before
				// its lease could run out.
				sleep(ctx, r.opts.LeaseTTL/4+rand.N(r.opts.LeaseTTL/4))
				continue
			}
			failures++
			log.Warn("acquire lease failed", "err", err)
			sleep(ctx, r.opts.Retry.Delay(failures))
			continue
		}
		log.Info("lease acquired", "epoch", lease.Epoch())
		r.owned.Add(1)
		r.opts.Metrics.LeasesOwned.Inc()
		err = r.work(ctx, rng, lease, log)
		r.owned.Add(-1)
		r.opts.Metrics.LeasesOwned.Dec()
		if errors.Is(err, ErrLeaseLost) {
			r.opts.Metrics.LeasesLost.Inc()
			log.Warn("lease lost; stopped working on the range", "err", err)
			failures = 0
			continue
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if rerr := lease.Release(rctx); rerr != nil {
			log.Warn("release lease failed; it runs out by itself", "err", rerr)
		}
		cancel()
		if err != nil && ctx.Err() == nil {
			failures++
			log.Error("range stopped by an error; starting over", "err", err)
			sleep(ctx, r.opts.Retry.Delay(failures))
		}
	}
}

// work processes one leased range until the lease is lost (an error
// wrapping ErrLeaseLost), ctx ends (nil), or the source fails for good.
//
// Everything it does runs under lctx, which the lease's guard ends with
// ErrLeaseLost a safety margin (MaxSkew) before the lease expires, unless a
// renewal or a checkpoint save extended the lease in time: a renewal that
// hangs cannot keep the holder working while another replica, by its
// clock, may already have taken the range over.
func (r *Runner) work(ctx context.Context, rng string, lease Lease, log *slog.Logger) error {
	lctx, cancel := context.WithCancelCause(ctx)
	guard := newLeaseGuard(lease, r.opts.MaxSkew, cancel)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		r.renew(lctx, lease, guard, cancel, log)
	}()
	defer func() {
		guard.stop()
		cancel(nil)
		<-renewed
	}()

	src, err := r.feed.Open(lctx, rng, lease)
	if err != nil {
		return leaseCause(lctx, fmt.Errorf("open range %s: %w", rng, err))
	}
	m := r.opts.Metrics
	var pending []byte // position processed but not yet saved
	var saved []byte
	lastCommit := time.Now()
	commit := func(ctx context.Context) error {
		if pending == nil || bytes.Equal(pending, saved) {
			return nil
		}
		// A save is bounded by the lease's deadline like all work.
		cctx, ccancel := context.WithDeadlineCause(ctx, guard.Deadline(), guard.lost())
		err := src.Commit(cctx, Batch{Position: pending})
		ccancel()
		if err != nil {
			return err
		}
		// A checkpoint save extends the lease too.
		guard.extended()
		m.Commits.Inc()
		saved, pending = pending, nil
		lastCommit = time.Now()
		return nil
	}
	idle := time.Duration(0)
	readFailures := 0
	for {
		if lctx.Err() != nil {
			if cause := context.Cause(lctx); errors.Is(cause, ErrLeaseLost) {
				return cause
			}
			// Shutdown: the lease is still ours, so what was processed
			// is saved before it is released.
			cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			err := commit(cctx)
			ccancel()
			if err != nil {
				log.Warn("final checkpoint failed; the last batches will be delivered again", "err", err)
			}
			return nil
		}
		readStart := time.Now()
		b, err := src.Next(lctx)
		m.ReadSeconds.Observe(time.Since(readStart).Seconds())
		if err != nil {
			if lctx.Err() != nil {
				continue
			}
			v := r.opts.Classify(err)
			if !v.Retry {
				return fmt.Errorf("read range %s: %w", rng, err)
			}
			readFailures++
			m.ReadRetries.Inc()
			wait := r.opts.Retry.Delay(readFailures)
			if v.After > 0 {
				wait = v.After
			}
			if readFailures == 1 || readFailures%20 == 0 {
				log.Warn("read failed, retrying", "err", err, "wait", wait.String(), "attempt", readFailures)
			}
			sleep(lctx, wait)
			continue
		}
		readFailures = 0
		if len(b.Changes) == 0 {
			m.EmptyPolls.Inc()
			if !bytes.Equal(b.Position, saved) {
				pending = b.Position
			}
			if time.Since(lastCommit) >= r.opts.CommitEvery {
				if err := commit(lctx); err != nil {
					if errors.Is(err, ErrLeaseLost) {
						return err
					}
					log.Warn("checkpoint failed; retrying with the next batch", "err", err)
				}
			}
			if idle == 0 {
				idle = r.opts.IdleMin
			} else {
				idle = min(idle*2, r.opts.IdleMax)
			}
			sleep(lctx, idle)
			continue
		}
		idle = 0
		// Fencing: a batch is only started with a lease whose
		// deadline is more than a renewal period away.
		if time.Until(guard.Deadline()) < r.opts.RenewEvery {
			return fmt.Errorf("lease of range %s about to run out without renewal: %w", rng, ErrLeaseLost)
		}
		if err := r.apply(lctx, guard, b.Changes, log); err != nil {
			if errors.Is(err, ErrLeaseLost) {
				return err
			}
			continue // lctx ended: the loop head decides what that means
		}
		pending = b.Position
		if time.Since(lastCommit) >= r.opts.CommitEvery {
			if err := commit(lctx); err != nil {
				if errors.Is(err, ErrLeaseLost) {
					return err
				}
				log.Warn("checkpoint failed; retrying with the next batch", "err", err)
			}
		}
		if !b.More && r.opts.Gather > 0 {
			sleep(lctx, r.opts.Gather)
		}
	}
}

// apply runs the handler until it succeeds or ctx ends. Each attempt's
// context has the lease's deadline as it stands when the attempt starts
// (the guard's); an attempt is never started at or after it. An attempt
// cut by that deadline while a renewal moved it on is retried with the new
// one.
func (r *Runner) apply(ctx context.Context, guard *leaseGuard, changes []Change, log *slog.Logger) error {
	m := r.opts.Metrics
	for attempt := 1; ; attempt++ {
		deadline := guard.Deadline()
		if !time.Now().Before(deadline) {
			return guard.lost()
		}
		start := time.Now()
		hctx, hcancel := context.WithDeadlineCause(ctx, deadline, guard.lost())
		err := r.handle(hctx, changes)
		hcancel()
		if err == nil {
			now := time.Now()
			m.HandleSeconds.Observe(now.Sub(start).Seconds())
			m.Batches.Inc()
			m.Changes.Add(float64(len(changes)))
			for _, c := range changes {
				m.Lag.Observe(now.Sub(c.IngestedAt).Seconds())
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		m.HandleRetries.Inc()
		wait := r.opts.Retry.Delay(attempt)
		if attempt == 1 || attempt%20 == 0 {
			log.Warn("handler failed, retrying the batch", "err", err, "changes", len(changes), "attempt", attempt, "wait", wait.String())
		}
		sleep(ctx, wait)
	}
}

// renew extends the lease every RenewEvery. A renewal gets a renewal
// period, and never beyond the guard's deadline: a hanging one is given up
// and tried again while there is time, and the guard ends the work at the
// deadline if none succeeded. When a renewal is refused, or one fails with
// less than a renewal period left before the deadline, it cancels ctx with
// ErrLeaseLost.
func (r *Runner) renew(ctx context.Context, lease Lease, guard *leaseGuard, cancel context.CancelCauseFunc, log *slog.Logger) {
	t := time.NewTicker(r.opts.RenewEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		deadline := guard.Deadline()
		if next := time.Now().Add(r.opts.RenewEvery); next.Before(deadline) {
			deadline = next
		}
		rctx, rcancel := context.WithDeadline(ctx, deadline)
		err := lease.Renew(rctx)
		rcancel()
		if err == nil {
			guard.extended()
			continue
		}
		if ctx.Err() != nil {
			continue
		}
		if errors.Is(err, ErrLeaseLost) {
			cancel(err)
			return
		}
		if time.Until(guard.Deadline()) < r.opts.RenewEvery {
			cancel(fmt.Errorf("%w: renewals failing: %w", ErrLeaseLost, err))
			return
		}
		log.Warn("lease renewal failed; retrying", "err", err)
	}
}

// leaseGuard ends the work on a lease at its deadline: the lease's expiry
// by the local clock minus the safety margin (RunnerOptions.MaxSkew). The
// deadline moves only when a renewal or a checkpoint save has extended the
// lease (extended); it is read from the guard, not the lease, so a hanging
// lease update cannot hold it up.
type leaseGuard struct {
	lease  Lease
	margin time.Duration
	cancel context.CancelCauseFunc

	mu       sync.Mutex
	deadline time.Time
	timer    *time.Timer
	stopped  bool
}

func newLeaseGuard(lease Lease, margin time.Duration, cancel context.CancelCauseFunc) *leaseGuard {
	g := &leaseGuard{lease: lease, margin: margin, cancel: cancel, deadline: lease.Until().Add(-margin)}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.timer = time.AfterFunc(time.Until(g.deadline), g.fire)
	return g
}

// Deadline is when work on the lease must have stopped.
func (g *leaseGuard) Deadline() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.deadline
}

// extended moves the deadline after the lease was extended. The timer is
// left as it is: when it fires early, it waits for the new deadline.
func (g *leaseGuard) extended() {
	d := g.lease.Until().Add(-g.margin)
	g.mu.Lock()
	defer g.mu.Unlock()
	if d.After(g.deadline) {
		g.deadline = d
	}
}

// lost is the error of work stopped by the deadline.
func (g *leaseGuard) lost() error {
	return fmt.Errorf("lease not renewed %s (the allowed clock skew) before it expires: %w", g.margin, ErrLeaseLost)
}

func (g *leaseGuard) fire() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return
	}
	if wait := time.Until(g.deadline); wait > 0 {
		g.timer.Reset(wait)
		return
	}
	g.stopped = true
	g.cancel(g.lost())
}

// stop ends the guard without cancelling anything.
func (g *leaseGuard) stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = true
	g.timer.Stop()
}

// leaseCause prefers the lease loss that ended ctx over err.
func leaseCause(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); errors.Is(cause, ErrLeaseLost) {
		return cause
	}
	return err
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
