package pgtest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/sluicehq/sluice/workloads/dev/itest"
	"github.com/sluicehq/sluice/workloads/internal/pgmigrate"
)

// ReportReader creates a login role that is a member of report_reader (what
// Power BI and the api's report page sign in as), with a password, and
// drops it at cleanup.
func (d *Database) ReportReader(t testing.TB) Login {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l := Login{User: strings.ToLower(itest.Name("reader")), Password: "reader-" + uuid.NewString()[:8]}
	if _, err := d.Pool.Exec(ctx, "CREATE ROLE "+pgx.Identifier{l.User}.Sanitize()+" LOGIN IN ROLE "+pgmigrate.ReaderRole); err != nil {
		t.Fatalf("create report reader: %v", err)
	}
	t.Cleanup(func() {
		_, _ = d.Pool.Exec(context.Background(), "DROP OWNED BY "+pgx.Identifier{l.User}.Sanitize())
		_, _ = d.Pool.Exec(context.Background(), "DROP ROLE IF EXISTS "+pgx.Identifier{l.User}.Sanitize())
	})
	db, err := d.Config.OpenDB(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := pgmigrate.SetPassword(ctx, db, l.User, l.Password); err != nil {
		t.Fatal(err)
	}
	return l
}

// SiteHourRow is one seeded row of site_hourly.
type SiteHourRow struct {
	Hour                          time.Time
	Site, Kind, Unit              string
	Events, Critical, UnknownDevs int64
	Avg, Min, Max                 float64
}

// ReportSeed is what SeedReports wrote, for tests to compute the expected
// report from.
type ReportSeed struct {
	// Hours are the seeded UTC hours, oldest first; the last is the
	// current hour.
	Hours []time.Time
	// Sites maps the registered sites to their names.
	Sites map[string]string
	Rows  []SiteHourRow
	// Health is the expected device count per report.device_health status.
	Health map[string]int64
	// EnrichedTo is the end of the seeded succeeded enrich run.
	EnrichedTo time.Time
}

// SeedReports fills the batch tables with a small known data set over the
// six UTC hours ending with now's: three registered sites (one without
// events), one unknown site, two kinds, unknown devices, one event per
// device health status and one succeeded enrich run.
func (d *Database) SeedReports(t testing.TB, now time.Time) ReportSeed {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h0 := now.UTC().Truncate(time.Hour)
	seed := ReportSeed{
		Sites:  map[string]string{"rp-s1": "North Plant", "rp-s2": "South Works", "rp-s3": "East Yard"},
		Health: map[string]int64{"critical": 1, "warning": 1, "ok": 1, "silent": 1, "unregistered": 1},
	}
	for i := 5; i >= 0; i-- {
		seed.Hours = append(seed.Hours, h0.Add(-time.Duration(i)*time.Hour))
	}
	seed.EnrichedTo = h0
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := d.Pool.Exec(ctx, q, args...); err != nil {
			t.Fatalf("seed reports: %s: %v", strings.Fields(q)[0:3], err)
		}
	}
	exec(`INSERT INTO sites (site_id, name, city, country, timezone) VALUES
		('rp-s1', 'North Plant', 'Oslo', 'NO', 'Europe/Oslo'),
		('rp-s2', 'South Works', 'Lyon', 'FR', 'Europe/Paris'),
		('rp-s3', 'East Yard', 'Graz', 'AT', 'Europe/Vienna')`)
	exec(`INSERT INTO devices (device_id, site_id, kind, model) VALUES
		('rp-s1-co2', 'rp-s1', 'co2', 'co2-m1'), ('rp-s1-temp', 'rp-s1', 'temperature', 't-m1'),
		('rp-s2-co2', 'rp-s2', 'co2', 'co2-m1'), ('rp-s3-co2', 'rp-s3', 'co2', 'co2-m1')`)
	for i, h := range seed.Hours {
		n := int64(i)
		seed.Rows = append(seed.Rows,
			SiteHourRow{Hour: h, Site: "rp-s1", Kind: "co2", Unit: "ppm", Events: 120 + 10*n, Critical: n % 3, Avg: 800 + 25*float64(i), Min: 410, Max: 1900 + float64(i)},
			SiteHourRow{Hour: h, Site: "rp-s1", Kind: "temperature", Unit: "C", Events: 60 + n, Avg: 21.5 + 0.25*float64(i), Min: 18, Max: 26.5},
			SiteHourRow{Hour: h, Site: "rp-s2", Kind: "co2", Unit: "ppm", Events: 40 + 7*n, Critical: (n + 1) % 2, UnknownDevs: n % 2 * 3, Avg: 950 - 10*float64(i), Min: 500 - float64(i), Max: 2600},
		)
		if i%2 == 0 {
			seed.Rows = append(seed.Rows, SiteHourRow{Hour: h, Site: "rp-zz-unknown", Kind: "co2", Unit: "ppm", Events: 5 + n, UnknownDevs: 5 + n, Avg: 700, Min: 650, Max: 760})
		}
	}
	for _, r := range seed.Rows {
		exec(`INSERT INTO site_hourly (hour, site_id, kind, unit, events, info_events, warning_events, critical_events,
			over_warn_threshold, over_crit_threshold, unknown_device_events, devices, avg_value, min_value, max_value)
			VALUES ($1, $2, $3, $4, $5::bigint, $5::bigint - $6::bigint, 0, $6, 0, $6, $7, 1, $8, $9, $10)`,
			r.Hour, r.Site, r.Kind, r.Unit, r.Events, r.Critical, r.UnknownDevs, r.Avg, r.Min, r.Max)
	}
	// One event per device for report.device_health: rp-s3-co2 stays
	// silent, rp-ghost is not registered.
	at := now.UTC().Add(-time.Minute)
	for _, e := range []struct{ device, site, kind, severity, state string }{
		{"rp-s1-co2", "rp-s1", "co2", "critical", "critical"},
		{"rp-s1-temp", "rp-s1", "temperature", "info", "normal"},
		{"rp-s2-co2", "rp-s2", "co2", "warning", "warning"},
		{"rp-ghost", "rp-s2", "co2", "info", "unknown"},
	} {
		exec(`INSERT INTO enriched_events (event_id, at, hour, site_id, device_id, kind, value, unit, severity, site_name, city, country,
			model, vendor, warn_threshold, crit_threshold, threshold_state, site_known, device_known, model_known, attrs, ingested_at, run_id)
			VALUES ($1, $2, $3, $4, $5, $6, 1000, 'ppm', $7, 'x', 'x', 'NO', 'm', 'v', NULL, NULL, $8, true, $9, true, NULL, $2, 1)`,
			uuid.New(), at, at.Truncate(time.Hour), e.site, e.device, e.kind, e.severity, e.state, e.device != "rp-ghost")
	}
	exec(`INSERT INTO batch_runs (job, window_start, window_end, status, finished_at) VALUES ('enrich', $1, $2, 'succeeded', now())`,
		seed.Hours[0].Add(-time.Hour), seed.EnrichedTo)
	exec(`INSERT INTO batch_runs (job, window_start, window_end, status, finished_at) VALUES ('enrich', $1, $2, 'failed', now())`,
		seed.EnrichedTo, seed.EnrichedTo.Add(time.Hour))
	return seed
}

// String names a row for failure messages.
func (r SiteHourRow) String() string {
	return fmt.Sprintf("%s %s %s", r.Hour.Format("15:04"), r.Site, r.Kind)
}
