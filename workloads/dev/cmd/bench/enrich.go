package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/gocql/gocql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/enrichtest"
	"github.com/sluicehq/sluice/workloads/dev/localrun"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/enrich"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
	"github.com/sluicehq/sluice/workloads/internal/pgmigrate"
	"github.com/sluicehq/sluice/workloads/internal/pgstore"
	"github.com/sluicehq/sluice/workloads/internal/progress"
	"github.com/sluicehq/sluice/workloads/internal/refdata"
)

func init() { benchmarks["enrich"] = benchEnrich }

// benchDatabase is the benchmark's own database, recreated on every run so
// the job always inserts into empty tables and the demo's data is untouched.
const benchDatabase = "sluice_bench"

// benchEnrich measures the batch path. Setup (not measured): a synthetic
// window far from real data gets N events in Cassandra's events_by_hour,
// written with bare concurrent gocql upserts, and a fresh database gets the
// schema and the reference data. Then, in the same run and on the same
// PostgreSQL: (a) the ceiling, the same rows COPYed straight into a staging
// table of the job's shape from memory; (b) the full job, the enrich binary
// as a child process (so its peak RSS is its own) over the window.
func benchEnrich(args []string) error {
	b, err := parseEnrich(args)
	if err != nil {
		return err
	}
	ctx := context.Background()
	defer b.teardown()
	if err := b.setup(ctx); err != nil {
		return err
	}
	if err := b.measureCeiling(ctx); err != nil {
		return err
	}
	if err := b.measureJob(ctx); err != nil {
		return err
	}
	return b.report(ctx)
}

// enrichBench is one run of the enrich benchmark, filled in phase by phase.
type enrichBench struct {
	// flags
	n, hours, writers int
	bin               string
	seed              uint64
	rewrite           bool

	// setup
	lc         *local
	cc         cqlsession.Config
	dbURL      string
	pool       *pgxpool.Pool
	modelsPath string
	w          enrich.Window
	gen        *enrichtest.Gen

	// the measured phases
	ceiling           float64 // rows/s
	fullSecs, peakRSS float64
	cpu               time.Duration
}

func parseEnrich(args []string) (*enrichBench, error) {
	b := &enrichBench{}
	fs := flag.NewFlagSet("bench enrich", flag.ContinueOnError)
	fs.IntVar(&b.n, "events", 1_000_000, "events in the window")
	fs.IntVar(&b.hours, "hours", 2, "hours the window spans")
	fs.IntVar(&b.writers, "concurrency", 256, "concurrent Cassandra writes during setup")
	fs.StringVar(&b.bin, "bin", ".sluice/bin", "folder holding the enrich binary")
	fs.Uint64Var(&b.seed, "seed", 42, "event generator seed")
	fs.BoolVar(&b.rewrite, "rewrite", false, "write the events even when an earlier run left exactly them in place")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if b.n < 1 || b.hours < 1 {
		return nil, errors.New("-events and -hours must be positive")
	}
	return b, nil
}

// setup prepares the database and the window's events (not measured).
func (b *enrichBench) setup(ctx context.Context) error {
	if err := b.setupDatabase(ctx); err != nil {
		return err
	}
	return b.setupEvents(ctx)
}

// setupDatabase brings the engines up and gives a fresh database the
// schema and the reference data.
func (b *enrichBench) setupDatabase(ctx context.Context) error {
	var err error
	if b.lc, err = startLocal(ctx, devservices.Cassandra, devservices.Postgres); err != nil {
		return err
	}
	r := b.lc.reader()
	b.cc = cqlsession.FromEnv(r)
	if err := r.Err(); err != nil {
		return err
	}
	if b.dbURL, b.pool, err = b.freshDatabase(ctx, benchDatabase); err != nil {
		return err
	}
	_, _, models := refdata.Fleet(12, 500)
	b.modelsPath = filepath.Join(b.lc.Home, "bench", "device_models.parquet")
	return refdata.WriteModelsFile(b.modelsPath, models)
}

