package changefeed_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sluicehq/sluice/workloads/dev/changefeedtest"
	"github.com/sluicehq/sluice/workloads/internal/backoff"
	"github.com/sluicehq/sluice/workloads/internal/changefeed"
)

// recorder is a handler that records what it processed and checks that no
// two batches of the range are processed at once.
type recorder struct {
	mu       sync.Mutex
	by       map[string][]string // owner -> ids
	inFlight atomic.Int32
	overlap  atomic.Bool
	fail     atomic.Int32 // fail this many calls first
}

func (r *recorder) handler(owner string) changefeed.Handler {
	return func(ctx context.Context, cs []changefeed.Change) error {
		if r.inFlight.Add(1) > 1 {
			r.overlap.Store(true)
		}
		defer r.inFlight.Add(-1)
		time.Sleep(2 * time.Millisecond)
		if r.fail.Load() > 0 {
			r.fail.Add(-1)
			return errors.New("injected handler failure")
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.by == nil {
			r.by = map[string][]string{}
		}
		for _, c := range cs {
			r.by[owner] = append(r.by[owner], c.Event.ID)
		}
		return nil
	}
}

func (r *recorder) count(owner string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.by[owner])
}

func (r *recorder) all() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[string]int{}
	for _, ids := range r.by {
		for _, id := range ids {
			m[id]++
		}
	}
	return m
}

func quietOpts(owner string, reg prometheus.Registerer) changefeed.RunnerOptions {
	return changefeed.RunnerOptions{
		Name: "test", Owner: owner, LeaseTTL: 600 * time.Millisecond, RenewEvery: 150 * time.Millisecond,
		IdleMin: 5 * time.Millisecond, IdleMax: 20 * time.Millisecond, CommitEvery: 50 * time.Millisecond,
		Retry:  backoff.Policy{Base: 5 * time.Millisecond, Max: 20 * time.Millisecond},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: changefeed.NewMetrics(reg),
	}
}

type running struct {
	cancel context.CancelFunc
	done   chan error
}

func start(r *changefeed.Runner) *running {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	return &running{cancel: cancel, done: done}
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("runner: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("runner did not stop")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func writeN(fake *changefeedtest.FakeCosmos, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		c := change(i)
		ids[i] = c.Event.ID
		fake.Write(c)
	}
	return ids
}

func TestRunnerProcessesCommitsAndReleases(t *testing.T) {
	fake, feed := newCosmos(10)
	leases := &changefeedtest.MemoryLeases{}
	rec := &recorder{}
	r := start(changefeed.NewRunner(feed, leases, rec.handler("a"), quietOpts("a", prometheus.NewRegistry())))
	ids := writeN(fake, 55)
	waitFor(t, "55 changes", func() bool { return rec.count("a") >= 55 })
	r.stop(t)
	got := rec.all()
	for _, id := range ids {
		if got[id] != 1 {
			t.Fatalf("change %s processed %d times", id, got[id])
		}
	}
	if len(leases.Checkpoint("test/cosmos", "all")) == 0 {
		t.Fatal("no checkpoint saved")
	}
	if _, valid := leases.Owner("test/cosmos", "all"); valid {
		t.Fatal("lease not released on shutdown")
	}
	// A new runner resumes after the checkpoint: nothing is processed again.
	rec2 := &recorder{}
	r2 := start(changefeed.NewRunner(feed, leases, rec2.handler("b"), quietOpts("b", prometheus.NewRegistry())))
	more := writeN(fake, 5)
	waitFor(t, "5 new changes", func() bool { return rec2.count("b") >= 5 })
	r2.stop(t)
	if n := rec2.count("b"); n != 5 {
		t.Fatalf("restart processed %d changes, want the 5 new ones only", n)
	}
	if rec2.all()[more[0]] != 1 {
		t.Fatal("the new changes were not processed")
	}
}

