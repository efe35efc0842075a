//go:build integration

package enrich_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/workloads/dev/itest"
	"github.com/sluicehq/sluice/workloads/dev/pgtest"
	"github.com/sluicehq/sluice/workloads/dev/sparkrun"
	"github.com/sluicehq/sluice/workloads/internal/enrich"
	"github.com/sluicehq/sluice/workloads/internal/refdata"
	"github.com/sluicehq/sluice/workloads/internal/sparklaunch"
)

var (
	sparkOnce sync.Once
	sparkJob  sparkrun.Job
	sparkErr  error
)

// preparedSpark builds the job jar (once per test binary) and fetches the
// Spark jar set.
func preparedSpark(t *testing.T) sparkrun.Job {
	t.Helper()
	sparkOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		sparkJob, sparkErr = sparkrun.Prepare(ctx, itest.Manager(t))
	})
	if sparkErr != nil {
		t.Fatal(sparkErr)
	}
	return sparkJob
}

// twin is a second migrated database with the fixture's reference data: the
// Spark engine writes there while the Go engine writes the fixture's.
func (f *fixture) twin(t *testing.T) *pgtest.Database {
	t.Helper()
	db := pgtest.Migrated(t, "enrichspark")
	sites, devices, _ := refdata.Fleet(12, 500)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := refdata.SeedPostgres(ctx, db.Pool, sites, devices); err != nil {
		t.Fatal(err)
	}
	return db
}

// sparkLauncher launches the Spark enrich job in local mode against the
// fixture's Cassandra and the PostgreSQL at pgURL; the driver's output goes
// to a file of the test, logged when the test fails.
func (f *fixture) sparkLauncher(t *testing.T, pgURL string) *sparklaunch.Command {
	t.Helper()
	argv, err := sparkrun.Command(preparedSpark(t), sparkrun.EnrichJob, "1g")
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "spark-enrich.log")
	out, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		out.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			t.Logf("spark driver log (last lines):\n%s", strings.Join(lines[max(0, len(lines)-60):], "\n"))
		}
	})
	env := append(sparkrun.LocalEnv(),
		"CASSANDRA_HOSTS="+strings.Join(f.cc.Hosts, ","), "CASSANDRA_PORT="+strconv.Itoa(f.cc.Port),
		"CASSANDRA_KEYSPACE="+f.cc.Keyspace, "CASSANDRA_USERNAME="+f.cc.Username, "CASSANDRA_PASSWORD="+f.cc.Password,
		"POSTGRES_URL="+pgURL, "ENRICH_MODELS_URL="+f.models,
		"ENRICH_LOCK_TIMEOUT=1m", "ENRICH_WORK_MEM=64MB")
	return &sparklaunch.Command{Argv: argv, Env: env, Output: out, Grace: 5 * time.Second}
}

// sparkJobOn is the Go job with the Spark engine, its pool and the
// driver's connections at pgURL.
func (f *fixture) sparkJobOn(t *testing.T, pgURL string) *enrich.Job {
	t.Helper()
	cfg := f.config()
	cfg.Engine = enrich.EngineSpark
	cfg.SparkTimeout = 10 * time.Minute
	job := f.jobThrough(t, cfg, pgURL)
	job.Spark = f.sparkLauncher(t, pgURL)
	return job
}

// rows renders every enriched_events column but run_id (the two databases
// number their runs apart) and every site_hourly column of the window's
// hours, in a stable order, with the unknown markers and counts.
func rows(t *testing.T, db *pgtest.Database, w enrich.Window) (events, hourly string) {
	t.Helper()
	ctx := context.Background()
	cols := strings.Join(enrich.EnrichedColumns, ", ")
	q := fmt.Sprintf(`SELECT coalesce(string_agg(row(%s)::text, E'\n' ORDER BY event_id), '') FROM enriched_events WHERE hour >= $1 AND hour < $2`, cols)
	if err := db.Pool.QueryRow(ctx, q, w.FirstHour(), w.EndHour()).Scan(&events); err != nil {
		t.Fatal(err)
	}
	q = `SELECT coalesce(string_agg(h::text, E'\n' ORDER BY hour, site_id, kind), '') FROM site_hourly h WHERE hour >= $1 AND hour < $2`
	if err := db.Pool.QueryRow(ctx, q, w.FirstHour(), w.EndHour()).Scan(&hourly); err != nil {
		t.Fatal(err)
	}
	return events, hourly
}

// firstDiff names the first line two renderings differ in.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n go:    %s\n spark: %s", i+1, x, y)
		}
	}
	return "none"
}

