package changefeed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gocql/gocql"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
)

// OutboxOptions configure an OutboxFeed.
type OutboxOptions struct {
	// Keyspace holds the outbox table.
	Keyspace string
	// Table is the outbox table; contract.TableEventsOutbox when empty.
	Table string
	// PageSize bounds the changes in one batch (default 500).
	PageSize int
	// Grace is how long after its timeuuid a row may still land; the
	// settle cursor trails the clock by this much (default
	// DefaultOutboxGrace). It must exceed the write timeout plus the
	// clock skew between writers and this reader.
	Grace time.Duration
	// SweepEvery is how often the settle cursor re-reads (default 250 ms).
	SweepEvery time.Duration
	// Recheck is how far behind the tail the frequent recheck looks for
	// rows that landed late (default 1 s): they are delivered within
	// RecheckEvery instead of after the grace window. Negative: no
	// recheck.
	Recheck time.Duration
	// RecheckEvery is how often the recheck runs (default 100 ms). With
	// many writes in flight, rows land out of their timeuuids' order and
	// a few in a hundred land behind the tail: the recheck's period is
	// what they wait on top of the tail's.
	RecheckEvery time.Duration
	// Start is where a range without a checkpoint begins; zero is now.
	Start time.Time
	// MaxBuckets bounds the buckets one Next walks through, so a feed
	// far behind returns (empty) batches instead of blocking (default 60).
	MaxBuckets int
	// AuditEvery is how often the range the settle cursor passed is read
	// again for rows that landed behind it (default Grace; negative: no
	// audit). Such a row means the grace window is too short.
	AuditEvery time.Duration
	// OnLate, when set, is told how many rows were found late and by
	// which read: "recheck" or "sweep" for rows that landed after the
	// tail had passed their timeuuid, "settled" for rows the audit found
	// behind the settled cursor (without it they would be lost).
	OnLate func(via string, rows int)
	// Now is the clock; tests set it.
	Now func() time.Time
	// Logger receives warnings about unreadable rows.
	Logger *slog.Logger
}

func (o *OutboxOptions) defaults() {
	if o.Table == "" {
		o.Table = contract.TableEventsOutbox
	}
	if o.PageSize <= 0 {
		o.PageSize = 500
	}
	if o.Grace <= 0 {
		o.Grace = DefaultOutboxGrace
	}
	if o.AuditEvery == 0 {
		o.AuditEvery = o.Grace
	}
	if o.SweepEvery <= 0 {
		o.SweepEvery = 250 * time.Millisecond
	}
	if o.Recheck == 0 {
		o.Recheck = time.Second
	}
	if o.RecheckEvery <= 0 {
		o.RecheckEvery = 100 * time.Millisecond
	}
	if o.Recheck > o.Grace {
		o.Recheck = o.Grace
	}
	if o.MaxBuckets <= 0 {
		o.MaxBuckets = 60
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.OnLate == nil {
		o.OnLate = func(string, int) {}
	}
}

// OutboxFeed is the change feed of plain Apache Cassandra: the events
// outbox, one feed range per shard.
type OutboxFeed struct {
	sessions cqlsession.Source
	opts     OutboxOptions
}

// NewOutboxFeed returns the outbox feed over session.
func NewOutboxFeed(sessions cqlsession.Source, opts OutboxOptions) *OutboxFeed {
	opts.defaults()
	return &OutboxFeed{sessions: sessions, opts: opts}
}

// Kind implements Feed.
func (f *OutboxFeed) Kind() string { return "outbox" }

// Ranges implements Feed: one range per outbox shard, named by its number.
func (f *OutboxFeed) Ranges() []string {
	out := make([]string, contract.OutboxShards)
	for i := range out {
		out[i] = strconv.Itoa(i)
	}
	return out
}

// Open implements Feed.
func (f *OutboxFeed) Open(ctx context.Context, feedRange string, cp Checkpoints) (Source, error) {
	shard, err := strconv.Atoi(feedRange)
	if err != nil || shard < 0 || shard >= contract.OutboxShards {
		return nil, fmt.Errorf("outbox range %q: not a shard number below %d", feedRange, contract.OutboxShards)
	}
	s := &outboxSource{feed: f, shard: shard, cp: cp, seen: map[gocql.UUID]struct{}{}, passed: map[gocql.UUID]struct{}{}}
	// The audit range is not checkpointed: it starts empty at the settled
	// cursor, wherever the position below puts it.
	defer func() { s.auditFrom, s.auditTo = s.pos.Settled, s.pos.Settled }()
	saved, err := cp.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("load outbox checkpoint of shard %d: %w", shard, err)
	}
	if saved == nil {
		start := f.opts.Start
		if start.IsZero() {
			start = f.opts.Now()
		}
		c := cursor{Bucket: contract.OutboxBucketOf(start), After: gocql.MinTimeUUID(start)}
		s.pos = outboxPosition{V: 1, Kind: "outbox", Shard: shard, Settled: c, Tail: c}
		return s, nil
	}
	if err := json.Unmarshal(saved, &s.pos); err != nil {
		return nil, fmt.Errorf("outbox checkpoint of shard %d: %w: %w", shard, ErrBadPosition, err)
	}
	if s.pos.Kind != "outbox" || s.pos.Shard != shard {
		return nil, fmt.Errorf("outbox checkpoint of shard %d is a %q position of shard %d: %w", shard, s.pos.Kind, s.pos.Shard, ErrBadPosition)
	}
	return s, nil
}

