package io.sluice.spark;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The stream job's configuration, from the environment variables the
 * contract names (the same KAFKA_* and CASSANDRA_* the Go workloads read,
 * plus SPARK_*). Every problem is reported at once, before anything starts.
 */
public final class Settings {
  /** The trigger value that processes what is there and stops. */
  public static final String AVAILABLE_NOW = "available-now";

  public String master;
  public String kafkaBrokers;
  public String kafkaTopic;
  public String kafkaAuth;
  public boolean kafkaTLS;
  public String groupPrefix;
  public String startingOffsets;
  public String cassandraHosts;
  public int cassandraPort;
  public String cassandraUser;
  public String cassandraPassword;
  public String keyspace;
  public boolean cassandraTLS;
  public String checkpoint;
  /** The processing-time trigger, null for {@link #AVAILABLE_NOW}. */
  public Duration trigger;
  public Duration watermark;
  public Duration silenceAfter;

  private EnvReader reader;

  /** Reads the settings from env (System.getenv in the job). */
  public static Settings from(Contract c, Map<String, String> env) {
    Settings s = new Settings();
    EnvReader r = new EnvReader(c, env);
    s.reader = r;
    s.master = r.get("SPARK_MASTER");
    s.kafkaBrokers = r.required("KAFKA_BROKERS");
    s.kafkaTopic = r.get("KAFKA_TOPIC", "events");
    s.kafkaAuth = r.get("KAFKA_AUTH", "none");
    if (!List.of("none", "oauth").contains(s.kafkaAuth)) {
      r.problem("KAFKA_AUTH " + s.kafkaAuth + " is not one of none, oauth (the stream job signs in to Event Hubs with Entra ID, never a shared key)");
    }
    s.kafkaTLS = r.bool("KAFKA_TLS", s.kafkaAuth.equals("oauth"));
    s.groupPrefix = r.get("SPARK_GROUP_PREFIX", "sluice-spark-stream");
    s.startingOffsets = r.get("SPARK_STARTING_OFFSETS", "earliest");
    if (!List.of("earliest", "latest").contains(s.startingOffsets)) {
      r.problem("SPARK_STARTING_OFFSETS " + s.startingOffsets + " is not earliest or latest");
    }
    CassandraSettings cs = CassandraSettings.from(c, r);
    s.cassandraHosts = cs.hosts;
    s.cassandraPort = cs.port;
    s.cassandraUser = cs.user;
    s.cassandraPassword = cs.password;
    s.keyspace = cs.keyspace;
    s.cassandraTLS = cs.tls;
    s.checkpoint = r.required("SPARK_CHECKPOINT");
    String trigger = r.get("SPARK_TRIGGER", "10s");
    s.trigger = trigger.equals(AVAILABLE_NOW) ? null : r.duration("SPARK_TRIGGER", "10s", Duration.ofMillis(100), Duration.ofHours(1));
    s.watermark = r.duration("SPARK_WATERMARK", "2m", Duration.ZERO, Duration.ofDays(1));
    s.silenceAfter = r.duration("SPARK_SILENCE_AFTER", "5m", Duration.ofSeconds(1), Duration.ofDays(7));
    return s;
  }

  /** Fails with every problem found, one per line. */
  public Settings check() {
    reader.check();
    return this;
  }

  /** A duration written as Go writes simple ones (see {@link EnvReader#parseDuration}). */
  static Duration parseDuration(String v) {
    return EnvReader.parseDuration(v);
  }
}
