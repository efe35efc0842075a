package main

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/internal/pgmigrate"
)

// reportPassword is the local password of the BI login role; the demo signs
// in with it to read the report views the way Power BI would.
const reportPassword = "powerbi-local"

// reportURL is the local database's URL signed in as the BI login.
func (d *demo) reportURL() string {
	u, err := url.Parse(d.ep.PostgresURL)
	if err != nil {
		panic(fmt.Sprintf("demo: local postgres url %q does not parse: %v", d.ep.PostgresURL, err))
	}
	u.User = url.UserPassword(pgmigrate.PowerBIRole, reportPassword)
	return u.String()
}

// modelsPath is where the demo keeps its device-model Parquet file.
func (d *demo) modelsPath() string {
	return filepath.Join(filepath.Dir(d.launch.Logs), "reference", "device_models.parquet")
}

// preparePostgres applies the PostgreSQL schema and seeds the reference
// data (sites, devices and the device-model Parquet file), both idempotent.
func (d *demo) preparePostgres(ctx context.Context) error {
	d.launch.Env = append(d.launch.Env, "POSTGRES_REPORT_PASSWORD="+reportPassword, "ENRICH_MODELS_URL="+d.modelsPath())
	if err := d.launch.Run(ctx, "migrate", "-kafka=false", "-cassandra=false", "-postgres"); err != nil {
		return err
	}
	out, err := d.launch.Output(ctx, "enrich", "seed", "--parquet", d.modelsPath())
	if err != nil {
		return err
	}
	fmt.Print("  " + out)
	return nil
}

// batch enriches the demo's window into PostgreSQL and prints the report
// views. The window starts at the hour of the stream's first event and ends
// at the next whole minute, so it covers every event just produced; the
// current hour is thus enriched in part. That is safe: a later run without
// --from/--to sees the hour as not done (only a run covering a whole hour
// counts) and enriches it again, whole, once it has completed, with the
// same upsert.
func (d *demo) batch(ctx context.Context) error {
	from := contract.Hour(d.started)
	to := time.Now().UTC().Truncate(time.Minute).Add(time.Minute)
	out, err := d.launch.Output(ctx, "enrich", "--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339))
	if err != nil {
		return err
	}
	fmt.Print("  " + out)

	conn, err := pgx.Connect(ctx, d.reportURL())
	if err != nil {
		return fmt.Errorf("sign in as %s: %w", pgmigrate.PowerBIRole, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	fmt.Printf("\n  read as %s (member of %s) from schema report:\n", pgmigrate.PowerBIRole, pgmigrate.ReaderRole)

	// The shared local keyspace may also hold events of test runs from the
	// same hours, from sites the reference data does not know: the tables
	// show the registered sites, the unknown ones are summed up below.
	if err := printQuery(ctx, conn, "registered sites with the most critical events (report.site_hourly)", `
		SELECT site_id, site_name, city, sum(critical_events)::int8 AS critical, sum(warning_events)::int8 AS warning,
		       sum(events)::int8 AS events
		FROM report.site_hourly WHERE hour_utc >= $1 AND hour_utc < $2 AND site_name <> 'unknown'
		GROUP BY site_id, site_name, city ORDER BY critical DESC, events DESC, site_id LIMIT 5`, from, to); err != nil {
		return err
	}
	if err := printQuery(ctx, conn, "hourly averages by kind, registered sites (report.site_hourly)", `
		SELECT to_char(hour_utc AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:00') AS hour_utc, kind, unit, sum(events)::int8 AS events,
		       round((sum(avg_value * events) / sum(events))::numeric, 2)::float8 AS avg_value,
		       round(min(min_value)::numeric, 2)::float8 AS min, round(max(max_value)::numeric, 2)::float8 AS max
		FROM report.site_hourly WHERE hour_utc >= $1 AND hour_utc < $2 AND site_name <> 'unknown'
		GROUP BY hour_utc, kind, unit ORDER BY hour_utc, kind`, from, to); err != nil {
		return err
	}
	if err := printQuery(ctx, conn, "events from sites missing from the reference data (kept as 'unknown')", `
		SELECT count(DISTINCT site_id) AS sites, coalesce(sum(events), 0)::int8 AS events,
		       coalesce(sum(critical_events), 0)::int8 AS critical
		FROM report.site_hourly WHERE hour_utc >= $1 AND hour_utc < $2 AND site_name = 'unknown'`, from, to); err != nil {
		return err
	}
	return printQuery(ctx, conn, "device health over the last 24 hours (report.device_health)", `
		SELECT status, count(*) AS devices, sum(events_24h)::int8 AS events, sum(criticals_24h)::int8 AS criticals
		FROM report.device_health GROUP BY status ORDER BY devices DESC`)
}

// printQuery prints a query's rows as an aligned table.
func printQuery(ctx context.Context, conn *pgx.Conn, title, sql string, args ...any) error {
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", title, err)
	}
	var header []string
	for _, f := range rows.FieldDescriptions() {
		header = append(header, f.Name)
	}
	table := [][]string{header}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return fmt.Errorf("%s: %w", title, err)
		}
		line := make([]string, len(vals))
		for i, v := range vals {
			line[i] = fmt.Sprint(v)
			if v == nil {
				line[i] = "–"
			}
		}
		table = append(table, line)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", title, err)
	}
	widths := make([]int, len(header))
	for _, line := range table {
		for i, c := range line {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	fmt.Printf("\n  %s\n", title)
	for i, line := range table {
		var b strings.Builder
		for j, c := range line {
			pad := strings.Repeat(" ", widths[j]-len([]rune(c)))
			if i > 0 && looksNumeric(c) {
				b.WriteString(pad + c + "  ")
			} else {
				b.WriteString(c + pad + "  ")
			}
		}
		fmt.Println("    " + strings.TrimRight(b.String(), " "))
	}
	if len(table) == 1 {
		fmt.Println("    (no rows)")
	}
	return nil
}

func looksNumeric(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '.' && r != '-' {
			return false
		}
	}
	return true
}