// cursor is a place in one shard: a bucket and the last timeuuid read in
// it (the zero UUID: nothing read in it yet).
type cursor struct {
	Bucket time.Time  `json:"bucket"`
	After  gocql.UUID `json:"after"`
}

// time is the cursor's place on the clock: the time of its last row, or
// the start of its bucket.
func (c cursor) time() time.Time {
	if c.After == (gocql.UUID{}) {
		return c.Bucket
	}
	return c.After.Time()
}

type outboxPosition struct {
	V     int    `json:"v"`
	Kind  string `json:"kind"`
	Shard int    `json:"shard"`
	// Settled: every row before it was delivered (given the grace window).
	Settled cursor `json:"settled"`
	// Tail: the newest row delivered.
	Tail cursor `json:"tail"`
}

type outboxSource struct {
	feed  *OutboxFeed
	shard int
	cp    Checkpoints
	pos   outboxPosition
	// seen holds the timeuuids the tail delivered after the settle cursor,
	// so the settle sweep delivers only rows the tail missed.
	seen        map[gocql.UUID]struct{}
	lastSweep   time.Time
	lastRecheck time.Time
	// passed holds the timeuuids the settle sweep read from auditFrom on.
	// The audit reads [auditFrom, auditTo] again, auditTo being where the
	// settle cursor was at the previous audit (so rows had an audit
	// interval more to land), and delivers what passed lacks: rows that
	// landed behind the settled cursor.
	passed    map[gocql.UUID]struct{}
	auditFrom cursor
	auditTo   cursor
	lastAudit time.Time
}

type outboxRow struct {
	tid        gocql.UUID
	payload    string
	ingestedAt time.Time
}

// pass is the state one Next works on: a copy of the position and the
// timeuuids it delivered. The source takes it over only when every read of
// the call succeeded, so a read failing half-way (a sweep page, the recheck
// or the tail) leaves the source where it was and the retry reads the same
// rows again: a late row a sweep collected is never dropped while the
// settle cursor moves past it.
type pass struct {
	pos       outboxPosition
	delivered map[gocql.UUID]struct{}
	late      map[string]int
	// passed: timeuuids the sweep read; audited: the audit ran, moving
	// the audit range to auditFrom/auditTo.
	passed             map[gocql.UUID]struct{}
	audited            bool
	auditFrom, auditTo cursor
}

// seenIn reports whether tid was delivered before or earlier in this pass.
func (s *outboxSource) seenIn(p *pass, tid gocql.UUID) bool {
	if _, ok := s.seen[tid]; ok {
		return true
	}
	_, ok := p.delivered[tid]
	return ok
}

