package enrich

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gocql/gocql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/internal/backoff"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
	"github.com/sluicehq/sluice/workloads/internal/refdata"
	"github.com/sluicehq/sluice/workloads/internal/sparklaunch"
)

// Status values of a batch run.
const (
	StatusRunning   = "running"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusSkipped   = "skipped"
	StatusAbandoned = "abandoned"
)

// Progress receives a run's progress: events staged so far and partitions
// read of the total.
type Progress interface {
	Set(done int64, detail string)
	Finish()
}

// Stats is what one run did; it is also what its batch_runs row says.
type Stats struct {
	RunID  int64
	Window Window
	// Reason is why the run enriched its window.
	Reason Reason
	Status string
	// SupersededBy is the run that enriched the window while this one
	// waited for its lock (Status skipped).
	SupersededBy   int64
	EventsRead     int64
	EventsChanged  int64
	UnknownDevices int64
	UnknownSites   int64
	UnknownModels  int64
	Duplicates     int64
	HourlyRows     int64
	Reference      time.Duration
	Copy           time.Duration
	Upsert         time.Duration
	Aggregate      time.Duration
	Total          time.Duration
	// ReferenceInfo describes the reference data used.
	ReferenceInfo string
}

// Job runs enrichment windows.
type Job struct {
	cfg    Config
	pool   *pgxpool.Pool
	reader *reader
	source refdata.Source
	log    *slog.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time
	// NewProgress makes the progress display of one window.
	NewProgress func(w Window) Progress
	// Spark, when set, enriches each window on the Spark engine: this job
	// plans, records the run and keeps its heartbeat, the launched driver
	// enriches and commits the window (see package sparklaunch).
	Spark sparklaunch.Launcher
}

// New returns a job over an open pool and Cassandra session.
func New(cfg Config, pool *pgxpool.Pool, session *gocql.Session, source refdata.Source, log *slog.Logger) *Job {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := newReader(session, cfg.Cassandra.Keyspace, cfg.PageSize, cfg.ReadConcurrency, cfg.ReadAttempts, cqlsession.Classify)
	r.onRetry = func(p partition, attempt int, err error, wait time.Duration) {
		log.Warn("retrying a cassandra page", "partition", p.String(), "attempt", attempt, "wait", wait, "err", err)
	}
	return &Job{cfg: cfg, pool: pool, reader: r, source: source, log: log, Now: time.Now,
		NewProgress: func(Window) Progress { return nopProgress{} }}
}

// redoesArg is the redoes column: NULL for a run that redoes none.
func redoesArg(redoes int64) *int64 {
	if redoes == 0 {
		return nil
	}
	return &redoes
}

type nopProgress struct{}

func (nopProgress) Set(int64, string) {}
func (nopProgress) Finish()           {}

// Plan is what a run without an explicit window does: the windows due
// (PlanDefault) and the hours it leaves out (PlanMissed).
type Plan struct {
	Due    []Due
	Missed []Window
}

