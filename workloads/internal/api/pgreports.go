package api

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgresReports reads the report views (schema report) in one read-only
// transaction, so the page's charts agree with each other and the api
// cannot write whatever role it signs in as. It needs nothing but SELECT
// on schema report: the report_reader role. Each statement is one round
// trip, which PgBouncer's transaction pooling accepts.
type PostgresReports struct {
	Pool *pgxpool.Pool
}

var _ Reports = (*PostgresReports)(nil)

// The queries take $1 = from and $2 = to (whole UTC hours).
const (
	// The busiest $3 sites, hour by hour; n is the number of sites with
	// events in the range.
	reportSitesSQL = `
WITH s AS (
    SELECT site_id, min(site_name) AS site_name, hour_utc,
           sum(events)::bigint AS events, sum(critical_events)::bigint AS critical
    FROM report.site_hourly
    WHERE hour_utc >= $1 AND hour_utc < $2
    GROUP BY site_id, hour_utc
), r AS (
    SELECT site_id, sum(events)::bigint AS total,
           row_number() OVER (ORDER BY sum(events) DESC, site_id) AS rn,
           count(*) OVER () AS n
    FROM s GROUP BY site_id
)
SELECT s.site_id, s.site_name, s.hour_utc, s.events, s.critical, r.total, r.n
FROM s JOIN r USING (site_id)
WHERE r.rn <= $3
ORDER BY r.rn, s.hour_utc`

	// Per kind and hour over every site: the mean of the hourly means
	// weighted by their events is the mean of the events' values.
	reportKindsSQL = `
SELECT kind, unit, hour_utc, sum(events)::bigint,
       sum(avg_value * events) / sum(events), min(min_value), max(max_value)
FROM report.site_hourly
WHERE hour_utc >= $1 AND hour_utc < $2 AND events > 0
GROUP BY kind, unit, hour_utc
ORDER BY kind, unit, hour_utc`

	reportHealthSQL = `SELECT status, count(*)::bigint FROM report.device_health GROUP BY status`

	// A site missing from dim_site is unknown; unknown devices are counted
	// by enrich per site and hour.
	reportUnknownSQL = `
SELECT h.hour_utc,
       COALESCE(sum(h.events) FILTER (WHERE d.site_id IS NULL), 0)::bigint AS site_events,
       sum(h.unknown_device_events)::bigint AS device_events
FROM report.site_hourly h
LEFT JOIN report.dim_site d ON d.site_id = h.site_id
WHERE h.hour_utc >= $1 AND h.hour_utc < $2
GROUP BY h.hour_utc
HAVING COALESCE(sum(h.events) FILTER (WHERE d.site_id IS NULL), 0) > 0 OR sum(h.unknown_device_events) > 0
ORDER BY h.hour_utc`

	reportFreshSQL = `SELECT max(window_end) FROM report.enrich_runs WHERE status = 'succeeded'`
)

// Report implements Reports.
func (p *PostgresReports) Report(ctx context.Context, from, to time.Time) (Report, error) {
	from, to = from.UTC(), to.UTC()
	rep := Report{From: from, To: to, Sites: []SiteSeries{}, Kinds: []KindSeries{}, Unknown: []UnknownHour{}}
	for h := from; h.Before(to); h = h.Add(time.Hour) {
		rep.Hours = append(rep.Hours, h)
	}
	tx, err := p.Pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return Report{}, fmt.Errorf("begin report read: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	if err := p.sites(ctx, tx, &rep); err != nil {
		return Report{}, reportErr("sites", err)
	}
	if err := p.kinds(ctx, tx, &rep); err != nil {
		return Report{}, reportErr("kinds", err)
	}
	if err := p.health(ctx, tx, &rep); err != nil {
		return Report{}, reportErr("device health", err)
	}
	rows, err := tx.Query(ctx, reportUnknownSQL, from, to)
	if err == nil {
		rep.Unknown, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (UnknownHour, error) {
			var u UnknownHour
			err := row.Scan(&u.Hour, &u.SiteEvents, &u.DeviceEvents)
			u.Hour = u.Hour.UTC()
			return u, err
		})
	}
	if err != nil {
		return Report{}, reportErr("unknown devices and sites", err)
	}
	var fresh *time.Time
	if err := tx.QueryRow(ctx, reportFreshSQL).Scan(&fresh); err != nil {
		return Report{}, reportErr("enrich runs", err)
	}
	if fresh != nil {
		t := fresh.UTC()
		rep.EnrichedTo = &t
	}
	return rep, tx.Commit(ctx)
}

func (p *PostgresReports) sites(ctx context.Context, tx pgx.Tx, rep *Report) error {
	rows, err := tx.Query(ctx, reportSitesSQL, rep.From, rep.To, MaxReportSites)
	if err != nil {
		return err
	}
	defer rows.Close()
	var n int
	for rows.Next() {
		var (
			site, name string
			c          SiteCount
			total      int64
		)
		if err := rows.Scan(&site, &name, &c.Hour, &c.Events, &c.Critical, &total, &n); err != nil {
			return err
		}
		c.Hour = c.Hour.UTC()
		if k := len(rep.Sites); k == 0 || rep.Sites[k-1].Site != site {
			rep.Sites = append(rep.Sites, SiteSeries{Site: site, Name: name, Events: total})
		}
		last := &rep.Sites[len(rep.Sites)-1]
		last.Hours = append(last.Hours, c)
	}
	rep.SitesOmitted = max(0, n-len(rep.Sites))
	return rows.Err()
}

func (p *PostgresReports) kinds(ctx context.Context, tx pgx.Tx, rep *Report) error {
	rows, err := tx.Query(ctx, reportKindsSQL, rep.From, rep.To)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			kind, unit string
			v          KindValue
		)
		if err := rows.Scan(&kind, &unit, &v.Hour, &v.Events, &v.Mean, &v.Min, &v.Max); err != nil {
			return err
		}
		v.Hour = v.Hour.UTC()
		if k := len(rep.Kinds); k == 0 || rep.Kinds[k-1].Kind != kind || rep.Kinds[k-1].Unit != unit {
			rep.Kinds = append(rep.Kinds, KindSeries{Kind: kind, Unit: unit})
		}
		last := &rep.Kinds[len(rep.Kinds)-1]
		last.Hours = append(last.Hours, v)
	}
	return rows.Err()
}

func (p *PostgresReports) health(ctx context.Context, tx pgx.Tx, rep *Report) error {
	rows, err := tx.Query(ctx, reportHealthSQL)
	if err != nil {
		return err
	}
	counts := map[string]int64{}
	for rows.Next() {
		var (
			status string
			n      int64
		)
		if err := rows.Scan(&status, &n); err != nil {
			rows.Close()
			return err
		}
		counts[status] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, st := range HealthStatuses {
		rep.Health = append(rep.Health, StatusCount{Status: st, Devices: counts[st]})
		delete(counts, st)
	}
	for st := range counts {
		return fmt.Errorf("report.device_health has status %q the page does not know", st)
	}
	return nil
}

// reportErr wraps a failed read; a missing view or schema, or a role
// without the right to read it, is ErrNoReportSchema.
func reportErr(what string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "42P01", "3F000", "42501": // undefined_table, invalid_schema_name, insufficient_privilege
			return fmt.Errorf("read report %s: %w: %s", what, ErrNoReportSchema, pe.Message)
		}
	}
	return fmt.Errorf("read report %s: %w", what, err)
}
