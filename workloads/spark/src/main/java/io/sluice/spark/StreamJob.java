package io.sluice.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.encode;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.from_json;
import static org.apache.spark.sql.functions.lower;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.GroupStateTimeout;
import org.apache.spark.sql.streaming.OutputMode;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryException;
import org.apache.spark.sql.streaming.StreamingQueryListener;
import org.apache.spark.sql.streaming.Trigger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stream job: events from Kafka (Event Hubs on Azure) to per-site,
 * per-kind one-minute aggregates and silent devices in Cassandra (Cosmos
 * DB). Two queries share the source: each keeps its own checkpoint under
 * SPARK_CHECKPOINT, and both write idempotent upserts, so a restart from
 * the checkpoints replays safely. Records the contract rejects are dropped
 * here; ingest dead-letters them.
 */
public final class StreamJob {
  private static final Logger LOG = LoggerFactory.getLogger(StreamJob.class);

  /** The queries' names: also their checkpoint folders. */
  static final String MINUTES = "site-minutes";
  static final String SILENCE = "silent-devices";

  private StreamJob() {}

  public static void main(String[] args) throws TimeoutException, StreamingQueryException {
    Contract contract = Contract.load();
    Settings s;
    try {
      s = Settings.from(contract, System.getenv()).check();
    } catch (IllegalArgumentException e) {
      System.err.println("stream job: " + e.getMessage());
      System.exit(2);
      return;
    }
    SparkSession spark = session(s);
    spark.streams().addListener(new Progress());
    List<StreamingQuery> queries = start(spark, contract, s);
    LOG.info("stream job started: {} from {} to {}.{} and {}.{}", queries.size(), s.kafkaTopic,
        s.keyspace, "site_minutes", s.keyspace, "silent_devices");
    if (s.trigger == null) {
      // Available-now: each query processes what is there, then stops.
      for (StreamingQuery q : queries) {
        q.awaitTermination();
      }
      LOG.info("stream job: available data processed");
    } else {
      spark.streams().awaitAnyTermination();
    }
    spark.stop();
  }

  /** Logs each finished micro-batch: its query, rows, duration and watermark. */
  static final class Progress extends StreamingQueryListener {
    private final Map<java.util.UUID, String> names = new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public void onQueryStarted(QueryStartedEvent e) {
      names.put(e.id(), e.name());
    }

    @Override
    public void onQueryProgress(QueryProgressEvent e) {
      var p = e.progress();
      LOG.info("query {} batch {} done: {} rows in {} ms, watermark {}", p.name(), p.batchId(), p.numInputRows(),
          p.batchDuration(), p.eventTime().getOrDefault("watermark", "none"));
    }

    @Override
    public void onQueryIdle(QueryIdleEvent e) {
      LOG.info("query {} idle: no new data", names.getOrDefault(e.id(), e.id().toString()));
    }

    @Override
    public void onQueryTerminated(QueryTerminatedEvent e) {
      if (e.exception().isDefined()) {
        LOG.error("query {} failed: {}", e.id(), e.exception().get());
      }
    }
  }

  static SparkSession session(Settings s) {
    SparkSession.Builder b = SparkSession.builder().appName("sluice-stream");
    if (s.master != null) {
      b = b.master(s.master);
    }
    Map<String, String> conf = new HashMap<>();
    conf.put("spark.sql.session.timeZone", "UTC");
    // One shuffle partition per core of a local run; a cluster's
    // spark-submit configuration sets its own.
    if (s.master != null && s.master.startsWith("local")) {
      conf.put("spark.sql.shuffle.partitions", String.valueOf(Math.max(1, Runtime.getRuntime().availableProcessors())));
    }
    conf.put("spark.ui.enabled", "false");
    conf.put("spark.cassandra.connection.host", s.cassandraHosts);
    conf.put("spark.cassandra.connection.port", String.valueOf(s.cassandraPort));
    conf.put("spark.cassandra.connection.ssl.enabled", String.valueOf(s.cassandraTLS));
    if (s.cassandraUser != null) {
      conf.put("spark.cassandra.auth.username", s.cassandraUser);
    }
    if (s.cassandraPassword != null) {
      conf.put("spark.cassandra.auth.password", s.cassandraPassword);
    }
    if (s.cassandraHosts.contains(".cassandra.cosmos.azure.com")) {
      // Cosmos DB for Apache Cassandra: TLS always, and writes in small,
      // ungrouped batches at a bounded concurrency, so an executor stays
      // under the account's throughput instead of meeting throttling
      // (each row is an upsert; a retried one changes nothing).
      conf.put("spark.cassandra.connection.ssl.enabled", "true");
      conf.put("spark.cassandra.output.batch.size.rows", "1");
      conf.put("spark.cassandra.output.batch.grouping.key", "none");
      conf.put("spark.cassandra.output.concurrent.writes", "4");
      conf.put("spark.cassandra.output.consistency.level", "LOCAL_QUORUM");
      conf.put("spark.cassandra.query.retry.count", "10");
    }
    for (Map.Entry<String, String> e : conf.entrySet()) {
      b = b.config(e.getKey(), e.getValue());
    }
    return b.getOrCreate();
  }