// Pending returns the windows a run without an explicit window processes
// (see PlanDefault). It logs each hour redone because it received rows
// after its run, and a warning with the backfill to run when hours older
// than the catch-up horizon were never enriched or received rows late
// (PlanMissed).
func (j *Job) Pending(ctx context.Context) ([]Due, error) {
	p, err := j.Plan(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range p.Due {
		if d.Reason == ReasonLate {
			j.log.Warn("hour received events after it was enriched; redoing it",
				"hour", d.From.Format(time.RFC3339), "enriched_by_run", d.Redoes, "last_stored", d.StoredAt.Format(time.RFC3339Nano))
		}
	}
	if len(p.Missed) > 0 {
		hours := 0
		for _, w := range p.Missed {
			hours += len(w.Hours())
		}
		first, last := p.Missed[0], p.Missed[len(p.Missed)-1]
		j.log.Warn("hours older than the catch-up horizon were never enriched or received events late; a default run leaves them out",
			"hours", hours, "ranges", len(p.Missed), "from", first.From.Format(time.RFC3339), "to", last.To.Format(time.RFC3339),
			"backfill", fmt.Sprintf("enrich --from %s --to %s", first.From.Format(time.RFC3339), last.To.Format(time.RFC3339)))
	}
	return p.Due, nil
}

// Plan reads batch_runs and the hour marks, and plans a default run.
func (j *Job) Plan(ctx context.Context) (Plan, error) {
	now := j.Now()
	var first *time.Time
	if err := j.pool.QueryRow(ctx, sqlFirstSucceeded, JobName).Scan(&first); err != nil {
		return Plan{}, fmt.Errorf("read batch runs: %w", err)
	}
	horizon := now.Add(-MaxMissedLookback - time.Hour)
	rows, err := j.pool.Query(ctx, sqlSucceededWindows, JobName, horizon)
	if err != nil {
		return Plan{}, fmt.Errorf("read batch runs: %w", err)
	}
	done, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Covered, error) {
		var c Covered
		err := r.Scan(&c.From, &c.To, &c.RunID, &c.StartedAt)
		return c, err
	})
	if err != nil {
		return Plan{}, fmt.Errorf("read batch runs: %w", err)
	}
	marks := Marks{}
	if first != nil {
		// Only hours some run covered can be late: from the job's first
		// window, or the lookback, whichever is later.
		from := contract.Hour(*first)
		if floor := contract.Hour(now.Add(-MaxMissedLookback)); from.Before(floor) {
			from = floor
		}
		if marks, err = eventstore.HourMarks(ctx, j.reader.session, j.cfg.Cassandra.Keyspace, from, now.Add(time.Hour)); err != nil {
			return Plan{}, err
		}
	}
	return Plan{
		Due:    PlanDefault(done, first, marks, now, j.cfg.Settle, j.cfg.Catchup),
		Missed: PlanMissed(done, first, marks, now, j.cfg.Settle, j.cfg.Catchup),
	}, nil
}

// RunDue enriches a window a default run planned (see Pending), recording
// why in batch_runs.
func (j *Job) RunDue(ctx context.Context, d Due) (Stats, error) {
	return j.run(ctx, d.Window, d.Reason, d.Redoes)
}

// Run enriches one window: it records a running run, loads the reference
// data, then in one transaction stages the window's events from Cassandra
// with COPY, upserts them into enriched_events, recomputes site_hourly for
// the hours the window touches and marks the run succeeded. Any failure
// rolls the transaction back and marks the run failed with the error, so a
// window is either wholly enriched or untouched.
func (j *Job) Run(ctx context.Context, w Window) (Stats, error) {
	return j.run(ctx, w, ReasonRequested, 0)
}