func TestRunnerTwoReplicasNeverOverlap(t *testing.T) {
	fake, feed := newCosmos(5)
	leases := &changefeedtest.MemoryLeases{}
	rec := &recorder{}
	a := start(changefeed.NewRunner(feed, leases, rec.handler("a"), quietOpts("a", prometheus.NewRegistry())))
	b := start(changefeed.NewRunner(feed, leases, rec.handler("b"), quietOpts("b", prometheus.NewRegistry())))
	ids := writeN(fake, 40)
	waitFor(t, "first 40", func() bool { return rec.count("a")+rec.count("b") >= 40 })
	owner, _ := leases.Owner("test/cosmos", "all")
	if rec.count(owner) != 40 {
		t.Fatalf("owner %s processed %d of 40; the other replica worked on its range", owner, rec.count(owner))
	}
	// The owner stops; the other takes over from its checkpoint.
	other := "b"
	if owner == "a" {
		a.stop(t)
	} else {
		b.stop(t)
		other = "a"
	}
	ids = append(ids, writeN(fake, 40)...)
	waitFor(t, "takeover", func() bool { return rec.count(other) >= 40 })
	if owner == "a" {
		b.stop(t)
	} else {
		a.stop(t)
	}
	if rec.overlap.Load() {
		t.Fatal("two batches of one range were processed at the same time")
	}
	got := rec.all()
	for _, id := range ids {
		if got[id] == 0 {
			t.Fatalf("change %s never processed", id)
		}
	}
}

func TestRunnerStopsWhenLeaseIsTaken(t *testing.T) {
	fake, feed := newCosmos(5)
	leases := &changefeedtest.MemoryLeases{}
	rec := &recorder{}
	reg := prometheus.NewRegistry()
	opts := quietOpts("a", reg)
	r := start(changefeed.NewRunner(feed, leases, rec.handler("a"), opts))
	writeN(fake, 10)
	waitFor(t, "10 changes", func() bool { return rec.count("a") >= 10 })
	leases.Steal("test/cosmos", "all", "intruder", time.Hour)
	// The next checkpoint or renewal finds out within a renewal period.
	waitFor(t, "lease loss noticed", func() bool { return testutil.ToFloat64(opts.Metrics.LeasesLost) >= 1 })
	before := rec.count("a")
	writeN(fake, 10)
	time.Sleep(300 * time.Millisecond)
	r.stop(t)
	if n := rec.count("a"); n != before {
		t.Fatalf("processed %d changes after losing the lease", n-before)
	}
}

func TestRunnerStopsWhenRenewalsFail(t *testing.T) {
	fake, feed := newCosmos(5)
	leases := &changefeedtest.MemoryLeases{}
	rec := &recorder{}
	opts := quietOpts("a", prometheus.NewRegistry())
	r := start(changefeed.NewRunner(feed, leases, rec.handler("a"), opts))
	writeN(fake, 5)
	waitFor(t, "5 changes", func() bool { return rec.count("a") >= 5 })
	leases.FailWrites(errors.New("lease table unreachable"))
	failedAt := time.Now()
	waitFor(t, "processing stopped", func() bool { return testutil.ToFloat64(opts.Metrics.LeasesLost) >= 1 })
	if d := time.Since(failedAt); d > opts.LeaseTTL {
		t.Fatalf("kept working %s after renewals started failing; the lease lasts %s", d, opts.LeaseTTL)
	}
	before := rec.count("a")
	writeN(fake, 5)
	time.Sleep(200 * time.Millisecond)
	if n := rec.count("a"); n != before {
		t.Fatalf("processed %d changes without a renewable lease", n-before)
	}
	leases.FailWrites(nil)
	waitFor(t, "work resumed", func() bool { return rec.count("a") >= before+5 })
	r.stop(t)
}