// Next implements Source: first the settle sweep (rows that landed behind
// the tail), at most every SweepEvery, and the recheck, at most every
// RecheckEvery, then the tail. It is all or
// nothing: on an error the position, seen and the late counts are as
// before the call.
func (s *outboxSource) Next(ctx context.Context) (Batch, error) {
	o := s.feed.opts
	now := o.Now()
	p := &pass{pos: s.pos, delivered: map[gocql.UUID]struct{}{}, late: map[string]int{}, passed: map[gocql.UUID]struct{}{}}
	var changes []Change
	swept := false
	if now.Sub(s.lastSweep) >= o.SweepEvery {
		late, err := s.sweep(ctx, p, now)
		if err != nil {
			return Batch{}, err
		}
		changes = append(changes, late...)
		if o.AuditEvery > 0 && now.Sub(s.lastAudit) >= o.AuditEvery {
			behind, err := s.audit(ctx, p)
			if err != nil {
				return Batch{}, err
			}
			changes = append(changes, behind...)
		}
		swept = true
	}
	rechecked := false
	if o.Recheck > 0 && now.Sub(s.lastRecheck) >= o.RecheckEvery {
		recent, err := s.recheck(ctx, p, now)
		if err != nil {
			return Batch{}, err
		}
		changes = append(changes, recent...)
		rechecked = true
	}
	more := len(changes) >= o.PageSize
	if room := o.PageSize - len(changes); room > 0 {
		rows, c, err := s.read(ctx, p.pos.Tail, bound{}, now, room, false)
		if err != nil {
			return Batch{}, err
		}
		more = len(rows) >= room
		p.pos.Tail = c
		for _, r := range rows {
			p.delivered[r.tid] = struct{}{}
			if ch, ok := s.decode(r); ok {
				changes = append(changes, ch)
			}
		}
	}
	pos, err := json.Marshal(p.pos)
	if err != nil {
		return Batch{}, fmt.Errorf("encode outbox position: %w", err)
	}
	s.apply(p)
	if swept {
		s.lastSweep = now
	}
	if rechecked {
		s.lastRecheck = now
	}
	if p.audited {
		s.lastAudit = now
	}
	return Batch{Changes: latest(changes), Position: pos, More: more}, nil
}

// apply makes a successful pass the source's state.
func (s *outboxSource) apply(p *pass) {
	s.pos = p.pos
	for tid := range p.delivered {
		s.seen[tid] = struct{}{}
	}
	// Neither the sweep nor the tail reads behind the settle cursor again.
	settled := s.pos.Settled
	for tid := range s.seen {
		if tid.Time().Before(settled.time()) || tid == settled.After {
			delete(s.seen, tid)
		}
	}
	for tid := range p.passed {
		s.passed[tid] = struct{}{}
	}
	if p.audited {
		s.auditFrom, s.auditTo = p.auditFrom, p.auditTo
		for tid := range s.passed {
			if tid.Time().Before(s.auditFrom.time()) || tid == s.auditFrom.After {
				delete(s.passed, tid)
			}
		}
	}
	if n := p.late["settled"]; n > 0 {
		s.feed.opts.Logger.Warn("outbox rows landed behind the settled cursor; the grace window is too short for the write timeout and clock skew",
			"shard", s.shard, "rows", n, "grace", s.feed.opts.Grace.String())
	}
	for _, via := range []string{"sweep", "recheck", "settled"} {
		if n, ok := p.late[via]; ok {
			s.feed.opts.OnLate(via, n)
		}
	}
}

// sweep moves the pass's settle cursor up to the older of now-Grace and
// the tail, returning the rows the tail did not deliver.
func (s *outboxSource) sweep(ctx context.Context, p *pass, now time.Time) ([]Change, error) {
	o := s.feed.opts
	// By default everything older than the grace window is swept; when
	// the tail is further behind, up to and including its last row.
	b := bound{time: now.Add(-o.Grace)}
	if t := p.pos.Tail.time(); !t.After(b.time) {
		b = bound{time: t, upTo: p.pos.Tail.After}
	}
	var out []Change
	// Mostly the rows swept were delivered by the tail already, so the
	// sweep goes on page after page (a bounded number) until it reaches
	// its bound or has a page of late rows to return.
	for pages := 0; pages < 16 && len(out) < o.PageSize; pages++ {
		if !p.pos.Settled.time().Before(b.time) && (b.upTo == (gocql.UUID{}) || p.pos.Settled.After == b.upTo) {
			break
		}
		// Only the timeuuids are read: almost all were delivered already,
		// and the few that were not are fetched whole afterwards.
		rows, c, err := s.read(ctx, p.pos.Settled, b, b.time, o.PageSize, true)
		if err != nil {
			return nil, err
		}
		var late []gocql.UUID
		for _, r := range rows {
			p.passed[r.tid] = struct{}{}
			if !s.seenIn(p, r.tid) {
				late = append(late, r.tid)
			}
		}
		full, err := s.fetch(ctx, late)
		if err != nil {
			return nil, err
		}
		p.late["sweep"] += len(full)
		p.pos.Settled = c
		for _, r := range full {
			if ch, ok := s.decode(r); ok {
				out = append(out, ch)
			}
		}
		if len(rows) < o.PageSize {
			break
		}
	}
	return out, nil
}

