package redisenv

import (
	"time"

	"github.com/sluicehq/sluice/workloads/contract/deploy"
	"github.com/sluicehq/sluice/workloads/internal/envconfig"
	"github.com/sluicehq/sluice/workloads/internal/rediscache"
)

// Config reads REDIS_ADDR (comma-separated host:port), REDIS_CLUSTER,
// REDIS_USERNAME, REDIS_PASSWORD, REDIS_TLS, REDIS_ENTRA, REDIS_DB,
// REDIS_TIMEOUT, REDIS_POOL_SIZE and REDIS_MAX_RETRIES. TLS and Entra ID
// default to on for Azure hosts (*.redis.azure.net,
// *.redis.cache.windows.net) and port 10000; the result's problems
// (rediscache.Config.Problems) are recorded in r.
func Config(r *envconfig.Reader) rediscache.Config {
	c := rediscache.Config{Addrs: r.List(deploy.EnvRedisAddr, nil)}
	azure := rediscache.Azure(c.Addrs)
	c.Cluster = r.Bool(deploy.EnvRedisCluster, len(c.Addrs) > 1)
	c.Username = r.String(deploy.EnvRedisUsername, "")
	c.Password = r.String(deploy.EnvRedisPassword, "")
	c.TLS = r.Bool(deploy.EnvRedisTLS, azure)
	c.Entra = r.Bool(deploy.EnvRedisEntra, azure && c.Password == "")
	c.DB = r.Int(deploy.EnvRedisDB, 0, 0, 15)
	c.Timeout = r.Duration(deploy.EnvRedisTimeout, rediscache.DefaultTimeout, 5*time.Millisecond, time.Minute)
	c.PoolSize = r.Int(deploy.EnvRedisPoolSize, 0, 0, 10000)
	c.MaxRetries = r.Int(deploy.EnvRedisMaxRetries, rediscache.DefaultMaxRetries, -1, 10)
	for _, p := range c.Problems() {
		r.Problem("%s", p)
	}
	return c
}

// Options reads CACHE_EVENT_TTL, CACHE_DEVICE_TTL, CACHE_SITE_TTL and
// CACHE_SITE_CRITICAL_MAX.
func Options(r *envconfig.Reader) rediscache.Options {
	return rediscache.Options{
		EventTTL:  r.Duration(deploy.EnvCacheEventTTL, rediscache.DefaultEventTTL, time.Second, 30*24*time.Hour),
		DeviceTTL: r.Duration(deploy.EnvCacheDeviceTTL, rediscache.DefaultDeviceTTL, time.Second, 30*24*time.Hour),
		SiteTTL:   r.Duration(deploy.EnvCacheSiteTTL, rediscache.DefaultSiteTTL, time.Second, 90*24*time.Hour),
		SiteMax:   r.Int(deploy.EnvCacheSiteCriticalMax, rediscache.DefaultSiteMax, 1, 10000),
	}
}
