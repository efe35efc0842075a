// Package pgmigrate applies Sluice's PostgreSQL schema: versioned SQL files
// embedded in the binary (migrations/), applied in order by goose
// (github.com/pressly/goose/v3), each in its own transaction, with the
// applied versions recorded in goose_db_version.
//
// Two migrators may start at once (two pods of a Job, two test processes):
// goose's PostgreSQL session locker takes a session-level advisory lock
// (pg_try_advisory_lock, retried every second for up to five minutes), so
// one applies the pending files while the other waits and then finds
// nothing to do. A session-level lock lives on one server connection, which
// PgBouncer's transaction pooling does not guarantee: migrations connect
// directly to the server (POSTGRES_MIGRATE_URL or POSTGRES_MIGRATE_PORT,
// port 5432 on Azure; see pgstore.MigrationFromEnv), never through port 6432.
//
// The schema: reference tables sites and devices, facts enriched_events,
// aggregates site_hourly, bookkeeping batch_runs, and schema report with the
// views a BI tool reads. Roles (cluster-wide, created when missing):
// report_reader (NOLOGIN; USAGE on schema report, SELECT on its views, no
// access to the tables behind them), powerbi_reader (LOGIN, member of
// report_reader; [SetPassword] gives it a password for local use, on Azure
// an Entra ID principal made with pgaadauth_create_principal is granted
// report_reader instead) and batch_writer (NOLOGIN; the table privileges the
// enrich job needs when it runs as an identity that does not own them).
//
// A BI tool connects with PostgreSQL's connector to the server (port 5432,
// or 6432 through PgBouncer: the views need no session state), database
// sluice, as a login in report_reader, and finds the views under schema
// report: site_hourly (per-site hourly trends by kind), site_critical_daily
// and critical_events (critical-event counts and details), device_health
// (per device over the last 24 hours), dim_site and dim_device, and
// enrich_runs (data freshness).
package pgmigrate