// audit reads the timeuuids of [auditFrom, auditTo] again and returns the
// rows the settle sweep never read there: they landed behind the settled
// cursor. It then moves the range on to [auditTo, settled cursor].
func (s *outboxSource) audit(ctx context.Context, p *pass) ([]Change, error) {
	o := s.feed.opts
	from, to := s.auditFrom, s.auditTo
	p.audited = true
	p.auditFrom, p.auditTo = to, p.pos.Settled
	if from == to {
		return nil, nil
	}
	b := bound{time: to.time(), upTo: to.After}
	var missing []gocql.UUID
	c := from
	for pages := 0; ; pages++ {
		if pages == 64 {
			// A long range: the rest waits for the next audit.
			p.auditFrom, p.auditTo = c, to
			break
		}
		rows, next, err := s.read(ctx, c, b, b.time, o.PageSize, true)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if _, ok := s.passed[r.tid]; !ok {
				missing = append(missing, r.tid)
			}
		}
		if len(rows) < o.PageSize || next == c {
			break
		}
		c = next
	}
	full, err := s.fetch(ctx, missing)
	if err != nil {
		return nil, err
	}
	p.late["settled"] += len(full)
	var out []Change
	for _, r := range full {
		if ch, ok := s.decode(r); ok {
			out = append(out, ch)
		}
	}
	return out, nil
}

// recheck looks at the timeuuids of the last Recheck behind the tail and
// delivers the rows the tail did not see: a row that landed a little late
// reaches the handler within SweepEvery, not after the grace window. No
// cursor moves; the rows found join seen, so the settle sweep skips them.
func (s *outboxSource) recheck(ctx context.Context, p *pass, now time.Time) ([]Change, error) {
	o := s.feed.opts
	tail := p.pos.Tail
	if tail.After == (gocql.UUID{}) {
		return nil, nil
	}
	from := now.Add(-o.Recheck)
	if !tail.time().After(from) {
		return nil, nil // the tail is behind: the settle sweep follows it closely
	}
	start := cursor{Bucket: contract.OutboxBucketOf(from), After: gocql.MinTimeUUID(from)}
	if p.pos.Settled.time().After(from) {
		start = p.pos.Settled
	}
	b := bound{time: tail.time(), upTo: tail.After}
	var late []gocql.UUID
	c := start
	for pages := 0; pages < 8; pages++ {
		rows, next, err := s.read(ctx, c, b, b.time, o.PageSize, true)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if !s.seenIn(p, r.tid) {
				late = append(late, r.tid)
			}
		}
		if len(rows) < o.PageSize || next == c {
			break
		}
		c = next
	}
	full, err := s.fetch(ctx, late)
	if err != nil {
		return nil, err
	}
	p.late["recheck"] += len(full)
	var out []Change
	for _, r := range full {
		p.delivered[r.tid] = struct{}{}
		if ch, ok := s.decode(r); ok {
			out = append(out, ch)
		}
	}
	return out, nil
}

// bound is the upper end of a read: rows up to and including upTo when it
// is set, else rows before time.
type bound struct {
	time time.Time
	upTo gocql.UUID
}

// read returns up to limit rows after c within b, bucket by bucket (only
// their timeuuids when tidsOnly). It moves on to the next bucket once a
// bucket starts no later than advanceBy.
func (s *outboxSource) read(ctx context.Context, c cursor, b bound, advanceBy time.Time, limit int, tidsOnly bool) ([]outboxRow, cursor, error) {
	o := s.feed.opts
	var out []outboxRow
	for buckets := 0; buckets < o.MaxBuckets && len(out) < limit; buckets++ {
		rows, err := s.query(ctx, c, b, limit-len(out), tidsOnly)
		if err != nil {
			return nil, c, err
		}
		if len(rows) > 0 {
			c.After = rows[len(rows)-1].tid
			out = append(out, rows...)
		}
		if len(out) >= limit {
			break
		}
		next := c.Bucket.Add(contract.OutboxBucket)
		if next.After(advanceBy) {
			break
		}
		c = cursor{Bucket: next}
	}
	return out, c, nil
}

