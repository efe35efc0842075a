package changefeed

import (
	"context"
	"encoding/json"
	"fmt"
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
// to the query of Start, so both are kept together. Skip counts the rows
// already delivered from State when a page came back without a next state
// (the query ran out); the same state is then queried again and those rows
// skipped.
type cosmosPosition struct {
	V     int       `json:"v"`
	Kind  string    `json:"kind"`
	Start time.Time `json:"start"`
	State []byte    `json:"state,omitempty"`
	Skip  int       `json:"skip,omitempty"`
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

// Next implements Source: one page of the change-feed query.
func (s *cosmosSource) Next(ctx context.Context) (Batch, error) {
	page, err := s.feed.pager.Page(ctx, s.query, s.pos.State, s.feed.opts.PageSize)
	if err != nil {
		return Batch{}, err
	}
	changes := page.Changes
	if len(page.Next) > 0 {
		if s.pos.Skip > 0 {
			// The rows skipped last time are on this page again.
			changes = changes[min(s.pos.Skip, len(changes)):]
		}
		s.pos.State, s.pos.Skip = page.Next, 0
	} else {
		// No next state: the query ran out. Stay on this state and
		// remember how many of its rows were delivered.
		changes = changes[min(s.pos.Skip, len(changes)):]
		s.pos.Skip += len(changes)
	}
	pos, err := json.Marshal(s.pos)
	if err != nil {
		return Batch{}, fmt.Errorf("encode change-feed position: %w", err)
	}
	return Batch{Changes: latest(changes), Position: pos, More: len(page.Changes) >= s.feed.opts.PageSize}, nil
}

// Commit implements Source.
func (s *cosmosSource) Commit(ctx context.Context, b Batch) error {
	if err := s.cp.Save(ctx, b.Position); err != nil {
		return fmt.Errorf("commit change-feed position: %w", err)
	}
	return nil
}
