//go:build integration

package changefeed_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocql/gocql"
	"github.com/google/uuid"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/dev/changefeedtest"
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/itest"
	"github.com/sluicehq/sluice/workloads/internal/changefeed"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
)

// cassandra returns a migrated session.
func cassandra(t *testing.T) *gocql.Session {
	t.Helper()
	ep := itest.Up(t, devservices.Cassandra)
	s, _ := itest.Cassandra(t, ep)
	return s
}

// table creates a fresh copy of a contract table under a unique name and
// drops it when the test ends.
func table(t *testing.T, s *gocql.Session, tb contract.Table, prefix string) string {
	t.Helper()
	tb.Name = strings.ToLower(itest.Name(prefix))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Query(tb.CreateCQL(contract.Keyspace)).WithContext(ctx).Exec(); err != nil {
		t.Fatalf("create %s: %v", tb.Name, err)
	}
	t.Cleanup(func() {
		_ = s.Query("DROP TABLE IF EXISTS " + contract.Keyspace + "." + tb.Name).Exec()
	})
	return tb.Name
}

// shardDevices returns n device names that all land in outbox shard 0.
func shardDevices(prefix string, n int) []string {
	var out []string
	for i := 0; len(out) < n; i++ {
		d := fmt.Sprintf("%s-d%d", prefix, i)
		if contract.OutboxShard(d) == 0 {
			out = append(out, d)
		}
	}
	return out
}

type outboxHarness struct {
	session *gocql.Session
	store   *eventstore.Store
	feed    *changefeed.OutboxFeed
	devices []string
	grace   time.Duration
}

func newOutboxHarness(t *testing.T, s *gocql.Session) *outboxHarness {
	name := table(t, s, contract.OutboxTables()[0], "outbox")
	grace := time.Second
	return &outboxHarness{
		session: s,
		store:   eventstore.New(s, contract.Keyspace, eventstore.WithOutbox(name)),
		feed: changefeed.NewOutboxFeed(cqlsession.Fixed{S: s}, changefeed.OutboxOptions{Keyspace: contract.Keyspace, Table: name, PageSize: 16,
			Grace: grace, SweepEvery: 100 * time.Millisecond}),
		devices: shardDevices(strings.ToLower(itest.Name("ob")), 3),
		grace:   grace,
	}
}

func (h *outboxHarness) Devices() []string { return h.devices }

func (h *outboxHarness) Write(t testing.TB, evs ...contract.Stored) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, e := range evs {
		if err := h.store.Upsert(ctx, e.Event, e.IngestedAt); err != nil {
			t.Errorf("write %s: %v", e.ID, err)
			return
		}
	}
}

func (h *outboxHarness) Open(t testing.TB, cp changefeed.Checkpoints) changefeed.Source {
	t.Helper()
	src, err := h.feed.Open(context.Background(), "0", cp)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func (h *outboxHarness) Settle(testing.TB) { time.Sleep(h.grace + 300*time.Millisecond) }

func TestOutboxSourceContract(t *testing.T) {
	s := cassandra(t)
	changefeedtest.RunSuite(t, func(t *testing.T) changefeedtest.Harness { return newOutboxHarness(t, s) })
}

// insertOutbox writes one outbox row stamped at stamp, as a write that
// started then would.
func insertOutbox(t *testing.T, s *gocql.Session, tableName string, stamp time.Time, device string, value float64) string {
	t.Helper()
	ev := contract.Event{V: 1, ID: uuid.Must(uuid.NewV7()).String(), Site: "late", Device: device, Kind: "co2", Value: value,
		Unit: "ppm", Severity: contract.SeverityCritical, At: time.Now().UTC().Truncate(time.Millisecond)}
	b, err := ev.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	id, _ := gocql.ParseUUID(ev.ID)
	err = s.Query(fmt.Sprintf("INSERT INTO %s.%s (bucket, shard, tid, id, device, payload, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?)", contract.Keyspace, tableName),
		contract.OutboxBucketOf(stamp), contract.OutboxShard(device), gocql.UUIDFromTime(stamp), id, device, string(b), stamp).Exec()
	if err != nil {
		t.Fatal(err)
	}
	return ev.ID
}

func drainFor(t *testing.T, src changefeed.Source, d time.Duration) []changefeed.Change {
	t.Helper()
	var got []changefeed.Change
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		b, err := src.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b.Changes...)
		if len(b.Changes) == 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	return got
}

