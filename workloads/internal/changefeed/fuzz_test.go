package changefeed

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/workloads/dev/envfuzz"
)

// FuzzConfigFromEnv: whatever the environment, changefeed's loader keeps
// the envfuzz contract and what it accepts is within the documented bounds.
func FuzzConfigFromEnv(f *testing.F) {
	seeds := []map[string]string{
		{},
		envfuzz.Merge(envfuzz.LocalCassandra, envfuzz.LocalRedis, map[string]string{"CHANGEFEED_COSMOS_TABLE": "events_by_id", "CASSANDRA_KEYSPACE": "sluice_test"}),
		envfuzz.Merge(envfuzz.LocalCassandra, envfuzz.LocalRedis, map[string]string{"CHANGEFEED_START": "2026-12-01T00:00:00Z",
			"CHANGEFEED_OUTBOX_GRACE": "30s", "CHANGEFEED_OUTBOX_MAX_SKEW": "5s", "CHANGEFEED_PAGE_SIZE": "10000"}),
		envfuzz.Merge(envfuzz.CosmosCassandra, envfuzz.AzureRedis, map[string]string{"CHANGEFEED_SOURCE": "cosmos",
			"CHANGEFEED_COSMOS_TABLE": "events_by_id", "CHANGEFEED_LEASE_TTL": "15s", "CHANGEFEED_LEASE_MAX_SKEW": "2s",
			"CHANGEFEED_IDLE_MIN": "25ms", "CHANGEFEED_IDLE_MAX": "250ms", "CHANGEFEED_OWNER": "changefeed-0"}),
		envfuzz.Merge(envfuzz.CosmosCassandra, envfuzz.LocalRedis, map[string]string{"CHANGEFEED_SOURCE": "outbox", "CHANGEFEED_START": "now"}),
		// The table goes into the change feed's CQL.
		envfuzz.Merge(envfuzz.CosmosCassandra, envfuzz.AzureRedis, map[string]string{"CHANGEFEED_COSMOS_TABLE": "events_by_id WHERE true ALLOW FILTERING --"}),
	}
	envfuzz.Fuzz(f, seeds, ConfigFromEnv, func(c Config) error {
		var cs envfuzz.Checks
		cs.Add(envfuzz.Cassandra(c.Cassandra))
		cs.Add(envfuzz.Redis(c.Redis))
		cs.Want(c.Source == SourceOutbox || c.Source == SourceCosmos, "source %q", c.Source)
		cs.Want(c.Source != SourceOutbox || !c.Cassandra.Cosmos, "an outbox on Cosmos DB")
		cs.Want(c.Source != SourceOutbox || c.Grace > c.Cassandra.Timeout+c.MaxSkew, "grace %s within the write timeout plus skew", c.Grace)
		cs.Want(envfuzz.Within(c.PageSize, 1, 10000), "page size %d", c.PageSize)
		cs.Want(envfuzz.Identifier.MatchString(c.CosmosTable), "cosmos table %q is not a CQL identifier", c.CosmosTable)
		cs.Want(c.Runner.Name != "" && c.Runner.Owner != "", "runner without a name or owner")
		cs.Want(c.Runner.MaxSkew < c.Runner.LeaseTTL, "lease skew %s not under the lease %s", c.Runner.MaxSkew, c.Runner.LeaseTTL)
		cs.Want(c.Runner.IdleMin <= c.Runner.IdleMax, "idle min %s over max %s", c.Runner.IdleMin, c.Runner.IdleMax)
		cs.Want(envfuzz.Within(c.ShutdownTimeout, time.Second, 10*time.Minute), "shutdown timeout %s", c.ShutdownTimeout)
		return cs.Err()
	})
}
