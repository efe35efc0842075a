package sizing

// Service figures Azure documents (2025), used where no measurement exists.
const (
	// Event Hubs Standard: one throughput unit takes 1 MB/s or 1,000
	// events/s of ingress, whichever comes first; so does one partition.
	StandardTUIngressMBps   = 1.0
	StandardTUIngressEvents = 1000
	PartitionIngressMBps    = 1.0
	PartitionIngressEvents  = 1000
	// StandardMaxRetentionDays is Standard's retention limit.
	StandardMaxRetentionDays = 7
	// PremiumPUIngressMBps is a conservative ingress per processing unit
	// (Microsoft gives 5-10 MB/s depending on the load's shape).
	PremiumPUIngressMBps = 5.0
	// DedicatedCUIngressMBps is a conservative ingress per capacity unit of
	// a Dedicated cluster.
	DedicatedCUIngressMBps = 100.0

	// CosmosRUPerKBWrite is the request charge of writing a row of up to
	// 1 KB (the documented ~5 RU for a 1 KB item, rounded up for the
	// Cassandra API's overhead). The local engines have no request charge
	// to measure it with.
	CosmosRUPerKBWrite = 6.0
	// CosmosHeadroom covers retries, the change feed's reads and the
	// api's misses.
	CosmosHeadroom = 1.3
)

// Measured per-process rates (the benchmarks on 2 shared cores, engines on
// the same machine; closing notes of the benchmark issues): conservative
// per-pod figures for pods requesting one core.
const (
	// IngestEventsPerReplica: bench ingest stored 7,953 events/s through one
	// ingest process against a 2-core machine that also ran Kafka and
	// Cassandra; half of it per one-core pod.
	IngestEventsPerReplica = 4000
	// ChangefeedChangesPerReplica: one lease holder kept up with one ingest
	// process in the e2e bench (every stored event is a change).
	ChangefeedChangesPerReplica = 4000
	// EnrichEventsPerSecond: bench enrich, 89,932 events/s on 1 M events
	// (one process, 2 shared cores).
	EnrichEventsPerSecond = 89932
)

// Fixed shapes of the platform.
const (
	// RowsPerEvent is what ingest writes for every event in Cosmos DB:
	// events_by_id, events_by_device and events_by_hour; a critical event
	// adds a critical_by_site row (schema in workloads/contract).
	RowsPerEvent = 3
	// UserNodeVMSize and UserNodeCores: the user pool's default VM and the
	// cores left for pods after the system reservation.
	UserNodeVMSize = "Standard_D4ds_v5"
	UserNodeCores  = 3.5
	// EnrichWindowBudget is the share of the hour an enrich run may take.
	EnrichWindowBudgetSeconds = 15 * 60
	// EnrichedRowBytes is the size of an enriched_events row with indexes,
	// EnrichedRowDays how many days of them the server is sized to keep.
	EnrichedRowBytes = 400
	EnrichedRowDays  = 7
)
