package api

import (
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/workloads/dev/envfuzz"
)

// FuzzConfigFromEnv: whatever the environment, the api's loader keeps the
// envfuzz contract and what it accepts is within the documented bounds:
// outside local mode it has keys, and a page key is long enough to sign.
func FuzzConfigFromEnv(f *testing.F) {
	key := strings.Repeat("ab", 32)
	seeds := []map[string]string{
		{},
		envfuzz.Merge(envfuzz.LocalCassandra, envfuzz.LocalRedis, map[string]string{"API_MODE": "local"}),
		envfuzz.Merge(envfuzz.LocalCassandra, envfuzz.LocalRedis, envfuzz.URLPostgres, map[string]string{"API_MODE": "local",
			"API_RATE_LIMIT": "0", "API_LIVE_POLL": "250ms", "CACHE_TTL_JITTER": "0.5"}),
		envfuzz.Merge(envfuzz.CosmosCassandra, envfuzz.AzureRedis, envfuzz.AzurePostgres, map[string]string{
			"API_KEYS_SHA256": strings.Repeat("0f", 32) + "," + strings.Repeat("A1", 32), "API_PAGE_TOKEN_KEY": key,
			"OPS_ADDR": ":9090", "API_DRAIN_DELAY": "5s", "API_MAX_RANGE": "168h", "API_RATE_BURST": "10"}),
		envfuzz.Merge(envfuzz.LocalCassandra, envfuzz.LocalRedis, map[string]string{"API_KEYS_SHA256": "nothex", "API_PAGE_TOKEN_KEY": "abcd"}),
	}
	envfuzz.Fuzz(f, seeds, ConfigFromEnv, func(c Config) error {
		var cs envfuzz.Checks
		o := c.Options
		cs.Add(envfuzz.Cassandra(c.Cassandra))
		cs.Add(envfuzz.Redis(c.Redis))
		if c.Postgres != nil {
			cs.Add(envfuzz.Postgres(*c.Postgres))
		}
		cs.Want(o.Local || len(o.KeyHashes) > 0, "no API key outside local mode")
		cs.Want(c.PageKey == nil || len(c.PageKey) >= 32, "a page key of %d bytes", len(c.PageKey))
		cs.Want(envfuzz.Within(o.MaxBodyBytes, 1, 64<<20), "body limit %d", o.MaxBodyBytes)
		cs.Want(envfuzz.Within(o.LookbackDays, 1, 366), "lookback %d days", o.LookbackDays)
		cs.Want(envfuzz.Within(o.MaxRange, time.Minute, 366*24*time.Hour), "max range %s", o.MaxRange)
		cs.Want(envfuzz.Within(o.Jitter, 0, 1), "jitter %g", o.Jitter)
		cs.Want(envfuzz.Within(o.RateLimit, 0, 1e6) && envfuzz.Within(o.RateBurst, 1, 1_000_000), "rate %g burst %d", o.RateLimit, o.RateBurst)
		cs.Want(envfuzz.Within(o.SiteMax, 1, 10000), "site max %d", o.SiteMax)
		cs.Want(c.Cache.GetTimeout == o.CacheTimeout, "redis reads not bounded by the cache timeout")
		cs.Want(envfuzz.Within(c.DrainDelay, 0, time.Minute), "drain delay %s", c.DrainDelay)
		return cs.Err()
	})
}
