//go:build integration

package pipelinetest_test

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/sluicehq/sluice/workloads/dev/pgtest"
	"github.com/sluicehq/sluice/workloads/dev/pipelinetest"
)

// TestReportPageInChromium serves the report page from the api binary,
// signed in to PostgreSQL through PgBouncer as a report reader, and checks
// what the charts draw against SQL over the same tables.
func TestReportPageInChromium(t *testing.T) {
	d := pgtest.Migrated(t, "reportpage")
	seed := d.SeedReports(t, time.Now())
	reader := d.ReportReader(t)
	bouncer := d.Bouncer(t, 2, reader)
	api := pipelinetest.StartAPI(t, "POSTGRES_URL="+pgtest.BouncerURLFor(bouncer, reader.User, reader.Password))

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	b := pipelinetest.StartBrowser(t)
	// The window's end is pinned to the seeded hours, so the page reads
	// the same six hours when the clock turns an hour during the test.
	to := seed.Hours[len(seed.Hours)-1].Add(time.Hour).Format(time.RFC3339)
	if err := b.Navigate(ctx, "http://"+api.Addr+"/reports?hours=6&to="+to); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, b, `document.body && document.body.dataset.state === "ready"`)

	// value reads one drawn number; a missing element fails the test.
	value := func(selector string) float64 {
		t.Helper()
		var s string
		expr := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.getAttribute("data-value") : "missing"; })()`, selector)
		if err := b.Eval(ctx, expr, &s); err != nil {
			t.Fatal(err)
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("%s: data-value %q", selector, s)
		}
		return v
	}
	sql := func(q string, args ...any) float64 {
		t.Helper()
		var v float64
		if err := d.Pool.QueryRow(ctx, q, args...).Scan(&v); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return v
	}
	iso := func(h time.Time) string { return h.UTC().Format(time.RFC3339) }

	var checked int
	check := func(what string, drawn, want float64) {
		t.Helper()
		checked++
		if math.Abs(drawn-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("%s: the chart draws %v, PostgreSQL holds %v", what, drawn, want)
		}
	}
	for _, h := range []time.Time{seed.Hours[0], seed.Hours[3], seed.Hours[5]} {
		for _, site := range []string{"rp-s1", "rp-s2"} {
			check(site+" events at "+iso(h),
				value(fmt.Sprintf(`[data-chart="site"][data-site=%q] rect.events[data-hour=%q]`, site, iso(h))),
				sql(`SELECT sum(events)::float8 FROM report.site_hourly WHERE site_id = $1 AND hour_utc = $2`, site, h))
		}
		check("co2 mean at "+iso(h),
			value(fmt.Sprintf(`[data-chart="kind"][data-kind="co2"] circle[data-hour=%q]`, iso(h))),
			sql(`SELECT sum(avg_value * events) / sum(events) FROM report.site_hourly WHERE kind = 'co2' AND hour_utc = $1`, h))
	}
	// rp-s2 has critical events in every other hour.
	for _, h := range seed.Hours {
		want := sql(`SELECT sum(critical_events)::float8 FROM report.site_hourly WHERE site_id = 'rp-s2' AND hour_utc = $1`, h)
		if want > 0 {
			check("rp-s2 critical at "+iso(h), value(fmt.Sprintf(`[data-site="rp-s2"] rect.critical[data-hour=%q]`, iso(h))), want)
		}
	}
	for _, st := range []string{"critical", "warning", "ok", "silent", "unregistered"} {
		check("devices "+st, value(fmt.Sprintf(`rect[data-status=%q]`, st)),
			sql(`SELECT count(*)::float8 FROM report.device_health WHERE status = $1`, st))
	}
	h := seed.Hours[4]
	check("unknown-site events at "+iso(h), value(fmt.Sprintf(`rect.unknown-site[data-hour=%q]`, iso(h))),
		sql(`SELECT sum(events)::float8 FROM report.site_hourly WHERE site_name = 'unknown' AND hour_utc = $1`, h))
	check("unknown-device events at "+iso(h), value(fmt.Sprintf(`rect.unknown-device[data-hour=%q]`, iso(h))),
		sql(`SELECT sum(unknown_device_events)::float8 FROM report.site_hourly WHERE hour_utc = $1`, h))

	// One chart per site with events (the site without events has none),
	// and the bars have a height.
	var shape struct {
		Sites    int     `json:"sites"`
		Kinds    int     `json:"kinds"`
		MaxBar   float64 `json:"maxBar"`
		Status   string  `json:"status"`
		External int     `json:"external"`
	}
	if err := b.Eval(ctx, `(() => ({
		sites: document.querySelectorAll('[data-chart="site"]').length,
		kinds: document.querySelectorAll('[data-chart="kind"]').length,
		maxBar: Math.max(...[...document.querySelectorAll("rect.events")].map(r => r.getBBox().height)),
		status: document.getElementById("status").textContent,
		external: performance.getEntriesByType("resource").filter(e => !e.name.startsWith(location.origin)).length,
	}))()`, &shape); err != nil {
		t.Fatal(err)
	}
	wantSites := sql(`SELECT count(DISTINCT site_id)::float8 FROM report.site_hourly WHERE hour_utc >= $1`, seed.Hours[0])
	if float64(shape.Sites) != wantSites || shape.Kinds != 2 || shape.MaxBar < 50 || shape.External != 0 {
		t.Fatalf("page shape %+v, want %v site charts, 2 kind charts, bars drawn, nothing from another origin", shape, wantSites)
	}
	t.Logf("%d drawn values match PostgreSQL; status: %s", checked, shape.Status)

	b.SaveScreenshot(t, ctx, "report-page.png")
}