func TestRunnerCommitsOnlyProcessedBatches(t *testing.T) {
	fake, feed := newCosmos(50)
	leases := &changefeedtest.MemoryLeases{}
	rec := &recorder{}
	rec.fail.Store(3)
	// The checkpoint as each handler call sees it: the first three calls
	// fail, the fourth retries the same batch and succeeds.
	var seen [][]byte
	probe := func(ctx context.Context, cs []changefeed.Change) error {
		seen = append(seen, append([]byte(nil), leases.Checkpoint("test/cosmos", "all")...))
		return rec.handler("a")(ctx, cs)
	}
	opts := quietOpts("a", prometheus.NewRegistry())
	r := start(changefeed.NewRunner(feed, leases, probe, opts))
	waitFor(t, "an empty poll committed", func() bool { return len(leases.Checkpoint("test/cosmos", "all")) > 0 })
	first := leases.Checkpoint("test/cosmos", "all")
	writeN(fake, 20)
	waitFor(t, "20 changes", func() bool { return rec.count("a") >= 20 })
	r.stop(t)
	if got := testutil.ToFloat64(opts.Metrics.HandleRetries); got != 3 {
		t.Fatalf("handler retries %v, want 3", got)
	}
	// While the handler failed, the checkpoint stayed where it was before
	// the batch, up to and including the successful retry.
	if len(seen) < 4 {
		t.Fatalf("handler called %d times, want the 3 failures and a retry", len(seen))
	}
	for i, cp := range seen[:4] {
		if string(cp) != string(first) {
			t.Fatalf("handler call %d saw checkpoint %s, want %s: it moved while the batch failed", i+1, cp, first)
		}
	}
	if string(leases.Checkpoint("test/cosmos", "all")) == string(first) {
		t.Fatal("checkpoint did not move after the batch succeeded")
	}
}

// hangingLeases hands out MemoryLeases' leases and, once hang is set, makes
// every acquisition, renewal and checkpoint save hang until its context
// ends: a lease table that stopped answering without refusing anything.
type hangingLeases struct {
	*changefeedtest.MemoryLeases
	hang atomic.Bool

	mu     sync.Mutex
	leases []changefeed.Lease
	hung   []hungCall
}

// hungCall is a lease update that hung: what it was and its deadline.
type hungCall struct {
	what        string
	deadline    time.Time
	hasDeadline bool
}

func (h *hangingLeases) wait(ctx context.Context, what string) error {
	d, ok := ctx.Deadline()
	h.mu.Lock()
	h.hung = append(h.hung, hungCall{what: what, deadline: d, hasDeadline: ok})
	h.mu.Unlock()
	<-ctx.Done()
	return fmt.Errorf("%s: %w", what, ctx.Err())
}

func (h *hangingLeases) Acquire(ctx context.Context, feed, feedRange, owner string, ttl time.Duration) (changefeed.Lease, error) {
	if h.hang.Load() {
		return nil, h.wait(ctx, "acquire")
	}
	l, err := h.MemoryLeases.Acquire(ctx, feed, feedRange, owner, ttl)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.leases = append(h.leases, l)
	return &hangingLease{Lease: l, h: h}, nil
}

type hangingLease struct {
	changefeed.Lease
	h *hangingLeases
}

func (l *hangingLease) Renew(ctx context.Context) error {
	if l.h.hang.Load() {
		return l.h.wait(ctx, "renew")
	}
	return l.Lease.Renew(ctx)
}

func (l *hangingLease) Save(ctx context.Context, p []byte) error {
	if l.h.hang.Load() {
		return l.h.wait(ctx, "save")
	}
	return l.Lease.Save(ctx, p)
}

