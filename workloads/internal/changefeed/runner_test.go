package changefeed_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
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
