package io.sluice.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
 * workload identity: the federated token the identity webhook mounts
 * (AZURE_FEDERATED_TOKEN_FILE) is exchanged for an access token of the
 * namespace (scope https://&lt;namespace host&gt;/.default) with the OAuth 2.0
 * client-credentials grant and a client assertion. No shared key is
 * involved: the namespace's local auth is off. The Kafka client calls it
 * again before the token expires.
 */
public final class EntraLoginCallbackHandler implements AuthenticateCallbackHandler {
  private final Map<String, String> env;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private String scope;

  public EntraLoginCallbackHandler() {
    this(System.getenv());
  }

  EntraLoginCallbackHandler(Map<String, String> env) {
    this.env = env;
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

  private String need(String name) throws IOException {
    String v = env.get(name);
    if (v == null || v.isBlank()) {
      throw new IOException(name + " is not set: the pod needs the workload identity label and service account");
    }
    return v.trim();
  }

  /** Exchanges the federated token for an access token of the namespace. */
  OAuthBearerToken fetch() throws IOException {
    String clientId = need("AZURE_CLIENT_ID");
    String tenant = need("AZURE_TENANT_ID");
    String assertion = Files.readString(Path.of(need("AZURE_FEDERATED_TOKEN_FILE")), StandardCharsets.UTF_8).trim();
    String authority = env.getOrDefault("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.com/");
    if (!authority.endsWith("/")) {
      authority += "/";
    }
    String form = "grant_type=client_credentials"
        + "&client_id=" + enc(clientId)
        + "&scope=" + enc(scope)
        + "&client_assertion_type=" + enc("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        + "&client_assertion=" + enc(assertion);
    HttpRequest req = HttpRequest.newBuilder(URI.create(authority + enc(tenant) + "/oauth2/v2.0/token"))
        .timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(form))
        .build();
    HttpResponse<String> resp;
    try {
      resp = http.send(req, HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("entra id token request interrupted", e);
    }
    JsonNode body = new ObjectMapper().readTree(resp.body());
    if (resp.statusCode() != 200 || !body.hasNonNull("access_token")) {
      throw new IOException("entra id token request: HTTP " + resp.statusCode() + ": "
          + body.path("error").asText("") + " " + body.path("error_description").asText(""));
    }
    long now = System.currentTimeMillis();
    long lifetime = now + body.path("expires_in").asLong(3600) * 1000L;
    String value = body.get("access_token").asText();
    String granted = scope;
    return new OAuthBearerToken() {
      @Override public String value() { return value; }
      @Override public Set<String> scope() { return Set.of(granted); }
      @Override public long lifetimeMs() { return lifetime; }
      @Override public String principalName() { return clientId; }
      @Override public Long startTimeMs() { return now; }
    };
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  @Override
  public void close() {}
}