// freshDatabase recreates database name beside the local one, with the
// schema and the reference data, and opens a pool on it.
func (b *enrichBench) freshDatabase(ctx context.Context, name string) (string, *pgxpool.Pool, error) {
	dbURL, err := recreateDatabase(ctx, b.lc.Endpoints.PostgresURL, name)
	if err != nil {
		return "", nil, err
	}
	pc := pgstore.Config{URL: dbURL, MaxConns: 4, ConnectTimeout: 10 * time.Second, AppName: "bench"}
	db, err := pc.OpenDB(ctx, nil)
	if err != nil {
		return "", nil, err
	}
	_, err = pgmigrate.Up(ctx, db, nil)
	db.Close()
	if err != nil {
		return "", nil, err
	}
	pool, err := pc.Open(ctx, nil)
	if err != nil {
		return "", nil, err
	}
	sites, devices, _ := refdata.Fleet(12, 500)
	if err := refdata.SeedPostgres(ctx, pool, sites, devices); err != nil {
		pool.Close()
		return "", nil, err
	}
	return dbURL, pool, nil
}

// setupEvents writes the window's events into events_by_hour, unless an
// earlier run left exactly them in place, and lets Cassandra settle.
func (b *enrichBench) setupEvents(ctx context.Context) error {
	from := time.Date(2011, 3, 1, 0, 0, 0, 0, time.UTC)
	b.w = enrich.Window{From: from, To: from.Add(time.Duration(b.hours) * time.Hour)}
	b.gen = enrichtest.NewGen(b.seed, b.w.From, b.w.To.Sub(b.w.From), 12, 500)
	b.gen.UnknownDevices, b.gen.UnknownSites = 0.01, 0.005
	if err := eventstore.MigrateConfig(ctx, b.cc, 1); err != nil {
		return err
	}
	session, err := b.cc.Open()
	if err != nil {
		return err
	}
	defer session.Close()
	present, err := eventsInPlace(ctx, session, b.cc.Keyspace, b.gen, b.n)
	if err != nil {
		return err
	}
	if present && !b.rewrite {
		fmt.Printf("setup: the %d events of %s are already in events_by_hour (counts checked per partition)\n", b.n, b.w)
		return nil
	}
	if err := enrichtest.Delete(ctx, session, b.cc.Keyspace, b.w.From, b.w.To); err != nil {
		return err
	}
	fmt.Printf("setup: writing %d events over %s into events_by_hour (%d in flight)\n", b.n, b.w, b.writers)
	bar := progress.New("setup", int64(b.n))
	setupStart := time.Now()
	err = enrichtest.Write(ctx, session, b.cc.Keyspace, b.gen, b.n, b.writers, func(d int64) { bar.Set(d, "") })
	bar.Finish()
	if err != nil {
		return err
	}
	fmt.Printf("setup: written in %s\n", time.Since(setupStart).Round(time.Second))
	return settle(ctx, b.lc.Manager)
}

// measureCeiling is phase (a): the COPY ceiling, from rows prepared in
// memory beforehand.
func (b *enrichBench) measureCeiling(ctx context.Context) error {
	fmt.Println("ceiling: COPY of the same rows into a staging table")
	rows := make([][]any, b.n)
	for i := range rows {
		ev := b.gen.Event(i)
		id, err := gocql.ParseUUID(ev.ID)
		if err != nil {
			return err
		}
		rows[i], err = enrich.StageRow(id, ev.At, ev.Site, ev.Device, ev.Kind, ev.Value, ev.Unit, ev.Severity, ev.Attrs, ev.At.Add(50*time.Millisecond))
		if err != nil {
			return err
		}
	}
	ceilingSecs, err := copyCeiling(ctx, b.pool, rows)
	if err != nil {
		return err
	}
	b.ceiling = float64(b.n) / ceilingSecs
	// Hand the rows' memory back before starting the child: a child
	// forked from a large process would otherwise start life with the
	// parent's resident size on its books.
	rows = nil
	runtime.GC()
	debug.FreeOSMemory()
	return nil
}

