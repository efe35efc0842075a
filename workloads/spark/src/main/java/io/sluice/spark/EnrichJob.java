package io.sluice.spark;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.date_format;
import static org.apache.spark.sql.functions.date_trunc;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.to_json;
import static org.apache.spark.sql.functions.when;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TimeZone;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The enrich job on Spark: one window of events from Cassandra
 * (events_by_hour, one scan per (hour, shard) partition, so executors read
 * in parallel), joined with the device models (Parquet) and the sites and
 * devices tables (PostgreSQL over JDBC), written to enriched_events and
 * site_hourly with the same semantics as the Go engine.
 *
 * <p>Spark's JDBC writer only appends, and each of its tasks commits on its
 * own, so the executors stage the enriched rows in an unlogged table of
 * the run; the driver then merges it in one transaction with the Go
 * engine's statements (sluice-enrich.json): the window's hours locked, the
 * upsert by event id that rewrites only changed rows, site_hourly
 * recomputed, the run marked succeeded (only while it is still running),
 * the staging table dropped, commit. A driver killed before the commit
 * leaves enriched_events and site_hourly as they were; its staging table
 * is dropped by a later run.
 *
 * <p>The Go enrich job (ENRICH_ENGINE=spark) plans the windows, records the
 * run, keeps its heartbeat and records a failure; it starts this job with
 * --run-id, --from and --to. Exit status: 0 when the run succeeded or was
 * skipped (recorded in its row), 1 when it failed, 2 on bad configuration.
 */
public final class EnrichJob {
  private static final Logger LOG = LoggerFactory.getLogger(EnrichJob.class);
  private static final String TIME = "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX";

  private final SparkSession spark;
  private final Connection db;
  private final EnrichSettings s;
  private final Contract contract;
  private final EnrichSql q;

  /** What a run did: its batch_runs row's figures. */
  static final class Result {
    String status;
    String reference;
    long eventsRead, eventsChanged, unknownDevices, unknownSites, unknownModels, duplicates, hourlyRows;
    long referenceMs, copyMs, upsertMs, aggregateMs, totalMs;
    long supersededBy;
  }

  EnrichJob(SparkSession spark, Connection db, EnrichSettings s, Contract contract, EnrichSql q) {
    this.spark = spark;
    this.db = db;
    this.s = s;
    this.contract = contract;
    this.q = q;
  }

  public static void main(String[] args) {
    TimeZone.setDefault(TimeZone.getTimeZone(ZoneOffset.UTC));
    Contract contract = Contract.load();
    EnrichSql q = EnrichSql.load();
    EnrichSettings s;
    try {
      s = EnrichSettings.from(contract, q, System.getenv(), args);
    } catch (IllegalArgumentException e) {
      System.err.println("enrich job: " + e.getMessage());
      System.exit(2);
      return;
    }
    SparkSession spark = session(s);
    int code = 0;
    try (Connection db = s.postgres.connect()) {
      Result r = new EnrichJob(spark, db, s, contract, q).run();
      LOG.info("enrich run {} {}: read {} changed {} unknown devices {} sites {} models {} duplicates {} hourly rows {} in {} ms",
          s.runId, r.status, r.eventsRead, r.eventsChanged, r.unknownDevices, r.unknownSites, r.unknownModels, r.duplicates,
          r.hourlyRows, r.totalMs);
    } catch (Exception e) {
      LOG.error("enrich run {} failed: {}", s.runId, e.toString(), e);
      System.err.println("enrich job: run " + s.runId + ": " + e);
      code = 1;
    }
    spark.stop();
    System.exit(code);
  }

  static SparkSession session(EnrichSettings s) {
    SparkSession.Builder b = SparkSession.builder().appName("sluice-enrich");
    if (s.master != null) {
      b = b.master(s.master);
    }
    Map<String, String> conf = new HashMap<>(s.cassandra.sparkConf());
    conf.put("spark.sql.session.timeZone", "UTC");
    conf.put("spark.ui.enabled", "false");
    // A speculative copy of a staging task would stage its rows twice.
    conf.put("spark.speculation", "false");
    // Pages as large as the Go engine reads.
    conf.put("spark.cassandra.input.fetch.sizeInRows", "5000");
    if (s.models != null && s.models.startsWith("abfss://")) {
      conf.putAll(StorageTokenProvider.sparkConf());
    }
    if (s.master != null && s.master.startsWith("local")) {
      conf.put("spark.sql.shuffle.partitions", String.valueOf(2 * Math.max(1, Runtime.getRuntime().availableProcessors())));
    }
    for (Map.Entry<String, String> e : conf.entrySet()) {
      b = b.config(e.getKey(), e.getValue());
    }
    return b.getOrCreate();
  }

