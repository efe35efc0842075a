//go:build integration

package api_test

import (
	"context"
	"errors"
	"math"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sluicehq/sluice/workloads/dev/pgtest"
	"github.com/sluicehq/sluice/workloads/internal/api"
	"github.com/sluicehq/sluice/workloads/internal/pgstore"
)

func reportPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	cfg := pgstore.Config{URL: url, MaxConns: 2, ConnectTimeout: 10 * time.Second, AppName: "api-test"}
	pc, err := cfg.PoolConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// expectedReport computes the report of seed in Go, independently of the
// views' SQL.
func expectedReport(seed pgtest.ReportSeed) api.Report {
	type key struct {
		site string
		hour time.Time
	}
	perSite := map[key]*api.SiteCount{}
	totals := map[string]int64{}
	type kindKey struct {
		kind, unit string
		hour       time.Time
	}
	kinds := map[kindKey]*api.KindValue{}
	sums := map[kindKey]float64{}
	unknown := map[time.Time]*api.UnknownHour{}
	for _, r := range seed.Rows {
		k := key{r.Site, r.Hour}
		if perSite[k] == nil {
			perSite[k] = &api.SiteCount{Hour: r.Hour}
		}
		perSite[k].Events += r.Events
		perSite[k].Critical += r.Critical
		totals[r.Site] += r.Events
		kk := kindKey{r.Kind, r.Unit, r.Hour}
		if kinds[kk] == nil {
			kinds[kk] = &api.KindValue{Hour: r.Hour, Min: math.Inf(1), Max: math.Inf(-1)}
		}
		v := kinds[kk]
		v.Events += r.Events
		sums[kk] += r.Avg * float64(r.Events)
		v.Min, v.Max = math.Min(v.Min, r.Min), math.Max(v.Max, r.Max)
		_, known := seed.Sites[r.Site]
		if !known || r.UnknownDevs > 0 {
			if unknown[r.Hour] == nil {
				unknown[r.Hour] = &api.UnknownHour{Hour: r.Hour}
			}
			if !known {
				unknown[r.Hour].SiteEvents += r.Events
			}
			unknown[r.Hour].DeviceEvents += r.UnknownDevs
		}
	}
	var rep api.Report
	var sites []string
	for s := range totals {
		sites = append(sites, s)
	}
	sort.Slice(sites, func(i, j int) bool {
		if totals[sites[i]] != totals[sites[j]] {
			return totals[sites[i]] > totals[sites[j]]
		}
		return sites[i] < sites[j]
	})
	for _, s := range sites {
		name, ok := seed.Sites[s]
		if !ok {
			name = "unknown"
		}
		ss := api.SiteSeries{Site: s, Name: name, Events: totals[s]}
		for _, h := range seed.Hours {
			if c := perSite[key{s, h}]; c != nil {
				ss.Hours = append(ss.Hours, *c)
			}
		}
		rep.Sites = append(rep.Sites, ss)
	}
	for _, kind := range [][2]string{{"co2", "ppm"}, {"temperature", "C"}} {
		ks := api.KindSeries{Kind: kind[0], Unit: kind[1]}
		for _, h := range seed.Hours {
			kk := kindKey{kind[0], kind[1], h}
			if v := kinds[kk]; v != nil {
				v.Mean = sums[kk] / float64(v.Events)
				ks.Hours = append(ks.Hours, *v)
			}
		}
		rep.Kinds = append(rep.Kinds, ks)
	}
	for _, h := range seed.Hours {
		if u := unknown[h]; u != nil {
			rep.Unknown = append(rep.Unknown, *u)
		}
	}
	for _, st := range api.HealthStatuses {
		rep.Health = append(rep.Health, api.StatusCount{Status: st, Devices: seed.Health[st]})
	}
	return rep
}