// run is Run for a reason; redoes is the run a late redo follows (0: none).
func (j *Job) run(ctx context.Context, w Window, reason Reason, redoes int64) (Stats, error) {
	st := Stats{Window: w, Reason: reason}
	if err := w.Validate(j.Now()); err != nil {
		return st, err
	}
	if _, err := j.pool.Exec(ctx, sqlAbandonStale, JobName, j.cfg.StaleAfter.Seconds()); err != nil {
		return st, fmt.Errorf("mark stale runs: %w", err)
	}
	var startedAt time.Time
	if err := j.pool.QueryRow(ctx, sqlStartRun, JobName, w.From, w.To, j.cfg.Worker, string(reason), redoesArg(redoes)).Scan(&st.RunID, &startedAt); err != nil {
		return st, fmt.Errorf("record run start: %w", err)
	}
	log := j.log.With("run_id", st.RunID, "window", w.String(), "reason", string(reason))
	log.Info("enrich run started")
	begin := time.Now()

	hbCtx, stopHeartbeat := context.WithCancel(ctx)
	var hbWG sync.WaitGroup
	hbWG.Add(1)
	go func() {
		defer hbWG.Done()
		j.heartbeat(hbCtx, st.RunID, log)
	}()
	stop := func() {
		stopHeartbeat()
		hbWG.Wait()
	}

	var err error
	if j.Spark != nil {
		err = j.runSpark(ctx, w, &st, log)
	} else {
		err = j.runWindow(ctx, w, startedAt, &st, stop, begin)
	}
	stop()
	st.Total = time.Since(begin)
	if err == nil {
		log.Info("enrich run ended", "status", st.Status, "events_read", st.EventsRead, "events_changed", st.EventsChanged,
			"unknown_devices", st.UnknownDevices, "unknown_sites", st.UnknownSites, "unknown_models", st.UnknownModels,
			"hourly_rows", st.HourlyRows, "superseded_by", st.SupersededBy, "total_ms", st.Total.Milliseconds())
		if st.Status == StatusSkipped && j.Spark == nil {
			return st, j.end(st, StatusSkipped, fmt.Sprintf("run %d enriched this window while this run waited for its lock", st.SupersededBy))
		}
		return st, nil
	}
	st.Status = StatusFailed
	log.Error("enrich run failed", "err", err)
	if endErr := j.end(st, StatusFailed, err.Error()); endErr != nil {
		return st, errors.Join(err, endErr)
	}
	return st, err
}

// endRetry paces the attempts at recording a run's end.
var endRetry = backoff.Policy{Base: 100 * time.Millisecond, Max: 2 * time.Second, MaxAttempts: 8}

// end records a run that did not commit its window. It runs even when ctx
// was cancelled (a SIGTERM), with its own deadline.
func (j *Job) end(st Stats, status, msg string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	// The failure being recorded may have broken the pool's connections
	// (PostgreSQL or PgBouncer restarted): each fails once, a fresh one
	// answers, so the record is retried within the deadline.
	err := endRetry.Do(ctx, func(ctx context.Context) error {
		_, err := j.pool.Exec(ctx, sqlEnd, st.RunID, status, st.ReferenceInfo, st.EventsRead, st.UnknownDevices, st.UnknownSites,
			st.UnknownModels, st.Reference.Milliseconds(), st.Copy.Milliseconds(), st.Upsert.Milliseconds(),
			st.Aggregate.Milliseconds(), st.Total.Milliseconds(), msg)
		return err
	}, func(error) backoff.Verdict { return backoff.Verdict{Retry: true} }, nil)
	if err != nil {
		return fmt.Errorf("record run %d as %s: %w", st.RunID, status, err)
	}
	return nil
}

func (j *Job) heartbeat(ctx context.Context, runID int64, log *slog.Logger) {
	t := time.NewTicker(j.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := j.pool.Exec(ctx, sqlHeartbeat, runID); err != nil && ctx.Err() == nil {
			log.Warn("heartbeat failed", "err", err)
		}
	}
}

