package io.sluice.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;

/** The enrich job's configuration, its PostgreSQL settings, the shared statements and the models' rules. */
class EnrichSettingsTest {
  private static final Contract CONTRACT = Contract.load();
  private static final EnrichSql SQL = EnrichSql.load();
  private static final String[] ARGS = {"--run-id", "7", "--from", "2026-01-02T03:00:00Z", "--to", "2026-01-02T04:00:00Z"};

  private static Map<String, String> env(String... kv) {
    Map<String, String> m = new HashMap<>(Map.of("CASSANDRA_HOSTS", "127.0.0.1", "ENRICH_MODELS_URL", "/tmp/models.parquet",
        "POSTGRES_URL", "postgres://enrich:p%40ss@127.0.0.1:15432/sluice?sslmode=disable"));
    for (int i = 0; i + 1 < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  @Test
  void readsTheRunAndTheGoJobsVariables() {
    EnrichSettings s = EnrichSettings.from(CONTRACT, SQL, env(), ARGS);
    assertEquals(7, s.runId);
    assertEquals(Instant.parse("2026-01-02T03:00:00Z"), s.from);
    assertEquals("file:///tmp/models.parquet", s.models);
    assertEquals("127.0.0.1", s.postgres.host);
    assertEquals(15432, s.postgres.port);
    assertEquals("enrich", s.postgres.user);
    assertEquals("p@ss", s.postgres.password);
    assertEquals("disable", s.postgres.sslMode);
    assertTrue(s.postgres.jdbcURL().contains("prepareThreshold=0"), "PgBouncer in transaction mode needs unnamed statements");
    // The defaults are the Go job's.
    assertEquals(Duration.ofMinutes(10), s.lockTimeout);
    assertEquals("256MB", s.workMem);
  }

  @Test
  void everyProblemAtOnce() {
    Map<String, String> e = env("ENRICH_MODELS_URL", "https://acct.dfs.core.windows.net/ref/models.parquet",
        "ENRICH_WORK_MEM", "lots", "POSTGRES_AUTH", "kerberos");
    e.remove("CASSANDRA_HOSTS");
    IllegalArgumentException err = assertThrows(IllegalArgumentException.class,
        () -> EnrichSettings.from(CONTRACT, SQL, e, new String[] {"--run-id", "x", "--from", "yesterday", "--to", "now"}));
    for (String want : List.of("CASSANDRA_HOSTS is required", "https:// is not read by the Spark engine", "ENRICH_WORK_MEM lots",
        "POSTGRES_AUTH kerberos", "--run-id x", "RFC 3339")) {
      assertTrue(err.getMessage().contains(want), () -> "missing \"" + want + "\" in: " + err.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> EnrichSettings.from(CONTRACT, SQL, env(), new String[0]));
  }

  @Test
  void postgresByHostAndEntra() {
    EnrichSettings s = EnrichSettings.from(CONTRACT, SQL, env("POSTGRES_URL", "", "POSTGRES_HOST", "pg.example.internal",
        "POSTGRES_PORT", "6432", "POSTGRES_USER", "enrich-spark", "POSTGRES_AUTH", "entra"), ARGS);
    assertEquals("require", s.postgres.sslMode);
    assertEquals(EntraPostgresPlugin.class.getName(), s.postgres.properties().getProperty("authenticationPluginClassName"));
    assertNull(s.postgres.properties().getProperty("password"));
    IllegalArgumentException err = assertThrows(IllegalArgumentException.class, () -> EnrichSettings.from(CONTRACT, SQL,
        env("POSTGRES_HOST", "pg"), ARGS));
    assertTrue(err.getMessage().contains("only one of POSTGRES_URL and POSTGRES_HOST"), err.getMessage());
  }

  /** Each $n of a shared statement is bound to its argument, however often and in whatever order it appears. */
  @Test
  void sharedStatementPlaceholders() throws Exception {
    List<Object> bound = new ArrayList<>();
    List<String> sql = new ArrayList<>();
    java.sql.Connection c = (java.sql.Connection) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {java.sql.Connection.class}, (p, m, a) -> {
          if (m.getName().equals("prepareStatement")) {
            sql.add((String) a[0]);
            return java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {java.sql.PreparedStatement.class},
                (p2, m2, a2) -> {
                  if (m2.getName().equals("setObject")) {
                    bound.add(a2[1]);
                  }
                  return null;
                });
          }
          return null;
        });
    EnrichSql.prepare(c, "UPDATE t SET a = $2, b = $3 WHERE id = $1 AND c = $2::int8", 1L, "two", 3);
    assertEquals("UPDATE t SET a = ?, b = ? WHERE id = ? AND c = ?::int8", sql.get(0));
    assertEquals(List.of("two", 3, 1L, "two"), bound);
    assertThrows(IllegalArgumentException.class, () -> EnrichSql.prepare(c, "SELECT $4", 1L));
  }

  private static Row model(String m, String k, Double warn, Double crit) {
    return RowFactory.create(m, k, null, warn, crit, null, null);
  }

  /** The models' rules are the Go reader's: a bad file fails the run before anything is written. */
  @Test
  void modelRules() {
    List<Row> ok = Models.validate(List.of(model("temp-t1", "temperature", 30.0, 40.0)), SQL);
    assertEquals("", ok.get(0).getString(2), "a missing vendor reads as empty, as in Go");
    for (List<Row> bad : List.of(
        List.<Row>of(),
        List.of(model("bad model!", "temperature", 1.0, 2.0)),
        List.of(model("m1", "Temperature", 1.0, 2.0)),
        List.of(model("m1", "temperature", 1.0, 2.0), model("m1", "humidity", 1.0, 2.0)),
        List.of(model("m1", "temperature", null, 2.0)),
        List.of(model("m1", "temperature", 3.0, 2.0)),
        List.of(model("m1", "temperature", Double.NaN, 2.0)))) {
      assertThrows(IllegalArgumentException.class, () -> Models.validate(bad, SQL), () -> "accepted " + bad);
    }
  }
}
