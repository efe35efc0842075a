package io.sluice.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import javax.security.auth.callback.Callback;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerTokenCallback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Event Hubs sign-in against a stand-in Entra ID token endpoint on loopback. */
class EntraLoginCallbackHandlerTest {
  private HttpServer entra;
  private final AtomicReference<String> path = new AtomicReference<>();
  private final AtomicReference<String> form = new AtomicReference<>();
  private int status = 200;
  private String answer = "{\"token_type\":\"Bearer\",\"expires_in\":600,\"access_token\":\"eh-token\"}";
  private Path tokenFile;

  @BeforeEach
  void start() throws IOException {
    entra = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    entra.createContext("/", ex -> {
      path.set(ex.getRequestURI().getPath());
      form.set(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      byte[] b = answer.getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(status, b.length);
      ex.getResponseBody().write(b);
      ex.close();
    });
    entra.start();
    tokenFile = Files.createTempFile("federated", ".jwt");
    Files.writeString(tokenFile, "federated-jwt\n");
  }

  @AfterEach
  void stop() throws IOException {
    entra.stop(0);
    Files.deleteIfExists(tokenFile);
  }

  private Map<String, String> identityEnv() {
    Map<String, String> env = new HashMap<>();
    env.put("AZURE_CLIENT_ID", "client-1");
    env.put("AZURE_TENANT_ID", "tenant-1");
    env.put("AZURE_FEDERATED_TOKEN_FILE", tokenFile.toString());
    env.put("AZURE_AUTHORITY_HOST", "http://127.0.0.1:" + entra.getAddress().getPort());
    return env;
  }

  private EntraLoginCallbackHandler handler() {
    EntraLoginCallbackHandler h = new EntraLoginCallbackHandler(identityEnv());
    h.configure(Map.of("bootstrap.servers", List.of("evhns-sluice.servicebus.windows.net:9093")), "OAUTHBEARER", List.of());
    return h;
  }

  private static Map<String, String> parse(String form) {
    Map<String, String> out = new HashMap<>();
    for (String kv : form.split("&")) {
      String[] p = kv.split("=", 2);
      out.put(URLDecoder.decode(p[0], StandardCharsets.UTF_8), URLDecoder.decode(p[1], StandardCharsets.UTF_8));
    }
    return out;
  }

  @Test
  void exchangesTheFederatedTokenForTheNamespacesScope() throws Exception {
    OAuthBearerTokenCallback cb = new OAuthBearerTokenCallback();
    long before = System.currentTimeMillis();
    handler().handle(new Callback[] {cb});
    assertEquals("eh-token", cb.token().value());
    assertEquals("client-1", cb.token().principalName());
    assertTrue(cb.token().lifetimeMs() >= before + 600_000 && cb.token().lifetimeMs() <= System.currentTimeMillis() + 600_000);
    assertEquals("/tenant-1/oauth2/v2.0/token", path.get());
    Map<String, String> f = parse(form.get());
    assertEquals("client_credentials", f.get("grant_type"));
    assertEquals("client-1", f.get("client_id"));
    assertEquals("https://evhns-sluice.servicebus.windows.net/.default", f.get("scope"));
    assertEquals("urn:ietf:params:oauth:client-assertion-type:jwt-bearer", f.get("client_assertion_type"));
    assertEquals("federated-jwt", f.get("client_assertion"));
  }

  @Test
  void reportsWhatEntraRefused() {
    status = 401;
    answer = "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS700213: no matching federated identity record\"}";
    IOException e = assertThrows(IOException.class, () -> handler().handle(new Callback[] {new OAuthBearerTokenCallback()}));
    assertTrue(e.getMessage().contains("401") && e.getMessage().contains("invalid_client") && e.getMessage().contains("AADSTS700213"), e.getMessage());
  }

  @Test
  void refusesOtherMechanismsAndAPodWithoutIdentity() {
    assertThrows(IllegalArgumentException.class,
        () -> new EntraLoginCallbackHandler(Map.of()).configure(Map.of("bootstrap.servers", "x:9093"), "PLAIN", List.of()));
    EntraLoginCallbackHandler h = new EntraLoginCallbackHandler(Map.of());
    h.configure(Map.of("bootstrap.servers", "evhns.servicebus.windows.net:9093"), "OAUTHBEARER", List.of());
    assertEquals("https://evhns.servicebus.windows.net/.default", h.scope());
    IOException e = assertThrows(IOException.class, () -> h.handle(new Callback[] {new OAuthBearerTokenCallback()}));
    assertTrue(e.getMessage().contains("AZURE_CLIENT_ID"), e.getMessage());
  }

  /** The enrich job reads an abfss:// models file with the same identity, for Azure Storage's scope. */
  @Test
  void signsABFSInForStorage() throws Exception {
    StorageTokenProvider p = new StorageTokenProvider(identityEnv());
    p.initialize(new org.apache.hadoop.conf.Configuration(), "acct.dfs.core.windows.net");
    long before = System.currentTimeMillis();
    assertEquals("eh-token", p.getAccessToken());
    assertEquals("https://storage.azure.com/.default", parse(form.get()).get("scope"));
    assertTrue(p.getExpiryTime().getTime() >= before + 600_000);
    assertEquals(StorageTokenProvider.class.getName(), StorageTokenProvider.sparkConf().get("spark.hadoop.fs.azure.account.oauth.provider.type"));
    // Hadoop's ABFS driver is on the class path for the scheme.
    assertEquals("org.apache.hadoop.fs.azurebfs.SecureAzureBlobFileSystem",
        org.apache.hadoop.fs.FileSystem.getFileSystemClass("abfss", new org.apache.hadoop.conf.Configuration()).getName());
  }

  /** POSTGRES_AUTH=entra: the JDBC password is a token for Azure Database for PostgreSQL, cached. */
  @Test
  void signsPostgresIn() throws Exception {
    WorkloadIdentity id = new WorkloadIdentity(identityEnv());
    String scope = EnrichSql.load().postgresEntraScope();
    assertEquals("eh-token", EntraPostgresPlugin.token(id, scope));
    assertEquals(scope, parse(form.get()).get("scope"));
    form.set(null);
    assertEquals("eh-token", EntraPostgresPlugin.token(id, scope));
    assertEquals(null, form.get(), "a token valid for 10 minutes is reused");
  }
}
