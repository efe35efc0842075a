package io.sluice.spark;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

  private final List<String> problems = new ArrayList<>();

  /** Reads the settings from env (System.getenv in the job). */
  public static Settings from(Contract c, Map<String, String> env) {
    Settings s = new Settings();
    Function<String, String> get = name -> {
      String v = env.get(c.env(name));
      return v == null || v.isBlank() ? null : v.trim();
    };
    s.master = orElse(get.apply("SPARK_MASTER"), null);
    s.kafkaBrokers = s.required(get, "KAFKA_BROKERS");
    s.kafkaTopic = orElse(get.apply("KAFKA_TOPIC"), "events");
    s.kafkaAuth = orElse(get.apply("KAFKA_AUTH"), "none");
    if (!List.of("none", "oauth").contains(s.kafkaAuth)) {
      s.problems.add("KAFKA_AUTH " + s.kafkaAuth + " is not one of none, oauth (the stream job signs in to Event Hubs with Entra ID, never a shared key)");
    }
    s.kafkaTLS = s.bool(get, "KAFKA_TLS", s.kafkaAuth.equals("oauth"));
    s.groupPrefix = orElse(get.apply("SPARK_GROUP_PREFIX"), "sluice-spark-stream");
    s.startingOffsets = orElse(get.apply("SPARK_STARTING_OFFSETS"), "earliest");
    if (!List.of("earliest", "latest").contains(s.startingOffsets)) {
      s.problems.add("SPARK_STARTING_OFFSETS " + s.startingOffsets + " is not earliest or latest");
    }
    s.cassandraHosts = s.required(get, "CASSANDRA_HOSTS");
    s.cassandraPort = s.integer(get, "CASSANDRA_PORT", 9042, 1, 65535);
    s.cassandraUser = get.apply("CASSANDRA_USERNAME");
    s.cassandraPassword = get.apply("CASSANDRA_PASSWORD");
    String passwordFile = get.apply("CASSANDRA_PASSWORD_FILE");
    if (passwordFile != null) {
      if (s.cassandraPassword != null) {
        s.problems.add("set only one of CASSANDRA_PASSWORD and CASSANDRA_PASSWORD_FILE");
      }
      try {
        s.cassandraPassword = Files.readString(Path.of(passwordFile), StandardCharsets.UTF_8).trim();
      } catch (IOException e) {
        s.problems.add("CASSANDRA_PASSWORD_FILE " + passwordFile + ": " + e.getMessage());
      }
    }
    s.keyspace = orElse(get.apply("CASSANDRA_KEYSPACE"), c.keyspace());
    s.cassandraTLS = s.bool(get, "CASSANDRA_TLS", false);
    s.checkpoint = s.required(get, "SPARK_CHECKPOINT");
    String trigger = orElse(get.apply("SPARK_TRIGGER"), "10s");
    s.trigger = trigger.equals(AVAILABLE_NOW) ? null : s.duration("SPARK_TRIGGER", trigger, Duration.ofMillis(100), Duration.ofHours(1));
    s.watermark = s.duration("SPARK_WATERMARK", orElse(get.apply("SPARK_WATERMARK"), "2m"), Duration.ZERO, Duration.ofDays(1));
    s.silenceAfter = s.duration("SPARK_SILENCE_AFTER", orElse(get.apply("SPARK_SILENCE_AFTER"), "5m"), Duration.ofSeconds(1), Duration.ofDays(7));
    return s;
  }

  /** Fails with every problem found, one per line. */
  public Settings check() {
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("invalid configuration:\n  " + String.join("\n  ", problems));
    }
    return this;
  }

  private static String orElse(String v, String def) {
    return v == null ? def : v;
  }

  private String required(Function<String, String> get, String name) {
    String v = get.apply(name);
    if (v == null) {
      problems.add(name + " is required");
    }
    return v;
  }

  private boolean bool(Function<String, String> get, String name, boolean def) {
    String v = get.apply(name);
    if (v == null) {
      return def;
    }
    if (!v.equals("true") && !v.equals("false")) {
      problems.add(name + " " + v + " is not true or false");
      return def;
    }
    return v.equals("true");
  }

  private int integer(Function<String, String> get, String name, int def, int lo, int hi) {
    String v = get.apply(name);
    if (v == null) {
      return def;
    }
    try {
      int n = Integer.parseInt(v);
      if (n < lo || n > hi) {
        problems.add(name + " " + v + " is not from " + lo + " to " + hi);
      }
      return n;
    } catch (NumberFormatException e) {
      problems.add(name + " " + v + " is not an integer");
      return def;
    }
  }

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

  /** A duration written as Go writes simple ones: 500ms, 10s, 2m, 1h, or a sum such as 1m30s. */
  static Duration parseDuration(String v) {
    Matcher m = DURATION.matcher(v);
    Duration d = Duration.ZERO;
    int at = 0;
    while (m.find() && m.start() == at) {
      long n = Long.parseLong(m.group(1));
      d = d.plus(switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofHours(n);
      });
      at = m.end();
    }
    if (at != v.length() || v.isEmpty()) {
      return null;
    }
    return d;
  }

  private Duration duration(String name, String v, Duration lo, Duration hi) {
    Duration d = parseDuration(v);
    if (d == null) {
      problems.add(name + " " + v + " is not a duration such as 500ms, 10s, 2m or 1h");
      return lo;
    }
    if (d.compareTo(lo) < 0 || d.compareTo(hi) > 0) {
      problems.add(name + " " + v + " is not from " + lo + " to " + hi);
    }
    return d;
  }
}
