//go:build integration

package pgmigrate_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicehq/sluice/workloads/dev/itest"
	"github.com/sluicehq/sluice/workloads/dev/pgtest"
	"github.com/sluicehq/sluice/workloads/internal/pgmigrate"
)

func TestConcurrentMigratorsApplyEachVersionOnce(t *testing.T) {
	d := pgtest.New(t, "mig")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const migrators = 3
	results := make([]pgmigrate.Result, migrators)
	errs := make([]error, migrators)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range migrators {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := d.Config.OpenDB(ctx, nil)
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			<-start
			results[i], errs[i] = pgmigrate.Up(ctx, db, nil)
		}()
	}
	close(start)
	wg.Wait()
	latest, err := pgmigrate.Latest()
	if err != nil {
		t.Fatal(err)
	}
	applied := 0
	for i := range migrators {
		if errs[i] != nil {
			t.Fatalf("migrator %d: %v", i, errs[i])
		}
		if results[i].Version != latest {
			t.Errorf("migrator %d ended at version %d, want %d", i, results[i].Version, latest)
		}
		applied += len(results[i].Applied)
	}
	if applied != int(latest) {
		t.Errorf("%d files applied across %d migrators, want each of %d exactly once", applied, migrators, latest)
	}
	if n := d.Count(t, "SELECT count(*) FROM goose_db_version WHERE version_id > 0"); n != latest {
		t.Errorf("goose_db_version has %d applied rows, want %d", n, latest)
	}
	// A later run has nothing to do.
	if res := d.Migrate(t); len(res.Applied) != 0 || res.Version != latest {
		t.Errorf("re-run applied %v, version %d", res.Applied, res.Version)
	}
}

// TestReportReaderIsReadOnly signs in as a login role that is a member of
// report_reader, the way the BI login is, and checks what it may do.
func TestReportReaderIsReadOnly(t *testing.T) {
	d := pgtest.Migrated(t, "rep")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Owner-side data, so the views have rows to show.
	for _, q := range []string{
		`INSERT INTO sites VALUES ('site-001', 'Amsterdam 1', 'Amsterdam', 'NL', 'Europe/Amsterdam')`,
		`INSERT INTO devices (device_id, site_id, kind, model) VALUES ('dev-00001', 'site-001', 'co2', 'co2-m1')`,
		`INSERT INTO site_hourly VALUES ('2024-05-01T10:00:00Z', 'site-001', 'co2', 'ppm', 10, 7, 2, 1, 3, 1, 0, 1, 700.5, 410, 2600)`,
		`INSERT INTO enriched_events VALUES ('0190c0de-0000-7000-8000-000000000001', now(), date_trunc('hour', now(), 'UTC'), 'site-001', 'dev-00001',
			'co2', 2600, 'ppm', 'critical', 'Amsterdam 1', 'Amsterdam', 'NL', 'co2-m1', 'Aeris', 1500, 2500, 'critical', true, true, true, NULL, now(), 1)`,
	} {
		if _, err := d.Pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	login := strings.ToLower(itest.Name("reader"))
	const password = "reader-test-password"
	if _, err := d.Pool.Exec(ctx, "CREATE ROLE "+pgx.Identifier{login}.Sanitize()+" LOGIN IN ROLE "+pgmigrate.ReaderRole); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The database (and with it the role's grants) is dropped after
		// this runs, so drop what the role owns in it first.
		_, _ = d.Pool.Exec(context.Background(), "DROP OWNED BY "+pgx.Identifier{login}.Sanitize())
		_, _ = d.Pool.Exec(context.Background(), "DROP ROLE IF EXISTS "+pgx.Identifier{login}.Sanitize())
	})
	db, err := d.Config.OpenDB(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = pgmigrate.SetPassword(ctx, db, login, password)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	var member bool
	if err := d.Pool.QueryRow(ctx, `SELECT pg_has_role($1, $2, 'MEMBER')`, pgmigrate.PowerBIRole, pgmigrate.ReaderRole).Scan(&member); err != nil || !member {
		t.Errorf("%s is not a member of %s (err %v)", pgmigrate.PowerBIRole, pgmigrate.ReaderRole, err)
	}

	reader, err := pgx.Connect(ctx, d.URLFor(login, password))
	if err != nil {
		t.Fatalf("sign in as %s: %v", login, err)
	}
	defer reader.Close(context.Background())

	for _, view := range []string{"dim_site", "dim_device", "site_hourly", "site_critical_daily", "critical_events", "device_health", "enrich_runs"} {
		rows, err := reader.Query(ctx, "SELECT * FROM report."+view)
		if err != nil {
			t.Errorf("read report.%s: %v", view, err)
			continue
		}
		for rows.Next() {
		}
		if err := rows.Err(); err != nil {
			t.Errorf("read report.%s: %v", view, err)
		}
	}
	var site string
	var criticals int64
	if err := reader.QueryRow(ctx, `SELECT site_name, critical_events FROM report.site_critical_daily WHERE site_id = 'site-001'`).Scan(&site, &criticals); err != nil {
		t.Fatalf("read through the view: %v", err)
	}
	if site != "Amsterdam 1" || criticals != 1 {
		t.Errorf("site_critical_daily = %s, %d; want Amsterdam 1, 1", site, criticals)
	}
	var status string
	if err := reader.QueryRow(ctx, `SELECT status FROM report.device_health WHERE device_id = 'dev-00001'`).Scan(&status); err != nil || status != "critical" {
		t.Errorf("device_health status = %q (err %v), want critical", status, err)
	}

	denied := []string{
		"SELECT count(*) FROM public.enriched_events",
		"SELECT count(*) FROM public.sites",
		"SELECT count(*) FROM public.devices",
		"SELECT count(*) FROM public.site_hourly",
		"SELECT count(*) FROM public.batch_runs",
		"SELECT count(*) FROM public.goose_db_version",
		"INSERT INTO report.dim_site VALUES ('site-x', 'x', 'x', 'NL', 'UTC')",
		"UPDATE report.dim_site SET city = 'x'",
		"DELETE FROM report.critical_events",
		"CREATE TABLE report.mine (x int)",
		"CREATE TABLE public.mine (x int)",
		"CREATE VIEW report.mine AS SELECT 1",
		"INSERT INTO public.sites VALUES ('site-x', 'x', 'x', 'NL', 'UTC')",
	}
	for _, q := range denied {
		_, err := reader.Exec(ctx, q)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("as report reader, %q: err = %v, want permission denied (42501)", q, err)
		}
	}
}

func TestSitesRefuseUnknownTimeZones(t *testing.T) {
	d := pgtest.Migrated(t, "tz")
	ctx := context.Background()
	if _, err := d.Pool.Exec(ctx, `INSERT INTO sites VALUES ('site-001', 'A', 'Amsterdam', 'NL', 'Europe/Amsterdam')`); err != nil {
		t.Fatal(err)
	}
	_, err := d.Pool.Exec(ctx, `UPDATE sites SET timezone = 'Europe/Atlantis'`)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "22023" {
		t.Errorf("unknown time zone: err = %v, want invalid_parameter_value (22023)", err)
	}
}
