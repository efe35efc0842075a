// Package redis declares the cache the changefeed and api workloads share.
//
// The default is Azure Managed Redis (Microsoft.Cache/redisEnterprise and its
// database, API 2025-07-01 through azurenative/cache/v20250701, since older
// API versions retire): TLS only (port 10000), TLS 1.2 minimum, access keys
// off, Entra ID access through access policy assignments, replicated where
// configured (a replicated cluster is spread over the region's zones by
// Azure), publicNetworkAccess Disabled with private networking (the cluster
// is then reachable through its private endpoint only), Enabled otherwise.
// Writes to the cluster run one after another: database, private endpoint,
// access policy assignments. Azure Cache for Redis (Basic, Standard,
// Premium) retires, so it is only selectable (redisKind: classic) for tenants
// that still run it; it gets the same rules: non-TLS port off, TLS 1.2, access
// keys off, Entra ID on.
//
// The database uses the EnterpriseCluster policy: clients see one endpoint,
// and the workloads' keys carry hash tags so they also work clustered.
package redis
