// Package enrich is Sluice's batch job: it takes a window of events from
// Cassandra, enriches them with reference data and writes them to
// PostgreSQL for reporting. The binary is workloads/cmd/enrich; on Azure a
// Kubernetes CronJob runs it, locally a command (and make demo) does.
//
// # Windows and the watermark
//
// A window is a half-open interval of event time, [From, To). With
// --from/--to the job enriches exactly that window. Without them it plans
// from batch_runs (see [PlanDefault]): every completed hour (ENRICH_SETTLE
// after its end, 2 minutes by default) that no succeeded run covers
// completely, oldest first, one window per hour, looking back no further
// than the first succeeded run and ENRICH_CATCHUP (24 hours); a new
// deployment starts with the last completed hour only. Hours a job that was
// down for longer left behind (after the first succeeded run, before the
// catch-up horizon, up to MaxMissedLookback back) are not dropped
// silently: the run logs them as a warning with the --from/--to backfill
// that enriches them (see [PlanMissed]).
//
// # Late events
//
// Completeness is judged by what ingest stored, not by the clock alone:
// ingest keeps a mark per event-time hour (contract.TableHourMarks, see
// eventstore.WithHourMarks), the latest time it stored rows into it, and
// a row always lands within contract.HourMarkLag of its hour's mark. An
// hour a succeeded run covers whose mark is later than HourMarkLag before
// that run started may hold rows the run did not read (an ingest backlog,
// a device that buffered its events): the next default run redoes the hour
// whole, with reason late (a warning names the hour and the run it
// redoes); its events_changed are the late events. Late hours older than
// the catch-up horizon are reported with the missed ones. A redo that
// starts within the lag of the latest late rows is itself redone once
// more, the bound on repeated work.
//
// Every run is a batch_runs row: window, reason (due, late, requested),
// the run a late redo follows (redoes), status (running, succeeded, failed, skipped,
// abandoned), counts (events read and changed, unknown devices, sites and
// models, duplicates, hourly rows), phase timings, the reference data used
// and the error. A running run writes a heartbeat; a run whose heartbeat is
// older than ENRICH_STALE_AFTER (a killed pod) is marked abandoned by the
// next run. A partial hour, such as the demo's window that ends at the next
// minute, is enriched as asked, but it does not cover the hour: the next
// default run enriches the whole hour again once it has completed, and the
// upsert makes that repeat harmless.
//
// # Reading Cassandra
//
// Ingest writes every event to events_by_hour ((hour, shard), at, id) as
// well, with contract.HourShards partitions per UTC hour. A window is read
// as the (hour × shard) partitions it touches, ENRICH_READ_CONCURRENCY at a
// time, each paged (ENRICH_PAGE_SIZE rows) with the clustering bounds
// at >= From AND at < To, so a run reads its window and nothing else: no
// full-table scan, no token-range sweep. Pages are fetched with explicit
// paging state; a failed page is retried (ENRICH_READ_ATTEMPTS, errors
// classified by cqlsession.Classify) from the state of the last good page,
// so no row is handed on twice.
//
// # Reference data
//
// Sites and devices are PostgreSQL tables; device models and their alarm
// thresholds come from a Parquet file (ENRICH_MODELS_URL: a path, or
// abfss:// or https:// in Data Lake Storage, see package refdata). Each run
// reads the file, then copies sites, devices and models into temporary
// tables of its transaction, so every event of the window is enriched
// against one consistent set. An event whose device, site or model is not
// in the reference data is kept, with 'unknown' dimensions and *_known =
// false, and counted in the run's row. A malformed file or an unreachable
// store fails the run before anything is written.
//
// # One transaction per window
//
// All writes of a window happen in one transaction on one connection:
//
//  1. SET LOCAL lock_timeout and work_mem; pg_advisory_xact_lock on every
//     hour the window touches (in order), so runs of overlapping windows
//     take turns. A run that waited while another run enriched the same
//     window commits nothing and ends as skipped: concurrent runs of one
//     window never both commit.
//  2. The reference data into temporary tables (ON COMMIT DROP).
//  3. The events, streamed from the Cassandra readers with COPY into a
//     temporary staging table, ENRICH_CHUNK_ROWS at a time; each chunk is
//     enriched by a join and written to enriched_events by event id, then
//     the staging table is truncated for the next chunk. While PostgreSQL
//     works on one chunk the readers fill a bounded buffer for the next,
//     so reading and writing overlap and memory stays bounded. The write is
//     a plain INSERT when none of the chunk's events exists yet and
//     otherwise INSERT … ON CONFLICT (event_id) DO UPDATE, which rewrites a
//     row only when its content changed: running a window twice leaves
//     identical rows.
//  4. site_hourly is deleted and recomputed for every hour the window
//     touches, from all enriched events of those hours.
//  5. The run's row is marked succeeded, then COMMIT.
//
// A crash, a kill or any error before the commit leaves PostgreSQL as it
// was; the run's row says failed (or, when the process died, abandoned
// later), and a re-run does the window again. Nothing in the transaction
// depends on session state (temporary tables live and die inside it, locks
// and settings are transaction-scoped), so the job runs through PgBouncer
// in transaction pooling mode; see package pgstore for the connection
// settings and package pgmigrate for the schema.
//
// # Engines
//
// ENRICH_ENGINE picks what enriches a window: go, this process as above,
// or spark, the Spark job io.sluice.spark.EnrichJob (workloads/spark) for
// windows that outgrow one pod. Planning, the batch_runs row, its
// heartbeat and the failure record stay here whatever the engine (see
// Job.Spark and package sparklaunch); the Spark driver reads the window's
// events_by_hour partitions in parallel on its executors, joins them with
// the models file and the sites and devices tables, stages the enriched
// rows in an unlogged table of the run (SparkStagePrefix + run id, which
// its executors fill over JDBC, each task committing its part) and then,
// in one transaction, takes the same hour locks, upserts with the same
// statement, recomputes site_hourly with the same statement and marks the
// run succeeded — only a run still running — before it commits and drops
// the staging table. The statements come from this package through a
// generated file (SparkSQLPath), so the engines cannot drift apart, and a
// test enriches one window with both and compares every row and count.
package enrich
