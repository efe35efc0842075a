-- The reporting schema a BI tool such as Power BI reads directly, and the
-- roles around it:
--   report_reader  NOLOGIN group: USAGE on schema report and SELECT on its
--                  views, nothing else (no table of schema public).
--   powerbi_reader LOGIN member of report_reader for the BI tool. Locally its
--                  password comes from POSTGRES_REPORT_PASSWORD at migrate
--                  time; on Azure an Entra ID principal is granted
--                  report_reader instead.
--   batch_writer   NOLOGIN group with what the enrich job needs, for a job
--                  identity that does not own the tables.
-- Roles belong to the cluster, not the database: they are created only when
-- missing (concurrent migrations of two databases may race, hence the
-- exception handlers) and the down migration leaves them. On Azure the
-- principals step (pgmigrate.Build, run by an Entra administrator) has
-- made them and the membership already: the migrate identity may create
-- neither, so both are skipped when present.

-- +goose Up
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'report_reader') THEN
        CREATE ROLE report_reader NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'powerbi_reader') THEN
        CREATE ROLE powerbi_reader LOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'batch_writer') THEN
        CREATE ROLE batch_writer NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT pg_has_role('powerbi_reader', 'report_reader', 'MEMBER') THEN
        GRANT report_reader TO powerbi_reader;
    END IF;
END
$$;
-- +goose StatementEnd

-- PostgreSQL 15 and later already keep PUBLIC from creating objects in
-- schema public; older servers (and servers whose public schema belongs to
-- another admin) are hardened where this role may do it.
-- +goose StatementBegin
DO $$
BEGIN
    REVOKE CREATE ON SCHEMA public FROM PUBLIC;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'cannot revoke CREATE on schema public from PUBLIC; the schema owner should';
END
$$;
-- +goose StatementEnd

CREATE SCHEMA report;
REVOKE ALL ON SCHEMA report FROM PUBLIC;
COMMENT ON SCHEMA report IS 'read-only reporting views over the batch tables, for BI tools (role report_reader)';

CREATE VIEW report.dim_site AS
SELECT site_id, name AS site_name, city, country, timezone
FROM public.sites;
COMMENT ON VIEW report.dim_site IS 'sites, one row each';

CREATE VIEW report.dim_device AS
SELECT d.device_id, d.site_id, COALESCE(s.name, 'unknown') AS site_name, d.kind, d.model, d.installed_at
FROM public.devices d
LEFT JOIN public.sites s ON s.site_id = d.site_id;
COMMENT ON VIEW report.dim_device IS 'registered devices with their site';

CREATE VIEW report.site_hourly AS
SELECT h.hour AS hour_utc,
       h.hour AT TIME ZONE COALESCE(s.timezone, 'UTC') AS hour_local,
       h.site_id,
       COALESCE(s.name, 'unknown') AS site_name,
       COALESCE(s.city, 'unknown') AS city,
       COALESCE(s.country, 'unknown') AS country,
       h.kind, h.unit, h.events, h.info_events, h.warning_events, h.critical_events,
       h.over_warn_threshold, h.over_crit_threshold, h.unknown_device_events, h.devices,
       h.avg_value, h.min_value, h.max_value
FROM public.site_hourly h
LEFT JOIN public.sites s ON s.site_id = h.site_id;
COMMENT ON VIEW report.site_hourly IS 'per-site hourly trends by kind: counts by severity, threshold breaches, average/min/max value';

CREATE VIEW report.site_critical_daily AS
SELECT d.day_utc, d.site_id,
       COALESCE(s.name, 'unknown') AS site_name,
       COALESCE(s.city, 'unknown') AS city,
       COALESCE(s.country, 'unknown') AS country,
       d.critical_events, d.warning_events, d.events, d.over_crit_threshold
