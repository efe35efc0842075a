// Package cqlproxy is a test kit: a CQL proxy on a loopback port in front
// of the local Cassandra that counts, per event id, the write requests a
// workload sends and how Cassandra answered them (the effects), and that can
// answer writes with Overloaded errors carrying RetryAfterMs, as Cosmos DB
// throttles. The fault tests run the real binaries through it: a duplicate
// effect (an event written and acknowledged twice) is visible in its
// counts even though the tables' primary keys make a second write look
// like none.
//
// It reads the native protocol v4 without compression, which is what the
// workloads' gocql sessions speak; anything else drops the connection and
// is counted (BadFrames), so a test can tell its counts are whole.
package cqlproxy
