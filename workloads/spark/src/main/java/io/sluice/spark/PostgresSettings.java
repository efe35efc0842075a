package io.sluice.spark;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * POSTGRES_*, read as the Go workloads read them (a postgres:// URL, or
 * host, port, database, user and password), and the JDBC connection they
 * make. With POSTGRES_AUTH=entra the password is an Entra ID token of the
 * pod's workload identity ({@link EntraPostgresPlugin}). Connections never
 * use server-side prepared statements (prepareThreshold=0), so they work
 * through PgBouncer in transaction pooling mode.
 */
final class PostgresSettings {
  static final List<String> SSL_MODES = List.of("disable", "allow", "prefer", "require", "verify-ca", "verify-full");

  String host;
  int port = 5432;
  String database = "sluice";
  String user;
  String password;
  String sslMode = "require";
  String auth = "password";
  String appName;

  static PostgresSettings from(EnvReader r, String appName) {
    PostgresSettings s = new PostgresSettings();
    s.appName = appName;
    String url = r.get("POSTGRES_URL");
    String host = r.get("POSTGRES_HOST");
    if (url != null && host != null) {
      r.problem("set only one of POSTGRES_URL and POSTGRES_HOST");
    } else if (url != null) {
      s.parseURL(url, r);
    } else if (host != null) {
      s.host = host;
      s.port = r.integer("POSTGRES_PORT", 5432, 1, 65535);
      s.database = r.get("POSTGRES_DATABASE", "sluice");
      s.user = r.get("POSTGRES_USER");
      s.password = r.get("POSTGRES_PASSWORD");
      s.sslMode = r.get("POSTGRES_SSLMODE", "require");
      if (s.user == null) {
        r.problem("POSTGRES_USER is required with POSTGRES_HOST");
      }
    } else {
      r.problem("POSTGRES_URL or POSTGRES_HOST is required");
    }
    if (!SSL_MODES.contains(s.sslMode)) {
      r.problem("POSTGRES_SSLMODE " + s.sslMode + " is not one of " + String.join(", ", SSL_MODES));
    }
    s.auth = r.get("POSTGRES_AUTH", "password");
    if (!List.of("password", "entra").contains(s.auth)) {
      r.problem("POSTGRES_AUTH " + s.auth + " is not password or entra");
    }
    if (s.auth.equals("entra") && s.password != null) {
      r.problem("POSTGRES_PASSWORD must not be set with POSTGRES_AUTH=entra (the Entra ID token is the password)");
    }
    return s;
  }

  /** Reads a postgres:// or postgresql:// URL; its errors never quote it (it may hold a password). */
  private void parseURL(String url, EnvReader r) {
    URI u;
    try {
      u = new URI(url);
    } catch (URISyntaxException e) {
      r.problem("POSTGRES_URL is not a URL");
      return;
    }
    if (!"postgres".equals(u.getScheme()) && !"postgresql".equals(u.getScheme())) {
      r.problem("POSTGRES_URL must be a postgres:// URL for the Spark engine");
      return;
    }
    host = u.getHost();
    if (host == null) {
      r.problem("POSTGRES_URL has no host");
    }
    if (u.getPort() > 0) {
      port = u.getPort();
    }
    String path = u.getPath();
    if (path != null && path.length() > 1) {
      database = path.substring(1);
    }
    String info = u.getRawUserInfo();
    if (info != null) {
      int colon = info.indexOf(':');
      user = decode(colon < 0 ? info : info.substring(0, colon));
      if (colon >= 0) {
        password = decode(info.substring(colon + 1));
      }
    }
    Map<String, String> q = query(u.getRawQuery());
    if (q.containsKey("sslmode")) {
      sslMode = q.get("sslmode");
    }
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> out = new LinkedHashMap<>();
    if (raw == null) {
      return out;
    }
    for (String kv : raw.split("&")) {
      int eq = kv.indexOf('=');
      if (eq > 0) {
        out.put(decode(kv.substring(0, eq)), decode(kv.substring(eq + 1)));
      }
    }
    return out;
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  /**
   * The JDBC URL. Strings are sent untyped (stringtype=unspecified), so
   * the server casts the staged uuid, jsonb and timestamptz text itself.
   */
  String jdbcURL() {
    return "jdbc:postgresql://" + host + ":" + port + "/" + database
        + "?sslmode=" + sslMode + "&prepareThreshold=0&stringtype=unspecified&reWriteBatchedInserts=true"
        + "&ApplicationName=" + appName;
  }

  /** The connection properties: the user, and the password or the Entra ID plugin. */
  Properties properties() {
    Properties p = new Properties();
    if (user != null) {
      p.setProperty("user", user);
    }
    if (auth.equals("entra")) {
      p.setProperty("authenticationPluginClassName", EntraPostgresPlugin.class.getName());
    } else if (password != null) {
      p.setProperty("password", password);
    }
    return p;
  }

  Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcURL(), properties());
  }

  /** Where the job connects, without credentials, for logs. */
  String redacted() {
    return host + ":" + port + "/" + database + " as " + user + " (" + auth + ")";
  }
}
