package refdata

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicehq/sluice/workloads/internal/simulate"
)

// Site is a row of the sites table.
type Site struct {
	ID, Name, City, Country, Timezone string
}

// Device is a row of the devices table.
type Device struct {
	ID, SiteID, Kind, Model string
	InstalledAt             time.Time
}

// vendors make up a hardware vendor per model number.
var vendors = []string{"Aeris", "Boreal", "Corvid"}

// Fleet returns the reference data of the simulator's fleet of the given
// size: its sites and devices, and every model of every kind with the
// kind's thresholds, which are the values the simulator's warnings and
// criticals start from.
func Fleet(sites, devices int) ([]Site, []Device, []Model) {
	ss, ds := simulate.Fleet(sites, devices)
	outS := make([]Site, len(ss))
	for i, s := range ss {
		outS[i] = Site{ID: s.ID, Name: s.Name, City: s.City, Country: s.Country, Timezone: s.Timezone}
	}
	base := time.Date(2023, 1, 2, 0, 0, 0, 0, time.UTC)
	outD := make([]Device, len(ds))
	for i, d := range ds {
		outD[i] = Device{ID: d.ID, SiteID: d.SiteID, Kind: d.Kind.Name, Model: d.Model,
			InstalledAt: base.AddDate(0, 0, (i*37)%700)}
	}
	var models []Model
	for _, k := range simulate.Kinds {
		for m := range simulate.ModelsPerKind {
			models = append(models, Model{
				Model:         simulate.ModelName(k.Name, m),
				Kind:          k.Name,
				Unit:          k.Unit,
				Vendor:        vendors[m%len(vendors)],
				WarnThreshold: k.Warn,
				CritThreshold: k.Crit,
				RangeMin:      math.Min(0, k.Min),
				RangeMax:      math.Max(k.Max, k.Crit*2),
			})
		}
	}
	return outS, outD, models
}

// Execer is what SeedPostgres needs of a pool or connection.
type Execer interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// SeedPostgres upserts sites and devices in one transaction; running it
// again changes nothing. Time zones are checked first, because the
// reporting views convert hours to each site's local time.
func SeedPostgres(ctx context.Context, db Execer, sites []Site, devices []Device) error {
	ids := make([]string, len(sites))
	names := make([]string, len(sites))
	cities := make([]string, len(sites))
	countries := make([]string, len(sites))
	zones := make([]string, len(sites))
	for i, s := range sites {
		if _, err := time.LoadLocation(s.Timezone); err != nil {
			return fmt.Errorf("site %s: time zone %q: %w", s.ID, s.Timezone, err)
		}
		ids[i], names[i], cities[i], countries[i], zones[i] = s.ID, s.Name, s.City, s.Country, s.Timezone
	}
	dIDs := make([]string, len(devices))
	dSites := make([]string, len(devices))
	kinds := make([]string, len(devices))
	models := make([]string, len(devices))
	installed := make([]string, len(devices))
	for i, d := range devices {
		dIDs[i], dSites[i], kinds[i], models[i], installed[i] = d.ID, d.SiteID, d.Kind, d.Model, d.InstalledAt.Format(time.DateOnly)
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("seed reference data: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `
		INSERT INTO sites (site_id, name, city, country, timezone)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
		ON CONFLICT (site_id) DO UPDATE
		SET name = EXCLUDED.name, city = EXCLUDED.city, country = EXCLUDED.country,
		    timezone = EXCLUDED.timezone, updated_at = now()
		WHERE (sites.name, sites.city, sites.country, sites.timezone)
		      IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.city, EXCLUDED.country, EXCLUDED.timezone)`,
		ids, names, cities, countries, zones); err != nil {
		return fmt.Errorf("seed sites: %w", err)
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO devices (device_id, site_id, kind, model, installed_at)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[])
		ON CONFLICT (device_id) DO UPDATE
		SET site_id = EXCLUDED.site_id, kind = EXCLUDED.kind, model = EXCLUDED.model,
		    installed_at = EXCLUDED.installed_at, updated_at = now()
		WHERE (devices.site_id, devices.kind, devices.model, devices.installed_at)
		      IS DISTINCT FROM (EXCLUDED.site_id, EXCLUDED.kind, EXCLUDED.model, EXCLUDED.installed_at)`,
		dIDs, dSites, kinds, models, installed); err != nil {
		return fmt.Errorf("seed devices: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("seed reference data: commit: %w", err)
	}
	return nil
}
