package changefeed

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
)

// CosmosStartLayout is the time format COSMOS_CHANGEFEED_START_TIME()
// compares with, in UTC.
const CosmosStartLayout = "2006-01-02 15:04:05"

// ChangeFeedPredicate is Cosmos DB's change-feed predicate for a start
// time.
func ChangeFeedPredicate(start time.Time) string {
	return "COSMOS_CHANGEFEED_START_TIME() = '" + start.UTC().Format(CosmosStartLayout) + "'"
}

// CosmosOptions configure a CosmosFeed.
type CosmosOptions struct {
	// Keyspace and Table name the table whose changes are read
	// (contract.TableEventsByID when Table is empty: every event is
	// written there).
	Keyspace string
	Table    string
	// PageSize is the page size of the change-feed query (default 500).
	PageSize int
	// Start is the start time of a range without a checkpoint; zero is
	// now. It is cut to whole seconds, the predicate's precision.
	Start time.Time
	// Predicate builds the WHERE clause for a start time; nil is
	// ChangeFeedPredicate. Tests against plain Apache Cassandra, which has
	// no change feed, swap it for one that pages through the table.
	Predicate func(start time.Time) string
	// Now is the clock; tests set it.
	Now func() time.Time
}

// Page is one page of a change-feed query.
type Page struct {
	Changes []Change
	// Next is the paging state after this page.
	Next []byte
}

// Pager runs one page of a query, resuming at state (nil: from the start).
type Pager interface {
	Page(ctx context.Context, cql string, state []byte, size int) (Page, error)
}

// CQLPager pages with gocql, one page per call (manual paging).
type CQLPager struct {
	Sessions cqlsession.Source
}

// Page implements Pager.
func (p CQLPager) Page(ctx context.Context, cql string, state []byte, size int) (Page, error) {
	iter := p.Sessions.Session().Query(cql).WithContext(ctx).Idempotent(true).PageSize(size).PageState(state).Iter()
	out := Page{Changes: eventstore.ReadRows(iter)}
	// The state is read before Close, which would drop it.
	out.Next = append([]byte(nil), iter.PageState()...)
	if err := iter.Close(); err != nil {
		return Page{}, fmt.Errorf("change-feed page: %w", err)
	}
	return out, nil
}

// CosmosFeed is Cosmos DB for Apache Cassandra's change feed on one table:
// a single feed range, "all".
type CosmosFeed struct {
	pager Pager
	opts  CosmosOptions
}

