package api

import (
	"encoding/hex"
	"strings"
	"time"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
	"github.com/sluicehq/sluice/workloads/internal/cqlsession"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
	"github.com/sluicehq/sluice/workloads/internal/envconfig/redisenv"
	"github.com/sluicehq/sluice/workloads/internal/pgstore"
	"github.com/sluicehq/sluice/workloads/internal/rediscache"
)

// Modes of the API.
const (
	ModeLocal      = "local"
	ModeProduction = "production"
)

// Defaults of the in-process cache of event documents.
const (
	DefaultEventCacheEntries = 100_000
	DefaultEventCacheBytes   = 32 << 20
)

// Config is everything the api binary reads from its environment.
type Config struct {
	Cassandra cqlsession.Config
	Redis     rediscache.Config
	Cache     rediscache.Options
	Options   Options
	// Postgres is the report page's connection, nil when neither
	// POSTGRES_URL nor POSTGRES_HOST is set: the reports are then off.
	Postgres *pgstore.Config
	HTTPAddr string
	// OpsAddr, when set, is the listener of /healthz, /readyz and
	// /metrics, which HTTP_ADDR then does not serve: readiness and metrics
	// say how the api is doing inside, which clients need not see. Empty
	// serves them beside the routes (local runs).
	OpsAddr         string
	ShutdownTimeout time.Duration
	// DrainDelay is how long the api keeps serving after readiness failed
	// on SIGTERM, before it stops accepting: the time Kubernetes takes to
	// take the pod out of the Service's endpoints, so a rollout drops no
	// request.
	DrainDelay time.Duration
	// PageKey signs the page tokens (API_PAGE_TOKEN_KEY); nil means one
	// derived from the Cassandra secret every replica mounts.
	PageKey []byte
}

// ConfigFromEnv reads the configuration and reports every problem at once:
// CASSANDRA_*, REDIS_*, CACHE_*, HTTP_ADDR, SHUTDOWN_TIMEOUT and API_*
// (API_MODE, API_KEYS_SHA256, API_CACHE_TIMEOUT, API_CACHE_COOLDOWN,
// API_REQUEST_TIMEOUT, API_MAX_BODY_BYTES, API_LOOKBACK_DAYS,
// API_MAX_RANGE, API_LIVE_POLL, API_RATE_LIMIT, API_RATE_BURST,
// API_PAGE_TOKEN_KEY, API_DRAIN_DELAY, API_EVENT_CACHE_ENTRIES,
// API_EVENT_CACHE_BYTES, CACHE_SITE_FILLED_TTL, OPS_ADDR, CACHE_TTL_JITTER).
func ConfigFromEnv(r *envconfig.Reader) (Config, error) {
	c := Config{
		Cassandra:       cqlsession.FromEnv(r),
		Redis:           redisenv.Config(r),
		Cache:           redisenv.Options(r),
		HTTPAddr:        r.String(deploy.EnvHTTPAddr, deploy.DefaultHTTPAddr),
		OpsAddr:         r.String(deploy.EnvOpsAddr, ""),
		ShutdownTimeout: r.Duration(deploy.EnvShutdownTimeout, 20*time.Second, time.Second, 10*time.Minute),
		DrainDelay:      r.Duration(deploy.EnvAPIDrainDelay, 0, 0, time.Minute),
	}
	o := Options{
		Local:          r.OneOf(deploy.EnvAPIMode, ModeProduction, ModeLocal, ModeProduction) == ModeLocal,
		CacheTimeout:   r.Duration(deploy.EnvAPICacheTimeout, 250*time.Millisecond, time.Millisecond, 10*time.Second),
		CacheCooldown:  r.Duration(deploy.EnvAPICacheCooldown, time.Second, 10*time.Millisecond, 5*time.Minute),
		RequestTimeout: r.Duration(deploy.EnvAPIRequestTimeout, 5*time.Second, 10*time.Millisecond, 2*time.Minute),
		MaxBodyBytes:   int64(r.Int(deploy.EnvAPIMaxBodyBytes, 1<<20, 1, 64<<20)),
		LookbackDays:   r.Int(deploy.EnvAPILookbackDays, 7, 1, 366),
		MaxRange:       r.Duration(deploy.EnvAPIMaxRange, 31*24*time.Hour, time.Minute, 366*24*time.Hour),
		LivePoll:       r.Duration(deploy.EnvAPILivePoll, time.Second, 100*time.Millisecond, time.Minute),
		SiteFilledTTL:  r.Duration(deploy.EnvCacheSiteFilledTTL, 10*time.Minute, time.Second, 24*time.Hour),
		Jitter:         r.Float(deploy.EnvCacheTTLJitter, 0.1, 0, 1),
		EventTTL:       c.Cache.EventTTL,
		DeviceTTL:      c.Cache.DeviceTTL,
		SiteMax:        c.Cache.SiteMax,
		RateLimit:      r.Float(deploy.EnvAPIRateLimit, 200, 0, 1e6),
		RateBurst:      r.Int(deploy.EnvAPIRateBurst, 400, 1, 1_000_000),
		// Either bound at 0 turns the in-process cache off.
		EventCacheEntries: r.Int(deploy.EnvAPIEventCacheEntries, DefaultEventCacheEntries, 0, 10_000_000),
		EventCacheBytes:   int64(r.Int(deploy.EnvAPIEventCacheBytes, DefaultEventCacheBytes, 0, 4<<30)),
	}
	if k := r.String(deploy.EnvAPIPageTokenKey, ""); k != "" {
		b, err := hex.DecodeString(k)
		if err != nil || len(b) < 32 {
			r.Problem("API_PAGE_TOKEN_KEY must be at least 32 bytes in hex (64 hex digits)")
		}
		c.PageKey = b
	}
	for _, h := range r.List(deploy.EnvAPIKeysSHA256, nil) {
		b, err := hex.DecodeString(strings.ToLower(h))
		if err != nil || len(b) != 32 {
			r.Problem("API_KEYS_SHA256 entry %q is not a hex SHA-256 hash (64 hex digits)", abbreviate(h))
			continue
		}
		o.KeyHashes = append(o.KeyHashes, [32]byte(b))
	}
	if !o.Local && len(o.KeyHashes) == 0 {
		r.Problem("API_KEYS_SHA256 is required unless API_MODE=local: the API is not served without keys")
	}
	// The API answers from Cassandra when Redis is slow, so a Redis call
	// gets no longer than API_CACHE_TIMEOUT and is not retried.
	if r.String(deploy.EnvRedisTimeout, "") == "" {
		c.Redis.Timeout = o.CacheTimeout
	}
	if r.String(deploy.EnvRedisMaxRetries, "") == "" {
		c.Redis.MaxRetries = -1
	}
	c.Cache.GetTimeout = o.CacheTimeout
	if r.String(deploy.EnvPostgresURL, "") != "" || r.String(deploy.EnvPostgresHost, "") != "" {
		pg := pgstore.FromEnv(r, deploy.API)
		c.Postgres = &pg
	}
	c.Options = o
	return c, r.Err()
}

func abbreviate(s string) string {
	if len(s) > 12 {
		return s[:12] + "…"
	}
	return s
}
