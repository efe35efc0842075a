package io.sluice.spark;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a job's environment variables by their contract names, collecting
 * every problem so that a job reports them all at once, before it starts.
 */
final class EnvReader {
  private final Contract contract;
  private final Map<String, String> env;
  final List<String> problems = new ArrayList<>();

  EnvReader(Contract contract, Map<String, String> env) {
    this.contract = contract;
    this.env = env;
  }

  /** The trimmed value, null when unset or blank. */
  String get(String name) {
    String v = env.get(contract.env(name));
    return v == null || v.isBlank() ? null : v.trim();
  }

  String get(String name, String def) {
    String v = get(name);
    return v == null ? def : v;
  }

  String required(String name) {
    String v = get(name);
    if (v == null) {
      problems.add(name + " is required");
    }
    return v;
  }

  void problem(String p) {
    problems.add(p);
  }

  boolean bool(String name, boolean def) {
    String v = get(name);
    if (v == null) {
      return def;
    }
    if (!v.equals("true") && !v.equals("false")) {
      problems.add(name + " " + v + " is not true or false");
      return def;
    }
    return v.equals("true");
  }

  int integer(String name, int def, int lo, int hi) {
    String v = get(name);
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

  Duration duration(String name, String def, Duration lo, Duration hi) {
    String v = get(name, def);
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

  /** The secret of name, or of name_FILE's file; setting both is a problem. */
  String secret(String name, String fileName) {
    String v = get(name);
    String file = get(fileName);
    if (file != null) {
      if (v != null) {
        problems.add("set only one of " + name + " and " + fileName);
      }
      try {
        v = Files.readString(Path.of(file), StandardCharsets.UTF_8).trim();
      } catch (IOException e) {
        problems.add(fileName + " " + file + ": " + e.getMessage());
      }
    }
    return v;
  }

  /** Throws with every problem found, one per line. */
  void check() {
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("invalid configuration:\n  " + String.join("\n  ", problems));
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
}
