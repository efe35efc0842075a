package enrich

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
	"github.com/sluicehq/sluice/workloads/internal/pgstore"
	"github.com/sluicehq/sluice/workloads/internal/refdata"
	"github.com/sluicehq/sluice/workloads/internal/sparklaunch"
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
	// Engine is EngineGo or EngineSpark (ENRICH_ENGINE).
	Engine string
	// SparkCommand launches the Spark driver locally (ENRICH_SPARK_COMMAND,
	// a JSON array); SparkApplication is the SparkApplication template a
	// Kubernetes launch uses (ENRICH_SPARK_APPLICATION). The Spark engine
	// takes exactly one of them.
	SparkCommand     []string
	SparkApplication string
	// SparkTimeout bounds one Spark run, launch to exit.
	SparkTimeout time.Duration
}

// The engines a window can be enriched with.
const (
	EngineGo    = "go"
	EngineSpark = "spark"
)

// The defaults of ENRICH_LOCK_TIMEOUT and ENRICH_WORK_MEM, for both engines.
const (
	DefaultLockTimeout = 10 * time.Minute
	DefaultWorkMem     = "256MB"
)

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
		LockTimeout:     r.Duration(deploy.EnvEnrichLockTimeout, DefaultLockTimeout, time.Second, 24*time.Hour),
		WorkMem:         r.String(deploy.EnvEnrichWorkMem, DefaultWorkMem),
		Worker:          r.String("HOSTNAME", ""),
		Engine:          r.OneOf(deploy.EnvEnrichEngine, EngineGo, EngineGo, EngineSpark),
		SparkTimeout:    r.Duration(deploy.EnvEnrichSparkTimeout, 2*time.Hour, time.Minute, 48*time.Hour),
	}
	c.SparkApplication = r.String(deploy.EnvEnrichSparkApplication, "")
	if cmd := r.String(deploy.EnvEnrichSparkCommand, ""); cmd != "" {
		argv, err := sparklaunch.ParseCommand(cmd)
		if err != nil {
			r.Problem("%s: %v", deploy.EnvEnrichSparkCommand, err)
		}
		c.SparkCommand = argv
	}
	if c.Engine == EngineSpark {
		switch {
		case len(c.SparkCommand) == 0 && c.SparkApplication == "":
			r.Problem("ENRICH_ENGINE=spark needs %s (a local launch) or %s (a SparkApplication on Kubernetes)",
				deploy.EnvEnrichSparkCommand, deploy.EnvEnrichSparkApplication)
		case len(c.SparkCommand) > 0 && c.SparkApplication != "":
			r.Problem("set only one of %s and %s", deploy.EnvEnrichSparkCommand, deploy.EnvEnrichSparkApplication)
		}
		if loc, err := refdata.ParseLocation(c.ModelsURL); err == nil && loc.Local == "" && !strings.HasPrefix(c.ModelsURL, "abfss://") {
			r.Problem("%s: the Spark engine reads a path or an abfss:// URL, not %s", deploy.EnvEnrichModelsURL, loc)
		}
	}
	if c.ModelsURL != "" {
		if _, err := refdata.ParseLocation(c.ModelsURL); err != nil {
			r.Problem("%s: %v", deploy.EnvEnrichModelsURL, err)
		}
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

// SeedConfig is `enrich seed`'s: where the device models go, the fleet's
// size, and PostgreSQL for the sites and devices tables.
type SeedConfig struct {
	// ModelsURL is a path or a Data Lake URL (--parquet, default
	// ENRICH_MODELS_URL).
	ModelsURL      string
	Sites, Devices int
	// Postgres is false with --postgres=false: only the file is written.
	Postgres bool
	// IfEmpty keeps what exists: the file when it is there, the tables when
	// sites has a row (a deployment seeds this way).
	IfEmpty bool
	DB      pgstore.Config
}

// SeedConfigFromEnv parses `enrich seed`'s arguments (after "seed") and
// reads its environment; every problem is reported in one error.
func SeedConfigFromEnv(r *envconfig.Reader, args []string, output io.Writer) (SeedConfig, error) {
	var c SeedConfig
	fs := flag.NewFlagSet("enrich seed", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&c.ModelsURL, "parquet", r.String(deploy.EnvEnrichModelsURL, ""), "where to write the device-model Parquet file: a path or a Data Lake URL (default $"+deploy.EnvEnrichModelsURL+"; required)")
	fs.IntVar(&c.Sites, "sites", 12, "sites in the fleet (the demo's simulator uses 12)")
	fs.IntVar(&c.Devices, "devices", 500, "devices in the fleet (the demo's simulator uses 500)")
	fs.BoolVar(&c.Postgres, "postgres", true, "also upsert the sites and devices tables (POSTGRES_*)")
	fs.BoolVar(&c.IfEmpty, "if-empty", false, "write the file only when it does not exist and the tables only when sites is empty")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var errs []error
	if c.ModelsURL == "" {
		errs = append(errs, errors.New("seed: --parquet (or "+deploy.EnvEnrichModelsURL+") is required"))
	}
	if c.Sites < 1 || c.Devices < 1 {
		errs = append(errs, errors.New("seed: --sites and --devices must be positive"))
	}
	if c.Postgres {
		c.DB = pgstore.FromEnv(r, "enrich-seed")
		if err := r.Err(); err != nil {
			errs = append(errs, err)
		}
	}
	return c, errors.Join(errs...)
}