  /** The valid readings of the topic, with the event-time watermark. */
  static Dataset<Reading> readings(SparkSession spark, Contract c, Settings s) {
    Dataset<Row> raw = spark.readStream().format("kafka")
        .option("kafka.bootstrap.servers", s.kafkaBrokers)
        .option("subscribe", s.kafkaTopic)
        .option("startingOffsets", s.startingOffsets)
        .option("groupIdPrefix", s.groupPrefix)
        .option("failOnDataLoss", "true")
        .options(kafkaSecurity(s))
        .load();
    Dataset<Row> parsed = raw
        .select(col("value").cast("string").as("raw"), col("value").as("bytes_in"))
        .select(col("raw"), expr("octet_length(bytes_in)").as("bytes"),
            encode(col("raw"), "UTF-8").equalTo(col("bytes_in")).as("utf8"),
            from_json(col("raw"), c.schema()).as("e"))
        .withColumn("at", col("e.at").cast("timestamp"));
    return parsed
        .where(c.valid(col("e"), col("at"), col("bytes"), col("utf8")))
        .select(lower(col("e.id")).as("id"), col("e.site").as("site"), col("e.device").as("device"),
            col("e.kind").as("kind"), col("e.unit").as("unit"), col("e.value").as("value"), col("at"))
        .as(Encoders.bean(Reading.class))
        .withWatermark("at", s.watermark.toMillis() + " milliseconds");
  }

  /**
   * The Kafka client's security options: none locally; on Event Hubs SASL
   * OAUTHBEARER over TLS, signed in by {@link EntraLoginCallbackHandler} as
   * the pod's workload identity.
   */
  static Map<String, String> kafkaSecurity(Settings s) {
    Map<String, String> o = new HashMap<>();
    if (s.kafkaAuth.equals("oauth")) {
      o.put("kafka.security.protocol", "SASL_SSL");
      o.put("kafka.sasl.mechanism", "OAUTHBEARER");
      o.put("kafka.sasl.jaas.config", "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;");
      o.put("kafka.sasl.login.callback.handler.class", EntraLoginCallbackHandler.class.getName());
    } else if (s.kafkaTLS) {
      o.put("kafka.security.protocol", "SSL");
    }
    return o;
  }

  static List<StreamingQuery> start(SparkSession spark, Contract c, Settings s) throws TimeoutException {
    List<StreamingQuery> out = new ArrayList<>();

    Dataset<Row> minutes = readings(spark, c, s)
        .groupByKey((MapFunction<Reading, String>) MinuteAggregator::key, Encoders.STRING())
        .flatMapGroupsWithState(new MinuteAggregator(), OutputMode.Update(), Encoders.bean(MinuteState.class),
            Encoders.bean(MinuteRow.class), GroupStateTimeout.EventTimeTimeout())
        .selectExpr("site", "kind", "day", "minute", "unit", "events", "minValue AS min_value",
            "maxValue AS max_value", "sumValue AS sum_value", "meanValue AS mean_value", "updatedAt AS updated_at");
    out.add(sink(minutes, c, s, "site_minutes", MINUTES));

    Dataset<Row> silence = readings(spark, c, s)
        .groupByKey((MapFunction<Reading, String>) Reading::getDevice, Encoders.STRING())
        .flatMapGroupsWithState(new SilenceDetector(s.silenceAfter), OutputMode.Update(), Encoders.bean(DeviceState.class),
            Encoders.bean(SilenceRow.class), GroupStateTimeout.EventTimeTimeout())
        .selectExpr("site", "device", "kind", "silent", "lastSeen AS last_seen", "changedAt AS changed_at",
            "updatedAt AS updated_at");
    out.add(sink(silence, c, s, "silent_devices", SILENCE));
    return out;
  }

  /**
   * Starts a query writing rows to a table with upserts. The rows' columns
   * must be exactly the table's, as the contract lists them.
   */
  static StreamingQuery sink(Dataset<Row> rows, Contract c, Settings s, String table, String name) throws TimeoutException {
    List<String> want = c.columns(table);
    List<String> got = Arrays.asList(rows.columns());
    if (!got.equals(want)) {
      throw new IllegalStateException("the " + name + " query writes columns " + got + ", table " + table + " has " + want);
    }
    VoidFunction2<Dataset<Row>, Long> write = (batch, id) -> {
      batch.write().format("org.apache.spark.sql.cassandra")
          .option("keyspace", s.keyspace).option("table", table)
          .mode("append").save();
    };
    var w = rows.writeStream().queryName(name).outputMode(OutputMode.Update())
        .option("checkpointLocation", s.checkpoint + "/" + name)
        .foreachBatch(write);
    w = s.trigger == null ? w.trigger(Trigger.AvailableNow()) : w.trigger(Trigger.ProcessingTime(s.trigger.toMillis()));
    return w.start();
  }
}
