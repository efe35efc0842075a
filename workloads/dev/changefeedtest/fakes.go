package changefeedtest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/sluicehq/sluice/workloads/internal/changefeed"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
)

// FakeCosmos is an in-memory Cosmos DB change feed behind the Pager
// interface. It accepts only the change-feed query CosmosFeed builds,
// returns the changes modified at or after the query's start time, in
// modification order, the latest version of each row only, and hands out
// a paging state on every page (the feed never ends). Throttle and FailNext
// inject Cosmos' throttling (an empty page) and errors.
type FakeCosmos struct {
	// Now stamps writes; time.Now when nil.
	Now func() time.Time

	mu       sync.Mutex
	rows     []fakeRow
	seq      uint64
	queries  []FakeQuery
	throttle int
	fail     []error
}

// FakeQuery is one page request the fake received.
type FakeQuery struct {
	CQL   string
	State []byte
	Size  int
}

type fakeRow struct {
	seq      uint64
	modified time.Time
	change   changefeed.Change
	live     bool
}

var feedQuery = regexp.MustCompile(`^` + regexp.QuoteMeta("SELECT "+eventstore.Columns+" FROM ") + `\w+\.\w+ WHERE COSMOS_CHANGEFEED_START_TIME\(\) = '(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)'$`)

func (f *FakeCosmos) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// Write inserts or updates rows (by event id). An update supersedes the
// row's earlier version in the feed.
func (f *FakeCosmos) Write(changes ...changefeed.Change) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range changes {
		for i := range f.rows {
			if f.rows[i].live && f.rows[i].change.Event.ID == c.Event.ID {
				f.rows[i].live = false
			}
		}
		f.seq++
		f.rows = append(f.rows, fakeRow{seq: f.seq, modified: f.now(), change: c, live: true})
	}
}

// Throttle makes the next n pages come back empty with the state unchanged.
func (f *FakeCosmos) Throttle(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.throttle += n
}

// FailNext makes the next page request fail with err.
func (f *FakeCosmos) FailNext(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = append(f.fail, err)
}

// Queries returns the page requests received so far.
func (f *FakeCosmos) Queries() []FakeQuery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]FakeQuery(nil), f.queries...)
}

// state is the last sequence number delivered and the query's start time,
// so a state cannot be used with another query.
func encodeState(seq uint64, start time.Time) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, seq)
	binary.BigEndian.PutUint64(b[8:], uint64(start.Unix()))
	return b
}

// Page implements changefeed.Pager.
func (f *FakeCosmos) Page(ctx context.Context, cql string, state []byte, size int) (changefeed.Page, error) {
	if err := ctx.Err(); err != nil {
		return changefeed.Page{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, FakeQuery{CQL: cql, State: append([]byte(nil), state...), Size: size})
	if len(f.fail) > 0 {
		err := f.fail[0]
		f.fail = f.fail[1:]
		return changefeed.Page{}, err
	}
	m := feedQuery.FindStringSubmatch(cql)
	if m == nil {
		return changefeed.Page{}, fmt.Errorf("fake cosmos: not a change-feed query: %s", cql)
	}
	start, err := time.Parse("2006-01-02 15:04:05", m[1])
	if err != nil {
		return changefeed.Page{}, fmt.Errorf("fake cosmos: start time: %w", err)
	}
	var after uint64
	if state != nil {
		if len(state) != 16 || int64(binary.BigEndian.Uint64(state[8:])) != start.Unix() {
			return changefeed.Page{}, errors.New("fake cosmos: paging state does not belong to this query")
		}
		after = binary.BigEndian.Uint64(state)
	}
	if size <= 0 {
		return changefeed.Page{}, errors.New("fake cosmos: page size must be positive")
	}
	if f.throttle > 0 {
		f.throttle--
		return changefeed.Page{Next: encodeState(after, start)}, nil
	}
	var out changefeed.Page
	last := after
	for _, r := range f.rows {
		if len(out.Changes) == size {
			break
		}
		if r.seq <= after || !r.live || r.modified.Before(start) {
			continue
		}
		out.Changes = append(out.Changes, r.change)
		last = r.seq
	}
	out.Next = encodeState(last, start)
	return out, nil
}

// MemoryLeases is an in-memory changefeed.LeaseManager with the same
// rules as the Cassandra one: expiry by the clock, an epoch per owner,
// fenced renewals and saves.
type MemoryLeases struct {
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu        sync.Mutex
	rows      map[string]*memRow
	failWrite error
}

type memRow struct {
	owner      string
	epoch      int64
	until      time.Time
	checkpoint []byte
}

func (m *MemoryLeases) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *MemoryLeases) row(key string) *memRow {
	if m.rows == nil {
		m.rows = map[string]*memRow{}
	}
	r, ok := m.rows[key]
	if !ok {
		r = &memRow{}
		m.rows[key] = r
	}
	return r
}

