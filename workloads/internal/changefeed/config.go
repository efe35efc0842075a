package changefeed

import (
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
	"github.com/sluicehq/sluice/workloads/internal/envconfig/redisenv"
	"github.com/sluicehq/sluice/workloads/internal/rediscache"
)

// Source kinds.
const (
	SourceOutbox = "outbox"
	SourceCosmos = "cosmos"
)

// Outbox defaults: the grace window exceeds the default write timeout
// (CASSANDRA_TIMEOUT, 10 s) plus the default allowed skew.
const (
	DefaultOutboxGrace   = 15 * time.Second
	DefaultOutboxMaxSkew = 2 * time.Second
)

// DefaultLeaseMaxSkew is the clock skew allowed between changefeed
// replicas by default (CHANGEFEED_LEASE_MAX_SKEW): a lease holder stops
// work that long before its lease expires (RunnerOptions.MaxSkew).
const DefaultLeaseMaxSkew = 2 * time.Second

// Config is everything the changefeed binary reads from its environment.
type Config struct {
	Cassandra cqlsession.Config
	Redis     rediscache.Config
	Cache     rediscache.Options
	// Source is "outbox" (plain Apache Cassandra) or "cosmos"; the
	// default follows CASSANDRA_COSMOS.
	Source string
	// Start is where a consumer without a checkpoint begins (zero: now).
	Start    time.Time
	PageSize int
	// Grace is the outbox's settle window; it must exceed the write
	// timeout (CASSANDRA_TIMEOUT) plus MaxSkew, or an acknowledged write
	// may land behind the settled cursor.
	Grace time.Duration
	// MaxSkew is the clock skew allowed between ingest and changefeed
	// hosts, for the outbox; the one between changefeed replicas, for the
	// leases, is Runner.MaxSkew.
	MaxSkew     time.Duration
	CosmosTable string
	Runner      RunnerOptions

	HTTPAddr        string
	ShutdownTimeout time.Duration
}

// ConfigFromEnv reads CASSANDRA_*, REDIS_*, CACHE_*, HTTP_ADDR,
// SHUTDOWN_TIMEOUT and CHANGEFEED_* (SOURCE, NAME, OWNER, START, PAGE_SIZE,
// LEASE_TTL, LEASE_MAX_SKEW, IDLE_MIN, IDLE_MAX, COMMIT_INTERVAL,
// OUTBOX_GRACE, OUTBOX_MAX_SKEW, COSMOS_TABLE), reporting every problem at
// once.
func ConfigFromEnv(r *envconfig.Reader) (Config, error) {
	c := Config{
		Cassandra:       cqlsession.FromEnv(r),
		Redis:           redisenv.Config(r),
		Cache:           redisenv.Options(r),
		HTTPAddr:        r.String(deploy.EnvHTTPAddr, deploy.DefaultHTTPAddr),
		ShutdownTimeout: r.Duration(deploy.EnvShutdownTimeout, 25*time.Second, time.Second, 10*time.Minute),
	}
	def := SourceOutbox
	if c.Cassandra.Cosmos {
		def = SourceCosmos
	}
	c.Source = r.OneOf(deploy.EnvChangefeedSource, def, SourceOutbox, SourceCosmos)
	if c.Source == SourceOutbox && c.Cassandra.Cosmos {
		r.Problem("CHANGEFEED_SOURCE=outbox cannot run on Cosmos DB: it has no outbox, use its change feed (cosmos)")
	}
	if v := r.String(deploy.EnvChangefeedStart, ""); v != "" && v != "now" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			r.Problem("CHANGEFEED_START=%q must be \"now\" or an RFC 3339 time", v)
		}
		c.Start = t
	}
	c.PageSize = r.Int(deploy.EnvChangefeedPageSize, 500, 1, 10000)
	c.Grace = r.Duration(deploy.EnvChangefeedOutboxGrace, DefaultOutboxGrace, 100*time.Millisecond, 10*time.Minute)
	c.MaxSkew = r.Duration(deploy.EnvChangefeedOutboxMaxSkew, DefaultOutboxMaxSkew, 0, 5*time.Minute)
	// A write stamps its outbox row when it starts and may be acknowledged
	// up to the write timeout later, on a clock up to MaxSkew off: a grace
	// window shorter than both together lets an acknowledged row land
	// behind the settled cursor, where only the audit can still find it.
	if c.Source == SourceOutbox && c.Grace <= c.Cassandra.Timeout+c.MaxSkew {
		r.Problem("%s=%s must exceed the write timeout %s=%s plus the allowed clock skew %s=%s",
			deploy.EnvChangefeedOutboxGrace, c.Grace, deploy.EnvCassandraTimeout, c.Cassandra.Timeout,
			deploy.EnvChangefeedOutboxMaxSkew, c.MaxSkew)
	}
	c.CosmosTable = r.String(deploy.EnvChangefeedCosmosTable, "events_by_id")
	if !cqlsession.ValidName(c.CosmosTable) {
		// The table is written into the change feed's query.
		r.Problem("%s=%q must be 1-48 letters, digits or underscores, starting with a letter", deploy.EnvChangefeedCosmosTable, c.CosmosTable)
	}
	c.Runner = RunnerOptions{
		Name:        r.String(deploy.EnvChangefeedName, "redis-cache"),
		Owner:       r.String(deploy.EnvChangefeedOwner, DefaultOwner()),
		LeaseTTL:    r.Duration(deploy.EnvChangefeedLeaseTTL, 15*time.Second, time.Second, 10*time.Minute),
		MaxSkew:     r.Duration(deploy.EnvChangefeedLeaseMaxSkew, DefaultLeaseMaxSkew, 0, 5*time.Minute),
		IdleMin:     r.Duration(deploy.EnvChangefeedIdleMin, 25*time.Millisecond, time.Millisecond, time.Minute),
		IdleMax:     r.Duration(deploy.EnvChangefeedIdleMax, 250*time.Millisecond, time.Millisecond, 5*time.Minute),
		CommitEvery: r.Duration(deploy.EnvChangefeedCommitInterval, time.Second, 0, 5*time.Minute),
	}
	// The holder of a lease stops work the allowed skew before the lease
	// expires (another replica's clock may be that far ahead); a skew of
	// the lease's length or more would leave it no time to work.
	if c.Runner.MaxSkew >= c.Runner.LeaseTTL {
		r.Problem("%s=%s must be shorter than %s=%s: a lease holder stops work that long before its lease expires",
			deploy.EnvChangefeedLeaseMaxSkew, c.Runner.MaxSkew, deploy.EnvChangefeedLeaseTTL, c.Runner.LeaseTTL)
	}
	if c.Runner.IdleMax < c.Runner.IdleMin {
		r.Problem("CHANGEFEED_IDLE_MAX must not be below CHANGEFEED_IDLE_MIN")
	}
	return c, r.Err()
}

// DefaultOwner names this process uniquely: host, pid and a random suffix.
func DefaultOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "host"
	}
	return fmt.Sprintf("%s-%d-%04x", host, os.Getpid(), rand.IntN(1<<16))
}