func (s *outboxSource) query(ctx context.Context, c cursor, b bound, limit int, tidsOnly bool) ([]outboxRow, error) {
	o := s.feed.opts
	cols := "tid, payload, ingested_at"
	if tidsOnly {
		cols = "tid"
	}
	var q strings.Builder
	fmt.Fprintf(&q, "SELECT %s FROM %s.%s WHERE bucket = ? AND shard = ?", cols, o.Keyspace, o.Table)
	args := []any{c.Bucket, s.shard}
	if c.After != (gocql.UUID{}) {
		q.WriteString(" AND tid > ?")
		args = append(args, c.After)
	}
	switch {
	case b.upTo != (gocql.UUID{}):
		q.WriteString(" AND tid <= ?")
		args = append(args, b.upTo)
	case !b.time.IsZero():
		q.WriteString(" AND tid < ?")
		args = append(args, gocql.MinTimeUUID(b.time))
	}
	q.WriteString(" LIMIT ?")
	args = append(args, limit)
	iter := s.feed.sessions.Session().Query(q.String(), args...).WithContext(ctx).Idempotent(true).PageSize(limit).Iter()
	var rows []outboxRow
	var r outboxRow
	dest := []any{&r.tid, &r.payload, &r.ingestedAt}
	if tidsOnly {
		dest = dest[:1]
	}
	for iter.Scan(dest...) {
		rows = append(rows, r)
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("read outbox shard %d bucket %s: %w", s.shard, c.Bucket.Format(time.RFC3339), err)
	}
	return rows, nil
}

// fetch reads whole rows by timeuuid, in timeuuid order.
func (s *outboxSource) fetch(ctx context.Context, tids []gocql.UUID) ([]outboxRow, error) {
	if len(tids) == 0 {
		return nil, nil
	}
	o := s.feed.opts
	// A row's bucket follows from its timeuuid: both come from one stamp.
	byBucket := map[time.Time][]gocql.UUID{}
	var buckets []time.Time
	for _, tid := range tids {
		b := contract.OutboxBucketOf(tid.Time())
		if _, ok := byBucket[b]; !ok {
			buckets = append(buckets, b)
		}
		byBucket[b] = append(byBucket[b], tid)
	}
	cql := fmt.Sprintf("SELECT tid, payload, ingested_at FROM %s.%s WHERE bucket = ? AND shard = ? AND tid IN ?", o.Keyspace, o.Table)
	var rows []outboxRow
	for _, b := range buckets {
		iter := s.feed.sessions.Session().Query(cql, b, s.shard, byBucket[b]).WithContext(ctx).Idempotent(true).Iter()
		var r outboxRow
		for iter.Scan(&r.tid, &r.payload, &r.ingestedAt) {
			rows = append(rows, r)
		}
		if err := iter.Close(); err != nil {
			return nil, fmt.Errorf("read late outbox rows of shard %d: %w", s.shard, err)
		}
	}
	return rows, nil
}

func (s *outboxSource) decode(r outboxRow) (Change, bool) {
	var ev contract.Event
	dec := json.NewDecoder(bytes.NewReader([]byte(r.payload)))
	if err := dec.Decode(&ev); err != nil || ev.ID == "" {
		// A row no reader can use would stop the shard for good; it is
		// logged and skipped instead.
		s.feed.opts.Logger.Error("skipping unreadable outbox row", "shard", s.shard, "tid", r.tid.String(), "err", err)
		return Change{}, false
	}
	ev.At = ev.At.UTC()
	return Change{Event: ev, IngestedAt: r.ingestedAt.UTC()}, true
}

// Commit implements Source.
func (s *outboxSource) Commit(ctx context.Context, b Batch) error {
	if err := s.cp.Save(ctx, b.Position); err != nil {
		return fmt.Errorf("commit outbox shard %d: %w", s.shard, err)
	}
	return nil
}