  Result run() throws Exception {
    long begin = System.nanoTime();
    Result r = new Result();
    db.setAutoCommit(true);
    OffsetDateTime startedAt = checkRun();
    dropStaleStages();

    long t0 = System.nanoTime();
    Dataset<Row> models = Models.read(spark, s.models, q);
    long modelCount = models.count();
    Dataset<Row> sites = jdbc("(SELECT site_id, name, city, country FROM sites) sites").cache();
    Dataset<Row> devices = jdbc("(SELECT device_id, model FROM devices) devices").cache();
    long siteCount = sites.count();
    long deviceCount = devices.count();
    r.reference = String.format(q.text("referenceInfo"), s.modelsURL, modelCount, siteCount, deviceCount);
    r.referenceMs = ms(t0);

    t0 = System.nanoTime();
    Dataset<Row> enriched = enrich(events(), sites, devices, models);
    String stage = q.stagePrefix() + s.runId;
    exec(String.format(q.text("createStage"), stage));
    try {
      // One pass: read, join, stage. The run's counts are then read from
      // the staging table, which holds exactly what was read (each task's
      // rows commit once, at its end, and tasks are not speculated).
      Properties props = s.postgres.properties();
      props.setProperty("batchsize", "5000");
      enriched.write().mode(SaveMode.Append).jdbc(s.postgres.jdbcURL(), stage, props);
      count(stage, r);
      r.copyMs = ms(t0);
      LOG.info("run {}: {} events staged in {} in {} ms", s.runId, r.eventsRead, stage, r.copyMs);
      merge(stage, startedAt, r, begin);
    } finally {
      if (!db.getAutoCommit()) {
        db.rollback();
        db.setAutoCommit(true);
      }
      exec("DROP TABLE IF EXISTS " + stage);
    }
    return r;
  }

  /** The run's counts, from its staging table: as the Go engine counts, unknown models only of known devices. */
  private void count(String stage, Result r) throws SQLException {
    try (Statement st = db.createStatement();
         ResultSet rs = st.executeQuery("SELECT count(*), count(*) FILTER (WHERE NOT device_known), count(*) FILTER (WHERE NOT site_known),"
             + " count(*) FILTER (WHERE device_known AND NOT model_known), count(DISTINCT event_id) FROM " + stage)) {
      rs.next();
      r.eventsRead = rs.getLong(1);
      r.unknownDevices = rs.getLong(2);
      r.unknownSites = rs.getLong(3);
      r.unknownModels = rs.getLong(4);
      r.duplicates = r.eventsRead - rs.getLong(5);
    }
  }