// A renewal that hangs must not keep the holder working up to its lease's
// expiry, where a replica whose clock runs ahead by the allowed skew has
// already taken the range: the handler's context carries the deadline a
// safety margin (MaxSkew) before the expiry, and it is cancelled then, with
// the lease lost, not when the renewals finally time out.
func TestRunnerHangingRenewalCancelsHandlerBeforeExpiryMinusMargin(t *testing.T) {
	fake, feed := newCosmos(5)
	leases := &hangingLeases{MemoryLeases: &changefeedtest.MemoryLeases{}}
	const margin = 600 * time.Millisecond
	opts := quietOpts("a", prometheus.NewRegistry())
	// Renewals every 100 ms, each given up after a period: without the
	// margin the runner only stops once a failed renewal leaves less
	// than a period before the expiry, well after expiry minus margin.
	opts.LeaseTTL, opts.MaxSkew, opts.RenewEvery = 1500*time.Millisecond, margin, 100*time.Millisecond

	type call struct {
		started, done time.Time
		deadline      time.Time
		hasDeadline   bool
		cause         error
	}
	var (
		mu       sync.Mutex
		calls    []call
		block    atomic.Bool
		handled  atomic.Int32
		returned = make(chan struct{})
	)
	handler := func(ctx context.Context, cs []changefeed.Change) error {
		c := call{started: time.Now()}
		c.deadline, c.hasDeadline = ctx.Deadline()
		if block.Load() {
			// The lease table stops answering while a batch is
			// being worked on.
			leases.hang.Store(true)
			<-ctx.Done()
			c.done, c.cause = time.Now(), context.Cause(ctx)
			mu.Lock()
			calls = append(calls, c)
			mu.Unlock()
			select {
			case <-returned:
			default:
				close(returned)
			}
			return ctx.Err()
		}
		mu.Lock()
		calls = append(calls, c)
		mu.Unlock()
		handled.Add(int32(len(cs)))
		return nil
	}
	r := start(changefeed.NewRunner(feed, leases, handler, opts))
	defer r.stop(t)
	writeN(fake, 5)
	waitFor(t, "5 changes", func() bool { return handled.Load() >= 5 })

	block.Store(true)
	writeN(fake, 5)
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler's context was never cancelled while renewals hung")
	}
	waitFor(t, "lease loss counted", func() bool { return testutil.ToFloat64(opts.Metrics.LeasesLost) >= 1 })

	// No update of the first lease succeeded after the hang began, so
	// its expiry is final; deadline is when work on it had to stop.
	leases.mu.Lock()
	expiry := leases.leases[0].Until()
	hung := append([]hungCall(nil), leases.hung...)
	leases.mu.Unlock()
	deadline := expiry.Add(-margin)

	mu.Lock()
	defer mu.Unlock()
	last := calls[len(calls)-1]
	if last.done.IsZero() {
		t.Fatal("the blocked handler call was not the last one")
	}
	// Timers fire a little late; half the margin is plenty of slack and
	// far before the expiry.
	if late := last.done.Sub(deadline); late > margin/2 {
		t.Errorf("the handler's context ended %s after expiry minus margin, %s before the expiry", late, expiry.Sub(last.done))
	}
	if !errors.Is(last.cause, changefeed.ErrLeaseLost) {
		t.Errorf("the handler's context ended with %v, want the lease lost", last.cause)
	}
	for i, c := range calls {
		switch {
		case !c.hasDeadline:
			t.Errorf("handler call %d had no deadline", i+1)
		case c.deadline.After(deadline):
			t.Errorf("handler call %d had the deadline %s, after expiry minus margin %s", i+1, c.deadline.Format(time.StampMilli), deadline.Format(time.StampMilli))
		}
		if !c.started.Before(deadline) {
			t.Errorf("handler call %d started at %s, not before expiry minus margin %s", i+1, c.started.Format(time.StampMilli), deadline.Format(time.StampMilli))
		}
	}
	var renewals int
	for _, h := range hung {
		if h.what == "acquire" {
			continue
		}
		if !h.hasDeadline || h.deadline.After(deadline) {
			t.Errorf("a hanging %s had the deadline %s (%v), want one by expiry minus margin %s", h.what, h.deadline.Format(time.StampMilli), h.hasDeadline, deadline.Format(time.StampMilli))
		}
		if h.what == "renew" {
			renewals++
		}
	}
	if renewals == 0 {
		t.Fatal("no renewal hung: the test did not exercise one")
	}
}

// A margin of the lease's length or more leaves no time to work.
func TestRunnerRefusesMarginNotShorterThanLease(t *testing.T) {
	_, feed := newCosmos(5)
	opts := quietOpts("a", prometheus.NewRegistry())
	opts.MaxSkew = opts.LeaseTTL
	// The timeout only bounds a runner that does not refuse.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := changefeed.NewRunner(feed, &changefeedtest.MemoryLeases{}, func(context.Context, []changefeed.Change) error { return nil }, opts).Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "allowed clock skew") {
		t.Fatalf("a margin equal to the lease: %v", err)
	}
}
