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
	// RenewEvery is the renewal period (default LeaseTTL/3).
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
	if o.RenewEvery <= 0 || o.RenewEvery >= o.LeaseTTL {
		o.RenewEvery = o.LeaseTTL / 3
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
// leases and returns nil.
func (r *Runner) Run(ctx context.Context) error {
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
func (r *Runner) work(ctx context.Context, rng string, lease Lease, log *slog.Logger) error {
	lctx, cancel := context.WithCancelCause(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		r.renew(lctx, lease, cancel, log)
	}()
	defer func() {
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
		if err := src.Commit(ctx, Batch{Position: pending}); err != nil {
			return err
		}
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
		// Fencing: a batch is only started with a lease that will
		// outlive a renewal period.
		if time.Until(lease.Until()) < r.opts.RenewEvery {
			return fmt.Errorf("lease of range %s about to run out without renewal: %w", rng, ErrLeaseLost)
		}
		if err := r.apply(lctx, b.Changes, log); err != nil {
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

// apply runs the handler until it succeeds or ctx ends.
func (r *Runner) apply(ctx context.Context, changes []Change, log *slog.Logger) error {
	m := r.opts.Metrics
	for attempt := 1; ; attempt++ {
		start := time.Now()
		err := r.handle(ctx, changes)
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

// renew extends the lease every RenewEvery; when a renewal is refused, or
// renewals keep failing until the lease is about to run out, it cancels
// ctx with ErrLeaseLost.
func (r *Runner) renew(ctx context.Context, lease Lease, cancel context.CancelCauseFunc, log *slog.Logger) {
	t := time.NewTicker(r.opts.RenewEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, rcancel := context.WithTimeout(ctx, r.opts.RenewEvery)
		err := lease.Renew(rctx)
		rcancel()
		if err == nil || ctx.Err() != nil {
			continue
		}
		if errors.Is(err, ErrLeaseLost) {
			cancel(err)
			return
		}
		if time.Until(lease.Until()) < r.opts.RenewEvery {
			cancel(fmt.Errorf("%w: renewals failing: %w", ErrLeaseLost, err))
			return
		}
		log.Warn("lease renewal failed; retrying", "err", err)
	}
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
