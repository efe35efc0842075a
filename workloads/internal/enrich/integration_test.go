//go:build integration

package enrich_test

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/gocql/gocql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/dev/devservices"
	"github.com/sluicehq/sluice/workloads/dev/enrichtest"
	"github.com/sluicehq/sluice/workloads/dev/itest"
	"github.com/sluicehq/sluice/workloads/dev/pgtest"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/enrich"
	"github.com/sluicehq/sluice/workloads/internal/eventstore"
	"github.com/sluicehq/sluice/workloads/internal/refdata"
)

// droppedModel is left out of the fixture's Parquet file, so events of
// devices with that model count as unknown models.
const droppedModel = "co2-m3"

type expectation struct {
	events, unknownDevices, unknownSites, unknownModels int64
}

type fixture struct {
	db      *pgtest.Database
	session *gocql.Session
	cc      cqlsession.Config
	gen     *enrichtest.Gen
	window  enrich.Window
	models  string
	expect  expectation
}

// newFixture writes n events spread over a synthetic hour far in the past
// (plus ten minutes either side, which the window must leave out) into
// Cassandra, and gives the test its own migrated, seeded database.
func newFixture(t *testing.T, n int, unknownDevices, unknownSites float64) *fixture {
	t.Helper()
	ep := itest.Up(t, devservices.Cassandra, devservices.Postgres)
	session, cc := itest.Cassandra(t, ep)
	f := &fixture{db: pgtest.Migrated(t, "enrich"), session: session, cc: cc}

	hour := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rand.IntN(150000)) * time.Hour)
	f.window = enrich.Window{From: hour, To: hour.Add(time.Hour)}
	f.gen = enrichtest.NewGen(rand.Uint64(), hour.Add(-10*time.Minute), 80*time.Minute, 12, 500)
	f.gen.UnknownDevices, f.gen.UnknownSites = unknownDevices, unknownSites

	sites, devices, models := refdata.Fleet(12, 500)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := refdata.SeedPostgres(ctx, f.db.Pool, sites, devices); err != nil {
		t.Fatal(err)
	}
	kept := models[:0:0]
	for _, m := range models {
		if m.Model != droppedModel {
			kept = append(kept, m)
		}
	}
	f.models = filepath.Join(t.TempDir(), "device_models.parquet")
	if err := refdata.WriteModelsFile(f.models, kept); err != nil {
		t.Fatal(err)
	}
	modelOf := map[string]string{}
	for _, d := range devices {
		modelOf[d.ID] = d.Model
	}

	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := enrichtest.Delete(ctx, session, cc.Keyspace, hour.Add(-time.Hour), hour.Add(2*time.Hour)); err != nil {
			t.Errorf("clean up cassandra: %v", err)
		}
	})
	if err := enrichtest.Write(ctx, session, cc.Keyspace, f.gen, n, 64, nil); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		ev := f.gen.Event(i)
		if ev.At.Before(f.window.From) || !ev.At.Before(f.window.To) {
			continue
		}
		f.expect.events++
		dev, site := f.gen.Known(ev)
		if !dev {
			f.expect.unknownDevices++
		} else if modelOf[ev.Device] == droppedModel {
			f.expect.unknownModels++
		}
		if !site {
			f.expect.unknownSites++
		}
	}
	return f
}

func (f *fixture) config() enrich.Config {
	return enrich.Config{
		Postgres: f.db.Config, Cassandra: f.cc, ModelsURL: f.models,
		ReadConcurrency: 4, PageSize: 700, ChunkRows: 1000, ReadAttempts: 3,
		Settle: 2 * time.Minute, Catchup: 24 * time.Hour,
		Heartbeat: 200 * time.Millisecond, StaleAfter: 3 * time.Second, LockTimeout: time.Minute,
		WorkMem: "64MB", Worker: "test",
	}
}

func (f *fixture) job(t *testing.T, cfg enrich.Config, src refdata.Source) *enrich.Job {
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return enrich.New(cfg, f.db.Pool, f.session, src, log)
}