// runWindow does the work of Run. stopHeartbeat is called before the run's
// row is updated inside the transaction, so the heartbeat never waits on
// that row lock.
func (j *Job) runWindow(ctx context.Context, w Window, startedAt time.Time, st *Stats, stopHeartbeat func(), begin time.Time) error {
	t0 := time.Now()
	models, err := j.source.ReadModels(ctx, j.cfg.ModelsURL)
	if err != nil {
		return fmt.Errorf("load device models: %w", err)
	}
	st.Reference = time.Since(t0)

	conn, err := j.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres connection: %w", err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin window transaction: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	// SET LOCAL lasts until the transaction ends: no session state.
	if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL lock_timeout = %d", j.cfg.LockTimeout.Milliseconds())); err != nil {
		return fmt.Errorf("set lock_timeout: %w", err)
	}
	if _, err := tx.Exec(ctx, "SET LOCAL work_mem = '"+j.cfg.WorkMem+"'"); err != nil {
		return fmt.Errorf("set work_mem: %w", err)
	}
	firstHour, endHour := w.FirstHour(), w.EndHour()
	if _, err := tx.Exec(ctx, sqlLockHours, LockClass, firstHour.Unix()/3600, endHour.Unix()/3600-1); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "55P03" {
			return fmt.Errorf("another run held the window's hours for longer than %s: %w", j.cfg.LockTimeout, err)
		}
		return fmt.Errorf("lock the window's hours: %w", err)
	}
	var other int64
	switch err := tx.QueryRow(ctx, sqlSupersededBy, JobName, st.RunID, w.From, w.To, startedAt).Scan(&other); {
	case err == nil:
		st.Status, st.SupersededBy = StatusSkipped, other
		return nil
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("check for a concurrent run: %w", err)
	}

	t0 = time.Now()
	ref, err := stageReference(ctx, tx, models)
	if err != nil {
		return err
	}
	st.Reference += time.Since(t0)
	if _, err := tx.Exec(ctx, sqlAnalyzeReference); err != nil {
		return fmt.Errorf("analyze reference data: %w", err)
	}
	st.ReferenceInfo = fmt.Sprintf(referenceInfo, j.cfg.ModelsURL, len(models), len(ref.sites), len(ref.devices))

	if _, err := tx.Exec(ctx, StageTableSQL("enrich_stage")); err != nil {
		return fmt.Errorf("create staging table: %w", err)
	}
	var c counts
	err = j.stageAndUpsert(ctx, tx, w, ref, &c, st)
	st.EventsRead, st.UnknownDevices, st.UnknownSites, st.UnknownModels = c.read.Load(), c.unknownDevices.Load(), c.unknownSites.Load(), c.unknownModels.Load()
	if err != nil {
		return err
	}

	t0 = time.Now()
	// The statistics cannot know the rows this transaction just wrote, so
	// the planner would sort the window's events to group them; hashing
	// the few thousand groups is several times cheaper.
	if _, err := tx.Exec(ctx, "SET LOCAL enable_sort = off"); err != nil {
		return fmt.Errorf("set enable_sort: %w", err)
	}
	if _, err := tx.Exec(ctx, sqlDeleteHourly, firstHour, endHour); err != nil {
		return fmt.Errorf("clear site_hourly for %s: %w", w, err)
	}
	tag, err := tx.Exec(ctx, sqlRecomputeHourly, firstHour, endHour)
	if err != nil {
		return fmt.Errorf("recompute site_hourly for %s: %w", w, err)
	}
	st.HourlyRows = tag.RowsAffected()
	st.Aggregate = time.Since(t0)

	stopHeartbeat()
	st.Status = StatusSucceeded
	st.Total = time.Since(begin)
	if _, err := tx.Exec(ctx, sqlSucceed, st.RunID, st.ReferenceInfo, st.EventsRead, st.EventsChanged, st.UnknownDevices,
		st.UnknownSites, st.UnknownModels, st.Duplicates, st.HourlyRows, st.Reference.Milliseconds(), st.Copy.Milliseconds(),
		st.Upsert.Milliseconds(), st.Aggregate.Milliseconds(), st.Total.Milliseconds()); err != nil {
		return fmt.Errorf("record run success: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit window %s: %w", w, err)
	}
	return nil
}