func TestPostgresReportsThroughPgBouncerAsReportReader(t *testing.T) {
	d := pgtest.Migrated(t, "apireports")
	now := time.Now().UTC()
	seed := d.SeedReports(t, now)
	reader := d.ReportReader(t)
	bouncer := d.Bouncer(t, 2, reader)
	store := &api.PostgresReports{Pool: reportPool(t, pgtest.BouncerURLFor(bouncer, reader.User, reader.Password))}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	from, to := seed.Hours[0], seed.Hours[len(seed.Hours)-1].Add(time.Hour)
	got, err := store.Report(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	want := expectedReport(seed)
	if len(got.Hours) != 6 || !got.Hours[0].Equal(from) || !got.From.Equal(from) || !got.To.Equal(to) {
		t.Fatalf("hours %v, range %s–%s", got.Hours, got.From, got.To)
	}
	if len(got.Sites) != len(want.Sites) || got.SitesOmitted != 0 {
		t.Fatalf("sites: got %d (+%d omitted), want %d: %+v", len(got.Sites), got.SitesOmitted, len(want.Sites), got.Sites)
	}
	for i, w := range want.Sites {
		g := got.Sites[i]
		if g.Site != w.Site || g.Name != w.Name || g.Events != w.Events || len(g.Hours) != len(w.Hours) {
			t.Fatalf("site %d: got %s %q %d (%d hours), want %s %q %d (%d hours)", i, g.Site, g.Name, g.Events, len(g.Hours), w.Site, w.Name, w.Events, len(w.Hours))
		}
		for j := range w.Hours {
			if !g.Hours[j].Hour.Equal(w.Hours[j].Hour) || g.Hours[j].Events != w.Hours[j].Events || g.Hours[j].Critical != w.Hours[j].Critical {
				t.Errorf("site %s hour %d: got %+v, want %+v", w.Site, j, g.Hours[j], w.Hours[j])
			}
		}
	}
	if len(got.Kinds) != len(want.Kinds) {
		t.Fatalf("kinds: got %+v", got.Kinds)
	}
	for i, w := range want.Kinds {
		g := got.Kinds[i]
		if g.Kind != w.Kind || g.Unit != w.Unit || len(g.Hours) != len(w.Hours) {
			t.Fatalf("kind %d: got %s %s (%d hours), want %s %s (%d)", i, g.Kind, g.Unit, len(g.Hours), w.Kind, w.Unit, len(w.Hours))
		}
		for j, wv := range w.Hours {
			gv := g.Hours[j]
			if !gv.Hour.Equal(wv.Hour) || gv.Events != wv.Events || math.Abs(gv.Mean-wv.Mean) > 1e-9 || gv.Min != wv.Min || gv.Max != wv.Max {
				t.Errorf("kind %s hour %d: got %+v, want %+v", w.Kind, j, gv, wv)
			}
		}
	}
	if len(got.Unknown) != len(want.Unknown) {
		t.Fatalf("unknown: got %+v, want %+v", got.Unknown, want.Unknown)
	}
	for i := range want.Unknown {
		if g, w := got.Unknown[i], want.Unknown[i]; !g.Hour.Equal(w.Hour) || g.SiteEvents != w.SiteEvents || g.DeviceEvents != w.DeviceEvents {
			t.Errorf("unknown %d: got %+v, want %+v", i, g, w)
		}
	}
	for i, w := range want.Health {
		if got.Health[i] != w {
			t.Errorf("health %d: got %+v, want %+v", i, got.Health[i], w)
		}
	}
	if got.EnrichedTo == nil || !got.EnrichedTo.Equal(seed.EnrichedTo) {
		t.Errorf("enriched to %v, want %s (the failed run after it does not count)", got.EnrichedTo, seed.EnrichedTo)
	}

	// A range before the data: empty series, not an error.
	empty, err := store.Report(ctx, from.Add(-48*time.Hour), from.Add(-24*time.Hour))
	if err != nil || len(empty.Sites) != 0 || len(empty.Kinds) != 0 || len(empty.Unknown) != 0 || len(empty.Hours) != 24 {
		t.Fatalf("empty range: %+v, %v", empty, err)
	}
}

func TestPostgresReportsLimitsTheSites(t *testing.T) {
	d := pgtest.Migrated(t, "apireportsites")
	h := time.Now().UTC().Truncate(time.Hour)
	for i := 0; i < api.MaxReportSites+3; i++ {
		if _, err := d.Pool.Exec(context.Background(), `INSERT INTO site_hourly (hour, site_id, kind, unit, events, info_events,
			warning_events, critical_events, over_warn_threshold, over_crit_threshold, unknown_device_events, devices, avg_value, min_value, max_value)
			VALUES ($1, $2, 'co2', 'ppm', $3, $3, 0, 0, 0, 0, 0, 1, 500, 400, 600)`, h, "many-"+string(rune('a'+i)), 100+i); err != nil {
			t.Fatal(err)
		}
	}
	got, err := (&api.PostgresReports{Pool: d.Pool}).Report(context.Background(), h, h.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Sites) != api.MaxReportSites || got.SitesOmitted != 3 {
		t.Fatalf("got %d sites, %d omitted; want %d and 3", len(got.Sites), got.SitesOmitted, api.MaxReportSites)
	}
	// The busiest first: the last inserted has the most events.
	if got.Sites[0].Site != "many-"+string(rune('a'+api.MaxReportSites+2)) || got.Sites[0].Events != int64(100+api.MaxReportSites+2) {
		t.Fatalf("busiest site %+v", got.Sites[0])
	}
}

func TestPostgresReportsWithoutTheReportSchema(t *testing.T) {
	d := pgtest.New(t, "apinoreports") // no migrations
	_, err := (&api.PostgresReports{Pool: d.Pool}).Report(context.Background(), time.Now().Add(-time.Hour), time.Now())
	if !errors.Is(err, api.ErrNoReportSchema) {
		t.Fatalf("got %v, want ErrNoReportSchema", err)
	}
}
