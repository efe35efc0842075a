// Package service is the lifecycle the long-running workloads (ingest,
// changefeed, api) share, written once: the -version/-help flags, the JSON
// logger, a context cancelled by SIGINT or SIGTERM, the Prometheus
// registry, the Cassandra session that follows a rotated Cosmos DB key, the
// ops server (/healthz, /readyz, /metrics), the shutdown deadline a
// Kubernetes terminationGracePeriod expects, and the CPU profile
// CPU_PROFILE=<path> writes from start-up to shutdown (go tool pprof reads
// it).
package service