// NewCosmosFeed returns the change feed read through pager.
func NewCosmosFeed(pager Pager, opts CosmosOptions) *CosmosFeed {
	if opts.Table == "" {
		opts.Table = contract.TableEventsByID
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 500
	}
	if opts.Predicate == nil {
		opts.Predicate = ChangeFeedPredicate
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &CosmosFeed{pager: pager, opts: opts}
}

// Kind implements Feed.
func (f *CosmosFeed) Kind() string { return "cosmos" }

// Ranges implements Feed.
func (f *CosmosFeed) Ranges() []string { return []string{"all"} }

// Query is the change-feed query for a start time.
func (f *CosmosFeed) Query(start time.Time) string {
	return eventstore.SelectCQL(f.opts.Keyspace, f.opts.Table, f.opts.Predicate(start))
}

// cosmosPosition is a place in the change feed. The paging state belongs
// to the query of Start, so both are kept together.
//
// A page that comes back without a new paging state (the query ran out, as
// paging through a table without a change feed does at its end) leaves the
// position on State: the next read starts where this one did, and returns
// this page's rows again together with every row written since, wherever
// those fall. A re-read is not positionally stable: a new row may sort
// before rows already delivered (a table pages in token order), and an
// updated row leaves its place for the end of the feed (the change feed
// returns only a row's latest version). Skipping as many rows as were
// delivered would skip new ones. Seen therefore marks each row delivered
// from State by a digest of the row as read (rowMarker), and a re-read
// delivers exactly the rows whose marker is not in Seen. A new event, or a
// new version of one, reads differently (ingest stamps every write with
// its ingestion time) and is delivered; a row that reads back identical is
// the row already delivered. Seen is cut to the markers of the latest
// re-read, so it never holds more than a page. It empties when a page
// brings a new state: a delivered row that sorts after that page is then
// delivered again (at least once), never skipped; on the change feed,
// whose rows come in modification order, delivered rows are ahead of new
// ones and none is. An empty page (throttled) keeps Seen: it tells
// nothing about the rows.
//
// A checkpoint written before Seen existed carries a count ("skip"), which
// is ignored: its page is delivered again, at least once, not skipped.
type cosmosPosition struct {
	V     int       `json:"v"`
	Kind  string    `json:"kind"`
	Start time.Time `json:"start"`
	State []byte    `json:"state,omitempty"`
	// Seen is the concatenated markers (markerSize bytes each) of the
	// rows delivered from State.
	Seen []byte `json:"seen,omitempty"`
}

// markerSize is the length of a row marker: 128 bits of SHA-256, so two
// different rows of a page share a marker with a chance of about 2^-110.
const markerSize = 16

type marker [markerSize]byte

// rowMarker digests every column of a change as read, each field length
// prefixed so that no two different rows encode alike.
func rowMarker(c Change) marker {
	h := sha256.New()
	var n [8]byte
	num := func(v uint64) {
		binary.BigEndian.PutUint64(n[:], v)
		h.Write(n[:])
	}
	str := func(s string) {
		num(uint64(len(s)))
		h.Write([]byte(s))
	}
	num(uint64(c.Event.V))
	for _, s := range []string{c.Event.ID, c.Event.Site, c.Event.Device, c.Event.Kind, c.Event.Unit, c.Event.Severity} {
		str(s)
	}
	num(math.Float64bits(c.Event.Value))
	num(uint64(c.Event.At.UnixNano()))
	num(uint64(c.IngestedAt.UnixNano()))
	keys := make([]string, 0, len(c.Event.Attrs))
	for k := range c.Event.Attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	num(uint64(len(keys)))
	for _, k := range keys {
		str(k)
		str(c.Event.Attrs[k])
	}
	var m marker
	copy(m[:], h.Sum(nil))
	return m
}

// seen returns the markers of Seen as a set.
func (p cosmosPosition) seen() map[marker]bool {
	set := make(map[marker]bool, len(p.Seen)/markerSize)
	for i := 0; i+markerSize <= len(p.Seen); i += markerSize {
		set[marker(p.Seen[i:i+markerSize])] = true
	}
	return set
}

// Open implements Feed.
func (f *CosmosFeed) Open(ctx context.Context, feedRange string, cp Checkpoints) (Source, error) {
	if feedRange != "all" {
		return nil, fmt.Errorf("cosmos change feed has one range, \"all\", not %q", feedRange)
	}
	saved, err := cp.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("load change-feed checkpoint: %w", err)
	}
	s := &cosmosSource{feed: f, cp: cp}
	if saved == nil {
		start := f.opts.Start
		if start.IsZero() {
			start = f.opts.Now()
		}
		s.pos = cosmosPosition{V: 1, Kind: "cosmos", Start: start.UTC().Truncate(time.Second)}
	} else {
		if err := json.Unmarshal(saved, &s.pos); err != nil {
			return nil, fmt.Errorf("change-feed checkpoint: %w: %w", ErrBadPosition, err)
		}
		if s.pos.Kind != "cosmos" {
			return nil, fmt.Errorf("change-feed checkpoint is a %q position: %w", s.pos.Kind, ErrBadPosition)
		}
		if len(s.pos.Seen)%markerSize != 0 {
			return nil, fmt.Errorf("change-feed checkpoint has %d bytes of row markers, not a multiple of %d: %w", len(s.pos.Seen), markerSize, ErrBadPosition)
		}
	}
	s.query = f.Query(s.pos.Start)
	return s, nil
}

type cosmosSource struct {
	feed  *CosmosFeed
	cp    Checkpoints
	pos   cosmosPosition
	query string
}

// Next implements Source: one page of the change-feed query, without the
// rows already delivered from the same paging state (see cosmosPosition).
func (s *cosmosSource) Next(ctx context.Context) (Batch, error) {
	page, err := s.feed.pager.Page(ctx, s.query, s.pos.State, s.feed.opts.PageSize)
	if err != nil {
		return Batch{}, err
	}
	seen := s.pos.seen()
	changes := make([]Change, 0, len(page.Changes))
	marks := make([]byte, 0, len(page.Changes)*markerSize)
	for _, c := range page.Changes {
		m := rowMarker(c)
		marks = append(marks, m[:]...)
		if !seen[m] {
			changes = append(changes, c)
		}
	}
	next := s.pos
	switch {
	case len(page.Next) > 0 && !bytes.Equal(page.Next, s.pos.State):
		// A new state: its reads start after this page.
		next.State, next.Seen = page.Next, nil
	case len(page.Changes) > 0:
		// No new state: the next read returns this page again (and
		// what was written since), so every row on it is marked.
		next.Seen = marks
	}
	pos, err := json.Marshal(next)
	if err != nil {
		return Batch{}, fmt.Errorf("encode change-feed position: %w", err)
	}
	s.pos = next
	return Batch{Changes: latest(changes), Position: pos, More: len(page.Changes) >= s.feed.opts.PageSize}, nil
}

// Commit implements Source.
func (s *cosmosSource) Commit(ctx context.Context, b Batch) error {
	if err := s.cp.Save(ctx, b.Position); err != nil {
		return fmt.Errorf("commit change-feed position: %w", err)
	}
	return nil
}