// measureJob is phase (b): the enrich binary over the window, its peak
// resident size and CPU time its own.
func (b *enrichBench) measureJob(ctx context.Context) error {
	fmt.Println("full job: enrich over the window")
	launch := b.lc.launcher(b.bin, "bench-")
	// A later entry wins: the job writes to the benchmark's database.
	cmd, lf, err := launch.Command(context.WithoutCancel(ctx), "enrich", []string{"ENRICH_MODELS_URL=" + b.modelsPath, "LOG_LEVEL=warn", "POSTGRES_URL=" + b.dbURL},
		"--from", b.w.From.Format(time.RFC3339), "--to", b.w.To.Format(time.RFC3339))
	if err != nil {
		return err
	}
	defer lf.Close()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start enrich: %w", err)
	}
	runErr := b.watchRSS(cmd)
	b.fullSecs = time.Since(start).Seconds()
	if runErr != nil {
		return fmt.Errorf("enrich: %w (log: %s)", runErr, lf.Name())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return errors.New("no resource usage for the enrich process")
	}
	b.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return nil
}

// watchRSS waits for cmd, reading its peak resident size, the process's
// own VmHWM, while it runs (rusage's maxrss would also count the pages it
// shared with this process before exec).
func (b *enrichBench) watchRSS(cmd *exec.Cmd) error {
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if v, err := localrun.PeakRSSMiB(cmd.Process.Pid); err == nil {
			b.peakRSS = max(b.peakRSS, v)
		}
		select {
		case err := <-waitErr:
			return err
		case <-tick.C:
		}
	}
}

// report reads the job's run record, checks it enriched every event, and
// prints the result.
func (b *enrichBench) report(ctx context.Context) error {
	var read, changed, copyMS, upsertMS, aggMS, refMS, totalMS int64
	var status string
	if err := b.pool.QueryRow(ctx, `SELECT status, events_read, events_changed, copy_ms, upsert_ms, aggregate_ms, reference_ms, total_ms
		FROM batch_runs WHERE job = 'enrich' ORDER BY run_id DESC LIMIT 1`).Scan(&status, &read, &changed, &copyMS, &upsertMS, &aggMS, &refMS, &totalMS); err != nil {
		return fmt.Errorf("read the run record: %w", err)
	}
	if status != enrich.StatusSucceeded || read != int64(b.n) || changed != int64(b.n) {
		return fmt.Errorf("enrich run %s read %d and changed %d of %d events", status, read, changed, b.n)
	}
	perSec := float64(read) / b.fullSecs
	copyRate := float64(read) / (float64(copyMS) / 1000)
	ratio := copyRate / b.ceiling
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	return report("enrich", []row{
		{"events in the window", fmt.Sprint(read)},
		{"COPY ceiling (rows/s)", fmt.Sprintf("%.0f", b.ceiling)},
		{"enrich end to end (events/s)", fmt.Sprintf("%.0f", perSec)},
		{"enrich COPY phase (rows/s)", fmt.Sprintf("%.0f", copyRate)},
		{"COPY phase / ceiling", fmt.Sprintf("%.2f", ratio)},
		{"end to end / ceiling", fmt.Sprintf("%.2f", perSec/b.ceiling)},
		{"phases: reference / copy", fmt.Sprintf("%dms / %dms", refMS, copyMS)},
		{"phases: upsert / aggregate", fmt.Sprintf("%dms / %dms", upsertMS, aggMS)},
		{"wall time / job total", fmt.Sprintf("%.1fs / %.1fs", b.fullSecs, float64(totalMS)/1000)},
		{"enrich CPU time", b.cpu.Round(10 * time.Millisecond).String()},
		{"enrich peak RSS (MiB)", fmt.Sprintf("%.0f", b.peakRSS)},
		{"target ≥ 50,000 events/s", verdict(perSec >= 50000)},
		{"target peak RSS ≤ 500 MiB", verdict(b.peakRSS <= 500)},
	}, [][2]any{
		{"events_per_s", round(perSec)},
		{"copy_rows_per_s", round(copyRate)},
		{"copy_ceiling_rows_per_s", round(b.ceiling)},
		{"ratio", round2(ratio)},
		{"peak_rss_mib", round2(b.peakRSS)},
	})
}

