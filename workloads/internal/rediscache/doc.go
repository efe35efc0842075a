// Package rediscache is Sluice's Redis layer: the connection (single node
// or cluster, TLS, Entra ID tokens for Azure Managed Redis), the key names
// DESIGN.md fixes, the change-feed writer and the reads and fills of the
// API's cache-aside path.
//
// # Keys
//
//   - event:{<id>}: the event document (JSON), with a TTL.
//   - site:{<site>}:critical: the site's critical event ids, scored by the
//     event time in Unix milliseconds and trimmed to the newest N.
//   - site:{<site>}:critical:filled: a marker the API sets after filling the
//     sorted set from Cassandra; while it lives the set is complete (up to
//     N) and a short set is not a cache miss.
//   - device:{<device>}:latest: a hash with the newest reading of a device
//     (fields at, id, doc).
//   - live:sites: sites scored by their newest critical event, for the
//     live page.
//
// The braces are hash tags: a site's two keys share a slot, and every
// command touches keys of one slot only, so the same code runs on a single
// Redis and on a cluster (go-redis' UniversalClient).
//
// # Idempotent writes
//
// Writing the same change twice leaves Redis as one write would: SET with
// the same document, ZADD with the same score and member followed by a trim
// to the newest N, ZADD GT on live:sites. device:{d}:latest is replaced by a
// Lua script only when the change is newer (event time, then id), so a
// replayed older change never overwrites a newer reading.
//
// # Coalesced reads
//
// Event, the API's hottest read, does not send one GET per call: GETs that
// arrive while one is out go together as the next pipeline (see
// getBatcher). Alone a read costs one round trip; under load one write and
// one read carry dozens of them.
//
// # Documents
//
// Encode is the one JSON form of an event everywhere in the cache and the
// API: the v1 event fields with the time in RFC 3339 UTC at millisecond
// precision (what Cassandra stores). It depends on the event alone, not on
// when or how often it was ingested, so the change feed, a replay and a
// cache fill from Cassandra all write identical bytes.
//
// # Azure Managed Redis
//
// REDIS_ENTRA=true (the default for *.redis.azure.net hosts) authenticates
// with Entra ID: a token for https://redis.azure.com/.default from
// azidentity's default credential (workload identity on AKS) is the
// password and the identity's object id (from the token, or REDIS_USERNAME)
// the user. A token is used for new connections until five minutes before
// it expires, and connections are retired after four minutes, so none
// outlives the token it authenticated with. TLS (1.2 or newer) is on by
// default for port 10000 and Azure hosts; locally the connection is plain.
package rediscache
