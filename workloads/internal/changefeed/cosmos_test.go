package changefeed_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/dev/changefeedtest"
	"github.com/sluicehq/sluice/workloads/internal/changefeed"
)

type cosmosHarness struct {
	fake *changefeedtest.FakeCosmos
	feed *changefeed.CosmosFeed
}

func (h cosmosHarness) Devices() []string { return []string{"dev-a", "dev-b", "dev-c"} }

func (h cosmosHarness) Write(_ testing.TB, evs ...contract.Stored) {
	for _, e := range evs {
		h.fake.Write(e)
	}
}

func (h cosmosHarness) Open(t testing.TB, cp changefeed.Checkpoints) changefeed.Source {
	t.Helper()
	src, err := h.feed.Open(context.Background(), "all", cp)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func (h cosmosHarness) Settle(testing.TB) {}

func newCosmos(pageSize int) (*changefeedtest.FakeCosmos, *changefeed.CosmosFeed) {
	fake := &changefeedtest.FakeCosmos{}
	// A start a second back: the fake stamps writes with the clock, and
	// the predicate has whole seconds.
	feed := changefeed.NewCosmosFeed(fake, changefeed.CosmosOptions{Keyspace: "sluice", PageSize: pageSize, Start: time.Now().Add(-time.Second)})
	return fake, feed
}

func TestCosmosSourceContract(t *testing.T) {
	changefeedtest.RunSuite(t, func(t *testing.T) changefeedtest.Harness {
		fake, feed := newCosmos(7)
		return cosmosHarness{fake: fake, feed: feed}
	})
}

func TestCosmosQueryBuilding(t *testing.T) {
	start := time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.FixedZone("X", 2*3600))
	if got, want := changefeed.ChangeFeedPredicate(start), "COSMOS_CHANGEFEED_START_TIME() = '2026-03-04 03:06:07'"; got != want {
		t.Fatalf("predicate %q, want %q", got, want)
	}
	feed := changefeed.NewCosmosFeed(&changefeedtest.FakeCosmos{}, changefeed.CosmosOptions{Keyspace: "sluice"})
	want := "SELECT id, site, device, kind, value, unit, severity, at, attrs, ingested_at FROM sluice.events_by_id WHERE COSMOS_CHANGEFEED_START_TIME() = '2026-03-04 03:06:07'"
	if got := feed.Query(start); got != want {
		t.Fatalf("query\n got %s\nwant %s", got, want)
	}
	plain := changefeed.NewCosmosFeed(&changefeedtest.FakeCosmos{}, changefeed.CosmosOptions{Keyspace: "ks", Table: "t", Predicate: func(time.Time) string { return "" }})
	if got := plain.Query(start); strings.Contains(got, "WHERE") || !strings.HasSuffix(got, "FROM ks.t") {
		t.Fatalf("swapped predicate query %q", got)
	}
	if r := feed.Ranges(); len(r) != 1 || r[0] != "all" {
		t.Fatalf("ranges %v", r)
	}
	if _, err := feed.Open(context.Background(), "0", &changefeedtest.MemoryCheckpoints{}); err == nil {
		t.Fatal("opened a range the feed does not have")
	}
}

func change(i int) changefeed.Change {
	return changefeed.Change{Event: contract.Event{V: 1, ID: uuid.Must(uuid.NewV7()).String(), Site: "s", Device: fmt.Sprintf("d%d", i%3),
		Kind: "co2", Value: float64(i), Unit: "ppm", Severity: contract.SeverityCritical, At: time.Now().UTC().Truncate(time.Millisecond)},
		IngestedAt: time.Now().UTC()}
}

