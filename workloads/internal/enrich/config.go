package enrich

import (
	"fmt"
	"os"
	"regexp"
	"time"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
	"github.com/sluicehq/sluice/workloads/internal/pgstore"
)

// Config is the enrich job's configuration.
type Config struct {
	Postgres  pgstore.Config
	Cassandra cqlsession.Config
	// ModelsURL locates the device-model Parquet file (see refdata).
	ModelsURL string
	// ReadConcurrency bounds the events_by_hour partitions read at once.
	ReadConcurrency int
	// PageSize is the Cassandra page size.
	PageSize int
	// ChunkRows is how many events one COPY stages before they are
	// upserted; the readers buffer up to as many meanwhile.
	ChunkRows int
	// ReadAttempts bounds the attempts at one page before the run fails.
	ReadAttempts int
	// Settle is how long after an hour ends it counts as completed, so
	// events still in flight through ingest are in it.
	Settle time.Duration
	// Catchup is how far back the default run looks for completed hours
	// not yet done.
	Catchup time.Duration
	// Heartbeat is how often a running run says it is alive; StaleAfter is
	// how long without one before another run marks it abandoned.
	Heartbeat  time.Duration
	StaleAfter time.Duration
	// LockTimeout bounds the wait for another run of an overlapping window.
	LockTimeout time.Duration
	// WorkMem is the window transaction's work_mem (SET LOCAL).
	WorkMem string
	// Worker names this process in batch_runs (the pod name on Kubernetes).
	Worker string
}

var workMemPattern = regexp.MustCompile(`^[0-9]{1,7}(kB|MB|GB)$`)

// ConfigFromEnv reads POSTGRES_*, CASSANDRA_* and ENRICH_MODELS_URL,
// ENRICH_READ_CONCURRENCY, ENRICH_PAGE_SIZE, ENRICH_CHUNK_ROWS, ENRICH_READ_ATTEMPTS,
// ENRICH_SETTLE, ENRICH_CATCHUP, ENRICH_HEARTBEAT, ENRICH_STALE_AFTER,
// ENRICH_LOCK_TIMEOUT, ENRICH_WORK_MEM and HOSTNAME, reporting every problem
// at once.
func ConfigFromEnv(r *envconfig.Reader) (Config, error) {
	c := Config{
		Postgres:        pgstore.FromEnv(r, "enrich"),
		Cassandra:       cqlsession.FromEnv(r),
		ModelsURL:       r.Required(deploy.EnvEnrichModelsURL),
		ReadConcurrency: r.Int(deploy.EnvEnrichReadConcurrency, 8, 1, 256),
		PageSize:        r.Int(deploy.EnvEnrichPageSize, 5000, 100, 100000),
		ChunkRows:       r.Int(deploy.EnvEnrichChunkRows, 50000, 1000, 10000000),
		ReadAttempts:    r.Int(deploy.EnvEnrichReadAttempts, 6, 1, 100),
		Settle:          r.Duration(deploy.EnvEnrichSettle, 2*time.Minute, 0, 24*time.Hour),
		Catchup:         r.Duration(deploy.EnvEnrichCatchup, 24*time.Hour, time.Hour, 35*24*time.Hour),
		Heartbeat:       r.Duration(deploy.EnvEnrichHeartbeat, 15*time.Second, 100*time.Millisecond, 10*time.Minute),
		StaleAfter:      r.Duration(deploy.EnvEnrichStaleAfter, 2*time.Minute, time.Second, 24*time.Hour),
		LockTimeout:     r.Duration(deploy.EnvEnrichLockTimeout, 10*time.Minute, time.Second, 24*time.Hour),
		WorkMem:         r.String(deploy.EnvEnrichWorkMem, "256MB"),
		Worker:          r.String("HOSTNAME", ""),
	}
	if !workMemPattern.MatchString(c.WorkMem) {
		r.Problem("ENRICH_WORK_MEM=%q must be a size such as 64MB", c.WorkMem)
	}
	if c.StaleAfter <= c.Heartbeat {
		r.Problem("ENRICH_STALE_AFTER (%s) must be longer than ENRICH_HEARTBEAT (%s)", c.StaleAfter, c.Heartbeat)
	}
	if c.Postgres.MaxConns < 2 {
		// One connection holds the window's transaction; another
		// writes heartbeats and run records beside it.
		c.Postgres.MaxConns = 2
	}
	if c.Worker == "" {
		if h, err := os.Hostname(); err == nil {
			c.Worker = h
		}
	}
	if err := r.Err(); err != nil {
		return Config{}, fmt.Errorf("enrich: %w", err)
	}
	return c, nil
}
