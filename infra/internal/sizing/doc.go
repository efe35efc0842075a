// Package sizing turns a planned event rate into a stack-config fragment
// and the reasoning behind each number (make size RATE=<events/s>): Event
// Hubs tier, units and partitions, Cosmos DB RU/s and storage growth, ingest
// and changefeed replicas and AKS user nodes, the PostgreSQL SKU for the
// hourly enrich window, and the Redis size of the critical set.
//
// The service limits come from package config (the same constants the
// stack validator enforces), the cache sizes from rediscache's defaults, and
// the per-process rates from the benchmarks' measurements, each named where
// it is declared (rates.go). A fragment is meant as a starting point that the
// validator accepts; load tests on the real services settle the numbers.
package sizing
