package enrich

// The job's SQL. Everything that touches a window runs inside its one
// transaction; nothing relies on session state, so the statements work
// through PgBouncer in transaction pooling mode.

// JobName is the job column of the enrich job's batch_runs rows.
const JobName = "enrich"

// EnrichedColumns are the columns of enriched_events an engine computes for
// each event, in the table's order; run_id, the run that last changed the
// row, follows them.
var EnrichedColumns = []string{
	"event_id", "at", "hour", "site_id", "device_id", "kind", "value", "unit", "severity",
	"site_name", "city", "country", "model", "vendor", "warn_threshold", "crit_threshold", "threshold_state",
	"site_known", "device_known", "model_known", "attrs", "ingested_at",
}

// enrichedColumnList is EnrichedColumns as SQL; a test holds the two to
// the same list.
const enrichedColumnList = `event_id, at, hour, site_id, device_id, kind, value, unit, severity, ` +
	`site_name, city, country, model, vendor, warn_threshold, crit_threshold, threshold_state, ` +
	`site_known, device_known, model_known, attrs, ingested_at`

// LockClass is the first key of the job's transaction-scoped advisory locks;
// the second is the hour (hours since the Unix epoch).
const LockClass = 0x5e1c

const (
	sqlAbandonStale = `
UPDATE batch_runs
SET status = 'abandoned', finished_at = clock_timestamp(),
    error = 'abandoned: no heartbeat since ' || heartbeat_at::text
WHERE job = $1 AND status = 'running' AND heartbeat_at < clock_timestamp() - make_interval(secs => $2::float8)`

	sqlStartRun = `
INSERT INTO batch_runs (job, window_start, window_end, status, worker, reason, redoes)
VALUES ($1, $2, $3, 'running', $4, $5, $6)
RETURNING run_id, started_at`

	sqlHeartbeat = `UPDATE batch_runs SET heartbeat_at = clock_timestamp() WHERE run_id = $1 AND status = 'running'`

	sqlLockHours = `SELECT count(pg_advisory_xact_lock($1::int4, h::int4)) FROM generate_series($2::int8, $3::int8) AS h`

	sqlSupersededBy = `
SELECT run_id FROM batch_runs
WHERE job = $1 AND status = 'succeeded' AND run_id <> $2
  AND window_start <= $3 AND window_end >= $4 AND finished_at > $5
ORDER BY run_id LIMIT 1`

	sqlCreateStage = `
CREATE TEMP TABLE %s (
    event_id    uuid NOT NULL,
    at          timestamptz NOT NULL,
    hour        timestamptz NOT NULL,
    site_id     text NOT NULL,
    device_id   text NOT NULL,
    kind        text NOT NULL,
    value       double precision NOT NULL,
    unit        text NOT NULL,
    severity    text NOT NULL,
    attrs       jsonb,
    ingested_at timestamptz
) ON COMMIT DROP`

	// The run's reference data is copied into the transaction first, so
	// the counts of unknown dimensions and the join agree even if someone
	// edits sites or devices meanwhile.
	sqlCreateSites = `
CREATE TEMP TABLE enrich_sites ON COMMIT DROP AS
SELECT site_id, name, city, country FROM sites`

	sqlCreateDevices = `
CREATE TEMP TABLE enrich_devices ON COMMIT DROP AS
SELECT device_id, model FROM devices`

	sqlCreateModels = `
CREATE TEMP TABLE enrich_models (
    model          text PRIMARY KEY,
    kind           text NOT NULL,
    vendor         text NOT NULL,
    warn_threshold double precision NOT NULL,
    crit_threshold double precision NOT NULL
) ON COMMIT DROP`

	sqlReadSites   = `SELECT site_id FROM enrich_sites`
	sqlReadDevices = `SELECT device_id, model FROM enrich_devices`

	// Statistics of the small reference tables let the planner hash-join
	// them; the staging table needs none (its size comes from its pages).
	sqlAnalyzeReference = `ANALYZE enrich_sites, enrich_devices, enrich_models`

	// sqlInsert enriches the staged events and inserts them; %s is the
	// staged rows: the table, or a de-duplicated view of it. Followed by
	// sqlOnConflict it upserts by event id: a row whose content is
	// unchanged is not rewritten (and keeps the run_id of the run that last
	// changed it), so a re-run of a window leaves the table identical.
	// Should one id have been stored twice with different content, the
	// copy ingested last wins whatever the order of reading.
	sqlInsert = `
INSERT INTO enriched_events AS e (` + enrichedColumnList + `, run_id)
SELECT s.event_id, s.at, s.hour, s.site_id, s.device_id, s.kind, s.value, s.unit, s.severity,
       COALESCE(si.name, 'unknown'), COALESCE(si.city, 'unknown'), COALESCE(si.country, 'unknown'),
       COALESCE(d.model, 'unknown'), COALESCE(m.vendor, 'unknown'), m.warn_threshold, m.crit_threshold,
       CASE
           WHEN m.model IS NULL THEN 'unknown'
           WHEN s.value >= m.crit_threshold THEN 'critical'
           WHEN s.value >= m.warn_threshold THEN 'warning'
           ELSE 'normal'
       END,
       si.site_id IS NOT NULL, d.device_id IS NOT NULL, m.model IS NOT NULL,
       s.attrs, s.ingested_at, $1::int8
FROM %s s
LEFT JOIN enrich_sites si ON si.site_id = s.site_id
LEFT JOIN enrich_devices d ON d.device_id = s.device_id
LEFT JOIN enrich_models m ON m.model = d.model AND m.kind = s.kind`

	sqlOnConflict = `
ON CONFLICT (event_id) DO UPDATE SET
    at = EXCLUDED.at, hour = EXCLUDED.hour, site_id = EXCLUDED.site_id, device_id = EXCLUDED.device_id,
    kind = EXCLUDED.kind, value = EXCLUDED.value, unit = EXCLUDED.unit, severity = EXCLUDED.severity,
    site_name = EXCLUDED.site_name, city = EXCLUDED.city, country = EXCLUDED.country,
    model = EXCLUDED.model, vendor = EXCLUDED.vendor, warn_threshold = EXCLUDED.warn_threshold,
    crit_threshold = EXCLUDED.crit_threshold, threshold_state = EXCLUDED.threshold_state,
    site_known = EXCLUDED.site_known, device_known = EXCLUDED.device_known, model_known = EXCLUDED.model_known,
    attrs = EXCLUDED.attrs, ingested_at = EXCLUDED.ingested_at, run_id = EXCLUDED.run_id
WHERE COALESCE(EXCLUDED.ingested_at, '-infinity') >= COALESCE(e.ingested_at, '-infinity')
  AND (e.at, e.site_id, e.device_id, e.kind, e.value, e.unit, e.severity, e.site_name, e.city, e.country,
       e.model, e.vendor, e.warn_threshold, e.crit_threshold, e.threshold_state,
       e.site_known, e.device_known, e.model_known, e.attrs, e.ingested_at)
      IS DISTINCT FROM
      (EXCLUDED.at, EXCLUDED.site_id, EXCLUDED.device_id, EXCLUDED.kind, EXCLUDED.value, EXCLUDED.unit,
       EXCLUDED.severity, EXCLUDED.site_name, EXCLUDED.city, EXCLUDED.country, EXCLUDED.model, EXCLUDED.vendor,
       EXCLUDED.warn_threshold, EXCLUDED.crit_threshold, EXCLUDED.threshold_state,
       EXCLUDED.site_known, EXCLUDED.device_known, EXCLUDED.model_known, EXCLUDED.attrs, EXCLUDED.ingested_at)`

	// stagedRows is the staging table as the upsert reads it normally.
	stagedRows = `enrich_stage`
	// distinctStaged keeps one row per event id of a staging table (%s),
	// the latest ingested, for the rare window where an id was stored
	// twice with different event times.
	distinctStaged = `(SELECT DISTINCT ON (event_id) * FROM %s ORDER BY event_id, ingested_at DESC NULLS LAST, at DESC)`

	// referenceInfo formats batch_runs.reference: the models' location
	// and count, the sites and the devices.
	referenceInfo = "%s (%d models), %d sites, %d devices"

	sqlCountDuplicates = `SELECT count(*) - count(DISTINCT event_id) FROM enrich_stage`

	sqlDeleteHourly = `DELETE FROM site_hourly WHERE hour >= $1 AND hour < $2`

	// sqlRecomputeHourly aggregates every enriched event of the window's
	// hours, including ones enriched by earlier runs. Sums are numeric, so
	// the averages do not depend on the order rows are read in.
	sqlRecomputeHourly = `
INSERT INTO site_hourly (hour, site_id, kind, unit, events, info_events, warning_events, critical_events,
                         over_warn_threshold, over_crit_threshold, unknown_device_events, devices,
                         avg_value, min_value, max_value)
SELECT hour, site_id, kind, min(unit), sum(n), sum(info), sum(warn), sum(crit), sum(over_warn), sum(over_crit),
       sum(unknown), count(*), (sum(total) / sum(n))::float8, min(lo), max(hi)
FROM (
    SELECT hour, site_id, kind, device_id, min(unit) AS unit, count(*) AS n,
           count(*) FILTER (WHERE severity = 'info') AS info,
           count(*) FILTER (WHERE severity = 'warning') AS warn,
           count(*) FILTER (WHERE severity = 'critical') AS crit,
           count(*) FILTER (WHERE threshold_state IN ('warning', 'critical')) AS over_warn,
           count(*) FILTER (WHERE threshold_state = 'critical') AS over_crit,
           count(*) FILTER (WHERE NOT device_known) AS unknown,
           sum(value::numeric) AS total, min(value) AS lo, max(value) AS hi
    FROM enriched_events
    WHERE hour >= $1 AND hour < $2
    GROUP BY hour, site_id, kind, device_id
) per_device
GROUP BY hour, site_id, kind`

	sqlSucceed = `
UPDATE batch_runs
SET status = 'succeeded', finished_at = clock_timestamp(), heartbeat_at = clock_timestamp(), reference = $2,
    events_read = $3, events_changed = $4, unknown_devices = $5, unknown_sites = $6, unknown_models = $7,
    duplicates = $8, hourly_rows = $9, reference_ms = $10, copy_ms = $11, upsert_ms = $12,
    aggregate_ms = $13, total_ms = $14, error = NULL
WHERE run_id = $1`

	// sqlEnd records a run that did not commit; a run that is no longer
	// running (its Spark driver committed it after all, or another run
	// marked it abandoned) keeps what it says.
	sqlEnd = `
UPDATE batch_runs
SET status = $2, finished_at = clock_timestamp(), heartbeat_at = clock_timestamp(), reference = $3,
    events_read = $4, unknown_devices = $5, unknown_sites = $6, unknown_models = $7,
    reference_ms = $8, copy_ms = $9, upsert_ms = $10, aggregate_ms = $11, total_ms = $12, error = $13
WHERE run_id = $1 AND status = 'running'`

	// sqlRunResult reads back what a run recorded (the Spark engine's).
	sqlRunResult = `
SELECT status, reference, COALESCE(events_read, 0), COALESCE(events_changed, 0), COALESCE(unknown_devices, 0),
       COALESCE(unknown_sites, 0), COALESCE(unknown_models, 0), COALESCE(duplicates, 0), COALESCE(hourly_rows, 0),
       COALESCE(reference_ms, 0), COALESCE(copy_ms, 0), COALESCE(upsert_ms, 0), COALESCE(aggregate_ms, 0),
       COALESCE(total_ms, 0), error
FROM batch_runs WHERE run_id = $1`

	sqlSucceededWindows = `
SELECT window_start, window_end, run_id, started_at FROM batch_runs
WHERE job = $1 AND status = 'succeeded' AND window_end > $2
ORDER BY window_start`

	sqlFirstSucceeded = `SELECT min(window_start) FROM batch_runs WHERE job = $1 AND status = 'succeeded'`
)
