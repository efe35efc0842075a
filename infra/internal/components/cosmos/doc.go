// Package cosmos declares the Cosmos DB for Apache Cassandra account, its
// keyspace and tables, and the Key Vault secret holding the account key.
//
// The keyspace and tables are generated from workloads/contract, the same Go
// schema the local migrator turns into CQL, so partition keys, clustering
// order and default TTLs cannot drift between Cosmos DB and local Cassandra.
//
// Cassandra API clients authenticate with the account name and key (the API
// has no Entra ID data-plane auth), so local auth stays on; metadata writes
// with keys are off (schema changes only through ARM, i.e. this program). The
// key is read with listDatabaseAccountKeys, kept secret, written to Key Vault
// and never exported.
//
// Regions: sluice:region is the only write region (failover priority 0);
// sluice:cosmosFailoverRegions adds read regions in failover order, and any
// of them turns on automatic failover. Multi-region writes stay off, and
// config validation refuses them: the change feed's leases use lightweight
// transactions, which Cosmos DB does not support with multiple write regions.
package cosmos