  /** The run's row must be a running run of this job and window, as the Go side recorded it. */
  private OffsetDateTime checkRun() throws SQLException {
    try (PreparedStatement ps = db.prepareStatement(
        "SELECT status, window_start, window_end, started_at FROM batch_runs WHERE run_id = ? AND job = ?")) {
      ps.setLong(1, s.runId);
      ps.setString(2, q.job());
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new IllegalStateException("run " + s.runId + " is not a run of " + q.job() + " in batch_runs");
        }
        String status = rs.getString(1);
        Instant from = rs.getObject(2, OffsetDateTime.class).toInstant();
        Instant to = rs.getObject(3, OffsetDateTime.class).toInstant();
        if (!status.equals("running")) {
          throw new IllegalStateException("run " + s.runId + " is " + status + ", not running: nothing to do");
        }
        if (!from.equals(s.from.truncatedTo(ChronoUnit.MICROS)) || !to.equals(s.to.truncatedTo(ChronoUnit.MICROS))) {
          throw new IllegalStateException("run " + s.runId + " is the window " + from + " to " + to + ", not " + s.from + " to " + s.to);
        }
        return rs.getObject(4, OffsetDateTime.class);
      }
    }
  }

  /** Drops the staging tables of runs that are no longer running (a driver killed before its end). */
  private void dropStaleStages() throws SQLException {
    List<String> stale = new ArrayList<>();
    try (PreparedStatement ps = db.prepareStatement(
        "SELECT t.tablename FROM pg_tables t WHERE t.schemaname = current_schema() AND left(t.tablename, ?) = ?"
            + " AND NOT EXISTS (SELECT 1 FROM batch_runs b WHERE b.status = 'running'"
            + " AND ? || b.run_id::text = t.tablename)")) {
      ps.setInt(1, q.stagePrefix().length());
      ps.setString(2, q.stagePrefix());
      ps.setString(3, q.stagePrefix());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          stale.add(rs.getString(1));
        }
      }
    }
    for (String t : stale) {
      LOG.info("dropping {}, the staging table of a run that ended without its driver", t);
      exec("DROP TABLE IF EXISTS " + t);
    }
  }

  private Dataset<Row> jdbc(String table) {
    return spark.read().jdbc(s.postgres.jdbcURL(), table, s.postgres.properties());
  }

  /** The window's events: one scan per (hour, shard) partition, bounded by the window's times. */
  Dataset<Row> events() {
    List<String> cols = new ArrayList<>(contract.columns("events_by_hour"));
    Dataset<Row> table = spark.read().format("org.apache.spark.sql.cassandra")
        .option("keyspace", s.cassandra.keyspace).option("table", "events_by_hour").load();
    Timestamp from = Timestamp.from(s.from);
    Timestamp to = Timestamp.from(s.to);
    Dataset<Row> all = null;
    for (Instant h = s.from.truncatedTo(ChronoUnit.HOURS); h.isBefore(s.to); h = h.plus(1, ChronoUnit.HOURS)) {
      for (int shard = 0; shard < contract.hourShards(); shard++) {
        Dataset<Row> p = table.where(col("hour").equalTo(lit(Timestamp.from(h))).and(col("shard").equalTo(lit(shard)))
            .and(col("at").geq(lit(from))).and(col("at").lt(lit(to))));
        all = all == null ? p : all.union(p);
      }
    }
    return all.selectExpr(cols.toArray(new String[0]));
  }

  /**
   * The enriched rows, in enriched_events' column order, as the Go engine
   * computes them: unknown dimensions read 'unknown' with *_known false, the
   * model matched by the device's model and the event's kind, the threshold
   * state from the model's thresholds. Times, ids and attrs are text the
   * server casts (timestamptz, uuid, jsonb).
   */
  Dataset<Row> enrich(Dataset<Row> ev, Dataset<Row> sites, Dataset<Row> devices, Dataset<Row> models) {
    String u = q.unknown();
    Dataset<Row> j = ev.alias("s")
        .join(broadcast(sites).alias("si"), col("s.site").equalTo(col("si.site_id")), "left")
        .join(broadcast(devices).alias("d"), col("s.device").equalTo(col("d.device_id")), "left")
        .join(broadcast(models).alias("m"), col("m.model").equalTo(col("d.model")).and(col("m.kind").equalTo(col("s.kind"))), "left");
    Map<String, Column> out = new HashMap<>();
    out.put("event_id", col("s.id"));
    out.put("at", date_format(col("s.at"), TIME));
    out.put("hour", date_format(date_trunc("hour", col("s.at")), TIME));
    out.put("site_id", col("s.site"));
    out.put("device_id", col("s.device"));
    out.put("kind", col("s.kind"));
    out.put("value", col("s.value"));
    out.put("unit", col("s.unit"));
    out.put("severity", col("s.severity"));
    out.put("site_name", coalesce(col("si.name"), lit(u)));
    out.put("city", coalesce(col("si.city"), lit(u)));
    out.put("country", coalesce(col("si.country"), lit(u)));
    out.put("model", coalesce(col("d.model"), lit(u)));
    out.put("vendor", coalesce(col("m.vendor"), lit(u)));
    out.put("warn_threshold", col("m.warn_threshold"));
    out.put("crit_threshold", col("m.crit_threshold"));
    out.put("threshold_state", when(col("m.model").isNull(), lit(u))
        .when(col("s.value").geq(col("m.crit_threshold")), lit("critical"))
        .when(col("s.value").geq(col("m.warn_threshold")), lit("warning"))
        .otherwise(lit("normal")));
    out.put("site_known", col("si.site_id").isNotNull());
    out.put("device_known", col("d.device_id").isNotNull());
    out.put("model_known", col("m.model").isNotNull());
    out.put("attrs", when(col("s.attrs").isNotNull().and(size(col("s.attrs")).gt(0)), to_json(col("s.attrs"))));
    out.put("ingested_at", date_format(col("s.ingested_at"), TIME));
    List<Column> sel = new ArrayList<>();
    for (String name : q.enrichedColumns()) {
      Column c = out.remove(name);
      if (c == null) {
        throw new IllegalStateException("enriched_events column " + name + " is not computed by the Spark engine");
      }
      sel.add(c.as(name));
    }
    if (!out.isEmpty()) {
      throw new IllegalStateException("the Spark engine computes columns enriched_events does not have: " + out.keySet());
    }
    return j.select(sel.toArray(new Column[0]));
  }

  /** The window's one transaction: lock, check, upsert, recompute, succeed, commit. */
  private void merge(String stage, OffsetDateTime startedAt, Result r, long begin) throws SQLException {
    Instant firstHour = s.from.truncatedTo(ChronoUnit.HOURS);
    Instant endHour = s.to.truncatedTo(ChronoUnit.HOURS);
    if (endHour.isBefore(s.to)) {
      endHour = endHour.plus(1, ChronoUnit.HOURS);
    }
    db.setAutoCommit(false);
    exec("SET LOCAL lock_timeout = " + s.lockTimeout.toMillis());
    exec("SET LOCAL work_mem = '" + s.workMem + "'");
    try (PreparedStatement ps = EnrichSql.prepare(db, q.text("lockHours"), q.lockClass(),
        firstHour.getEpochSecond() / 3600, endHour.getEpochSecond() / 3600 - 1)) {
      ps.executeQuery().close();
    } catch (SQLException e) {
      if ("55P03".equals(e.getSQLState())) {
        throw new SQLException("another run held the window's hours for longer than " + s.lockTimeout + ": " + e.getMessage(), e);
      }
      throw e;
    }
    try (PreparedStatement ps = EnrichSql.prepare(db, q.text("supersededBy"), q.job(), s.runId, odt(s.from), odt(s.to), startedAt);
         ResultSet rs = ps.executeQuery()) {
      if (rs.next()) {
        r.supersededBy = rs.getLong(1);
      }
    }
    if (r.supersededBy != 0) {
      db.rollback();
      db.setAutoCommit(true);
      r.status = "skipped";
      r.totalMs = ms(begin);
      end(r, "run " + r.supersededBy + " enriched this window while this run waited for its lock");
      return;
    }
    long t0 = System.nanoTime();
    try (PreparedStatement ps = EnrichSql.prepare(db, String.format(q.text("merge"), stage), s.runId)) {
      r.eventsChanged = ps.executeUpdate();
    }
    r.upsertMs = ms(t0);
    t0 = System.nanoTime();
    exec("SET LOCAL enable_sort = off");
    try (PreparedStatement ps = EnrichSql.prepare(db, q.text("deleteHourly"), odt(firstHour), odt(endHour))) {
      ps.executeUpdate();
    }
    try (PreparedStatement ps = EnrichSql.prepare(db, q.text("recomputeHourly"), odt(firstHour), odt(endHour))) {
      r.hourlyRows = ps.executeUpdate();
    }
    r.aggregateMs = ms(t0);
    exec("DROP TABLE " + stage);
    r.status = "succeeded";
    r.totalMs = ms(begin);
    try (PreparedStatement ps = EnrichSql.prepare(db, q.text("succeed"), s.runId, r.reference, r.eventsRead, r.eventsChanged,
        r.unknownDevices, r.unknownSites, r.unknownModels, r.duplicates, r.hourlyRows, r.referenceMs, r.copyMs, r.upsertMs,
        r.aggregateMs, r.totalMs)) {
      if (ps.executeUpdate() != 1) {
        throw new IllegalStateException("run " + s.runId + " is no longer running (marked abandoned?): nothing committed");
      }
    }
    db.commit();
    db.setAutoCommit(true);
  }

  /** Records a run that did not commit its window (skipped). */
  private void end(Result r, String msg) throws SQLException {
    try (PreparedStatement ps = EnrichSql.prepare(db, q.text("end"), s.runId, r.status, r.reference, r.eventsRead,
        r.unknownDevices, r.unknownSites, r.unknownModels, r.referenceMs, r.copyMs, r.upsertMs, r.aggregateMs, r.totalMs, msg)) {
      ps.executeUpdate();
    }
  }

  private void exec(String sql) throws SQLException {
    try (Statement st = db.createStatement()) {
      st.execute(sql);
    }
  }

  private static OffsetDateTime odt(Instant t) {
    return t.atOffset(ZoneOffset.UTC);
  }

  private static long ms(long since) {
    return (System.nanoTime() - since) / 1_000_000;
  }
}