// teardown closes the pool of the benchmark's database.
func (b *enrichBench) teardown() {
	if b.pool != nil {
		b.pool.Close()
	}
}

// eventsInPlace tells whether every events_by_hour partition of the window
// holds exactly the generator's events 0..n-1.
func eventsInPlace(ctx context.Context, session *gocql.Session, keyspace string, gen *enrichtest.Gen, n int) (bool, error) {
	type key struct {
		hour  time.Time
		shard int
	}
	want := map[key]int64{}
	for i := range n {
		ev := gen.Event(i)
		want[key{contract.Hour(ev.At), contract.Shard(ev.ID)}]++
	}
	cql := fmt.Sprintf("SELECT count(*) FROM %s.%s WHERE hour = ? AND shard = ?", keyspace, contract.TableEventsByHour)
	for k, w := range want {
		var got int64
		if err := session.Query(cql, k.hour, k.shard).WithContext(ctx).Scan(&got); err != nil {
			return false, fmt.Errorf("count partition %s/%d: %w", k.hour.Format(time.RFC3339), k.shard, err)
		}
		if got != w {
			return false, nil
		}
	}
	return true, nil
}

// settle waits (up to three minutes) until Cassandra's flushes and
// compactions after the bulk write have calmed down, so the measured run
// does not compete with them.
func settle(ctx context.Context, m *devservices.Manager) error {
	statuses, err := m.Status(ctx)
	if err != nil {
		return err
	}
	pid := 0
	for _, st := range statuses {
		if st.Engine == devservices.Cassandra {
			pid = st.PID
		}
	}
	if pid == 0 {
		return errors.New("cassandra is not running")
	}
	fmt.Print("setup: waiting for Cassandra to settle")
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		c0, err := localrun.CPUSeconds(pid)
		if err != nil {
			return err
		}
		time.Sleep(2 * time.Second)
		c1, err := localrun.CPUSeconds(pid)
		if err != nil {
			return err
		}
		fmt.Print(".")
		if (c1-c0)/2 < 0.3 {
			break
		}
	}
	fmt.Println()
	return nil
}

// recreateDatabase drops and creates a database next to the one url names,
// and returns its URL.
func recreateDatabase(ctx context.Context, adminURL, name string) (string, error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return "", fmt.Errorf("drop database %s: %w", name, err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", fmt.Errorf("parse postgres url: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// copyCeiling COPYs rows into a temporary staging table in one transaction
// and returns the seconds the COPY took.
func copyCeiling(ctx context.Context, pool interface {
	Begin(context.Context) (pgx.Tx, error)
}, rows [][]any) (float64, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("ceiling: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, enrich.StageTableSQL("bench_ceiling")); err != nil {
		return 0, fmt.Errorf("ceiling: %w", err)
	}
	start := time.Now()
	copied, err := tx.CopyFrom(ctx, pgx.Identifier{"bench_ceiling"}, enrich.StageColumns, pgx.CopyFromRows(rows))
	secs := time.Since(start).Seconds()
	if err != nil {
		return 0, fmt.Errorf("ceiling copy: %w", err)
	}
	if copied != int64(len(rows)) {
		return 0, fmt.Errorf("ceiling copied %d of %d rows", copied, len(rows))
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("ceiling: %w", err)
	}
	return secs, nil
}
