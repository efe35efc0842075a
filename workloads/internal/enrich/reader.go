package enrich

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gocql/gocql"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/internal/backoff"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
)

// StageColumns are the columns of the staging table, in COPY order.
var StageColumns = []string{"event_id", "at", "hour", "site_id", "device_id", "kind", "value", "unit", "severity", "attrs", "ingested_at"}

// StageTableSQL creates a staging table of the given name that lasts until
// the transaction ends (the benchmark's COPY ceiling uses the same shape).
func StageTableSQL(name string) string { return fmt.Sprintf(sqlCreateStage, name) }

// StageRow is one event as the COPY into the staging table sends it.
func StageRow(id [16]byte, at time.Time, site, device, kind string, value float64, unit, severity string,
	attrs map[string]string, ingestedAt time.Time) ([]any, error) {
	var attrsJSON any
	if len(attrs) > 0 {
		b, err := json.Marshal(attrs)
		if err != nil {
			return nil, fmt.Errorf("attrs: %w", err)
		}
		attrsJSON = b
	}
	var ing any
	if !ingestedAt.IsZero() {
		ing = ingestedAt.UTC()
	}
	at = at.UTC()
	return []any{pgtype.UUID{Bytes: id, Valid: true}, at, contract.Hour(at), site, device, kind, value, unit, severity, attrsJSON, ing}, nil
}

// batchRows is how many rows travel together from a reader to COPY.
const batchRows = 512

// partition is one events_by_hour partition.
type partition struct {
	hour  time.Time
	shard int
}

// partitions lists the (hour, shard) partitions of a window.
func partitions(w Window) []partition {
	var out []partition
	for _, h := range w.Hours() {
		for s := range contract.HourShards {
			out = append(out, partition{hour: h, shard: s})
		}
	}
	return out
}

// reference is what a reader needs to count events with unknown dimensions.
type reference struct {
	devices map[string]string // device id → model
	sites   map[string]bool
	models  map[string]string // model → kind
}

// counts are the per-run event counters, updated by concurrent readers.
type counts struct {
	read, unknownDevices, unknownSites, unknownModels atomic.Int64
	partitionsDone                                    atomic.Int64
}

// classify decides whether a failed page is worth another attempt.
type classifier func(error) backoff.Verdict

// reader reads a window's partitions in parallel, paged, and hands rows to
// the COPY in batches.
type reader struct {
	session     *gocql.Session
	cql         string
	pageSize    int
	concurrency int
	policy      backoff.Policy
	classify    classifier
	onRetry     func(p partition, attempt int, err error, wait time.Duration)
}

func newReader(session *gocql.Session, keyspace string, pageSize, concurrency, attempts int, classify classifier) *reader {
	return &reader{
		session:     session,
		cql:         eventstore.SelectCQL(keyspace, contract.TableEventsByHour, "hour = ? AND shard = ? AND at >= ? AND at < ?"),
		pageSize:    pageSize,
		concurrency: concurrency,
		policy:      backoff.Policy{Base: 200 * time.Millisecond, Max: 5 * time.Second, MaxAttempts: attempts},
		classify:    classify,
	}
}

// read streams every event of w into out and closes it. It returns the first
// error; on error or when ctx ends the other partition readers stop.
func (r *reader) read(ctx context.Context, w Window, ref *reference, c *counts, out chan<- [][]any) error {
	defer close(out)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	parts := partitions(w)
	next := make(chan partition)
	var wg sync.WaitGroup
	var firstErr error
	var once sync.Once
	fail := func(err error) {
		once.Do(func() {
			firstErr = err
			cancel(err)
		})
	}
	workers := min(r.concurrency, len(parts))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range next {
				if err := r.readPartition(ctx, w, p, ref, c, out); err != nil {
					fail(err)
					return
				}
				c.partitionsDone.Add(1)
			}
		}()
	}