func sameCounts(t *testing.T, goSt, sparkSt enrich.Stats) {
	t.Helper()
	type counts struct{ read, changed, devices, sites, models, dups, hourly int64 }
	g := counts{goSt.EventsRead, goSt.EventsChanged, goSt.UnknownDevices, goSt.UnknownSites, goSt.UnknownModels, goSt.Duplicates, goSt.HourlyRows}
	s := counts{sparkSt.EventsRead, sparkSt.EventsChanged, sparkSt.UnknownDevices, sparkSt.UnknownSites, sparkSt.UnknownModels, sparkSt.Duplicates, sparkSt.HourlyRows}
	if g != s {
		t.Errorf("counts (read, changed, unknown devices, sites, models, duplicates, hourly rows): go %+v, spark %+v", g, s)
	}
}

// TestSparkEngineMatchesGoRowForRow enriches one seeded window (unknown
// devices, sites and models, ids stored twice) with each engine into its
// own database and compares every row and every count.
func TestSparkEngineMatchesGoRowForRow(t *testing.T) {
	f := newFixture(t, 6000, 0.04, 0.03)
	copies := f.storeLaterCopies(t, 7)
	twin := f.twin(t)
	ctx := context.Background()

	cfg := f.config()
	cfg.ChunkRows = 1_000_000 // the Go engine counts duplicates within a chunk
	goSt, err := f.job(t, cfg, refdata.Source{}).Run(ctx, f.window)
	if err != nil {
		t.Fatal(err)
	}
	sparkSt, err := f.sparkJobOn(t, twin.URL).Run(ctx, f.window)
	if err != nil {
		t.Fatal(err)
	}
	if sparkSt.Status != enrich.StatusSucceeded {
		t.Fatalf("spark run %s", sparkSt.Status)
	}
	// The later copies count as read, and as unknown where their event
	// was: the engines must agree on all of it.
	if goSt.EventsRead != f.expect.events+copies {
		t.Errorf("go engine read %d events, want %d", goSt.EventsRead, f.expect.events+copies)
	}
	sameCounts(t, goSt, sparkSt)
	if goSt.Duplicates != copies || goSt.UnknownModels == 0 || goSt.UnknownDevices == 0 || goSt.UnknownSites == 0 {
		t.Fatalf("the window does not exercise every rule: %d duplicates (want %d), unknown models %d, devices %d, sites %d",
			goSt.Duplicates, copies, goSt.UnknownModels, goSt.UnknownDevices, goSt.UnknownSites)
	}
	if goSt.ReferenceInfo == "" || sparkSt.ReferenceInfo != goSt.ReferenceInfo {
		t.Errorf("reference: go %q, spark %q", goSt.ReferenceInfo, sparkSt.ReferenceInfo)
	}

	goEvents, goHourly := rows(t, f.db, f.window)
	sparkEvents, sparkHourly := rows(t, twin, f.window)
	if n := strings.Count(goEvents, "\n") + 1; int64(n) != f.expect.events {
		t.Fatalf("go engine wrote %d rows, want %d", n, f.expect.events)
	}
	if goEvents != sparkEvents {
		t.Errorf("enriched_events differ; first difference %s", firstDiff(goEvents, sparkEvents))
	}
	if goHourly != sparkHourly {
		t.Errorf("site_hourly differs; first difference %s", firstDiff(goHourly, sparkHourly))
	}
	if n := twin.Count(t, `SELECT count(*) FROM pg_tables WHERE tablename LIKE 'enrich_spark_stage_%'`); n != 0 {
		t.Errorf("%d staging tables left after a succeeded run", n)
	}
}

