package enrich

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/workloads/dev/envfuzz"
	"github.com/sluicehq/sluice/workloads/internal/refdata"
)

// FuzzConfigFromEnv: whatever the environment, enrich's loader keeps the
// envfuzz contract and what it accepts is within the documented bounds,
// its device-model location included.
func FuzzConfigFromEnv(f *testing.F) {
	seeds := []map[string]string{
		{},
		envfuzz.Merge(envfuzz.LocalPostgres, envfuzz.LocalCassandra, map[string]string{"ENRICH_MODELS_URL": "/tmp/sluice/models.parquet"}),
		envfuzz.Merge(envfuzz.URLPostgres, envfuzz.LocalCassandra, map[string]string{"ENRICH_MODELS_URL": "file:///var/lib/sluice/models.parquet",
			"ENRICH_WORK_MEM": "64MB", "ENRICH_HEARTBEAT": "1s", "ENRICH_STALE_AFTER": "10s"}),
		envfuzz.Merge(envfuzz.AzurePostgres, envfuzz.CosmosCassandra, map[string]string{
			"ENRICH_MODELS_URL":       "abfss://reference@sluicedata.dfs.core.windows.net/models/models.parquet",
			"ENRICH_READ_CONCURRENCY": "16", "ENRICH_CATCHUP": "48h", "HOSTNAME": "enrich-29012345-abcde"}),
		envfuzz.Merge(envfuzz.LocalPostgres, envfuzz.LocalCassandra, map[string]string{"ENRICH_MODELS_URL": "http://example.invalid/m.parquet",
			"ENRICH_WORK_MEM": "lots", "ENRICH_STALE_AFTER": "1s"}),
	}
	envfuzz.Fuzz(f, seeds, ConfigFromEnv, func(c Config) error {
		var cs envfuzz.Checks
		cs.Add(envfuzz.Postgres(c.Postgres))
		cs.Add(envfuzz.Cassandra(c.Cassandra))
		_, err := refdata.ParseLocation(c.ModelsURL)
		cs.Add(err)
		cs.Want(envfuzz.Within(c.ReadConcurrency, 1, 256), "read concurrency %d", c.ReadConcurrency)
		cs.Want(envfuzz.Within(c.PageSize, 100, 100000), "page size %d", c.PageSize)
		cs.Want(envfuzz.Within(c.ChunkRows, 1000, 10000000), "chunk rows %d", c.ChunkRows)
		cs.Want(envfuzz.Within(c.ReadAttempts, 1, 100), "read attempts %d", c.ReadAttempts)
		cs.Want(envfuzz.Within(c.Catchup, time.Hour, 35*24*time.Hour), "catch-up %s", c.Catchup)
		cs.Want(c.StaleAfter > c.Heartbeat, "stale after %s within the heartbeat %s", c.StaleAfter, c.Heartbeat)
		cs.Want(workMemPattern.MatchString(c.WorkMem), "work_mem %q", c.WorkMem)
		cs.Want(c.Postgres.MaxConns >= 2, "%d postgres connections", c.Postgres.MaxConns)
		return cs.Err()
	})
}
