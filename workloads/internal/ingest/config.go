package ingest

import (
	"time"

	"github.com/sluicehq/sluice/workloads/contract"
	"github.com/sluicehq/sluice/workloads/contract/deploy"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
	"github.com/sluicehq/sluice/workloads/internal/kafkaclient"
)

// Config is everything the ingest binary reads from its environment.
type Config struct {
	Kafka           kafkaclient.Config
	Cassandra       cqlsession.Config
	Group           string
	Concurrency     int
	HTTPAddr        string
	ShutdownTimeout time.Duration
	// Outbox makes every stored event also land in the events outbox, the
	// change feed of plain Apache Cassandra (INGEST_OUTBOX).
	Outbox bool
	// BatchWrites sends an event's rows as one unlogged batch
	// (INGEST_BATCH_WRITES, default true); false sends them one statement
	// at a time, for a store that refuses batches spanning tables.
	BatchWrites bool
}

// ConfigFromEnv reads the configuration and reports every problem at once.
func ConfigFromEnv(r *envconfig.Reader) (Config, error) {
	c := Config{
		Kafka:           kafkaclient.FromEnv(r, "sluice-ingest"),
		Cassandra:       cqlsession.FromEnv(r),
		Group:           r.String(deploy.EnvIngestGroup, deploy.Ingest),
		Concurrency:     r.Int(deploy.EnvIngestConcurrency, 256, 1, 8192),
		HTTPAddr:        r.String(deploy.EnvHTTPAddr, deploy.DefaultHTTPAddr),
		ShutdownTimeout: r.Duration(deploy.EnvShutdownTimeout, 25*time.Second, time.Second, 10*time.Minute),
		Outbox:          r.Bool(deploy.EnvIngestOutbox, false),
		BatchWrites:     r.Bool(deploy.EnvIngestBatchWrites, true),
	}
	// Enrich trusts every row of an hour to land within the contract's
	// lag of the hour's mark (see contract.HourMarkLag).
	if lag := c.Cassandra.Timeout + contract.HourMarkRefresh + contract.HourMarkSkew; lag > contract.HourMarkLag {
		r.Problem("CASSANDRA_TIMEOUT=%s is too long: a write may land %s after its hour's mark, enrich allows %s (keep it at most %s)",
			c.Cassandra.Timeout, lag, contract.HourMarkLag, contract.HourMarkLag-contract.HourMarkRefresh-contract.HourMarkSkew)
	}
	if c.Outbox && c.Cassandra.Cosmos {
		r.Problem("INGEST_OUTBOX=true is for plain Apache Cassandra; Cosmos DB has a native change feed")
	}
	return c, r.Err()
}