// Acquire implements changefeed.LeaseManager.
func (m *MemoryLeases) Acquire(_ context.Context, feed, feedRange, owner string, ttl time.Duration) (changefeed.Lease, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failWrite != nil {
		return nil, m.failWrite
	}
	key := feed + "\x00" + feedRange
	r := m.row(key)
	now := m.now()
	if r.owner != "" && r.owner != owner && r.until.After(now) {
		return nil, fmt.Errorf("%s/%s owned by %s: %w", feed, feedRange, r.owner, changefeed.ErrLeaseHeld)
	}
	r.owner, r.epoch, r.until = owner, r.epoch+1, now.Add(ttl)
	return &memLease{m: m, key: key, owner: owner, epoch: r.epoch, ttl: ttl, until: r.until}, nil
}

// Steal gives the lease to owner whatever its state, as a replica whose
// clock says the lease ran out would.
func (m *MemoryLeases) Steal(feed, feedRange, owner string, ttl time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.row(feed + "\x00" + feedRange)
	r.owner, r.epoch, r.until = owner, r.epoch+1, m.now().Add(ttl)
}

// FailWrites makes every acquisition, renewal and checkpoint save fail with
// err, as an unreachable lease table would (nil: succeed again).
func (m *MemoryLeases) FailWrites(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failWrite = err
}

// Checkpoint returns the saved position of a range.
func (m *MemoryLeases) Checkpoint(feed, feedRange string) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]byte(nil), m.row(feed+"\x00"+feedRange).checkpoint...)
}

// Owner returns the owner of a range's lease and whether it is unexpired.
func (m *MemoryLeases) Owner(feed, feedRange string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.row(feed + "\x00" + feedRange)
	return r.owner, r.until.After(m.now())
}

type memLease struct {
	m     *MemoryLeases
	key   string
	owner string
	epoch int64
	ttl   time.Duration
	until time.Time
}

func (l *memLease) check() (*memRow, error) {
	r := l.m.row(l.key)
	if r.owner != l.owner || r.epoch != l.epoch {
		return nil, fmt.Errorf("lease %s: %w", l.key, changefeed.ErrLeaseLost)
	}
	return r, nil
}

func (l *memLease) Load(context.Context) ([]byte, error) {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	r, err := l.check()
	if err != nil {
		return nil, err
	}
	if r.checkpoint == nil {
		return nil, nil
	}
	return append([]byte(nil), r.checkpoint...), nil
}

func (l *memLease) Save(_ context.Context, p []byte) error {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	r, err := l.check()
	if err != nil {
		return err
	}
	if l.m.failWrite != nil {
		return l.m.failWrite
	}
	r.checkpoint = append([]byte(nil), p...)
	r.until = l.m.now().Add(l.ttl)
	l.until = r.until
	return nil
}

func (l *memLease) Renew(context.Context) error {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	r, err := l.check()
	if err != nil {
		return err
	}
	if l.m.failWrite != nil {
		return l.m.failWrite
	}
	r.until = l.m.now().Add(l.ttl)
	l.until = r.until
	return nil
}

func (l *memLease) Release(context.Context) error {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	r, err := l.check()
	if err != nil {
		return err
	}
	r.until = time.Time{}
	l.until = time.Time{}
	return nil
}

func (l *memLease) Until() time.Time {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	return l.until
}

func (l *memLease) Epoch() int64 { return l.epoch }
