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
import java.util.Map;

/**
 * The pod's Entra ID workload identity: the federated token the identity
 * webhook mounts (AZURE_FEDERATED_TOKEN_FILE) is exchanged for an access
 * token of a scope with the OAuth 2.0 client-credentials grant and a client
 * assertion. No secret is involved.
 */
final class WorkloadIdentity {
  /** An access token and when it stops being valid. */
  record Token(String value, long startMs, long expiresAtMs, String clientId) {}

  private final Map<String, String> env;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  WorkloadIdentity(Map<String, String> env) {
    this.env = env;
  }

  private String need(String name) throws IOException {
    String v = env.get(name);
    if (v == null || v.isBlank()) {
      throw new IOException(name + " is not set: the pod needs the workload identity label and service account");
    }
    return v.trim();
  }

  /** Exchanges the federated token for an access token of scope. */
  Token token(String scope) throws IOException {
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
    return new Token(body.get("access_token").asText(), now, now + body.path("expires_in").asLong(3600) * 1000L, clientId);
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
