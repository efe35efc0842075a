package io.sluice.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The job's configuration: every problem at once, and the Event Hubs sign-in. */
class SettingsTest {
  private static final Contract CONTRACT = Contract.load();

  private static Map<String, String> env(String... kv) {
    Map<String, String> m = new HashMap<>(Map.of("KAFKA_BROKERS", "127.0.0.1:19092", "CASSANDRA_HOSTS", "127.0.0.1",
        "SPARK_CHECKPOINT", "/tmp/ckpt"));
    for (int i = 0; i + 1 < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  @Test
  void defaultsAndDurations() {
    Settings s = Settings.from(CONTRACT, env("SPARK_WATERMARK", "1m30s", "SPARK_TRIGGER", "available-now")).check();
    assertEquals(Duration.ofSeconds(90), s.watermark);
    assertNull(s.trigger);
    assertEquals("events", s.kafkaTopic);
    assertEquals(CONTRACT.keyspace(), s.keyspace);
    assertEquals(Duration.ofMinutes(5), s.silenceAfter);
    assertTrue(StreamJob.kafkaSecurity(s).isEmpty(), "no security options locally");
  }

  @Test
  void everyProblemAtOnce() {
    Map<String, String> e = env("SPARK_TRIGGER", "soon", "KAFKA_AUTH", "plain", "CASSANDRA_PORT", "99999", "SPARK_STARTING_OFFSETS", "middle");
    e.remove("KAFKA_BROKERS");
    IllegalArgumentException err = assertThrows(IllegalArgumentException.class, () -> Settings.from(CONTRACT, e).check());
    for (String want : new String[] {"KAFKA_BROKERS is required", "SPARK_TRIGGER soon", "KAFKA_AUTH plain", "CASSANDRA_PORT 99999", "SPARK_STARTING_OFFSETS middle"}) {
      assertTrue(err.getMessage().contains(want), want + " missing from: " + err.getMessage());
    }
  }

  /** What the job requires is what the contract (and so the plan check) says it requires. */
  @Test
  void requiresWhatTheContractSays() {
    IllegalArgumentException err = assertThrows(IllegalArgumentException.class, () -> Settings.from(CONTRACT, new HashMap<>()).check());
    java.util.List<String> required = new java.util.ArrayList<>();
    for (String line : err.getMessage().split("\n")) {
      if (line.trim().endsWith(" is required")) {
        required.add(line.trim().replace(" is required", ""));
      }
    }
    java.util.Collections.sort(required);
    java.util.List<String> want = new java.util.ArrayList<>(CONTRACT.requiredEnv());
    java.util.Collections.sort(want);
    assertEquals(want, required);
    Settings.from(CONTRACT, env()).check();
  }

  @Test
  void eventHubsSignsInWithEntraID() {
    Map<String, String> o = StreamJob.kafkaSecurity(Settings.from(CONTRACT, env("KAFKA_AUTH", "oauth")).check());
    assertEquals("SASL_SSL", o.get("kafka.security.protocol"));
    assertEquals("OAUTHBEARER", o.get("kafka.sasl.mechanism"));
    assertEquals(EntraLoginCallbackHandler.class.getName(), o.get("kafka.sasl.login.callback.handler.class"));
    assertTrue(o.get("kafka.sasl.jaas.config").contains("OAuthBearerLoginModule required"));
    assertEquals("SSL", StreamJob.kafkaSecurity(Settings.from(CONTRACT, env("KAFKA_TLS", "true")).check()).get("kafka.security.protocol"));
  }

  @Test
  void javaPatternsEndLikeGos() {
    assertEquals("^[a-z]+\\z", Contract.javaPattern("^[a-z]+$"));
    assertTrue(!"site\n".matches(Contract.javaPattern("^[a-z]+$")) && !java.util.regex.Pattern.compile(Contract.javaPattern("^[a-z]+$")).matcher("site\n").find());
  }
}
