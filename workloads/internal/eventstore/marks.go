package eventstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gocql/gocql"

	"github.com/sluicehq/sluice/workloads/contract"
)

// WithHourMarks makes Upsert keep contract.TableHourMarks: before an event
// is written, its event-time hour carries a mark no older than
// contract.HourMarkRefresh (see the contract). Ingest runs with it, so
// enrich can tell an hour that received rows after its run.
func WithHourMarks() Option {
	return func(s *Store) {
		s.marks = newHourMarker(contract.HourMarkRefresh, func(ctx context.Context, hour, at time.Time) error {
			return s.sessions.Session().Query(s.markCQL(), contract.Day(hour), hour, at).
				WithContext(ctx).Idempotent(true).Exec()
		})
	}
}

func (s *Store) markCQL() string {
	return fmt.Sprintf("INSERT INTO %s.%s (day, hour, stored_at) VALUES (?, ?, ?)", s.keyspace, contract.TableHourMarks)
}

// hourMarker writes an hour's mark at most once per refresh. Writers of one
// hour that find its mark stale wait for one write instead of each sending
// their own.
type hourMarker struct {
	refresh time.Duration
	write   func(ctx context.Context, hour, at time.Time) error
	now     func() time.Time

	mu    sync.RWMutex
	hours map[time.Time]*hourMark
}

// hourMark is one hour's state. at is read without the lock on every
// write (the common case: the mark is fresh); mu serializes the writes of
// a stale mark.
type hourMark struct {
	mu sync.Mutex
	at atomic.Int64 // Unix ns when the latest acknowledged mark was taken; 0: none
}

// maxMarkedHours bounds the hours remembered; beyond it the ones not
// marked for the longest are forgotten (and marked again if they recur).
const maxMarkedHours = 4096

func newHourMarker(refresh time.Duration, write func(ctx context.Context, hour, at time.Time) error) *hourMarker {
	return &hourMarker{refresh: refresh, write: write, now: time.Now, hours: map[time.Time]*hourMark{}}
}

// ensure returns once hour carries a mark taken no earlier than refresh
// before the call: the caller's write then lands within the contract's lag
// of a mark. It fails only when the mark write fails.
func (m *hourMarker) ensure(ctx context.Context, hour time.Time) error {
	hm := m.mark(hour)
	if m.fresh(hm, m.now()) {
		return nil
	}
	hm.mu.Lock()
	defer hm.mu.Unlock()
	now := m.now()
	if m.fresh(hm, now) { // another writer marked it meanwhile
		return nil
	}
	if err := m.write(ctx, hour, now.UTC()); err != nil {
		return fmt.Errorf("mark hour %s: %w", hour.UTC().Format(time.RFC3339), err)
	}
	hm.at.Store(now.UnixNano())
	return nil
}

func (m *hourMarker) fresh(hm *hourMark, now time.Time) bool {
	at := hm.at.Load()
	return at != 0 && now.Sub(time.Unix(0, at)) < m.refresh
}

// mark returns hour's state, adding it when new.
func (m *hourMarker) mark(hour time.Time) *hourMark {
	m.mu.RLock()
	hm := m.hours[hour]
	m.mu.RUnlock()
	if hm != nil {
		return hm
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if hm = m.hours[hour]; hm == nil {
		if len(m.hours) >= maxMarkedHours {
			m.forgetOldest()
		}
		hm = &hourMark{}
		m.hours[hour] = hm
	}
	return hm
}

// forgetOldest drops the quarter of the remembered hours marked longest
// ago. It runs under m.mu.
func (m *hourMarker) forgetOldest() {
	ats := make([]int64, 0, len(m.hours))
	for _, hm := range m.hours {
		ats = append(ats, hm.at.Load())
	}
	slices.Sort(ats)
	cut := ats[len(ats)/4]
	for h, hm := range m.hours {
		// A mark being written is in use: kept.
		if hm.mu.TryLock() {
			if hm.at.Load() <= cut {
				delete(m.hours, h)
			}
			hm.mu.Unlock()
		}
	}
}

// HourMarks reads the marks of the hours in [from, to): the latest time
// ingest stored rows into each (see WithHourMarks). Hours without a mark
// are absent.
func HourMarks(ctx context.Context, session *gocql.Session, keyspace string, from, to time.Time) (map[time.Time]time.Time, error) {
	out := map[time.Time]time.Time{}
	from, to = contract.Hour(from), to.UTC()
	cql := fmt.Sprintf("SELECT hour, stored_at FROM %s.%s WHERE day = ? AND hour >= ? AND hour < ?", keyspace, contract.TableHourMarks)
	for day := from.Truncate(24 * time.Hour); day.Before(to); day = day.Add(24 * time.Hour) {
		iter := session.Query(cql, contract.Day(day), from, to).WithContext(ctx).Idempotent(true).Iter()
		var hour, at time.Time
		for iter.Scan(&hour, &at) {
			out[hour.UTC()] = at.UTC()
		}
		if err := iter.Close(); err != nil {
			return nil, fmt.Errorf("read hour marks of %s: %w", day.Format(time.DateOnly), err)
		}
	}
	return out, nil
}
