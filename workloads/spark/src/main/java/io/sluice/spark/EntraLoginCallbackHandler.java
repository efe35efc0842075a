package io.sluice.spark;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerTokenCallback;

/**
 * Signs the Kafka client in to Event Hubs with Entra ID, as the pod's
 * workload identity ({@link WorkloadIdentity}), for an access token of the
 * namespace (scope https://&lt;namespace host&gt;/.default). No shared key is
 * involved: the namespace's local auth is off. The Kafka client calls it
 * again before the token expires.
 */
public final class EntraLoginCallbackHandler implements AuthenticateCallbackHandler {
  private final WorkloadIdentity identity;
  private String scope;

  public EntraLoginCallbackHandler() {
    this(System.getenv());
  }

  EntraLoginCallbackHandler(Map<String, String> env) {
    this.identity = new WorkloadIdentity(env);
  }

  @Override
  public void configure(Map<String, ?> configs, String mechanism, List<AppConfigurationEntry> jaas) {
    if (!"OAUTHBEARER".equals(mechanism)) {
      throw new IllegalArgumentException("the Entra ID login handler serves SASL OAUTHBEARER, not " + mechanism);
    }
    Object servers = configs.get("bootstrap.servers");
    String first = servers instanceof List<?> l && !l.isEmpty() ? String.valueOf(l.get(0)) : String.valueOf(servers);
    String host = first.trim().replaceFirst(":\\d+$", "");
    if (host.isEmpty() || host.equals("null")) {
      throw new IllegalArgumentException("no bootstrap server to take the Event Hubs namespace from");
    }
    scope = "https://" + host + "/.default";
  }

  String scope() {
    return scope;
  }

  @Override
  public void handle(Callback[] callbacks) throws IOException, UnsupportedCallbackException {
    for (Callback cb : callbacks) {
      if (!(cb instanceof OAuthBearerTokenCallback tc)) {
        throw new UnsupportedCallbackException(cb);
      }
      tc.token(fetch());
    }
  }

  /** Exchanges the federated token for an access token of the namespace. */
  OAuthBearerToken fetch() throws IOException {
    WorkloadIdentity.Token t = identity.token(scope);
    String granted = scope;
    return new OAuthBearerToken() {
      @Override public String value() { return t.value(); }
      @Override public Set<String> scope() { return Set.of(granted); }
      @Override public long lifetimeMs() { return t.expiresAtMs(); }
      @Override public String principalName() { return t.clientId(); }
      @Override public Long startTimeMs() { return t.startMs(); }
    };
  }

  @Override
  public void close() {}
}
