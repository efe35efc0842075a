-- Why a run enriched its window: a completed hour that was due, an hour
-- that received events after the run that covered it (late: redone whole,
-- its events_changed are the late events), or a window asked for. Rows
-- from before this migration say 'requested'.

-- +goose Up
ALTER TABLE batch_runs
    ADD COLUMN reason text NOT NULL DEFAULT 'requested' CHECK (reason IN ('due', 'late', 'requested')),
    ADD COLUMN redoes bigint REFERENCES batch_runs (run_id);
COMMENT ON COLUMN batch_runs.reason IS 'due: a completed hour not yet enriched; late: an hour that received events after the run in redoes; requested: an explicit window';
COMMENT ON COLUMN batch_runs.redoes IS 'for reason late: the succeeded run whose hour received events after it started';

CREATE OR REPLACE VIEW report.enrich_runs AS
SELECT run_id, window_start, window_end, status, started_at, finished_at,
       events_read, events_changed, unknown_devices, unknown_sites, unknown_models, total_ms,
       reason, redoes
FROM public.batch_runs
WHERE job = 'enrich';
COMMENT ON VIEW report.enrich_runs IS 'enrich batch runs, for data freshness (latest succeeded window_end) and late data (reason late: events_changed events arrived after the hour was enriched)';

-- +goose Down
DROP VIEW report.enrich_runs;
CREATE VIEW report.enrich_runs AS
SELECT run_id, window_start, window_end, status, started_at, finished_at,
       events_read, events_changed, unknown_devices, unknown_sites, unknown_models, total_ms
FROM public.batch_runs
WHERE job = 'enrich';
COMMENT ON VIEW report.enrich_runs IS 'enrich batch runs, for data freshness (latest succeeded window_end)';
GRANT SELECT ON report.enrich_runs TO report_reader;
ALTER TABLE batch_runs DROP COLUMN redoes, DROP COLUMN reason;