feed:
	for _, p := range parts {
		select {
		case next <- p:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	return nil
}

// readPartition pages through one partition. Each page is fetched with
// retries; the paging state of the last good page is where a retry resumes,
// so a retried page never repeats rows already handed on.
func (r *reader) readPartition(ctx context.Context, w Window, p partition, ref *reference, c *counts, out chan<- [][]any) error {
	var state []byte
	for {
		var batch [][]any
		var nextState []byte
		err := r.policy.Do(ctx, func(ctx context.Context) error {
			batch = make([][]any, 0, r.pageSize)
			iter := r.session.Query(r.cql, p.hour, p.shard, w.From, w.To).
				WithContext(ctx).PageSize(r.pageSize).PageState(state).Idempotent(true).Iter()
			nextState = iter.PageState()
			sc := iter.Scanner()
			for sc.Next() {
				row, err := scanRow(sc)
				if err != nil {
					_ = sc.Err()
					return err
				}
				batch = append(batch, row)
			}
			return sc.Err()
		}, func(err error) backoff.Verdict {
			if errors.Is(err, errBadRow) {
				return backoff.Verdict{}
			}
			return r.classify(err)
		}, func(attempt int, err error, wait time.Duration) {
			if r.onRetry != nil {
				r.onRetry(p, attempt, err, wait)
			}
		})
		if err != nil {
			return fmt.Errorf("read %s partition %s: %w", contract.TableEventsByHour, p, err)
		}
		for len(batch) > 0 {
			n := min(batchRows, len(batch))
			chunk := batch[:n:n]
			batch = batch[n:]
			// Counted here, once per delivered page, so a retried page is
			// not counted twice.
			for _, row := range chunk {
				count(row, ref, c)
			}
			select {
			case out <- chunk:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		if len(nextState) == 0 {
			return nil
		}
		state = nextState
	}
}

var errBadRow = errors.New("unreadable event row")

// scanRow reads one row into the staging table's column order.
func scanRow(sc gocql.Scanner) ([]any, error) {
	st, err := eventstore.ReadRow(sc.Scan)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadRow, err)
	}
	id, err := gocql.ParseUUID(st.ID)
	if err != nil {
		return nil, fmt.Errorf("%w: event id %q: %v", errBadRow, st.ID, err)
	}
	row, err := StageRow(id, st.At, st.Site, st.Device, st.Kind, st.Value, st.Unit, st.Severity, st.Attrs, st.IngestedAt)
	if err != nil {
		return nil, fmt.Errorf("%w: event %s: %v", errBadRow, st.ID, err)
	}
	return row, nil
}

// count updates the unknown-dimension counters for one staged row.
func count(row []any, ref *reference, c *counts) {
	c.read.Add(1)
	site, device, kind := row[3].(string), row[4].(string), row[5].(string)
	if !ref.sites[site] {
		c.unknownSites.Add(1)
	}
	model, ok := ref.devices[device]
	switch {
	case !ok:
		c.unknownDevices.Add(1)
	case ref.models[model] != kind:
		c.unknownModels.Add(1)
	}
}

// stageSource feeds batches from the readers to pgx's COPY, at most limit
// rows per COPY (0: no limit); done is set once the readers have finished.
type stageSource struct {
	ctx     context.Context
	batches <-chan [][]any
	readErr func() error
	limit   int
	taken   int
	done    bool
	cur     [][]any
	row     []any
	err     error
}

func (s *stageSource) Next() bool {
	if s.limit > 0 && s.taken >= s.limit {
		return false
	}
	for len(s.cur) == 0 {
		select {
		case b, ok := <-s.batches:
			if !ok {
				s.done = true
				s.err = s.readErr()
				return false
			}
			s.cur = b
		case <-s.ctx.Done():
			s.done = true
			s.err = context.Cause(s.ctx)
			return false
		}
	}
	s.row, s.cur = s.cur[0], s.cur[1:]
	s.taken++
	return true
}

func (s *stageSource) Values() ([]any, error) { return s.row, nil }

func (s *stageSource) Err() error { return s.err }

// String names a partition for logs and errors.
func (p partition) String() string {
	return fmt.Sprintf("(hour %s, shard %d)", p.hour.Format(time.RFC3339), p.shard)
}