// TestSparkRerunThroughPgBouncerChangesNothing runs the Spark engine twice
// on a window through PgBouncer in transaction pooling mode (the driver's
// transaction and every executor's staging writes), then the Go engine: the
// later runs change no row.
func TestSparkRerunThroughPgBouncerChangesNothing(t *testing.T) {
	f := newFixture(t, 3000, 0.02, 0.02)
	bouncer := f.db.Bouncer(t, 3)
	job := f.sparkJobOn(t, bouncer)
	ctx := context.Background()
	first, err := job.Run(ctx, f.window)
	if err != nil {
		t.Fatal(err)
	}
	checkStats(t, first, f.expect)
	if first.EventsChanged != f.expect.events {
		t.Errorf("first run changed %d rows, want %d", first.EventsChanged, f.expect.events)
	}
	f.checkComplete(t)
	events1, hourly1 := rows(t, f.db, f.window)

	second, err := job.Run(ctx, f.window)
	if err != nil {
		t.Fatal(err)
	}
	checkStats(t, second, f.expect)
	if second.EventsChanged != 0 {
		t.Errorf("a re-run changed %d rows, want 0", second.EventsChanged)
	}
	goSt, err := f.jobThrough(t, f.config(), bouncer).Run(ctx, f.window)
	if err != nil {
		t.Fatal(err)
	}
	if goSt.EventsChanged != 0 {
		t.Errorf("the Go engine after the Spark engine changed %d rows, want 0", goSt.EventsChanged)
	}
	events2, hourly2 := rows(t, f.db, f.window)
	if events1 != events2 || hourly1 != hourly2 {
		t.Errorf("re-runs changed rows; first difference %s", firstDiff(events1+hourly1, events2+hourly2))
	}
}

// driverPid finds the Spark driver JVM of a run by its command line.
func driverPid(runID int64) int {
	dirs, _ := os.ReadDir("/proc")
	want := "\x00--run-id\x00" + strconv.FormatInt(runID, 10) + "\x00"
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), sparkrun.EnrichJob) && strings.Contains(string(b), want) {
			return pid
		}
	}
	return 0
}

// TestSparkDriverKilledMidRunCommitsNothing SIGKILLs the driver while its
// executors stage the window through PgBouncer: nothing is committed, the
// run is recorded failed, and the next run drops the dead run's staging
// table and enriches the whole window.
func TestSparkDriverKilledMidRunCommitsNothing(t *testing.T) {
	f := newFixture(t, 20000, 0.02, 0.02)
	bouncer := f.db.Bouncer(t, 3)
	job := f.sparkJobOn(t, bouncer)
	ctx := context.Background()

	type result struct {
		st  enrich.Stats
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := job.Run(ctx, f.window)
		done <- result{st, err}
	}()
	var runID int64
	var staged int64
	killed := false
	deadline := time.Now().Add(5 * time.Minute)
	for !killed && time.Now().Before(deadline) {
		select {
		case r := <-done:
			t.Fatalf("the run ended before the driver was killed: %+v %v", r.st, r.err)
		case <-time.After(50 * time.Millisecond):
		}
		if runID == 0 {
			runID = f.db.Count(t, `SELECT coalesce(max(run_id), 0) FROM batch_runs WHERE status = 'running'`)
			continue
		}
		stage := enrich.SparkStagePrefix + strconv.FormatInt(runID, 10)
		if f.db.Count(t, `SELECT count(*) FROM pg_tables WHERE tablename = $1`, stage) == 0 {
			continue
		}
		// The staging table fills task by task; kill once some of it
		// is there (each task commits its part), before the merge.
		if staged = f.db.Count(t, `SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = $1`, stage); staged == 0 {
			continue
		}
		pid := driverPid(runID)
		if pid == 0 {
			t.Fatal("the spark driver's process is not found")
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		killed = true
	}
	if !killed {
		t.Fatal("the driver never staged rows within 5 minutes")
	}
	r := <-done
	if r.err == nil {
		t.Fatalf("the run with its driver killed succeeded: %+v", r.st)
	}
	t.Logf("killed the driver with %d rows staged: %v", staged, strings.SplitN(r.err.Error(), "\n", 2)[0])
	if n := f.db.Count(t, `SELECT count(*) FROM enriched_events`); n != 0 {
		t.Fatalf("%d enriched rows committed by a killed driver", n)
	}
	if n := f.db.Count(t, `SELECT count(*) FROM site_hourly`); n != 0 {
		t.Fatalf("%d hourly rows committed by a killed driver", n)
	}
	if n := f.db.Count(t, `SELECT count(*) FROM batch_runs WHERE run_id = $1 AND status = 'failed'`, runID); n != 1 {
		t.Fatalf("the killed run is not recorded failed:\n%s", f.runs(t))
	}

	st, err := job.Run(ctx, f.window)
	if err != nil {
		t.Fatal(err)
	}
	checkStats(t, st, f.expect)
	if st.EventsChanged != f.expect.events {
		t.Errorf("the next run changed %d rows, want the whole window's %d", st.EventsChanged, f.expect.events)
	}
	f.checkComplete(t)
	if n := f.db.Count(t, `SELECT count(*) FROM pg_tables WHERE tablename LIKE 'enrich_spark_stage_%'`); n != 0 {
		t.Errorf("%d staging tables left: the dead run's was not dropped", n)
	}
}
