package io.sluice.spark;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The enrich job's configuration: the run the Go side recorded and its
 * window (the arguments --run-id, --from and --to, see package sparklaunch),
 * and the same CASSANDRA_*, POSTGRES_* and ENRICH_* the Go job reads. Every
 * problem is reported at once, before anything starts.
 */
final class EnrichSettings {
  long runId;
  Instant from;
  Instant to;
  String master;
  CassandraSettings cassandra;
  PostgresSettings postgres;
  /** The models file as Spark reads it: a file: URI or abfss://. */
  String models;
  /** ENRICH_MODELS_URL as given, for the run's reference column. */
  String modelsURL;
  Duration lockTimeout;
  String workMem;

  private static final Pattern WORK_MEM = Pattern.compile("^[0-9]{1,7}(kB|MB|GB)$");

  static EnrichSettings from(Contract c, EnrichSql q, Map<String, String> env, String[] args) {
    EnrichSettings s = new EnrichSettings();
    EnvReader r = new EnvReader(c, env);
    s.parseArgs(args, r);
    s.master = r.get("SPARK_MASTER");
    s.cassandra = CassandraSettings.from(c, r);
    s.postgres = PostgresSettings.from(r, "sluice-enrich-spark");
    s.modelsURL = r.required("ENRICH_MODELS_URL");
    if (s.modelsURL != null) {
      s.models = sparkPath(s.modelsURL, r);
    }
    s.lockTimeout = r.duration("ENRICH_LOCK_TIMEOUT", q.text("lockTimeout"), Duration.ofSeconds(1), Duration.ofHours(24));
    s.workMem = r.get("ENRICH_WORK_MEM", q.text("workMem"));
    if (!WORK_MEM.matcher(s.workMem).matches()) {
      r.problem("ENRICH_WORK_MEM " + s.workMem + " must be a size such as 64MB");
    }
    r.check();
    return s;
  }

  private void parseArgs(String[] args, EnvReader r) {
    String id = null, f = null, t = null;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      String v = i + 1 < args.length ? args[i + 1] : null;
      switch (a) {
        case "--run-id" -> { id = v; i++; }
        case "--from" -> { f = v; i++; }
        case "--to" -> { t = v; i++; }
        default -> r.problem("unexpected argument " + a + " (want --run-id N --from T --to T)");
      }
    }
    if (id == null || f == null || t == null) {
      r.problem("--run-id, --from and --to are required: the Go enrich job records the run and passes its window");
      return;
    }
    try {
      runId = Long.parseLong(id);
      if (runId < 1) {
        r.problem("--run-id " + id + " is not a run id");
      }
    } catch (NumberFormatException e) {
      r.problem("--run-id " + id + " is not a run id");
    }
    try {
      from = Instant.parse(f);
      to = Instant.parse(t);
      if (!from.isBefore(to)) {
        r.problem("the window " + f + " to " + t + " is empty");
      }
    } catch (DateTimeParseException e) {
      r.problem("--from and --to must be RFC 3339 times: " + e.getMessage());
    }
  }

  /** A local path or an abfss:// URL as Spark reads it; https:// is the Go engine's alone. */
  static String sparkPath(String url, EnvReader r) {
    if (url.startsWith("abfss://") || url.startsWith("file:")) {
      return url;
    }
    if (url.contains("://")) {
      r.problem("ENRICH_MODELS_URL " + url.substring(0, url.indexOf("://"))
          + ":// is not read by the Spark engine: give a path or an abfss:// URL");
      return null;
    }
    return java.nio.file.Path.of(url).toAbsolutePath().toUri().toString();
  }
}
