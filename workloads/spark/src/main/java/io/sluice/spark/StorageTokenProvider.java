package io.sluice.spark;

import java.io.IOException;
import java.util.Date;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.azurebfs.extensions.CustomTokenProviderAdaptee;

/**
 * Hadoop's ABFS driver signs in to Data Lake Storage with this (the enrich
 * job's abfss:// models file): an Entra ID token of the pod's workload
 * identity ({@link WorkloadIdentity}) for Azure Storage, as the Go engine
 * reads the same file. Hadoop 3.3's own providers know no workload
 * identity. ABFS asks again once the token is near its expiry.
 */
public final class StorageTokenProvider implements CustomTokenProviderAdaptee {
  /** The scope of Azure Storage's data plane. */
  static final String SCOPE = "https://storage.azure.com/.default";

  private final Map<String, String> env;
  private WorkloadIdentity identity;
  private WorkloadIdentity.Token token;

  public StorageTokenProvider() {
    this(System.getenv());
  }

  StorageTokenProvider(Map<String, String> env) {
    this.env = env;
  }

  @Override
  public void initialize(Configuration configuration, String accountName) {
    identity = new WorkloadIdentity(env);
  }

  @Override
  public String getAccessToken() throws IOException {
    token = identity.token(SCOPE);
    return token.value();
  }

  @Override
  public Date getExpiryTime() {
    return new Date(token == null ? 0 : token.expiresAtMs());
  }

  /** The Hadoop settings (spark.hadoop.*) that make ABFS use this provider. */
  static Map<String, String> sparkConf() {
    return Map.of(
        "spark.hadoop.fs.azure.account.auth.type", "Custom",
        "spark.hadoop.fs.azure.account.oauth.provider.type", StorageTokenProvider.class.getName());
  }
}
