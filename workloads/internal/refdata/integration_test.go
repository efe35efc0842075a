//go:build integration

package refdata_test

import (
	"context"
	"testing"
	"time"

	"github.com/sluicehq/sluice/workloads/dev/pgtest"
	"github.com/sluicehq/sluice/workloads/internal/refdata"
)

func TestSeedPostgresIsIdempotent(t *testing.T) {
	d := pgtest.Migrated(t, "seed")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sites, devices, _ := refdata.Fleet(12, 500)
	if err := refdata.SeedPostgres(ctx, d.Pool, sites, devices); err != nil {
		t.Fatal(err)
	}
	snapshot := func() string {
		var s string
		if err := d.Pool.QueryRow(ctx, `SELECT (SELECT string_agg(x::text, ',' ORDER BY site_id) FROM sites x) ||
			(SELECT string_agg(y::text, ',' ORDER BY device_id) FROM devices y)`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if n := d.Count(t, "SELECT count(*) FROM sites"); n != 12 {
		t.Errorf("%d sites", n)
	}
	if n := d.Count(t, "SELECT count(*) FROM devices WHERE model ~ '^[a-z0-9]+-m[1-3]$'"); n != 500 {
		t.Errorf("%d devices with a model", n)
	}
	before := snapshot()
	if err := refdata.SeedPostgres(ctx, d.Pool, sites, devices); err != nil {
		t.Fatal(err)
	}
	if after := snapshot(); after != before {
		t.Error("seeding the same data again changed rows (updated_at included)")
	}
	sites[0].Name = "Renamed"
	if err := refdata.SeedPostgres(ctx, d.Pool, sites, devices); err != nil {
		t.Fatal(err)
	}
	if n := d.Count(t, "SELECT count(*) FROM sites WHERE name = 'Renamed'"); n != 1 {
		t.Error("a changed site was not updated")
	}
	sites[1].Timezone = "Mars/Olympus_Mons"
	if err := refdata.SeedPostgres(ctx, d.Pool, sites, devices); err == nil {
		t.Error("a site with an unknown time zone was accepted")
	}
}