// jobThrough is a job whose pool (6 connections) goes to url: a PgBouncer
// in front of the fixture's database, or another database.
func (f *fixture) jobThrough(t *testing.T, cfg enrich.Config, url string) *enrich.Job {
	t.Helper()
	cfg.Postgres.URL = url
	cfg.Postgres.MaxConns = 6
	pool, err := cfg.Postgres.Open(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return enrich.New(cfg, pool, f.session, refdata.Source{}, log)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// dump renders the window's enriched events and hourly rows as text, every
// column included, in a stable order.
func (f *fixture) dump(t *testing.T) (events, hourly string) {
	t.Helper()
	ctx := context.Background()
	q := `SELECT coalesce(string_agg(e::text, E'\n' ORDER BY event_id), '') FROM enriched_events e WHERE hour >= $1 AND hour < $2`
	if err := f.db.Pool.QueryRow(ctx, q, f.window.FirstHour(), f.window.EndHour()).Scan(&events); err != nil {
		t.Fatal(err)
	}
	q = `SELECT coalesce(string_agg(h::text, E'\n' ORDER BY hour, site_id, kind), '') FROM site_hourly h WHERE hour >= $1 AND hour < $2`
	if err := f.db.Pool.QueryRow(ctx, q, f.window.FirstHour(), f.window.EndHour()).Scan(&hourly); err != nil {
		t.Fatal(err)
	}
	return events, hourly
}

func (f *fixture) checkComplete(t *testing.T) {
	t.Helper()
	if n := f.db.Count(t, `SELECT count(*) FROM enriched_events WHERE at >= $1 AND at < $2`, f.window.From, f.window.To); n != f.expect.events {
		t.Errorf("enriched_events holds %d events of the window, want %d", n, f.expect.events)
	}
	if n := f.db.Count(t, `SELECT count(*) FROM enriched_events WHERE at < $1 OR at >= $2`, f.window.From, f.window.To); n != 0 {
		t.Errorf("%d events from outside the window were enriched", n)
	}
	if n := f.db.Count(t, `SELECT coalesce(sum(events), 0)::int8 FROM site_hourly WHERE hour >= $1 AND hour < $2`, f.window.FirstHour(), f.window.EndHour()); n != f.expect.events {
		t.Errorf("site_hourly counts %d events, want %d", n, f.expect.events)
	}
	if n := f.db.Count(t, `SELECT count(*) FROM enriched_events WHERE NOT device_known AND model = 'unknown'`); n != f.expect.unknownDevices {
		t.Errorf("%d events stored with an unknown device, want %d", n, f.expect.unknownDevices)
	}
	if n := f.db.Count(t, `SELECT count(*) FROM enriched_events WHERE NOT site_known AND site_name = 'unknown' AND city = 'unknown'`); n != f.expect.unknownSites {
		t.Errorf("%d events stored with an unknown site, want %d", n, f.expect.unknownSites)
	}
}

// runs renders the batch_runs table for failure messages.
func (f *fixture) runs(t *testing.T) string {
	t.Helper()
	var s string
	if err := f.db.Pool.QueryRow(context.Background(), `SELECT coalesce(string_agg(format('%s %s started %s heartbeat %s finished %s error %s',
		run_id, status, started_at, heartbeat_at, finished_at, error), E'\n' ORDER BY run_id), '') FROM batch_runs`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func checkStats(t *testing.T, st enrich.Stats, want expectation) {
	t.Helper()
	if st.Status != enrich.StatusSucceeded {
		t.Fatalf("status %s, want succeeded", st.Status)
	}
	if st.EventsRead != want.events || st.UnknownDevices != want.unknownDevices || st.UnknownSites != want.unknownSites || st.UnknownModels != want.unknownModels {
		t.Errorf("run counted read %d, unknown devices %d, sites %d, models %d; want %d, %d, %d, %d",
			st.EventsRead, st.UnknownDevices, st.UnknownSites, st.UnknownModels,
			want.events, want.unknownDevices, want.unknownSites, want.unknownModels)
	}
}

func TestRunTwiceGivesIdenticalRows(t *testing.T) {
	f := newFixture(t, 6000, 0.03, 0.02)
	if f.expect.unknownDevices == 0 || f.expect.unknownSites == 0 || f.expect.unknownModels == 0 {
		t.Fatalf("fixture has no unknown dimensions to count: %+v", f.expect)
	}
	ctx := context.Background()
	job := f.job(t, f.config(), refdata.Source{})

	first, err := job.Run(ctx, f.window)
	if err != nil {
		t.Fatal(err)
	}
	checkStats(t, first, f.expect)
	if first.EventsChanged != f.expect.events {
		t.Errorf("first run changed %d rows, want %d", first.EventsChanged, f.expect.events)
	}
	f.checkComplete(t)
	events1, hourly1 := f.dump(t)

	// The enrichment itself: a known device's model and thresholds, the
	// threshold state, and the explicit unknowns.
	var model, vendor, state string
	var warn, crit *float64
	var value float64
	err = f.db.Pool.QueryRow(ctx, `SELECT model, vendor, warn_threshold, crit_threshold, threshold_state, value FROM enriched_events
		WHERE device_known AND model_known AND kind = 'temperature' AND hour = $1 ORDER BY event_id LIMIT 1`, f.window.From).
		Scan(&model, &vendor, &warn, &crit, &state, &value)
	if err != nil {
		t.Fatal(err)
	}
	wantState := "normal"
	if value >= 45 {
		wantState = "critical"
	} else if value >= 35 {
		wantState = "warning"
	}
	if !strings.HasPrefix(model, "temperature-m") || vendor == "unknown" || warn == nil || *warn != 35 || crit == nil || *crit != 45 || state != wantState {
		t.Errorf("temperature event enriched as model %s vendor %s thresholds %v/%v state %s (value %g)", model, vendor, warn, crit, state, value)
	}
	if n := f.db.Count(t, `SELECT count(*) FROM enriched_events WHERE model = $1 AND NOT model_known AND threshold_state = 'unknown' AND warn_threshold IS NULL`, droppedModel); n != f.expect.unknownModels {
		t.Errorf("%d events of the model missing from the Parquet file, want %d", n, f.expect.unknownModels)
	}
	var status string
	var read, unknown int64
	if err := f.db.Pool.QueryRow(ctx, `SELECT status, events_read, unknown_devices FROM batch_runs WHERE run_id = $1`, first.RunID).Scan(&status, &read, &unknown); err != nil {
		t.Fatal(err)
	}
	if status != "succeeded" || read != f.expect.events || unknown != f.expect.unknownDevices {
		t.Errorf("batch_runs row says %s, read %d, unknown devices %d", status, read, unknown)
	}
	if n := f.db.Count(t, `SELECT count(*) FROM report.site_hourly WHERE hour_utc = $1`, f.window.From); n == 0 {
		t.Error("report.site_hourly shows nothing for the window")
	}

	second, err := job.Run(ctx, f.window)
	if err != nil {
		t.Fatal(err)
	}
	checkStats(t, second, f.expect)
	if second.EventsChanged != 0 {
		t.Errorf("second run changed %d rows, want 0", second.EventsChanged)
	}
	events2, hourly2 := f.dump(t)
	if events1 != events2 {
		t.Error("enriched_events differ after a second run of the same window")
	}
	if hourly1 != hourly2 {
		t.Error("site_hourly differs after a second run of the same window")
	}
	if events1 == "" || hourly1 == "" {
		t.Error("nothing was enriched")
	}
	f.checkComplete(t)
}

func TestFailedRunCommitsNothing(t *testing.T) {
	f := newFixture(t, 3000, 0.01, 0)
	ctx := context.Background()
	cfg := f.config()
	if _, err := f.job(t, cfg, refdata.Source{}).Run(ctx, f.window); err != nil {
		t.Fatal(err)
	}
	before1, before2 := f.dump(t)
	// Change the reference data so a committed re-run would change rows.
	if _, err := f.db.Pool.Exec(ctx, `UPDATE sites SET name = name || ' (renamed)'`); err != nil {
		t.Fatal(err)
	}

	corrupt := filepath.Join(t.TempDir(), "corrupt.parquet")
	good, err := os.ReadFile(f.models)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(corrupt, good[:len(good)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(t.TempDir(), "garbage.parquet")
	if err := os.WriteFile(garbage, []byte("PAR1 this is not a parquet file PAR1"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, location string
		src            refdata.Source
		want           string
	}{
		{"truncated parquet", corrupt, refdata.Source{}, "malformed device-model file"},
		{"not parquet", garbage, refdata.Source{}, "malformed device-model file"},
		{"missing file", filepath.Join(t.TempDir(), "none.parquet"), refdata.Source{}, "no such file"},
		{"unreachable data lake", "abfss://reference@127.0.0.1:1/device_models.parquet",
			refdata.Source{Credential: staticCredential{}, ClientOptions: &azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}}},
			"download https://127.0.0.1:1/reference/device_models.parquet"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := cfg
			cfg.ModelsURL = c.location
			st, err := f.job(t, cfg, c.src).Run(ctx, f.window)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("run error = %v, want one saying %q", err, c.want)
			}
			var status, msg string
			if err := f.db.Pool.QueryRow(ctx, `SELECT status, error FROM batch_runs WHERE run_id = $1`, st.RunID).Scan(&status, &msg); err != nil {
				t.Fatal(err)
			}
			if status != "failed" || !strings.Contains(msg, c.want) {
				t.Errorf("batch_runs row: %s, %q", status, msg)
			}
			after1, after2 := f.dump(t)
			if after1 != before1 || after2 != before2 {
				t.Error("a failed run changed enriched_events or site_hourly")
			}
		})
	}

	// A failure inside the window's transaction, after the events are
	// staged: a row ingest would never have stored (severity outside the
	// contract) breaks the upsert's check constraint.
	t.Run("failure after staging", func(t *testing.T) {
		bad := f.gen.Event(0)
		bad.ID, bad.Severity = "0190c0de-dead-7000-8000-000000000001", "panic"
		bad.At = f.window.From.Add(time.Minute)
		id, err := gocql.ParseUUID(bad.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.session.Query(`INSERT INTO `+f.cc.Keyspace+`.`+contract.TableEventsByHour+
			` (hour, shard, id, site, device, kind, value, unit, severity, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			contract.Hour(bad.At), contract.Shard(bad.ID), id, bad.Site, bad.Device, bad.Kind, bad.Value, bad.Unit, bad.Severity, bad.At).Exec(); err != nil {
			t.Fatal(err)
		}
		st, err := f.job(t, cfg, refdata.Source{}).Run(ctx, f.window)
		if err == nil || !strings.Contains(err.Error(), "upsert enriched events") || !strings.Contains(err.Error(), "check constraint") {
			t.Fatalf("run error = %v, want the upsert's check constraint violation", err)
		}
		// Chunks are upserted while the next ones are read, so how much was
		// read before the bad chunk failed depends on timing; what matters
		// is that the run got as far as the upsert and committed nothing.
		if st.EventsRead < 1 || st.EventsRead > f.expect.events+1 {
			t.Errorf("the failed run read %d events, want between 1 and %d", st.EventsRead, f.expect.events+1)
		}
		after1, after2 := f.dump(t)
		if after1 != before1 || after2 != before2 {
			t.Error("a run that failed after staging changed enriched_events or site_hourly")
		}
		if n := f.db.Count(t, `SELECT count(*) FROM batch_runs WHERE run_id = $1 AND status = 'failed' AND error LIKE '%check constraint%'`, st.RunID); n != 1 {
			t.Error("the failed run is not recorded as failed with its error")
		}
	})
	if n := f.db.Count(t, `SELECT count(*) FROM pg_tables WHERE tablename LIKE 'enrich\_%'`); n != 0 {
		t.Errorf("%d staging tables outlived their transaction", n)
	}
}

// TestDuplicateIDsKeepTheLatestIngested stores a few event ids twice, the
// second copy a second later and ingested an hour later, as a producer that
// reuses ids would. Whether both copies meet in one chunk (de-duplicated in
// SQL) or in different chunks (resolved by the upsert), the copy ingested
// last wins, and runs agree.
func TestDuplicateIDsKeepTheLatestIngested(t *testing.T) {
	f := newFixture(t, 800, 0, 0)
	ctx := context.Background()
	copies := f.storeLaterCopies(t, 5)
	latest := func() int64 {
		return f.db.Count(t, `SELECT count(*) FROM enriched_events WHERE value >= 1000 AND ingested_at > at + interval '59 minutes'`)
	}

	cfg := f.config()
	cfg.ChunkRows = 1_000_000 // both copies in one chunk
	st, err := f.job(t, cfg, refdata.Source{}).Run(ctx, f.window)
	if err != nil {
		t.Fatal(err)
	}
	if st.EventsRead != f.expect.events+copies || st.Duplicates != copies {
		t.Errorf("read %d with %d duplicates, want %d with %d", st.EventsRead, st.Duplicates, f.expect.events+copies, copies)
	}
	f.checkComplete(t)
	if n := latest(); n != copies {
		t.Errorf("%d ids kept their later copy, want %d", n, copies)
	}
	events1, hourly1 := f.dump(t)

	cfg.ChunkRows = 7 // copies mostly in different chunks
	if _, err := f.job(t, cfg, refdata.Source{}).Run(ctx, f.window); err != nil {
		t.Fatal(err)
	}
	events2, hourly2 := f.dump(t)
	if events1 != events2 || hourly1 != hourly2 {
		t.Error("a run with small chunks resolved the duplicate ids differently")
	}
}

// storeLaterCopies stores up to n events of the window a second time, with
// the same id, an event time a second later, another value and a later
// ingest time, the way a replayed event with a corrected clock arrives. It
// returns how many it stored.
func (f *fixture) storeLaterCopies(t *testing.T, n int64) int64 {
	t.Helper()
	var copies int64
	for i := 0; copies < n && i < 800; i++ {
		ev := f.gen.Event(i)
		later := ev.At.Add(time.Second)
		if ev.At.Before(f.window.From) || !later.Before(f.window.To) {
			continue
		}
		id, err := gocql.ParseUUID(ev.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.session.Query(`INSERT INTO `+f.cc.Keyspace+`.`+contract.TableEventsByHour+
			` (hour, shard, id, site, device, kind, value, unit, severity, at, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			contract.Hour(later), contract.Shard(ev.ID), id, ev.Site, ev.Device, ev.Kind, ev.Value+1000, ev.Unit, ev.Severity, later,
			later.Add(time.Hour)).Exec(); err != nil {
			t.Fatal(err)
		}
		copies++
	}
	return copies
}

type staticCredential struct{}

func (staticCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "test", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// TestConcurrentRunsOfOneWindowCommitOnce holds the window's lock while two
// runs start, so both wait; when it is released one commits and the other
// finds the window done and commits nothing.
func TestConcurrentRunsOfOneWindowCommitOnce(t *testing.T) {
	f := newFixture(t, 2000, 0, 0)
	ctx := context.Background()
	blocker, err := f.db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Rollback(ctx)
	if _, err := blocker.Exec(ctx, `SELECT pg_advisory_xact_lock($1::int4, $2::int4)`, enrich.LockClass, f.window.From.Unix()/3600); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stats := make([]enrich.Stats, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stats[i], errs[i] = f.job(t, f.config(), refdata.Source{}).Run(ctx, f.window)
		}()
	}
	itest.Eventually(t, 30*time.Second, func() error {
		n := f.db.Count(t, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = $1`, enrich.LockClass)
		if n < 2 {
			return errors.New("runs not yet waiting for the window lock")
		}
		return nil
	})
	if err := blocker.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	statuses := map[string]int{}
	for i := range 2 {
		if errs[i] != nil {
			t.Fatalf("run %d: %v", i, errs[i])
		}
		statuses[stats[i].Status]++
	}
	if statuses[enrich.StatusSucceeded] != 1 || statuses[enrich.StatusSkipped] != 1 {
		t.Fatalf("statuses %v, want one succeeded and one skipped", statuses)
	}
	if n := f.db.Count(t, `SELECT count(*) FROM batch_runs WHERE status = 'skipped' AND error LIKE '%enriched this window%'`); n != 1 {
		t.Errorf("%d skipped runs recorded, want 1", n)
	}
	f.checkComplete(t)
}

func TestPendingFollowsTheWatermark(t *testing.T) {
	f := newFixture(t, 500, 0, 0)
	ctx := context.Background()
	job := f.job(t, f.config(), refdata.Source{})
	// The clock just after the fixture's hour completed, and the hour
	// before it: with no run yet, only the last completed hour is due.
	job.Now = func() time.Time { return f.window.To.Add(5 * time.Minute) }
	due, err := job.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].Window != f.window {
		t.Fatalf("pending %v, want [%s]", due, f.window)
	}
	if _, err := job.RunDue(ctx, due[0]); err != nil {
		t.Fatal(err)
	}
	if due, err = job.Pending(ctx); err != nil || len(due) != 0 {
		t.Fatalf("after the run: pending %v, err %v", due, err)
	}
	// Three hours later the two completed hours since are due, oldest
	// first; a partial run over the latest does not count as done.
	job.Now = func() time.Time { return f.window.To.Add(2*time.Hour + 30*time.Minute) }
	partial := enrich.Window{From: f.window.To.Add(time.Hour), To: f.window.To.Add(time.Hour + 20*time.Minute)}
	if _, err := job.Run(ctx, partial); err != nil {
		t.Fatal(err)
	}
	due, err = job.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []enrich.Window{{From: f.window.To, To: f.window.To.Add(time.Hour)}, {From: f.window.To.Add(time.Hour), To: f.window.To.Add(2 * time.Hour)}}
	if len(due) != 2 || due[0].Window != want[0] || due[1].Window != want[1] {
		t.Fatalf("pending %v, want %v", due, want)
	}
	// Down for a day and a half: the hours older than the catch-up
	// horizon are reported as missed, not dropped; with the due ones they
	// are every completed hour since the succeeded run.
	job.Now = func() time.Time { return f.window.To.Add(36*time.Hour + 30*time.Minute) }
	plan, err := job.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	missed := 0
	for _, w := range plan.Missed {
		missed += len(w.Hours())
	}
	if len(plan.Missed) != 1 || plan.Missed[0].From != f.window.To || missed == 0 || missed+len(plan.Due) != 36 {
		t.Fatalf("missed %v (%d hours), due %d windows: want the 36 hours since %s split between them", plan.Missed, missed, len(plan.Due), f.window.To)
	}
}

// TestThroughPgBouncer runs the job through PgBouncer in transaction
// pooling mode with fewer server connections than the job's pool, so its
// transactions land on whichever server connection is free. A control shows
// the setup would break pgx's default statement cache.
func TestThroughPgBouncer(t *testing.T) {
	f := newFixture(t, 3000, 0.02, 0.01)
	bouncer := f.db.Bouncer(t, 2)
	ctx := context.Background()

	// Control: two clients preparing the same statement on the one shared
	// server connection collide, which is what exec mode avoids.
	control := f.db.Bouncer(t, 1)
	var failures int
	for i := range 2 {
		c, err := pgx.Connect(ctx, control+"&default_query_exec_mode=cache_statement")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		var one int
		if err := c.QueryRow(ctx, "SELECT 1 + $1::int", 0).Scan(&one); err != nil {
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "42P05" {
				t.Fatalf("client %d: %v, want duplicate prepared statement (42P05)", i, err)
			}
			failures++
		}
	}
	if failures != 1 {
		t.Fatalf("control: %d of 2 cache_statement clients failed, want 1: the bouncer does not pool per transaction", failures)
	}

	job := f.jobThrough(t, f.config(), bouncer)
	var wg sync.WaitGroup
	stats := make([]enrich.Stats, 3)
	errs := make([]error, 3)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stats[i], errs[i] = job.Run(ctx, f.window)
		}()
	}
	wg.Wait()
	succeeded := 0
	for i := range 3 {
		if errs[i] != nil {
			t.Fatalf("run %d through pgbouncer: %v", i, errs[i])
		}
		if stats[i].Status == enrich.StatusSucceeded {
			succeeded++
			checkStats(t, stats[i], f.expect)
		}
	}
	if succeeded == 0 {
		t.Fatal("no run succeeded through pgbouncer")
	}
	f.checkComplete(t)
	events1, hourly1 := f.dump(t)
	st, err := job.Run(ctx, f.window)
	if err != nil {
		t.Fatal(err)
	}
	checkStats(t, st, f.expect)
	events2, hourly2 := f.dump(t)
	if events1 != events2 || hourly1 != hourly2 {
		t.Error("a re-run through pgbouncer changed rows")
	}
	if contract.HourShards < 2 {
		t.Fatal("the window spans one partition only; the parallel read is not exercised")
	}
}

// TestLateEventsRedoTheirHour stores events into an hour after a run
// enriched it, the way ingest does (the store with hour marks). Without the
// marks the planner would call the hour done and the late events would
// never be enriched; with them the next default run redoes the hour, says
// why in batch_runs, and then has nothing left to do.
func TestLateEventsRedoTheirHour(t *testing.T) {
	const late = 5
	f := newFixture(t, 800, 0, 0)
	ctx := context.Background()
	job := f.job(t, f.config(), refdata.Source{})
	job.Now = func() time.Time { return f.window.To.Add(5 * time.Minute) }
	due, err := job.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].Window != f.window || due[0].Reason != enrich.ReasonDue {
		t.Fatalf("pending %+v, want %s due", due, f.window)
	}
	first, err := job.RunDue(ctx, due[0])
	if err != nil {
		t.Fatal(err)
	}
	checkStats(t, first, f.expect)

	store := eventstore.New(f.session, f.cc.Keyspace, eventstore.WithHourMarks())
	var ids []string
	t.Cleanup(func() {
		for _, id := range ids {
			if uid, err := gocql.ParseUUID(id); err == nil {
				_ = f.session.Query(`DELETE FROM `+contract.TableEventsByID+` WHERE id = ?`, uid).Exec()
			}
		}
		_ = f.session.Query(`DELETE FROM `+contract.TableHourMarks+` WHERE day = ?`, contract.Day(f.window.From)).Exec()
	})
	for i := range late {
		ev := f.gen.Event(100000 + i)
		ev.At = f.window.From.Add(time.Duration(i+1) * time.Minute)
		if err := store.Upsert(ctx, ev, time.Now()); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}
	marks, err := eventstore.HourMarks(ctx, f.session, f.cc.Keyspace, f.window.From, f.window.To)
	if err != nil {
		t.Fatal(err)
	}
	stored, ok := marks[f.window.From]
	if !ok || len(marks) != 1 {
		t.Fatalf("hour marks %v, want one for %s", marks, f.window.From)
	}
	// The redo must start after the contract's lag has passed since the
	// late rows, or the planner rightly calls it late again.
	time.Sleep(time.Until(stored.Add(contract.HourMarkLag + time.Second)))

	due, err = job.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].Window != f.window || due[0].Reason != enrich.ReasonLate || due[0].Redoes != first.RunID || !due[0].StoredAt.Equal(stored) {
		t.Fatalf("pending %+v after late events, want %s late, redoing run %d, stored at %s", due, f.window, first.RunID, stored)
	}
	redo, err := job.RunDue(ctx, due[0])
	if err != nil {
		t.Fatal(err)
	}
	if redo.Status != enrich.StatusSucceeded || redo.EventsRead != f.expect.events+late || redo.EventsChanged != late {
		t.Errorf("redo %s read %d changed %d, want read %d changed %d (the late events)", redo.Status, redo.EventsRead, redo.EventsChanged, f.expect.events+late, late)
	}
	f.expect.events += late
	f.checkComplete(t)
	var reason string
	var redoes, changed int64
	if err := f.db.Pool.QueryRow(ctx, `SELECT reason, redoes, events_changed FROM report.enrich_runs WHERE run_id = $1`, redo.RunID).Scan(&reason, &redoes, &changed); err != nil {
		t.Fatal(err)
	}
	if reason != string(enrich.ReasonLate) || redoes != first.RunID || changed != late {
		t.Errorf("report.enrich_runs says reason %s, redoes %d, changed %d; want late, %d, %d", reason, redoes, changed, first.RunID, late)
	}
	if due, err = job.Pending(ctx); err != nil || len(due) != 0 {
		t.Fatalf("after the redo: pending %+v, err %v; want nothing", due, err)
	}
}