func next(t *testing.T, src changefeed.Source) changefeed.Batch {
	t.Helper()
	b, err := src.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCosmosPagingCarriesStateAndCheckpointsAfterCommit(t *testing.T) {
	fake, feed := newCosmos(10)
	for i := 0; i < 25; i++ {
		fake.Write(change(i))
	}
	cp := &changefeedtest.MemoryCheckpoints{}
	src, err := feed.Open(context.Background(), "all", cp)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	var seen []float64
	for i := 0; i < 4; i++ {
		b := next(t, src)
		sizes = append(sizes, len(b.Changes))
		for _, c := range b.Changes {
			seen = append(seen, c.Event.Value)
		}
		if i == 0 {
			if cp.Saves() != 0 {
				t.Fatal("a position was saved before Commit")
			}
			if err := src.Commit(context.Background(), b); err != nil {
				t.Fatal(err)
			}
		}
	}
	if fmt.Sprint(sizes) != "[10 10 5 0]" {
		t.Fatalf("page sizes %v, want [10 10 5 0]", sizes)
	}
	for i, v := range seen {
		if v != float64(i) {
			t.Fatalf("change %d has value %v: out of order or missing", i, v)
		}
	}
	qs := fake.Queries()
	if qs[0].State != nil {
		t.Fatalf("first page sent a state: %x", qs[0].State)
	}
	for i := 1; i < len(qs); i++ {
		if qs[i].CQL != qs[0].CQL {
			t.Fatalf("page %d ran another query: %s", i, qs[i].CQL)
		}
		if len(qs[i].State) == 0 {
			t.Fatalf("page %d sent no paging state", i)
		}
		if qs[i].Size != 10 {
			t.Fatalf("page %d asked for %d rows", i, qs[i].Size)
		}
	}

	// A restart resumes after the committed first page: rows 10..24.
	src2, err := feed.Open(context.Background(), "all", cp)
	if err != nil {
		t.Fatal(err)
	}
	b := next(t, src2)
	if len(b.Changes) != 10 || b.Changes[0].Event.Value != 10 {
		t.Fatalf("after restart got %d changes starting at %v, want 10 from 10", len(b.Changes), b.Changes[0].Event.Value)
	}
	if got := fake.Queries()[len(qs)].State; string(got) != string(qs[1].State) {
		t.Fatal("the restarted source did not resume with the committed paging state")
	}
}

func TestCosmosThrottledAndFailedPages(t *testing.T) {
	fake, feed := newCosmos(5)
	src, err := feed.Open(context.Background(), "all", &changefeedtest.MemoryCheckpoints{})
	if err != nil {
		t.Fatal(err)
	}
	next(t, src)
	for i := 0; i < 3; i++ {
		fake.Write(change(i))
	}
	fake.Throttle(2)
	for i := 0; i < 2; i++ {
		if b := next(t, src); len(b.Changes) != 0 {
			t.Fatalf("throttled page returned %d changes", len(b.Changes))
		}
	}
	overloaded := errors.New("Request rate is large: RetryAfterMs=100")
	fake.FailNext(overloaded)
	if _, err := src.Next(context.Background()); !errors.Is(err, overloaded) {
		t.Fatalf("error %v, want the page's error", err)
	}
	if b := next(t, src); len(b.Changes) != 3 {
		t.Fatalf("after throttling and an error got %d changes, want all 3", len(b.Changes))
	}
}

func TestCosmosBadCheckpoint(t *testing.T) {
	_, feed := newCosmos(5)
	for _, saved := range []string{"not json", `{"v":1,"kind":"outbox","shard":0}`, `{"v":1,"kind":"cosmos","seen":"AAAA"}`} {
		cp := &changefeedtest.MemoryCheckpoints{}
		if err := cp.Save(context.Background(), []byte(saved)); err != nil {
			t.Fatal(err)
		}
		if _, err := feed.Open(context.Background(), "all", cp); !errors.Is(err, changefeed.ErrBadPosition) {
			t.Fatalf("checkpoint %q: error %v, want ErrBadPosition", saved, err)
		}
	}
}

// endingPager pages through a fixed, growing list and, like a query on a
// server without a change feed, returns no state after the last page.
type endingPager struct{ rows []changefeed.Change }

func (p *endingPager) Page(_ context.Context, _ string, state []byte, size int) (changefeed.Page, error) {
	off := 0
	if len(state) > 0 {
		off = int(state[0])
	}
	end := min(off+size, len(p.rows))
	page := changefeed.Page{Changes: append([]changefeed.Change(nil), p.rows[off:end]...)}
	if end < len(p.rows) {
		page.Next = []byte{byte(end)}
	}
	return page, nil
}

func TestCosmosQueryThatRunsOutIsNotReplayed(t *testing.T) {
	p := &endingPager{}
	for i := 0; i < 7; i++ {
		p.rows = append(p.rows, change(i))
	}
	feed := changefeed.NewCosmosFeed(p, changefeed.CosmosOptions{Keyspace: "ks", PageSize: 5})
	cp := &changefeedtest.MemoryCheckpoints{}
	src, err := feed.Open(context.Background(), "all", cp)
	if err != nil {
		t.Fatal(err)
	}
	var got []float64
	for i := 0; i < 4; i++ {
		b := next(t, src)
		for _, c := range b.Changes {
			got = append(got, c.Event.Value)
		}
		if err := src.Commit(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	if fmt.Sprint(got) != "[0 1 2 3 4 5 6]" {
		t.Fatalf("delivered %v, want each of 0..6 once", got)
	}
	p.rows = append(p.rows, change(7), change(8))
	src2, err := feed.Open(context.Background(), "all", cp)
	if err != nil {
		t.Fatal(err)
	}
	b := next(t, src2)
	if len(b.Changes) != 2 || b.Changes[0].Event.Value != 7 {
		t.Fatalf("after restart got %d changes, want only the 2 new ones", len(b.Changes))
	}
}

func TestCQLPagerScansEventColumns(t *testing.T) {
	// The column list is shared by the query and the scan; a reordering
	// here would scan values into the wrong fields.
	feed := changefeed.NewCosmosFeed(changefeed.CQLPager{}, changefeed.CosmosOptions{Keyspace: "ks"})
	q := feed.Query(time.Unix(0, 0))
	if !strings.HasPrefix(q, "SELECT id, site, device, kind, value, unit, severity, at, attrs, ingested_at FROM") {
		t.Fatalf("query selects %s", q)
	}
}

// keyedPager pages through rows in key order and, like a query that runs
// out, returns no state after the last page. The state is the last key
// read, so a read resumes after it whatever was written since: like a
// table paged in token order, where a new row may sort before rows already
// read, or like the change feed, where an update moves a row to the end.
type keyedPager struct {
	keys []uint64 // ascending
	rows map[uint64]changefeed.Change
}

func (p *keyedPager) put(key uint64, c changefeed.Change) {
	if p.rows == nil {
		p.rows = map[uint64]changefeed.Change{}
	}
	p.rows[key] = c
	p.keys = append(p.keys, key)
	slices.Sort(p.keys)
}

func (p *keyedPager) remove(key uint64) {
	delete(p.rows, key)
	p.keys = slices.DeleteFunc(p.keys, func(k uint64) bool { return k == key })
}

func (p *keyedPager) Page(_ context.Context, _ string, state []byte, size int) (changefeed.Page, error) {
	resume := len(state) > 0 // nil: from the first key
	var after uint64
	if resume {
		after = binary.BigEndian.Uint64(state)
	}
	var page changefeed.Page
	rest := 0
	for _, k := range p.keys {
		if resume && k <= after {
			continue
		}
		if len(page.Changes) == size {
			rest++
			continue
		}
		page.Changes = append(page.Changes, p.rows[k])
		after, resume = k, true
	}
	if rest > 0 {
		page.Next = binary.BigEndian.AppendUint64(nil, after)
	}
	return page, nil
}

// A query that ran out is read again from the same state. What the re-read
// returns is not what the last read returned plus rows at the end, so a
// count of rows already delivered must not be skipped by position: every
// new row is delivered, and only the rows delivered before are left out,
// also by a source reopened on the checkpoint.
func TestCosmosRereadWithoutPagingStateDeliversEveryNewRow(t *testing.T) {
	for _, tc := range []struct {
		name string
		// change alters the feed after rows 10 and 20 (values 0 and 1)
		// were delivered and returns the values that are new.
		change func(p *keyedPager) []float64
	}{
		{"a new row sorts before the delivered ones", func(p *keyedPager) []float64 {
			p.put(5, change(2))
			return []float64{2}
		}},
		{"a delivered row is updated to the end", func(p *keyedPager) []float64 {
			updated := p.rows[10]
			updated.Event.Value = 3
			updated.IngestedAt = updated.IngestedAt.Add(time.Millisecond)
			p.remove(10)
			p.put(30, updated)
			return []float64{3}
		}},
		{"the re-read fills a page and brings a state", func(p *keyedPager) []float64 {
			for i, k := range []uint64{1, 2, 3, 30, 31} {
				p.put(k, change(6+i))
			}
			return []float64{6, 7, 8, 9, 10}
		}},
		{"an update and a new row", func(p *keyedPager) []float64 {
			updated := p.rows[20]
			updated.Event.Value = 4
			updated.IngestedAt = updated.IngestedAt.Add(time.Millisecond)
			p.remove(20)
			p.put(40, updated)
			p.put(15, change(5))
			return []float64{4, 5}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &keyedPager{}
			p.put(10, change(0))
			p.put(20, change(1))
			feed := changefeed.NewCosmosFeed(p, changefeed.CosmosOptions{Keyspace: "ks", PageSize: 5})
			cp := &changefeedtest.MemoryCheckpoints{}
			src, err := feed.Open(context.Background(), "all", cp)
			if err != nil {
				t.Fatal(err)
			}
			values := func(src changefeed.Source) []float64 {
				t.Helper()
				b := next(t, src)
				if err := src.Commit(context.Background(), b); err != nil {
					t.Fatal(err)
				}
				var vs []float64
				for _, c := range b.Changes {
					vs = append(vs, c.Event.Value)
				}
				slices.Sort(vs)
				return vs
			}
			if got := values(src); fmt.Sprint(got) != "[0 1]" {
				t.Fatalf("first read delivered %v, want [0 1]", got)
			}
			if got := values(src); len(got) != 0 {
				t.Fatalf("a re-read with nothing new delivered %v again", got)
			}
			want := tc.change(p)
			var got []float64
			for i := 0; ; i++ {
				vs := values(src)
				if len(vs) == 0 {
					break
				}
				if i == 10 {
					t.Fatalf("still reading after %d pages: %v", i, got)
				}
				got = append(got, vs...)
			}
			slices.Sort(got)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("after the change delivered %v, want each new row once: %v", got, want)
			}
			// Reopened on the checkpoint: nothing again, then a new row.
			src, err = feed.Open(context.Background(), "all", cp)
			if err != nil {
				t.Fatal(err)
			}
			if got := values(src); len(got) != 0 {
				t.Fatalf("a reopened source delivered %v again", got)
			}
			p.put(100, change(99))
			if got := values(src); fmt.Sprint(got) != "[99]" {
				t.Fatalf("a reopened source delivered %v, want the new [99]", got)
			}
		})
	}
}
