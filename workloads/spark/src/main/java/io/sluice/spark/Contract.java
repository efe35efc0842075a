package io.sluice.spark;

import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.isnan;
import static org.apache.spark.sql.functions.length;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The event contract as the Go contract package generates it
 * (sluice-contract.json, workloads/contract/spark.go): the wire fields and
 * every rule the Go decoder applies, the keyspace, the tables the jobs
 * write and the environment variables they read. Nothing here is typed
 * twice: a Go test fails when the file drifts from the Go code.
 */
public final class Contract {
  private final JsonNode root;

  private Contract(JsonNode root) {
    this.root = root;
  }

  /** Loads the contract from the job's resources. */
  public static Contract load() {
    try (InputStream in = Contract.class.getResourceAsStream("/sluice-contract.json")) {
      if (in == null) {
        throw new IllegalStateException("sluice-contract.json is not on the classpath: the job jar is incomplete");
      }
      return new Contract(new ObjectMapper().readTree(in));
    } catch (IOException e) {
      throw new UncheckedIOException("read sluice-contract.json", e);
    }
  }

  /** The name of an environment variable the contract lists. */
  public String env(String name) {
    JsonNode v = root.path("env").path(name);
    if (v.isMissingNode()) {
      throw new IllegalArgumentException("environment variable " + name + " is not in the contract");
    }
    return v.asText();
  }

  /** The variables the job cannot start without (the contract's requiredEnv). */
  public List<String> requiredEnv() {
    List<String> out = new ArrayList<>();
    root.path("requiredEnv").forEach(n -> out.add(n.asText()));
    return out;
  }

  /** How many events_by_hour partitions an hour has. */
  public int hourShards() {
    return root.path("hourShards").asInt();
  }

  public String keyspace() {
    return root.path("keyspace").asText();
  }

  /** The columns of a table the jobs write, in the table's order. */
  public List<String> columns(String table) {
    JsonNode t = root.path("tables").path(table);
    if (t.isMissingNode()) {
      throw new IllegalArgumentException("table " + table + " is not in the contract");
    }
    List<String> out = new ArrayList<>();
    t.path("columns").forEach(c -> out.add(c.asText()));
    return out;
  }

  /** The wire form's schema: every field nullable, so a missing or mistyped one reads as null. */
  public StructType schema() {
    List<StructField> fields = new ArrayList<>();
    for (JsonNode f : root.path("fields")) {
      DataType type = DataType.fromDDL(f.path("type").asText());
      fields.add(DataTypes.createStructField(f.path("name").asText(), type, true));
    }
    return DataTypes.createStructType(fields);
  }

  /**
   * A Go regular expression as Java must write it: Go's {@code $} (without
   * the m flag) matches only at the end of the text, Java's also before a
   * final line break, so a trailing {@code $} becomes {@code \z}.
   */
  static String javaPattern(String goPattern) {
    return goPattern.endsWith("$") ? goPattern.substring(0, goPattern.length() - 1) + "\\z" : goPattern;
  }

  private String pattern(String key) {
    return javaPattern(root.path(key).asText());
  }

  private int num(String key) {
    return root.path(key).asInt();
  }

  /**
   * The condition an event meets exactly when the Go decoder accepts it.
   * e is the record parsed with {@link #schema} (a struct column named e),
   * at is e.at as a timestamp, bytes the record's size and utf8 whether the
   * record is valid UTF-8. The clock of the future-skew rule is the
   * micro-batch's, where ingest uses its own at receipt.
   */
  public Column valid(Column e, Column at, Column bytes, Column utf8) {
    Column ok = bytes.leq(num("maxRecordBytes")).and(utf8).and(e.isNotNull());
    for (JsonNode f : root.path("fields")) {
      if (f.path("required").asBoolean()) {
        ok = ok.and(e.getField(f.path("name").asText()).isNotNull());
      }
    }
    List<String> severities = new ArrayList<>();
    root.path("severities").forEach(s -> severities.add(s.asText()));
    Column value = e.getField("value");
    ok = ok.and(e.getField("v").equalTo(num("schemaVersion")))
        .and(e.getField("id").rlike(pattern("idPattern")))
        .and(e.getField("site").rlike(pattern("namePattern")))
        .and(e.getField("device").rlike(pattern("namePattern")))
        .and(e.getField("kind").rlike(pattern("kindPattern")))
        .and(not(isnan(value)))
        .and(value.notEqual(lit(Double.POSITIVE_INFINITY)))
        .and(value.notEqual(lit(Double.NEGATIVE_INFINITY)))
        .and(length(e.getField("unit")).leq(num("maxUnitLen")))
        .and(e.getField("severity").isin(severities.toArray()))
        .and(e.getField("at").rlike(pattern("timePattern")))
        .and(at.isNotNull())
        .and(at.geq(expr("timestamp_seconds(0)")))
        .and(at.leq(expr("current_timestamp() + make_interval(0, 0, 0, 0, 0, 0, " + num("maxFutureSkewSeconds") + ")")));
    // Spark's higher-order functions take the map through an expression;
    // e.attrs is the struct's field.
    Column attrsOk = e.getField("attrs").isNull().or(
        expr("size(e.attrs) <= " + num("maxAttrs")
            + " AND forall(map_keys(e.attrs), k -> length(k) BETWEEN 1 AND " + num("maxAttrKeyLen") + ")"
            + " AND forall(map_values(e.attrs), v -> v IS NULL OR length(v) <= " + num("maxAttrValueLen") + ")"));
    return ok.and(attrsOk);
  }
}
