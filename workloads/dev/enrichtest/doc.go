// Package enrichtest writes synthetic events into Cassandra's events_by_hour
// table for the enrich job's integration tests and its benchmark. Event i of
// a generator is a pure function of the seed and i, so a benchmark can
// regenerate exactly the rows it stored without holding them in memory.
package enrichtest
