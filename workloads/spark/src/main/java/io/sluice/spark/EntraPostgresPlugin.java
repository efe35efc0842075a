package io.sluice.spark;

import java.io.IOException;
import org.postgresql.plugin.AuthenticationPlugin;
import org.postgresql.plugin.AuthenticationRequestType;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

/**
 * The PostgreSQL driver's password for POSTGRES_AUTH=entra: an Entra ID
 * access token of the pod's workload identity for Azure Database for
 * PostgreSQL, cached until five minutes before it expires. The driver and
 * every executor load it by name (authenticationPluginClassName).
 */
public final class EntraPostgresPlugin implements AuthenticationPlugin {
  private static final long REFRESH_BEFORE_MS = 5 * 60 * 1000L;
  private static WorkloadIdentity.Token cached;

  @Override
  public char[] getPassword(AuthenticationRequestType type) throws PSQLException {
    return token(new WorkloadIdentity(System.getenv()), EnrichSql.load().postgresEntraScope()).toCharArray();
  }

  static synchronized String token(WorkloadIdentity id, String scope) throws PSQLException {
    if (cached == null || cached.expiresAtMs() - System.currentTimeMillis() < REFRESH_BEFORE_MS) {
      try {
        cached = id.token(scope);
      } catch (IOException e) {
        throw new PSQLException("entra id token for postgresql: " + e.getMessage(), PSQLState.CONNECTION_REJECTED, e);
      }
    }
    return cached.value();
  }
}