FROM (
    SELECT (hour AT TIME ZONE 'UTC')::date AS day_utc, site_id,
           sum(critical_events)::bigint AS critical_events,
           sum(warning_events)::bigint AS warning_events,
           sum(events)::bigint AS events,
           sum(over_crit_threshold)::bigint AS over_crit_threshold
    FROM public.site_hourly
    GROUP BY 1, 2
) d
LEFT JOIN public.sites s ON s.site_id = d.site_id;
COMMENT ON VIEW report.site_critical_daily IS 'critical-event counts per site and UTC day';

CREATE VIEW report.critical_events AS
SELECT event_id, at, hour AS hour_utc, site_id, site_name, city, country, device_id, model, vendor,
       kind, value, unit, crit_threshold, threshold_state, site_known, device_known
FROM public.enriched_events
WHERE severity = 'critical';
COMMENT ON VIEW report.critical_events IS 'every critical event with its dimensions';

CREATE VIEW report.device_health AS
WITH recent AS (
    SELECT device_id,
           min(site_id) AS site_id,
           min(kind) AS kind,
           count(*) AS events_24h,
           count(*) FILTER (WHERE severity = 'warning') AS warnings_24h,
           count(*) FILTER (WHERE severity = 'critical') AS criticals_24h,
           count(*) FILTER (WHERE threshold_state IN ('warning', 'critical')) AS over_threshold_24h,
           max(at) AS last_event_at
    FROM public.enriched_events
    WHERE hour >= date_trunc('hour', now() - interval '24 hours', 'UTC')
      AND at >= now() - interval '24 hours'
    GROUP BY device_id
)
SELECT d.device_id, d.site_id, COALESCE(s.name, 'unknown') AS site_name, d.kind, d.model,
       true AS registered,
       COALESCE(r.events_24h, 0) AS events_24h,
       COALESCE(r.warnings_24h, 0) AS warnings_24h,
       COALESCE(r.criticals_24h, 0) AS criticals_24h,
       COALESCE(r.over_threshold_24h, 0) AS over_threshold_24h,
       r.last_event_at,
       CASE
           WHEN r.device_id IS NULL THEN 'silent'
           WHEN r.criticals_24h > 0 THEN 'critical'
           WHEN r.warnings_24h > 0 OR r.over_threshold_24h > 0 THEN 'warning'
           ELSE 'ok'
       END AS status
FROM public.devices d
LEFT JOIN public.sites s ON s.site_id = d.site_id
LEFT JOIN recent r ON r.device_id = d.device_id
UNION ALL
SELECT r.device_id, r.site_id, COALESCE(s.name, 'unknown'), r.kind, 'unknown', false,
       r.events_24h, r.warnings_24h, r.criticals_24h, r.over_threshold_24h, r.last_event_at,
       'unregistered'
FROM recent r
LEFT JOIN public.sites s ON s.site_id = r.site_id
WHERE NOT EXISTS (SELECT 1 FROM public.devices d WHERE d.device_id = r.device_id);
COMMENT ON VIEW report.device_health IS 'per device over the last 24 hours: events, warnings, criticals, last event; status silent/ok/warning/critical, unregistered for devices missing from the reference data';

CREATE VIEW report.enrich_runs AS
SELECT run_id, window_start, window_end, status, started_at, finished_at,
       events_read, events_changed, unknown_devices, unknown_sites, unknown_models, total_ms
FROM public.batch_runs
WHERE job = 'enrich';
COMMENT ON VIEW report.enrich_runs IS 'enrich batch runs, for data freshness (latest succeeded window_end)';

GRANT USAGE ON SCHEMA report TO report_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA report TO report_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA report GRANT SELECT ON TABLES TO report_reader;

GRANT SELECT ON public.sites, public.devices TO batch_writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.enriched_events, public.site_hourly, public.batch_runs TO batch_writer;

-- +goose Down
DROP SCHEMA report CASCADE;
REVOKE ALL ON public.sites, public.devices, public.enriched_events, public.site_hourly, public.batch_runs FROM batch_writer;
