// Package api is Sluice's read API and live page: critical events, the
// latest reading per device and a device's history, served cache-aside from
// Redis with Cassandra as the system of record.
//
// # Routes
//
//	GET /v1/events/{id}                      one event (Redis, else Cassandra)
//	GET /v1/sites/{site}/critical?limit=     a site's newest critical events
//	GET /v1/devices/{device}/latest          a device's newest reading
//	GET /v1/devices/{device}/events?from=&to=&limit=&page=
//	                                         a device's events, newest first, paged (Cassandra)
//	GET /v1/live?sites=&per_site=            the live page's data
//	GET /v1/sites/{site}/minutes?kind=&from=&to=
//	                                         the Spark stream job's one-minute aggregates (Cassandra)
//	GET /v1/sites/{site}/silent              the devices the stream job found silent
//	GET /v1/reports?hours=&to=               the report page's data (PostgreSQL)
//	GET /                                    the live page; /static/ its script and style
//	GET /reports                             the report page: charts of the report views
//	GET /healthz, /readyz, /metrics          operations: beside the routes, or on
//	                                         OPS_ADDR alone when it is set (on Azure)
//
// # Cache-aside
//
// A read tries Redis first. On a miss it reads Cassandra and fills Redis
// with the key's lifetime plus up to 10 % jitter; concurrent misses for one
// key share one Cassandra read (singleflight). When Redis fails or is slow
// (each call is bounded by API_CACHE_TIMEOUT), the request is answered from
// Cassandra with the header X-Cache: bypass, never an error; after three
// failures in a row Redis is skipped for API_CACHE_COOLDOWN before it is
// tried again. X-Cache says hit, miss or bypass on every cached route.
//
// An event's document never changes once written, so GET /v1/events/{id}
// also keeps the documents it read (from Redis or Cassandra) in a bounded
// in-process cache in front of Redis (package doccache; at most
// API_EVENT_CACHE_ENTRIES documents and API_EVENT_CACHE_BYTES bytes, either
// 0 turns it off) and answers what it holds from memory with X-Cache:
// local, the same bytes and headers otherwise, Redis up or down. Everything
// that changes (a site's critical list, a device's latest reading, the live
// page) is read from Redis every time and keeps its TTLs.
//
// A site's sorted set in Redis is complete once the API filled it from
// Cassandra (the marker site:{s}:critical:filled lives for
// CACHE_SITE_FILLED_TTL) or when it holds at least the requested number of
// events; otherwise the request is a miss.
//
// # Reports
//
// With POSTGRES_URL or POSTGRES_HOST set, /v1/reports reads the report
// views (schema report) for the last ?hours= UTC hours (ending at ?to=,
// a whole hour, or with the current hour) in one read-only
// transaction: events and critical events per site and hour (the busiest
// MaxReportSites sites), hourly mean, minimum and maximum per kind, devices
// by health status and events from sites and devices the reference data
// does not know. The api signs in as a member of report_reader (locally the
// BI login, on Azure its own identity through PgBouncer) and needs nothing
// else. PostgreSQL is optional: without it /v1/reports answers 404
// reports_off, and when it fails 503; readiness and the event routes never
// depend on it. The report page draws the charts as SVG with its own
// script, nothing from another origin.
//
// # Authentication
//
// Outside local mode (API_MODE=local) every /v1/ route needs an API key in
// X-API-Key or Authorization: Bearer. Only SHA-256 hashes of the keys are
// configured (API_KEYS_SHA256, comma-separated hex); a presented key is
// hashed and compared with each in constant time. Without keys the API
// refuses to start outside local mode. The live and report pages are static
// and public; their scripts call /v1/live or /v1/reports and, when that
// answers 401, ask for a key, keep it in the tab's sessionStorage and send
// it as X-API-Key. The operations endpoints stay open for probes and
// scraping.
//
// # Limits
//
// Server read, write and idle timeouts, a 16 KiB header limit and a request
// body limit (API_MAX_BODY_BYTES; the API reads no bodies, so larger ones
// are refused with 413), a per-request deadline for Cassandra reads, and
// graceful shutdown: readiness fails first, the api serves on for
// API_DRAIN_DELAY while the endpoints forget it, then in-flight requests
// finish within SHUTDOWN_TIMEOUT. Each API key has a token-bucket rate
// (API_RATE_LIMIT, API_RATE_BURST; 429 with Retry-After beyond it); a
// /v1/live request asks for at most MaxLiveEvents; page tokens carry an
// HMAC under the page key, so a client cannot hand Cassandra a paging
// state of its own.
package api
