// Package redisenv reads the Redis settings of the binaries that use the
// cache (changefeed and api) from their environment: REDIS_* into a
// rediscache.Config and CACHE_* into rediscache.Options. It is the
// binaries' side of the configuration, held once for both; rediscache
// itself never reads the environment, it owns the types, the defaults and
// the checks.
package redisenv
