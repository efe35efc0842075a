//go:build integration

package api

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/dev/itest"
)

// The stream job's rows read back by site, range and kind, across a UTC
// midnight; silent devices only while silent.
func TestCassandraStoreSiteMinutesAndSilentDevices(t *testing.T) {
	s, _ := engines(t)
	site := strings.ToLower(itest.Name("min"))
	midnight := time.Now().UTC().Truncate(24 * time.Hour)
	insert := func(kind, unit string, minute time.Time, events int64, mean float64) {
		t.Helper()
		if err := s.Query(`INSERT INTO site_minutes (site, day, kind, minute, unit, events, min_value, max_value, sum_value, mean_value, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, site, contract.Day(minute), kind, minute, unit, events, mean-1, mean+1,
			mean*float64(events), mean, time.Now()).Exec(); err != nil {
			t.Fatal(err)
		}
	}
	for i := -3; i < 3; i++ {
		m := midnight.Add(time.Duration(i) * time.Minute)
		insert("co2", "ppm", m, int64(10+i), 500+float64(i))
		insert("temperature", "C", m, 5, 21)
	}
	insert("co2", "ppm", midnight.Add(-time.Hour), 99, 1) // outside the range
	store := NewCassandraStore(s, contract.Keyspace, 7)
	ctx := context.Background()
	from, to := midnight.Add(-2*time.Minute), midnight.Add(2*time.Minute)

	got, err := store.SiteMinutes(ctx, site, "co2", from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Kind != "co2" || got[0].Unit != "ppm" || len(got[0].Minutes) != 4 {
		t.Fatalf("co2 minutes: %+v", got)
	}
	for i, m := range got[0].Minutes {
		want := from.Add(time.Duration(i) * time.Minute)
		if !m.Minute.Equal(want) || m.Events != int64(10+i-2) || m.Mean != 500+float64(i-2) || m.Min != m.Mean-1 {
			t.Errorf("minute %d: %+v, want minute %s with %d events", i, m, want, 10+i-2)
		}
	}
	all, err := store.SiteMinutes(ctx, site, "", from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Kind != "co2" || all[1].Kind != "temperature" || len(all[1].Minutes) != 4 {
		t.Fatalf("all kinds: %+v", all)
	}

	last := midnight.Add(-10 * time.Minute)
	for device, silent := range map[string]bool{"d-quiet": true, "d-back": false} {
		if err := s.Query(`INSERT INTO silent_devices (site, device, kind, silent, last_seen, changed_at, updated_at) VALUES (?, ?, 'co2', ?, ?, ?, ?)`,
			site, device, silent, last, last.Add(5*time.Minute), time.Now()).Exec(); err != nil {
			t.Fatal(err)
		}
	}
	devices, err := store.SilentDevices(ctx, site)
	if err != nil {
		t.Fatal(err)
	}
	if len(devices) != 1 || devices[0].Device != "d-quiet" || !devices[0].LastSeen.Equal(last) || !devices[0].Since.Equal(last.Add(5*time.Minute)) {
		t.Fatalf("silent devices: %+v", devices)
	}
}