// lateCounts collects what a feed's OnLate reports, by the read that
// found the rows.
type lateCounts struct {
	mu sync.Mutex
	n  map[string]int
}

func (l *lateCounts) add(via string, rows int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == nil {
		l.n = map[string]int{}
	}
	l.n[via] += rows
}

// get returns a copy of the counts so far.
func (l *lateCounts) get() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.n)
}

func TestOutboxLateRowsAreDeliveredOnce(t *testing.T) {
	s := cassandra(t)
	name := table(t, s, contract.OutboxTables()[0], "outbox")
	const grace = 3 * time.Second
	var found lateCounts
	feed := changefeed.NewOutboxFeed(cqlsession.Fixed{S: s}, changefeed.OutboxOptions{Keyspace: contract.Keyspace, Table: name, PageSize: 16,
		Grace: grace, SweepEvery: 100 * time.Millisecond, Recheck: time.Second,
		OnLate: found.add})
	src, err := feed.Open(context.Background(), "0", &changefeedtest.MemoryCheckpoints{})
	if err != nil {
		t.Fatal(err)
	}
	// The feed starts at Open: rows stamped before it are not its business.
	time.Sleep(2500 * time.Millisecond)
	dev := shardDevices(strings.ToLower(itest.Name("late")), 1)[0]
	firstAt := time.Now()
	first := insertOutbox(t, s, name, firstAt, dev, 1)
	got := drainFor(t, src, 300*time.Millisecond)
	if len(got) != 1 || got[0].Event.ID != first {
		t.Fatalf("tail delivered %d changes, want the first row", len(got))
	}
	// Rows that land now but carry times the tail already passed: a
	// little late (stamped just before the first row, so behind the tail
	// however long the drain took and within the recheck's second: the
	// recheck finds it at once) and very late (the settle sweep finds it
	// after the grace window).
	landed := time.Now()
	slightly := insertOutbox(t, s, name, firstAt.Add(-200*time.Millisecond), dev, 2)
	very := insertOutbox(t, s, name, landed.Add(-2*time.Second), dev, 3)
	seenAt := map[string]time.Duration{}
	deadline := time.Now().Add(grace + 2*time.Second)
	for time.Now().Before(deadline) {
		b, err := src.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range b.Changes {
			if _, dup := seenAt[c.Event.ID]; dup {
				t.Fatalf("change %s delivered twice", c.Event.ID)
			}
			seenAt[c.Event.ID] = time.Since(landed)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(seenAt) != 2 {
		t.Fatalf("delivered %v, want the two late rows", seenAt)
	}
	if d, ok := seenAt[slightly]; !ok || d > time.Second {
		t.Fatalf("the slightly late row came after %s (found: %v); the recheck should find it within a sweep", d, ok)
	}
	if _, ok := seenAt[very]; !ok {
		t.Fatal("the very late row was never delivered")
	}
	late := found.get()
	if late["recheck"] != 1 || late["sweep"] != 1 {
		t.Fatalf("late rows reported %v, want one found by the recheck and one by the sweep", late)
	}
}

// The recheck keeps its own period: with the settle sweep far apart, a row
// that landed a little behind the tail still arrives within a few
// recheck periods.
func TestOutboxRecheckRunsApartFromTheSweep(t *testing.T) {
	s := cassandra(t)
	name := table(t, s, contract.OutboxTables()[0], "outbox")
	const recheckEvery = 100 * time.Millisecond
	var found lateCounts
	feed := changefeed.NewOutboxFeed(cqlsession.Fixed{S: s}, changefeed.OutboxOptions{Keyspace: contract.Keyspace, Table: name, PageSize: 16,
		Grace: 10 * time.Second, SweepEvery: time.Hour, Recheck: time.Second, RecheckEvery: recheckEvery,
		OnLate: found.add})
	src, err := feed.Open(context.Background(), "0", &changefeedtest.MemoryCheckpoints{})
	if err != nil {
		t.Fatal(err)
	}
	// The feed starts at Open: the late row's time must come after it.
	time.Sleep(time.Second)
	dev := shardDevices(strings.ToLower(itest.Name("recheck")), 1)[0]
	firstAt := time.Now()
	first := insertOutbox(t, s, name, firstAt, dev, 1)
	got := drainFor(t, src, 300*time.Millisecond)
	if len(got) != 1 || got[0].Event.ID != first {
		t.Fatalf("tail delivered %d changes, want the first row", len(got))
	}
	// Stamped before the first row, so behind the tail however long the
	// drain took, and within the recheck's second.
	landed := time.Now()
	slightly := insertOutbox(t, s, name, firstAt.Add(-200*time.Millisecond), dev, 2)
	var after time.Duration
	for after == 0 && time.Since(landed) < 2*time.Second {
		b, err := src.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range b.Changes {
			if c.Event.ID == slightly {
				after = time.Since(landed)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if after == 0 || after > 5*recheckEvery {
		t.Fatalf("the slightly late row came after %s (0: never), want within %s with no sweep running", after, 5*recheckEvery)
	}
	late := found.get()
	if late["recheck"] != 1 || late["sweep"] != 0 {
		t.Fatalf("late rows reported %v, want the one row found by the recheck", late)
	}
}

func TestOutboxReadsBucketsInOrder(t *testing.T) {
	s := cassandra(t)
	name := table(t, s, contract.OutboxTables()[0], "outbox")
	now := time.Now()
	feed := changefeed.NewOutboxFeed(cqlsession.Fixed{S: s}, changefeed.OutboxOptions{Keyspace: contract.Keyspace, Table: name, PageSize: 2,
		Grace: time.Second, SweepEvery: 50 * time.Millisecond, Start: now.Add(-4 * time.Minute)})
	dev := shardDevices(strings.ToLower(itest.Name("bk")), 1)[0]
	var want []string
	for i, ago := range []time.Duration{210 * time.Second, 200 * time.Second, 130 * time.Second, 70 * time.Second, 65 * time.Second, 2 * time.Second} {
		want = append(want, insertOutbox(t, s, name, now.Add(-ago), dev, float64(i)))
	}
	src, err := feed.Open(context.Background(), "0", &changefeedtest.MemoryCheckpoints{})
	if err != nil {
		t.Fatal(err)
	}
	got := drainFor(t, src, 2*time.Second)
	if len(got) != len(want) {
		t.Fatalf("got %d changes across buckets, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Event.ID != want[i] {
			t.Fatalf("change %d is %s, want %s: buckets out of order", i, got[i].Event.ID, want[i])
		}
	}
}

func TestCosmosSourcePagingOnCassandra(t *testing.T) {
	s := cassandra(t)
	var byID contract.Table
	for _, tb := range contract.Tables() {
		if tb.Name == contract.TableEventsByID {
			byID = tb
		}
	}
	name := table(t, s, byID, "cfpage")
	store := eventstore.New(s, contract.Keyspace)
	want := map[string]bool{}
	for i := 0; i < 23; i++ {
		ev := contract.Event{V: 1, ID: uuid.Must(uuid.NewV7()).String(), Site: "p", Device: "d", Kind: "co2", Value: float64(i),
			Unit: "ppm", Severity: contract.SeverityInfo, At: time.Now().UTC().Truncate(time.Millisecond)}
		stmts, err := store.Statements(ev, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		// events_by_id's statement, aimed at the copy.
		cql := strings.Replace(stmts[0].CQL, "."+contract.TableEventsByID+" ", "."+name+" ", 1)
		if err := s.Query(cql, stmts[0].Args...).Exec(); err != nil {
			t.Fatal(err)
		}
		want[ev.ID] = true
	}
	// Plain Cassandra has no change feed: the predicate is swapped for
	// none, which pages through the table with the same paging code.
	feed := changefeed.NewCosmosFeed(changefeed.CQLPager{Sessions: cqlsession.Fixed{S: s}}, changefeed.CosmosOptions{Keyspace: contract.Keyspace, Table: name, PageSize: 5,
		Predicate: func(time.Time) string { return "" }})
	cp := &changefeedtest.MemoryCheckpoints{}
	got := map[string]int{}
	read := func(src changefeed.Source, pages int) {
		for i := 0; i < pages; i++ {
			b, err := src.Next(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Changes) > 5 {
				t.Fatalf("page of %d rows, page size 5", len(b.Changes))
			}
			for _, c := range b.Changes {
				got[c.Event.ID]++
			}
			if err := src.Commit(context.Background(), b); err != nil {
				t.Fatal(err)
			}
		}
	}
	src, err := feed.Open(context.Background(), "all", cp)
	if err != nil {
		t.Fatal(err)
	}
	read(src, 2)
	if n := len(got); n != 10 {
		t.Fatalf("two pages gave %d rows, want 10", n)
	}
	// Restart from the checkpoint: the rest, then nothing.
	src, err = feed.Open(context.Background(), "all", cp)
	if err != nil {
		t.Fatal(err)
	}
	read(src, 6)
	for id := range want {
		if got[id] != 1 {
			t.Fatalf("row %s delivered %d times", id, got[id])
		}
	}
	if len(got) != len(want) {
		t.Fatalf("delivered %d rows, want %d", len(got), len(want))
	}
}

func TestLeasesWithLightweightTransactions(t *testing.T) {
	s := cassandra(t)
	leases := changefeed.NewLeases(cqlsession.Fixed{S: s}, contract.Keyspace)
	ctx := context.Background()
	feed := itest.Name("lease")
	a, err := leases.Acquire(ctx, feed, "0", "a", 1500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if cp, err := a.Load(ctx); err != nil || cp != nil {
		t.Fatalf("new lease checkpoint %q, %v", cp, err)
	}
	if _, err := leases.Acquire(ctx, feed, "0", "b", time.Second); !errors.Is(err, changefeed.ErrLeaseHeld) {
		t.Fatalf("second owner got %v, want ErrLeaseHeld", err)
	}
	if err := a.Save(ctx, []byte(`{"p":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := a.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1700 * time.Millisecond)
	b, err := leases.Acquire(ctx, feed, "0", "b", 10*time.Second)
	if err != nil {
		t.Fatalf("takeover after expiry: %v", err)
	}
	if b.Epoch() != a.Epoch()+1 {
		t.Fatalf("epoch %d after takeover, want %d", b.Epoch(), a.Epoch()+1)
	}
	if cp, _ := b.Load(ctx); string(cp) != `{"p":1}` {
		t.Fatalf("takeover sees checkpoint %q", cp)
	}
	if err := a.Save(ctx, []byte(`{"p":2}`)); !errors.Is(err, changefeed.ErrLeaseLost) {
		t.Fatalf("old owner saved: %v", err)
	}
	if err := a.Renew(ctx); !errors.Is(err, changefeed.ErrLeaseLost) {
		t.Fatalf("old owner renewed: %v", err)
	}
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := leases.Acquire(ctx, feed, "0", "c", time.Second)
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	if cp, _ := c.Load(ctx); string(cp) != `{"p":1}` {
		t.Fatalf("checkpoint after release %q", cp)
	}
	// An owner restarting under the same name takes its lease back at once.
	c2, err := leases.Acquire(ctx, feed, "0", "c", time.Second)
	if err != nil {
		t.Fatalf("same owner reacquire: %v", err)
	}
	if err := c.Renew(ctx); !errors.Is(err, changefeed.ErrLeaseLost) {
		t.Fatalf("the superseded incarnation renewed: %v", err)
	}
	if err := c2.Renew(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestTwoWorkersShareTheOutbox runs two runners on one outbox with leases
// in Cassandra: each range has one reader, every change is processed, and
// when one worker stops the other takes its ranges over from their
// checkpoints.
func TestTwoWorkersShareTheOutbox(t *testing.T) {
	s := cassandra(t)
	name := table(t, s, contract.OutboxTables()[0], "outbox")
	store := eventstore.New(s, contract.Keyspace, eventstore.WithOutbox(name))
	feed := changefeed.NewOutboxFeed(cqlsession.Fixed{S: s}, changefeed.OutboxOptions{Keyspace: contract.Keyspace, Table: name, Grace: time.Second, SweepEvery: 100 * time.Millisecond})
	leases := changefeed.NewLeases(cqlsession.Fixed{S: s}, contract.Keyspace)
	consumer := itest.Name("two")
	type seen struct {
		mu  sync.Mutex
		ids map[string]int
	}
	got := &seen{ids: map[string]int{}}
	handler := func(_ context.Context, cs []changefeed.Change) error {
		got.mu.Lock()
		defer got.mu.Unlock()
		for _, c := range cs {
			got.ids[c.Event.ID]++
		}
		return nil
	}
	start := func(owner string) (*changefeed.Runner, context.CancelFunc, chan error) {
		r := changefeed.NewRunner(feed, leases, handler, changefeed.RunnerOptions{Name: consumer, Owner: owner, LeaseTTL: 3 * time.Second,
			IdleMin: 10 * time.Millisecond, IdleMax: 50 * time.Millisecond, CommitEvery: 100 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		return r, cancel, done
	}
	a, stopA, doneA := start("a")
	b, stopB, doneB := start("b")
	defer func() {
		stopB()
		<-doneB
	}()
	itest.Eventually(t, 30*time.Second, func() error {
		if n := a.Owned() + b.Owned(); n != contract.OutboxShards {
			return fmt.Errorf("%d of %d ranges owned", n, contract.OutboxShards)
		}
		return nil
	})
	write := func(n int) []string {
		var ids []string
		for i := 0; i < n; i++ {
			ev := contract.Event{V: 1, ID: uuid.Must(uuid.NewV7()).String(), Site: "two", Device: fmt.Sprintf("two-%d", i%17), Kind: "co2",
				Value: float64(i), Unit: "ppm", Severity: contract.SeverityInfo, At: time.Now().UTC().Truncate(time.Millisecond)}
			if err := store.Upsert(context.Background(), ev, time.Now()); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, ev.ID)
		}
		return ids
	}
	check := func(ids []string) {
		itest.Eventually(t, 30*time.Second, func() error {
			got.mu.Lock()
			defer got.mu.Unlock()
			for _, id := range ids {
				if got.ids[id] == 0 {
					return fmt.Errorf("change %s not processed", id)
				}
			}
			return nil
		})
	}
	first := write(120)
	check(first)
	stopA()
	if err := <-doneA; err != nil {
		t.Fatal(err)
	}
	itest.Eventually(t, 30*time.Second, func() error {
		if b.Owned() != contract.OutboxShards {
			return fmt.Errorf("the remaining worker owns %d ranges", b.Owned())
		}
		return nil
	})
	second := write(80)
	check(second)
	got.mu.Lock()
	defer got.mu.Unlock()
	// A handover may deliver the stopped worker's last grace window again
	// (at least once); after it, each change is processed once.
	for _, id := range first {
		if got.ids[id] < 1 || got.ids[id] > 2 {
			t.Fatalf("change %s processed %d times", id, got.ids[id])
		}
	}
	for _, id := range second {
		if got.ids[id] != 1 {
			t.Fatalf("change %s processed %d times", id, got.ids[id])
		}
	}
}

// failNth hands out a closed session on its failAt-th Session call, so
// exactly that query of the feed fails with gocql.ErrSessionClosed.
type failNth struct {
	mu     sync.Mutex
	live   *gocql.Session
	closed *gocql.Session
	calls  int
	failAt int
}

func (f *failNth) Session() *gocql.Session {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls == f.failAt {
		return f.closed
	}
	return f.live
}

// failQuery makes the n-th query from now fail.
func (f *failNth) failQuery(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls, f.failAt = 0, n
}

// A read failing after the settle sweep collected a late row (in the
// recheck, the tail or a later sweep page) must not lose that row: Next
// fails as a whole and the retry delivers it.
func TestOutboxFaultReadFailingMidSweepLosesNoRow(t *testing.T) {
	ep := itest.Up(t, devservices.Cassandra)
	s, _ := itest.Cassandra(t, ep)
	closed, _ := itest.Cassandra(t, ep)
	closed.Close()
	name := table(t, s, contract.OutboxTables()[0], "outbox")
	const grace = 3 * time.Second
	sessions := &failNth{live: s, closed: closed}
	var found lateCounts
	// A sweep every call and no recheck: the late row below is for the
	// sweep alone, and every Next sweeps before it reads the tail.
	feed := changefeed.NewOutboxFeed(sessions, changefeed.OutboxOptions{Keyspace: contract.Keyspace, Table: name, PageSize: 16,
		Grace: grace, SweepEvery: time.Nanosecond, Recheck: -1,
		OnLate: found.add})
	cp := &changefeedtest.MemoryCheckpoints{}
	src, err := feed.Open(context.Background(), "0", cp)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond)
	dev := shardDevices(strings.ToLower(itest.Name("midsweep")), 1)[0]
	first := insertOutbox(t, s, name, time.Now(), dev, 1)
	got := drainFor(t, src, 300*time.Millisecond)
	if len(got) != 1 || got[0].Event.ID != first {
		t.Fatalf("tail delivered %d changes, want the first row", len(got))
	}
	// A row that lands now, stamped behind the tail; once it is older
	// than the grace window only the settle sweep can find it.
	lost := insertOutbox(t, s, name, time.Now().Add(-2*time.Second), dev, 2)
	time.Sleep(1500 * time.Millisecond)
	delivered := map[string]int{}
	ctx := context.Background()
	// Fail the 1st, 2nd, … query of a Next until one Next needs fewer
	// queries than that and succeeds: every place a read can fail is hit.
	failures := 0
	for n := 1; n <= 50; n++ {
		sessions.failQuery(n)
		b, err := src.Next(ctx)
		if err != nil {
			if !errors.Is(err, gocql.ErrSessionClosed) {
				t.Fatalf("Next with query %d failing: %v", n, err)
			}
			failures++
			continue
		}
		for _, c := range b.Changes {
			delivered[c.Event.ID]++
		}
		if err := src.Commit(ctx, b); err != nil {
			t.Fatal(err)
		}
		break
	}
	if failures < 2 {
		t.Fatalf("only %d Next calls failed; the sweep's reads were not hit", failures)
	}
	sessions.failQuery(0)
	// After the failures the feed runs normally, and a reopened source
	// (from the committed position) must not need the row either.
	for _, c := range drainFor(t, src, 500*time.Millisecond) {
		delivered[c.Event.ID]++
	}
	if delivered[lost] != 1 {
		t.Fatalf("the late row was delivered %d times across %d failed reads, want once (delivered: %v)", delivered[lost], failures, delivered)
	}
	late := found.get()
	if late["sweep"] != 1 {
		t.Fatalf("late rows reported %v, want the one row found by the sweep once", late)
	}
}

// A row that lands behind the settled cursor (a write slower than the
// grace window, or a writer's clock behind) is found by the audit,
// delivered once and counted as "settled".
func TestOutboxRowBehindSettledCursorIsFoundAndCounted(t *testing.T) {
	s := cassandra(t)
	name := table(t, s, contract.OutboxTables()[0], "outbox")
	const grace = time.Second
	var found lateCounts
	feed := changefeed.NewOutboxFeed(cqlsession.Fixed{S: s}, changefeed.OutboxOptions{Keyspace: contract.Keyspace, Table: name, PageSize: 16,
		Grace: grace, SweepEvery: 100 * time.Millisecond, Recheck: 300 * time.Millisecond,
		OnLate: found.add})
	src, err := feed.Open(context.Background(), "0", &changefeedtest.MemoryCheckpoints{})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	dev := shardDevices(strings.ToLower(itest.Name("behind")), 1)[0]
	firstAt := time.Now()
	first := insertOutbox(t, s, name, firstAt, dev, 1)
	// Long enough for the settle cursor to pass the first row's time.
	got := drainFor(t, src, grace+500*time.Millisecond)
	if len(got) != 1 || got[0].Event.ID != first {
		t.Fatalf("tail delivered %d changes, want the first row", len(got))
	}
	// Stamped before the first row (so the tail is past it) and more than
	// a grace window ago: behind the settled cursor already.
	behind := insertOutbox(t, s, name, firstAt.Add(-grace/2), dev, 2)
	delivered := map[string]int{}
	for _, c := range drainFor(t, src, 4*grace) {
		delivered[c.Event.ID]++
	}
	if delivered[behind] != 1 || len(delivered) != 1 {
		t.Fatalf("the row behind the settled cursor was delivered %d times (all: %v), want once", delivered[behind], delivered)
	}
	late := found.get()
	if late["settled"] != 1 || late["sweep"] != 0 || late["recheck"] != 0 {
		t.Fatalf("late rows reported %v, want the one row behind the settled cursor", late)
	}
}
