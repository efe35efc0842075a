package ingest

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/workloads/dev/envfuzz"
)

// FuzzConfigFromEnv: whatever the environment, ingest's loader keeps the
// envfuzz contract and what it accepts is within the documented bounds.
func FuzzConfigFromEnv(f *testing.F) {
	seeds := []map[string]string{
		{},
		envfuzz.Merge(envfuzz.LocalKafka, envfuzz.LocalCassandra),
		envfuzz.Merge(envfuzz.LocalKafka, envfuzz.LocalCassandra, map[string]string{"INGEST_OUTBOX": "true", "INGEST_BATCH_WRITES": "false", "INGEST_CONCURRENCY": "8192"}),
		envfuzz.Merge(envfuzz.AzureKafka, envfuzz.CosmosCassandra, map[string]string{"INGEST_GROUP": "ingest", "SHUTDOWN_TIMEOUT": "1m"}),
		envfuzz.Merge(envfuzz.PlainKafka, envfuzz.CosmosCassandra, map[string]string{"INGEST_OUTBOX": "true", "INGEST_CONCURRENCY": "0"}),
	}
	envfuzz.Fuzz(f, seeds, ConfigFromEnv, func(c Config) error {
		var cs envfuzz.Checks
		cs.Add(envfuzz.Kafka(c.Kafka))
		cs.Add(envfuzz.Cassandra(c.Cassandra))
		cs.Want(c.Group != "", "no consumer group")
		cs.Want(envfuzz.Within(c.Concurrency, 1, 8192), "concurrency %d", c.Concurrency)
		cs.Want(envfuzz.Within(c.ShutdownTimeout, time.Second, 10*time.Minute), "shutdown timeout %s", c.ShutdownTimeout)
		cs.Want(!c.Outbox || !c.Cassandra.Cosmos, "an outbox on Cosmos DB")
		return cs.Err()
	})
}
