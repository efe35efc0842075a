package io.sluice.spark;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The device models from the Parquet file, checked as the Go engine checks
 * them (package refdata): model and kind text matching the shared patterns,
 * each model once, finite thresholds with warn at most crit, a finite
 * range. A malformed file fails the run before anything is written. The
 * file is small: it is read on the driver and handed to the join as a
 * broadcast.
 */
final class Models {
  static final StructType SCHEMA = new StructType()
      .add("model", DataTypes.StringType, false)
      .add("kind", DataTypes.StringType, false)
      .add("vendor", DataTypes.StringType, false)
      .add("warn_threshold", DataTypes.DoubleType, false)
      .add("crit_threshold", DataTypes.DoubleType, false);

  private Models() {}

  static Dataset<Row> read(SparkSession spark, String path, EnrichSql q) {
    Dataset<Row> file = spark.read().parquet(path);
    Map<String, DataType> types = new HashMap<>();
    for (StructField f : file.schema().fields()) {
      types.put(f.name(), f.dataType());
    }
    List<String> problems = new ArrayList<>();
    need(types, "model", true, problems, DataTypes.StringType);
    need(types, "kind", true, problems, DataTypes.StringType);
    need(types, "warn_threshold", true, problems, DataTypes.DoubleType, DataTypes.FloatType);
    need(types, "crit_threshold", true, problems, DataTypes.DoubleType, DataTypes.FloatType);
    need(types, "vendor", false, problems, DataTypes.StringType);
    need(types, "range_min", false, problems, DataTypes.DoubleType, DataTypes.FloatType);
    need(types, "range_max", false, problems, DataTypes.DoubleType, DataTypes.FloatType);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("malformed device-model file " + path + ": " + String.join("; ", problems));
    }
    String vendor = types.containsKey("vendor") ? "vendor" : "CAST(NULL AS STRING)";
    String lo = types.containsKey("range_min") ? "CAST(range_min AS DOUBLE)" : "CAST(NULL AS DOUBLE)";
    String hi = types.containsKey("range_max") ? "CAST(range_max AS DOUBLE)" : "CAST(NULL AS DOUBLE)";
    List<Row> rows = file.selectExpr("model", "kind", vendor, "CAST(warn_threshold AS DOUBLE)", "CAST(crit_threshold AS DOUBLE)", lo, hi)
        .collectAsList();
    return spark.createDataFrame(validate(rows, q), SCHEMA);
  }

  private static void need(Map<String, DataType> types, String name, boolean required, List<String> problems, DataType... ok) {
    DataType t = types.get(name);
    if (t == null) {
      if (required) {
        problems.add("column " + name + " is missing");
      }
      return;
    }
    for (DataType o : ok) {
      if (o.equals(t)) {
        return;
      }
    }
    problems.add("column " + name + " is " + t.simpleString());
  }

  /** The checked models: rows of (model, kind, vendor, warn, crit, range_min, range_max). */
  static List<Row> validate(List<Row> rows, EnrichSql q) {
    if (rows.isEmpty()) {
      throw new IllegalArgumentException("malformed device-model file: no rows");
    }
    Pattern model = Pattern.compile(q.text("modelPattern"));
    Pattern kind = Pattern.compile(q.text("kindPattern"));
    Map<String, Integer> seen = new HashMap<>();
    List<Row> out = new ArrayList<>(rows.size());
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      String m = r.isNullAt(0) ? "" : r.getString(0);
      String k = r.isNullAt(1) ? "" : r.getString(1);
      String bad = "malformed device-model file: row " + (i + 1) + " (model \"" + m + "\"): ";
      if (!model.matcher(m).find()) {
        throw new IllegalArgumentException(bad + "model must match " + model);
      }
      Integer prev = seen.putIfAbsent(m, i + 1);
      if (prev != null) {
        throw new IllegalArgumentException(bad + "model repeats row " + prev);
      }
      if (!kind.matcher(k).find()) {
        throw new IllegalArgumentException(bad + "kind must match " + kind);
      }
      if (r.isNullAt(3) || r.isNullAt(4)) {
        throw new IllegalArgumentException(bad + "warn_threshold and crit_threshold must not be null");
      }
      double warn = r.getDouble(3);
      double crit = r.getDouble(4);
      if (!Double.isFinite(warn) || !Double.isFinite(crit)) {
        throw new IllegalArgumentException(bad + "thresholds must be finite numbers");
      }
      if (warn > crit) {
        throw new IllegalArgumentException(bad + "warn_threshold " + warn + " is above crit_threshold " + crit);
      }
      double lo = r.isNullAt(5) ? 0 : r.getDouble(5);
      double hi = r.isNullAt(6) ? 0 : r.getDouble(6);
      if (!Double.isFinite(lo) || !Double.isFinite(hi) || lo > hi) {
        throw new IllegalArgumentException(bad + "range_min " + lo + " and range_max " + hi + " are not a finite range");
      }
      out.add(RowFactory.create(m, k, r.isNullAt(2) ? "" : r.getString(2), warn, crit));
    }
    return out;
  }
}