// stageReference copies the reference data into the transaction and
// returns it for counting unknown dimensions.
func stageReference(ctx context.Context, tx pgx.Tx, models []refdata.Model) (*reference, error) {
	for _, q := range []string{sqlCreateSites, sqlCreateDevices, sqlCreateModels} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("stage reference data: %w", err)
		}
	}
	rows := make([][]any, len(models))
	ref := &reference{devices: map[string]string{}, sites: map[string]bool{}, models: make(map[string]string, len(models))}
	for i, m := range models {
		rows[i] = []any{m.Model, m.Kind, m.Vendor, m.WarnThreshold, m.CritThreshold}
		ref.models[m.Model] = m.Kind
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"enrich_models"}, []string{"model", "kind", "vendor", "warn_threshold", "crit_threshold"},
		pgx.CopyFromRows(rows)); err != nil {
		return nil, fmt.Errorf("stage device models: %w", err)
	}
	srows, err := tx.Query(ctx, sqlReadSites)
	if err != nil {
		return nil, fmt.Errorf("read sites: %w", err)
	}
	sites, err := pgx.CollectRows(srows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read sites: %w", err)
	}
	for _, s := range sites {
		ref.sites[s] = true
	}
	drows, err := tx.Query(ctx, sqlReadDevices)
	if err != nil {
		return nil, fmt.Errorf("read devices: %w", err)
	}
	var id, model string
	if _, err := pgx.ForEachRow(drows, []any{&id, &model}, func() error {
		ref.devices[id] = model
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read devices: %w", err)
	}
	return ref, nil
}

// stageAndUpsert streams the window's events from Cassandra into the
// staging table and upserts them, chunk by chunk, all inside the window's
// transaction: while PostgreSQL upserts one chunk the readers keep filling a
// buffer of up to a chunk of rows for the next COPY, so Cassandra and
// PostgreSQL work at the same time and memory stays bounded by about two
// chunks.
func (j *Job) stageAndUpsert(ctx context.Context, tx pgx.Tx, w Window, ref *reference, c *counts, st *Stats) error {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan [][]any, max(2*j.cfg.ReadConcurrency, j.cfg.ChunkRows/batchRows))
	var readErr error
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		readErr = j.reader.read(rctx, w, ref, c, batches)
	}()
	total := int64(len(partitions(w)))
	bar := j.NewProgress(w)
	progressDone := make(chan struct{})
	go func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			bar.Set(c.read.Load(), fmt.Sprintf("partitions %d/%d", c.partitionsDone.Load(), total))
			select {
			case <-progressDone:
				return
			case <-t.C:
			}
		}
	}()
	stop := func() {
		cancel()
		// Let the readers see the cancellation and finish; drain what
		// they still hand over so none blocks.
		for range batches {
		}
		<-readDone
		close(progressDone)
		bar.Set(c.read.Load(), fmt.Sprintf("partitions %d/%d", c.partitionsDone.Load(), total))
		bar.Finish()
	}

	src := &stageSource{ctx: rctx, batches: batches, readErr: func() error { <-readDone; return readErr }}
	for !src.done {
		src.limit, src.taken = j.cfg.ChunkRows, 0
		t0 := time.Now()
		n, err := tx.CopyFrom(ctx, pgx.Identifier{"enrich_stage"}, StageColumns, src)
		st.Copy += time.Since(t0)
		if err != nil {
			stop()
			if readErr != nil && !errors.Is(readErr, context.Canceled) {
				return fmt.Errorf("read events from cassandra: %w", readErr)
			}
			return fmt.Errorf("copy events into the staging table: %w", err)
		}
		if n == 0 {
			continue
		}
		t0 = time.Now()
		changed, dups, err := upsert(ctx, tx, st.RunID)
		if err == nil {
			_, err = tx.Exec(ctx, "TRUNCATE enrich_stage")
		}
		st.Upsert += time.Since(t0)
		if err != nil {
			stop()
			return err
		}
		st.EventsChanged += changed
		st.Duplicates += dups
	}
	stop()
	if readErr != nil {
		return fmt.Errorf("read events from cassandra: %w", readErr)
	}
	return nil
}

