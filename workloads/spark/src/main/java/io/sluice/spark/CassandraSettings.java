package io.sluice.spark;

import java.util.HashMap;
import java.util.Map;

/** CASSANDRA_*, read as the Go workloads read them, and the connector's configuration from them. */
final class CassandraSettings {
  String hosts;
  int port;
  String user;
  String password;
  String keyspace;
  boolean tls;

  static CassandraSettings from(Contract c, EnvReader r) {
    CassandraSettings s = new CassandraSettings();
    s.hosts = r.required("CASSANDRA_HOSTS");
    s.port = r.integer("CASSANDRA_PORT", 9042, 1, 65535);
    s.user = r.get("CASSANDRA_USERNAME");
    s.password = r.secret("CASSANDRA_PASSWORD", "CASSANDRA_PASSWORD_FILE");
    s.keyspace = r.get("CASSANDRA_KEYSPACE", c.keyspace());
    s.tls = r.bool("CASSANDRA_TLS", false);
    return s;
  }

  boolean cosmos() {
    return hosts != null && hosts.contains(".cassandra.cosmos.azure.com");
  }

  /** The connector's settings (spark.cassandra.*). */
  Map<String, String> sparkConf() {
    Map<String, String> conf = new HashMap<>();
    conf.put("spark.cassandra.connection.host", hosts);
    conf.put("spark.cassandra.connection.port", String.valueOf(port));
    conf.put("spark.cassandra.connection.ssl.enabled", String.valueOf(tls || cosmos()));
    if (user != null) {
      conf.put("spark.cassandra.auth.username", user);
    }
    if (password != null) {
      conf.put("spark.cassandra.auth.password", password);
    }
    return conf;
  }
}
