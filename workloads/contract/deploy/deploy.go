package deploy

import "strconv"

// Workload names (DESIGN.md): the binaries under workloads/cmd, their image
// names, Kubernetes object names and consumer-group defaults.
const (
	Simulator  = "simulator"
	Ingest     = "ingest"
	Changefeed = "changefeed"
	API        = "api"
	Enrich     = "enrich"
	// Migrate creates topics and schemas; on Azure it is the PostgreSQL
	// schema Job.
	Migrate = "migrate"
	// Stream is the Spark stream job (JVM, workloads/spark): its image,
	// service account and SparkApplication.
	Stream = "stream"
)

// GoImages are the workloads built from this Go module into images, in
// build order: the services, the batch job and the schema migration Job.
// The simulator is a local tool. A new slice on every call, so callers
// may change it.
func GoImages() []string { return []string{Ingest, Changefeed, API, Enrich, Migrate} }

// Images are all the workloads that ship as images: the Go ones, then the
// Spark stream job's (the job jar and its connector jars on a pinned Spark
// base). A new slice on every call.
func Images() []string { return append(GoImages(), Stream) }

// The Spark the stream job is built for and runs on, locally (devservices'
// jar set) and on AKS (the SparkApplication's sparkVersion and the base of
// the stream image): Spark 3.5 for Scala 2.12, because the Cassandra
// connector has no Spark 4 release. workloads/spark/pom.xml compiles
// against the same versions; a test compares them.
const (
	SparkVersion                   = "3.5.7"
	SparkScala                     = "2.12"
	SparkCassandraConnectorVersion = "3.5.1"
	// SparkPostgresJDBCVersion is the PostgreSQL JDBC driver the enrich
	// job on Spark writes with; Spark does not ship one.
	SparkPostgresJDBCVersion = "42.7.14"
	// SparkHadoopAzureVersion is Hadoop's ABFS driver, for the enrich
	// job's abfss:// models file: the Hadoop version Spark 3.5.7 ships.
	SparkHadoopAzureVersion = "3.3.4"
)

// The stream image's layout: what the images tool writes and the
// SparkApplication names. The base is Apache Spark's image, which runs as
// SparkUID and keeps Spark's own jars in /opt/spark/jars; the job jar and
// the jars Spark does not ship (its Kafka source, the Cassandra connector
// and their dependencies) go to SparkJarDir, on the driver's and the
// executors' class path.
const (
	SparkJarDir          = "/opt/sluice/jars"
	SparkJobJar          = SparkJarDir + "/sluice-spark.jar"
	SparkStreamMainClass = "io.sluice.spark.StreamJob"
	// SparkEnrichMainClass is the enrich job on Spark, in the same jar.
	SparkEnrichMainClass = "io.sluice.spark.EnrichJob"
	SparkUID             = 185
)

// ServiceAccounts are the workloads with their own workload identity. A new
// slice on every call.
func ServiceAccounts() []string { return []string{Ingest, Changefeed, API, Enrich, Stream} }

// CassandraReadOnly reports whether a workload only reads Cassandra: on
// Azure it gets the account's read-only key, so a compromised api or enrich
// pod cannot change or delete events. ingest writes events and changefeed
// its leases and checkpoints; they get the read-write key.
func CassandraReadOnly(workload string) bool { return workload == API || workload == Enrich }

// ServiceAccount is the identity a workload runs as: its own, except
// migrate, which runs as enrich because enrich's identity owns the
// PostgreSQL schema. It is empty for a workload that does not deploy.
func ServiceAccount(workload string) string {
	switch workload {
	case Ingest, Changefeed, API, Enrich, Stream:
		return workload
	case Migrate:
		return Enrich
	}
	return ""
}

// Identity is what the platform hands a workload for Entra ID: the client
// id of its user-assigned identity (the service account's
// azure.workload.identity/client-id, also the SecretProviderClass's) and
// the principal name (enrich's PostgreSQL role, POSTGRES_USER). T is the
// value type of the side using it: string in the workloads, a Pulumi
// input in the infrastructure.
type Identity[T any] struct {
	ClientID      T
	PrincipalName T
}

// Fixed ports.
const (
	// HTTPPort is where every long-running workload listens on Azure: ops
	// endpoints (/healthz, /readyz, /metrics), and the api's routes.
	HTTPPort = 8080
	// CosmosCassandraPort is Cosmos DB for Apache Cassandra's CQL port.
	CosmosCassandraPort = 10350
	// EventHubsKafkaPort is the Event Hubs Kafka endpoint's port.
	EventHubsKafkaPort = 9093
	// ManagedRedisPort is Azure Managed Redis's TLS port.
	ManagedRedisPort = 10000
	// OpsPort is where the api serves its ops endpoints on Azure
	// (OPS_ADDR): the probes and a scraper reach them, clients through the
	// ingress do not.
	OpsPort = 9090
	// PostgresDirectPort is the PostgreSQL server's own port (migrations
	// use it; the services go through PgBouncer).
	PostgresDirectPort = 5432
)

// DefaultHTTPAddr is the HTTP_ADDR of a workload that is not given one.
var DefaultHTTPAddr = ":" + strconv.Itoa(HTTPPort)