// upsert writes the staged events. Each attempt runs under a savepoint, so
// a failed one leaves the transaction usable. A plain INSERT comes first: it
// is the cheapest and succeeds whenever no staged event is enriched yet (the
// first run of a window). A unique violation means some are: the chunk is
// upserted instead. If one event id was staged twice (the same id stored
// with two event times), PostgreSQL refuses to update a row twice in one
// statement (cardinality_violation), and the upsert is redone from a
// de-duplicated view of the staging table.
func upsert(ctx context.Context, tx pgx.Tx, runID int64) (changed, duplicates int64, err error) {
	attempts := []struct {
		sql   string
		retry string // the SQLSTATE that moves on to the next attempt
	}{
		{fmt.Sprintf(sqlInsert, stagedRows), "23505"},
		{fmt.Sprintf(sqlInsert, stagedRows) + sqlOnConflict, "21000"},
		{fmt.Sprintf(sqlInsert, fmt.Sprintf(distinctStaged, stagedRows)) + sqlOnConflict, ""},
	}
	for i, a := range attempts {
		if i == len(attempts)-1 {
			if err := tx.QueryRow(ctx, sqlCountDuplicates).Scan(&duplicates); err != nil {
				return 0, 0, fmt.Errorf("count duplicate events: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, "SAVEPOINT enrich_upsert"); err != nil {
			return 0, 0, fmt.Errorf("upsert enriched events: %w", err)
		}
		tag, err := tx.Exec(ctx, a.sql, runID)
		if err == nil {
			if _, err := tx.Exec(ctx, "RELEASE SAVEPOINT enrich_upsert"); err != nil {
				return 0, 0, fmt.Errorf("upsert enriched events: %w", err)
			}
			return tag.RowsAffected(), duplicates, nil
		}
		var pgErr *pgconn.PgError
		if a.retry == "" || !errors.As(err, &pgErr) || pgErr.Code != a.retry {
			return 0, 0, fmt.Errorf("upsert enriched events: %w", err)
		}
		if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT enrich_upsert"); err != nil {
			return 0, 0, fmt.Errorf("upsert enriched events: %w", err)
		}
	}
	// The last attempt has no retry code, so the loop always returns.
	return 0, 0, errors.New("upsert enriched events: no attempt left")
}

// runSpark hands the window to the Spark driver and reads back what it
// recorded: the driver commits the window together with the run's success
// (or records it skipped), so a driver that ended any other way committed
// nothing, whatever its exit said.
func (j *Job) runSpark(ctx context.Context, w Window, st *Stats, log *slog.Logger) error {
	lctx, cancel := context.WithTimeout(ctx, j.cfg.SparkTimeout)
	defer cancel()
	log.Info("spark driver launched")
	launchErr := j.Spark.Launch(lctx, sparklaunch.Run{ID: st.RunID, From: w.From, To: w.To})
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer rcancel()
	var msg *string
	var refInfo *string
	var refMs, copyMs, upsertMs, aggMs, totalMs int64
	err := j.pool.QueryRow(rctx, sqlRunResult, st.RunID).Scan(&st.Status, &refInfo, &st.EventsRead, &st.EventsChanged,
		&st.UnknownDevices, &st.UnknownSites, &st.UnknownModels, &st.Duplicates, &st.HourlyRows,
		&refMs, &copyMs, &upsertMs, &aggMs, &totalMs, &msg)
	if err != nil {
		return errors.Join(launchErr, fmt.Errorf("read the spark run's record: %w", err))
	}
	if refInfo != nil {
		st.ReferenceInfo = *refInfo
	}
	st.Reference, st.Copy, st.Upsert, st.Aggregate = time.Duration(refMs)*time.Millisecond, time.Duration(copyMs)*time.Millisecond,
		time.Duration(upsertMs)*time.Millisecond, time.Duration(aggMs)*time.Millisecond
	switch st.Status {
	case StatusSucceeded, StatusSkipped:
		if launchErr != nil {
			log.Warn("the spark driver committed the window but did not exit cleanly", "err", launchErr)
		}
		return nil
	case StatusRunning:
		if launchErr == nil {
			launchErr = errors.New("the spark driver exited without committing the window")
		}
		return launchErr
	default:
		detail := ""
		if msg != nil {
			detail = *msg
		}
		return errors.Join(launchErr, fmt.Errorf("the run is %s: %s", st.Status, detail))
	}
}
